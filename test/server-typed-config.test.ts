/**
 * `defineConfig()` and the exported input types: tsc refuses the typos the schema refuses at
 * run time. Compiles a typed config with the repository's own tsc, once correct and once with
 * misspelt options (written to a temporary directory next to the fixture tsconfig).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const TSC = join(root, 'node_modules/typescript/bin/tsc')
// inside the repository, so `@checkups/server` and `@checkups/core` resolve from its node_modules
const dir = mkdtempSync(join(root, 'test/fixtures/typed-config/tmp-'))
copyFileSync(join(root, 'test/fixtures/typed-config/tsconfig.json'), join(dir, 'tsconfig.json'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function compile(source: string): string {
  writeFileSync(join(dir, 'config.mts'), source)
  try {
    execFileSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8', stdio: 'pipe' })
    return ''
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err)
  }
}

describe('typed configs', () => {
  it('a correct config compiles; misspelt options are tsc errors naming the option', () => {
    expect(compile(`import { defineConfig } from '@checkups/server'
export default defineConfig({
  global: { checkup_timer_interval: 5 },
  api: { timeout: 2, mode: 'hash', cluster: [{ servers: [{ host: '127.0.0.1', port: 8081, weight: 3_200_000 }] }] },
  server: { listen: '127.0.0.1:8080', routes: [{ upstream: 'api', path_prefix: '/api' }] },
})
`)).toBe('')
    const out = compile(`import { defineConfig } from '@checkups/server'
import { defineConfig as core } from '@checkups/core'
export default defineConfig({
  api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 8081, wieght: 3 }] }] },
  server: { rotues: [] },
})
export const c = core({ api: { tiemout: 1, cluster: [] } })
`)
    expect(out).toMatch(/'wieght' does not exist in type 'ServerInput'\. Did you mean to write 'weight'\?/)
    expect(out).toMatch(/'rotues' does not exist in type 'ServerSectionInput'\. Did you mean to write 'routes'\?/)
    expect(out).toMatch(/'tiemout' does not exist in type/)
  }, 60_000)
})
