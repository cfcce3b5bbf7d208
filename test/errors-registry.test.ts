// Every error code declared in a package's errors.ts is documented in docs/errors.md, and
// every documented code exists (codes are a contract, checked by a test).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
// Each errors.ts declares the codes with its own prefix (others it mentions are mapped, not declared).
const sources: Record<string, string> = {
  'packages/shm/src/errors.ts': 'SHM',
  'packages/shdict/src/errors.ts': 'SHD',
  'packages/checkups/src/errors.ts': 'CKP',
  'packages/runtime/src/errors.ts': 'RT',
  'apps/server/src/admin/errors.ts': 'ADM',
  'apps/server/src/proxy/errors.ts': 'PRX',
  'apps/server/src/errors.ts': 'SRV',
}
const CODE = /\b([A-Z]{2,4})_ERR_[A-Z0-9_]*[A-Z0-9]\b/g

function codesIn(text: string, prefix?: string): Set<string> {
  return new Set([...text.matchAll(CODE)].filter((m) => prefix === undefined || m[1] === prefix).map((m) => m[0]))
}
const declaredIn = (file: string) => codesIn(readFileSync(root + file, 'utf8'), sources[file])

describe('error code registry', () => {
  const ownPrefixes = new Set(Object.values(sources))
  const documented = new Set([...codesIn(readFileSync(`${root}docs/errors.md`, 'utf8'))].filter((c) => ownPrefixes.has(c.split('_ERR_')[0]!)))
  const declared = new Set(Object.keys(sources).flatMap((f) => [...declaredIn(f)]))

  it.each(Object.keys(sources))('%s: every code is documented', (file) => {
    const codes = [...declaredIn(file)]
    expect(codes.length).toBeGreaterThan(0)
    expect(codes.filter((c) => !documented.has(c))).toEqual([])
  })

  it('every documented code is declared in its package', () => {
    expect([...documented].filter((c) => !declared.has(c))).toEqual([])
  })
})
