// Global test setup: starts the real services the suites need (redis-server, MariaDB) through
// the project's own script, and stops them afterwards. See scripts/services.sh.
//
// The script reference-counts its callers (this vitest process), so parallel test runs on one
// tree share the services and the last one to finish stops them. The connection facts are
// fixed; suites import SERVICES from here (or read tmp/services/env).
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url))

export const SERVICES = {
  redis: { host: '127.0.0.1', port: 16379 },
  mysql: { host: '127.0.0.1', port: 13306, user: 'checkups', password: 'checkups', database: 'checkups_test' },
} as const

export function setup(): void {
  execFileSync('bash', [script, 'start'], { stdio: 'inherit' })
}

export function teardown(): void {
  execFileSync('bash', [script, 'stop'], { stdio: 'inherit' })
}
