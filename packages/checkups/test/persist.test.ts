// State-file persistence: atomic writes, refusal of corrupt / foreign files, with
// real files in a temp dir.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CheckupsError, createFilePersistence, loadStateFile, STATE_FILE_FORMAT } from '@checkups/core'

let dir: string
let file: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ckp-persist-'))
  file = join(dir, '.checkups-state.json')
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const ups = {
  api: { typ: 'http', mode: 'wrr', cluster: [{ servers: [{ host: '127.0.0.1', port: 8001, weight: 1 }] }] },
}

function refusal(fn: () => unknown): CheckupsError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CheckupsError)
    return err as CheckupsError
  }
  throw new Error('expected a refusal')
}

function rejectedFiles(): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('.checkups-state.json.rejected-'))
}

describe('createFilePersistence + loadStateFile', () => {
  it('round-trips a snapshot with format, conf_hash, version, saved_at', () => {
    createFilePersistence(file).save({ version: 7, conf_hash: 'h1', upstreams: ups })
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    expect(Object.keys(raw).sort()).toEqual(['conf_hash', 'format', 'saved_at', 'upstreams', 'version'])
    expect(raw['format']).toBe(STATE_FILE_FORMAT)
    expect(typeof raw['saved_at']).toBe('number')
    const snap = loadStateFile(file, 'h1')
    expect(snap).toMatchObject({ format: 1, version: 7, conf_hash: 'h1', upstreams: ups })
  })

  it('returns undefined when there is no state file', () => {
    expect(loadStateFile(file, 'h1')).toBeUndefined()
  })

  it('persists data only: functions are dropped', () => {
    const withFn = { api: { ...ups.api, heartbeat: () => 0 } }
    createFilePersistence(file).save({ version: 1, conf_hash: 'h', upstreams: withFn })
    expect(loadStateFile(file, 'h')?.upstreams).toEqual(ups)
  })

  it('leaves no temp file behind and replaces the previous snapshot', () => {
    const p = createFilePersistence(file)
    p.save({ version: 1, conf_hash: 'h', upstreams: ups })
    p.save({ version: 2, conf_hash: 'h', upstreams: {} })
    expect(readdirSync(dir)).toEqual(['.checkups-state.json'])
    expect(loadStateFile(file, 'h')).toMatchObject({ version: 2, upstreams: {} })
  })

  it('survives a torn write: a truncated temp file never replaces the state file', () => {
    createFilePersistence(file).save({ version: 3, conf_hash: 'h', upstreams: ups })
    // what a writer killed mid-write leaves: a partial temp of a dead pid, never renamed
    const deadPid = 2 ** 22 + 12345
    const tmp = `${file}.tmp-${deadPid}-1`
    writeFileSync(tmp, '{"format":1,"conf_hash":"h","version":4,"upstr')
    const snap = loadStateFile(file, 'h')
    expect(snap).toMatchObject({ version: 3, upstreams: ups })
    expect(existsSync(tmp)).toBe(false) // stale temp of a dead writer cleaned
    expect(rejectedFiles()).toEqual([])
  })

  it('keeps the temp of a writer that still runs', () => {
    const tmp = `${file}.tmp-${process.pid}-999`
    writeFileSync(tmp, '{')
    expect(loadStateFile(file, 'h')).toBeUndefined()
    expect(existsSync(tmp)).toBe(true)
  })

  const refused: Array<[string, string, RegExp]> = [
    ['truncated JSON', '{"format":1,"conf_hash":"h","vers', /corrupt/],
    ['empty file', '', /corrupt/],
    ['not an object', '[1,2]', /corrupt: not a JSON object/],
    ['unknown format', JSON.stringify({ format: 2, conf_hash: 'h', version: 1, upstreams: {} }), /unknown format 2/],
    ['bad version', JSON.stringify({ format: 1, conf_hash: 'h', version: -1, upstreams: {} }), /bad version/],
    ['upstreams not an object', JSON.stringify({ format: 1, conf_hash: 'h', version: 1, upstreams: [] }), /upstreams/],
    ['upstream not an object', JSON.stringify({ format: 1, conf_hash: 'h', version: 1, upstreams: { a: 1 } }), /upstreams\.a/],
    ['__proto__ key', '{"format":1,"conf_hash":"h","version":1,"upstreams":{"__proto__":{"x":1}}}', /forbidden key "__proto__"/],
    ['constructor key', '{"format":1,"conf_hash":"h","version":1,"upstreams":{"a":{"constructor":{}}}}', /forbidden key "constructor"/],
    ['another config', JSON.stringify({ format: 1, conf_hash: 'other', version: 1, upstreams: {} }), /another config: conf_hash other, current h/],
    ['an upstream the schema refuses', JSON.stringify({ format: 1, conf_hash: 'h', version: 1, upstreams: { api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 70000 }] }] } } }), /invalid upstream: api\.cluster\[0\]\.servers\[0\]\.port/],
    ['an upstream without cluster', JSON.stringify({ format: 1, conf_hash: 'h', version: 1, upstreams: { api: { mode: 'wrr' } } }), /invalid upstream: api\.cluster/],
    ['a bad origin record', JSON.stringify({ format: 1, conf_hash: 'h', version: 1, upstreams: {}, origin: { api: 5 } }), /bad origin/],
  ]
  it.each(refused)('refuses %s: moved aside, never deleted, CKP_ERR_STATE_FILE', (_name, content, why) => {
    writeFileSync(file, content)
    const err = refusal(() => loadStateFile(file, 'h'))
    expect(err.code).toBe('CKP_ERR_STATE_FILE')
    expect(err.message).toMatch(why)
    expect(existsSync(file)).toBe(false)
    const aside = rejectedFiles()
    expect(aside).toHaveLength(1)
    expect(err.message).toContain(aside[0])
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe(content)
    // the next start finds no state file and starts from the config
    expect(loadStateFile(file, 'h')).toBeUndefined()
  })

  it('never overwrites an earlier rejected file', () => {
    for (const content of ['{', '[', 'x']) {
      writeFileSync(file, content)
      refusal(() => loadStateFile(file, 'h'))
    }
    const aside = rejectedFiles()
    expect(aside).toHaveLength(3)
    expect(aside.map((n) => readFileSync(join(dir, n), 'utf8')).sort()).toEqual(['[', 'x', '{'].sort())
  })

  it('a failed save throws CKP_ERR_STATE_FILE and leaves the previous state', () => {
    const p = createFilePersistence(file)
    p.save({ version: 1, conf_hash: 'h', upstreams: ups })
    const bad = createFilePersistence(join(file, 'sub', 'x.json')) // parent is a file
    const err = refusal(() => bad.save({ version: 2, conf_hash: 'h', upstreams: {} }))
    expect(err.code).toBe('CKP_ERR_STATE_FILE')
    expect(loadStateFile(file, 'h')).toMatchObject({ version: 1 })
  })

  it('a symlink planted at a temp name is never written through', () => {
    const target = join(dir, 'target')
    writeFileSync(target, 'precious')
    // the names an older writer would have used: <file>.tmp-<pid>-<n>
    for (let n = 0; n < 500; n++) symlinkSync(target, `${file}.tmp-${process.pid}-${n}`)
    createFilePersistence(file).save({ version: 1, conf_hash: 'h', upstreams: ups })
    expect(readFileSync(target, 'utf8')).toBe('precious')
    expect(loadStateFile(file, 'h')).toMatchObject({ version: 1 })
  })

  it('a state path that is a symlink is refused (save and load) unless allowed; the target is untouched', () => {
    const target = join(dir, 'target.json')
    writeFileSync(target, 'precious')
    symlinkSync(target, file)
    const err = refusal(() => createFilePersistence(file).save({ version: 1, conf_hash: 'h', upstreams: ups }))
    expect([err.code, err.message]).toEqual(['CKP_ERR_STATE_FILE', expect.stringContaining('is a symlink')])
    expect(refusal(() => loadStateFile(file, 'h')).message).toContain('is a symlink')
    expect(readFileSync(target, 'utf8')).toBe('precious')
    expect(lstatSync(file).isSymbolicLink()).toBe(true)
    createFilePersistence(file, { allowSymlink: true }).save({ version: 2, conf_hash: 'h', upstreams: ups })
    expect(loadStateFile(file, 'h', { allowSymlink: true })).toMatchObject({ version: 2 })
  })

  it('the temp file is created exclusively with mode 0600 under an unpredictable name', () => {
    const p = createFilePersistence(file)
    p.save({ version: 1, conf_hash: 'h', upstreams: ups })
    expect(lstatSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([])
  })
})
