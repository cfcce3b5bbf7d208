// Global test setup: starts the real services the suites need (redis-server, MariaDB) through
// the project's own script, and stops them afterwards. See scripts/services.sh.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url))

export function setup(): void {
  execFileSync('bash', [script, 'start'], { stdio: 'inherit' })
}

export function teardown(): void {
  execFileSync('bash', [script, 'stop'], { stdio: 'inherit' })
}
