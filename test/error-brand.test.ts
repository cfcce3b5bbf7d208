/**
 * One error base for every package: codes, names, causes, and `instanceof` by brand — an error
 * made by a second copy of a package's module is `instanceof` the first copy's class (checked in
 * a real node process that loads the compiled modules twice, as two installed copies would).
 * Core's HTTP status table covers every core code.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CheckupsError, CheckupsErrorCodes, CheckupsErrorStatus } from '@checkups/core'
import { SharedDictError } from '@checkups/shdict'
import { ShmError } from '@checkups/shm'
import { isCodedError } from '@checkups/shm/errors'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = (p: string) => pathToFileURL(`${root}${p}`).href

describe('error base', () => {
  it('every class carries its code, name, message and cause, and is told apart from the others', () => {
    const cause = new Error('low')
    const e = new CheckupsError('CKP_ERR_NO_SERVERS', 'no servers available', { cause })
    expect([e.code, e.name, e.message, e.cause]).toEqual(['CKP_ERR_NO_SERVERS', 'CheckupsError', 'no servers available', cause])
    expect(e).toBeInstanceOf(Error)
    expect(e).toBeInstanceOf(CheckupsError)
    expect(e instanceof SharedDictError).toBe(false)
    expect(new ShmError('SHM_ERR_MAP', 'x') instanceof CheckupsError).toBe(false)
    expect(String(e.stack).startsWith('CheckupsError: no servers available')).toBe(true)
    expect([isCodedError(e), isCodedError(new SharedDictError('SHD_ERR_INVALID_KEY', 'k')), isCodedError(new Error('x')), isCodedError(null)])
      .toEqual([true, true, false, false])
  })

  it('instanceof survives a second copy of a package', () => {
    const script = `
      const a = await import(${JSON.stringify(dist('packages/checkups/dist/errors.js'))})
      const b = await import(${JSON.stringify(dist('packages/checkups/dist/errors.js') + '?copy=2')})
      const s1 = await import(${JSON.stringify(dist('packages/shm/dist/coded-error.js'))})
      const s2 = await import(${JSON.stringify(dist('packages/shm/dist/coded-error.js') + '?copy=2')})
      const X = s2.defineErrorClass('CheckupsError')
      const e = new a.CheckupsError('CKP_ERR_SETUP', 'x')
      console.log(JSON.stringify([
        a.CheckupsError !== b.CheckupsError, e instanceof b.CheckupsError, new b.CheckupsError('CKP_ERR_SETUP', 'y') instanceof a.CheckupsError,
        new X('CKP_ERR_SETUP', 'z') instanceof a.CheckupsError, s1.isCodedError(new X('CKP_ERR_SETUP', 'z')),
        e instanceof s2.defineErrorClass('SharedDictError'),
      ]))`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 })
    expect(JSON.parse(out.trim())).toEqual([true, true, true, true, true, false])
  })

  it('every core code has its HTTP status in the one table', () => {
    const codes = Object.keys(CheckupsErrorCodes).sort()
    expect(Object.keys(CheckupsErrorStatus).sort()).toEqual(codes)
    for (const status of Object.values(CheckupsErrorStatus)) expect(status).toBeGreaterThanOrEqual(400)
  })
})
