// The per-process key index (src/keyindex.ts, src/read.ts) against writes made by another,
// real process attached to the same shared-memory zone: replace, delete, expire, incr in
// place, a key turned into a list, eviction, flushAll, a re-format of the zone and a
// recovery after a writer died mid-write. Each case first reads the key twice here, checks
// that it is indexed, lets the other process change it, and expects this process to see
// the change — through the public SharedDict and through an engine Reader whose index
// state the test can inspect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SharedDict, type Value } from '@checkups/shdict'
import { closeZoneFd, createZone, type Zone as ShmZone } from '@checkups/shm'
import { fixture, forkChild, runToExit, type Child } from './support/children.js'
// engine internals (the compiled package): the index's state and the zone's words
import { Core } from '../dist/core.js'
import { C_STAMP, S_E, SLOT_WORDS } from '../dist/keyindex.js'
import { E_STAMP, TAG_ENTRY, TAG_MASK } from '../dist/layout.js'
import { OPT_HIT, Reader } from '../dist/read.js'
import { DEFAULT_TIMING } from '../dist/shmtx.js'
import { find, hashKey } from '../dist/table.js'
import { Zone } from '../dist/zone.js'

const T0 = 1_700_000_000_000

interface Here { dict: SharedDict; reader: Reader; zone: ShmZone }

function here(zone: ShmZone, now: () => number, create = true): Here {
  const dict = create ? SharedDict.create(zone.buffer, { now, lockStealAfterMs: 20 }) : SharedDict.attach(zone.buffer, { now })
  const reader = new Reader(new Core(new Zone(zone.buffer), now, DEFAULT_TIMING), 1024)
  return { dict, reader, zone }
}

/** get through both handles of this process; they must agree */
function read(h: Here, key: string): Value | undefined {
  const v = h.reader.read(key, false) === OPT_HIT ? h.reader.value : undefined
  expect(h.dict.get(key)).toEqual(v)
  return v
}

/** reads `key` twice (the second answered from the index) and checks it is indexed */
function warm(h: Here, key: string, want: Value): void {
  expect(read(h, key)).toEqual(want)
  expect(h.reader.index.map.has(key)).toBe(true)
  expect(read(h, key)).toEqual(want)
}

/** the entry block and stamp the index holds for `key` */
function slotOf(h: Here, key: string): { e: number; stamp: number } {
  const n = h.reader.index.map.get(key)!
  const { hot, cold } = h.reader.index
  return { e: hot[n * SLOT_WORDS + S_E]!, stamp: cold[n * SLOT_WORDS + C_STAMP]! }
}

