// Every SHD_ERR_* code is documented in docs/errors.md (## @checkups/shdict), and the
// section documents nothing else.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SharedDictError, SharedDictErrorCodes } from '@checkups/shdict'

describe('shdict error registry', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
  const section = doc.split(/^## /m).find((s) => s.startsWith('@checkups/shdict')) ?? ''

  it('documents exactly the codes of SharedDictErrorCodes', () => {
    const documented = new Set(section.match(/SHD_ERR_[A-Z_]+/g) ?? [])
    expect([...documented].sort()).toEqual(Object.keys(SharedDictErrorCodes).sort())
  })

  it('codes map to themselves and errors carry them', () => {
    for (const [k, v] of Object.entries(SharedDictErrorCodes)) expect(k).toBe(v)
    const err = new SharedDictError('SHD_ERR_LOCKED', 'locked')
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('SharedDictError')
    expect(err.code).toBe('SHD_ERR_LOCKED')
  })
})
