/** Every RT_ERR_* code is documented in docs/errors.md (## @checkups/runtime), and only those. */
import { readFileSync } from 'node:fs'
import { RuntimeError, RuntimeErrorCodes } from '@checkups/runtime'
import { describe, expect, it } from 'vitest'

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')

function section(name: string): string {
  const start = doc.indexOf(`## ${name}`)
  expect(start).toBeGreaterThanOrEqual(0)
  const next = doc.indexOf('\n## ', start + 1)
  return doc.slice(start, next < 0 ? undefined : next)
}

describe('runtime error codes', () => {
  it('matches docs/errors.md', () => {
    const documented = [...section('@checkups/runtime').matchAll(/^\| `(RT_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1])
    expect(documented.sort()).toEqual(Object.keys(RuntimeErrorCodes).sort())
    for (const [k, v] of Object.entries(RuntimeErrorCodes)) expect(v).toBe(k)
  })

  it('RuntimeError carries a readonly code and the cause', () => {
    const cause = new Error('x')
    const err = new RuntimeError('RT_ERR_CONFIG_LOAD', 'config file not found: /x', { cause })
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({ name: 'RuntimeError', code: 'RT_ERR_CONFIG_LOAD', cause })
  })
})