describe('shdict key index: writes by another process', () => {
  let zone: ShmZone
  let h: Here
  let child: Child
  let clock = T0
  beforeAll(async () => {
    zone = createZone('dict', 256 * 1024)
    h = here(zone, () => clock)
    child = await forkChild(fixture('shdict-rpc.mjs'), [zone])
    await child.call('setClock', clock)
  })
  afterAll(async () => {
    await child?.stop()
    closeZoneFd(zone)
  })

  it('replace (same size, and another size) and delete', async () => {
    h.dict.set('r', 'value-one', 0, 7)
    warm(h, 'r', 'value-one')
    expect(await child.call('set', 'r', 'value-two', 0, 8)).toEqual({ ok: true, forcible: false })
    expect(read(h, 'r')).toBe('value-two')
    expect(h.dict.getWithFlags('r')).toEqual({ value: 'value-two', flags: 8 })
    await child.call('set', 'r', 'a much longer value than before')
    expect(read(h, 'r')).toBe('a much longer value than before')
    warm(h, 'r', 'a much longer value than before')
    await child.call('delete', 'r')
    expect(read(h, 'r')).toBeUndefined()
    expect(h.reader.index.map.has('r')).toBe(false)
  })

  it('binary values: each hit is a fresh copy; a replace by the other process is seen', async () => {
    h.dict.set('bin', new Uint8Array([1, 2, 3]))
    warm(h, 'bin', new Uint8Array([1, 2, 3]))
    const first = h.dict.get('bin') as Uint8Array
    first[0] = 99 // the caller owns its copy
    const again = h.dict.get('bin') as Uint8Array
    expect(again).not.toBe(first)
    expect(again).toEqual(new Uint8Array([1, 2, 3]))
    await child.call('set', 'bin', new Uint8Array([4, 5, 6, 7]))
    expect(read(h, 'bin')).toEqual(new Uint8Array([4, 5, 6, 7]))
    expect(h.dict.getWithFlags('bin')).toEqual({ value: new Uint8Array([4, 5, 6, 7]), flags: 0 })
  })

  it('a write to another key keeps a hit correct (stamp check), an in-place incr is seen', async () => {
    h.dict.set('n', 1)
    h.dict.set('s', 'steady')
    warm(h, 'n', 1)
    warm(h, 's', 'steady')
    await child.call('set', 'other', 'x')
    expect(read(h, 's')).toBe('steady')
    expect(await child.call('incr', 'n', 5)).toEqual({ ok: true, value: 6, forcible: false })
    expect(read(h, 'n')).toBe(6)
    expect(read(h, 'n')).toBe(6)
    expect(await child.call('incr', 'n', -10)).toMatchObject({ value: -4 })
    expect(read(h, 'n')).toBe(-4)
  })

  it('expire and flushAll change the expiry in place: seen, and getStale still answers', async () => {
    h.dict.set('x', 'expiring')
    h.dict.set('y', 'flushed')
    warm(h, 'x', 'expiring')
    warm(h, 'y', 'flushed')
    expect(await child.call('expire', 'x', 1)).toBe(true)
    expect(read(h, 'x')).toBe('expiring')
    clock += 1500
    await child.call('setClock', clock)
    expect(read(h, 'x')).toBeUndefined()
    expect(h.dict.getStale('x')).toEqual({ value: 'expiring', flags: 0, stale: true })
    expect(read(h, 'y')).toBe('flushed')
    await child.call('flushAll')
    expect(read(h, 'y')).toBeUndefined()
    expect(h.dict.getStale('y')).toEqual({ value: 'flushed', flags: 0, stale: true })
    expect(await child.call('flushExpired')).toBeGreaterThanOrEqual(2)
    expect(h.dict.getStale('y')).toBeUndefined()
  })

  it('a key turned into a list reads as a list', async () => {
    h.dict.set('l', 'scalar')
    warm(h, 'l', 'scalar')
    await child.call('delete', 'l')
    await child.call('rpush', 'l', 'item')
    expect(() => h.dict.get('l')).toThrow(expect.objectContaining({ code: 'SHD_ERR_IS_A_LIST' }))
    expect(() => h.reader.read('l', false)).toThrow(expect.objectContaining({ code: 'SHD_ERR_IS_A_LIST' }))
    await child.call('delete', 'l')
    expect(read(h, 'l')).toBeUndefined()
  })

  it('eviction by the other process', async () => {
    h.dict.set('e', 'evict me')
    warm(h, 'e', 'evict me')
    const big = 'B'.repeat(4000)
    let i = 0
    // ttl neither marks nor moves the entry: only this process's reads gave it a chance
    while ((await child.call('ttl', 'e')) !== undefined && i < 2000) await child.call('set', `fill${i++}`, big)
    expect(await child.call('ttl', 'e')).toBeUndefined()
    expect(read(h, 'e')).toBeUndefined()
    expect(h.dict.verify()).toEqual([])
  })
})

describe('shdict key index: reads while another process writes the same key', () => {
  let zone: ShmZone
  let h: Here
  let child: Child
  beforeAll(async () => {
    zone = createZone('dict', 256 * 1024)
    h = here(zone, Date.now)
    child = await forkChild(fixture('shdict-rpc.mjs'), [zone])
  })
  afterAll(async () => {
    await child?.stop()
    closeZoneFd(zone)
  })

  /** reads `key` through both handles until `work` settles; returns every value seen, in order */
  async function watch(key: string, work: Promise<unknown>, parse: (v: Value) => number): Promise<number[]> {
    let done = false
    void work.finally(() => {
      done = true
    })
    const seen: number[] = []
    while (!done) {
      for (let i = 0; i < 2000; i++) {
        const a = h.dict.get(key)
        const b = h.reader.read(key, false) === OPT_HIT ? h.reader.value : undefined
        if (a !== undefined) seen.push(parse(a))
        if (b !== undefined) seen.push(parse(b))
      }
      await new Promise((r) => setImmediate(r))
    }
    await work
    return seen
  }

  const nonDecreasing = (xs: number[]): number => xs.findIndex((x, i) => i > 0 && x < xs[i - 1]!)

  it('an incremented number never reads older than a value already read', async () => {
    h.dict.set('cnt', 0)
    const seen = await watch('cnt', child.call('incrLoop', 'cnt', 100_000, 0), (v) => v as number)
    expect(nonDecreasing(seen)).toBe(-1)
    expect(new Set(seen).size).toBeGreaterThan(1) // the reads really overlapped the writes
    expect(read(h, 'cnt')).toBe(100_000)
  })

  it('a rewritten string never reads older than a value already read', async () => {
    h.dict.set('str', 'v0')
    const seen = await watch('str', child.call('setLoop', 'str', 30_000, 'v'), (v) => Number((v as string).slice(1)))
    expect(nonDecreasing(seen)).toBe(-1)
    expect(new Set(seen).size).toBeGreaterThan(1)
    expect(read(h, 'str')).toBe('v29999')
    expect(h.dict.verify()).toEqual([])
  })
})

describe('shdict key index: the zone changes identity', () => {
  it('a re-format: the same block and stamp come back with another value, and are not trusted', async () => {
    const zone = createZone('dict', 64 * 1024)
    const h = here(zone, Date.now)
    const child = await forkChild(fixture('shdict-rpc.mjs'), [zone])
    try {
      h.dict.set('k', 'old-value')
      warm(h, 'k', 'old-value')
      const before = slotOf(h, 'k')
      SharedDict.create(zone.buffer) // re-format (as after a restart that keeps the memory)
      await child.call('set', 'k', 'new-value')
      const z = new Zone(zone.buffer)
      const e = find(z, { prevWord: 0 }, 'k', hashKey('k'))
      // what makes this case hard: the new write sits in the same block with the same stamp
      expect({ e, stamp: z.i32[(e + E_STAMP) >> 2] }).toEqual(before)
      expect(read(h, 'k')).toBe('new-value')
    } finally {
      await child.stop()
      closeZoneFd(zone)
    }
  })

  it('a recovery: an entry unlinked by a writer that died keeps its stamp, and is not trusted', async () => {
    const zone = createZone('dict', 256 * 1024)
    const h = here(zone, Date.now)
    // 'p' and 'a' are buddy blocks: with 'p' freed, recovery frees 'a' as part of one larger
    // block, so neither the header word nor the stamp of 'a' is rewritten
    h.dict.set('p', 'a value of the same size....')
    h.dict.set('a', 'unlinked by the dead writer')
    h.dict.set('b', 'kept')
    h.dict.delete('p')
    warm(h, 'a', 'unlinked by the dead writer')
    warm(h, 'b', 'kept')
    const slot = slotOf(h, 'a')
    const { pid, signal } = await runToExit(fixture('shdict-halfwrite.mjs'), [zone], ['unlinked'])
    closeZoneFd(zone)
    expect(signal).toBe('SIGKILL')
    expect(h.dict.forceUnlock(pid)).toBe(true)
    expect(h.dict.stats().recoveries).toBe(1)
    const i32 = new Int32Array(zone.buffer)
    expect(i32[(slot.e + E_STAMP) >> 2]).toBe(slot.stamp)
    expect(i32[slot.e >> 2]! & TAG_MASK).toBe(TAG_ENTRY)
    expect(read(h, 'a')).toBeUndefined()
    expect(read(h, 'b')).toBe('kept')
    expect(h.dict.verify()).toEqual([])
  })
})

describe('shdict key index: bounds and options', () => {
  it('holds at most indexKeys keys and stays correct beyond; 0 turns it off', () => {
    const sab = new SharedArrayBuffer(64 * 1024)
    const dict = SharedDict.create(sab, { indexKeys: 4 })
    const reader = new Reader(new Core(new Zone(sab), Date.now, DEFAULT_TIMING), 4)
    for (let i = 0; i < 10; i++) dict.set(`k${i}`, `v${i}`)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) {
        expect(dict.get(`k${i}`)).toBe(`v${i}`)
        expect(reader.read(`k${i}`, false)).toBe(OPT_HIT)
        expect(reader.value).toBe(`v${i}`)
        expect(reader.index.map.size).toBeLessThanOrEqual(4)
      }
    }
    const off = SharedDict.attach(sab, { indexKeys: 0 })
    for (let i = 0; i < 10; i++) expect(off.get(`k${i}`)).toBe(`v${i}`)
    const offReader = new Reader(new Core(new Zone(sab), Date.now, DEFAULT_TIMING), 0)
    expect(offReader.read('k1', false)).toBe(OPT_HIT)
    expect(offReader.index.map.size).toBe(0)
    for (const bad of [-1, 1.5, 'x']) {
      expect(() => SharedDict.attach(sab, { indexKeys: bad as number })).toThrow(expect.objectContaining({ code: 'SHD_ERR_INVALID_ARG' }))
    }
  })
})
