// Lock-free reads (seqlock, src/seqlock.ts and src/read.ts) and the second-chance LRU (reference bytes).
// In-process: a get writes nothing but its entry's reference byte; locked operations that
// change nothing leave SEQ alone; the lock-free lookup survives arbitrary garbage (every
// offset is range-checked, loops are bounded). Cross-process: one process rewrites values
// of varying sizes (and frees/reuses blocks) in a loop while this one reads lock-free and
// checks every value it gets was fully written; a writer SIGKILLed mid-write with SEQ odd
// sends readers to the locked path, which steals its lock, recovers and leaves SEQ even.
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { closeZoneFd, createZone, type Zone as ShmZone } from '@checkups/shm'
import { forkChild, nextMessage, runToExit, type Child } from './support/children.js'
// engine internals (the compiled package), for the fuzz test
import { Core } from '../dist/core.js'
import { OPT_HIT, OPT_LIST, OPT_MISS, OPT_RETRY, Reader } from '../dist/read.js'
import { H_LOCK, H_REFS, H_SEQ } from '../dist/layout.js'
import { DEFAULT_TIMING } from '../dist/shmtx.js'
import { hashKey } from '../dist/table.js'
import { Zone } from '../dist/zone.js'
// @ts-expect-error plain .mjs fixture without types
import { checkValue, makeValue } from './fixtures/values.mjs'

const check = checkValue as (key: string, value: unknown) => string | null
const make = makeValue as (key: string, seq: number, len: number) => string
const local = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const header = (d: SharedDict): Int32Array => new Int32Array(d.buffer, 0, 128)

describe('shdict lock-free reads, in process', () => {
  it('get/getWithFlags/getStale write nothing but the entry reference byte, and only once', () => {
    const d = SharedDict.create(64 * 1024)
    for (let i = 0; i < 50; i++) d.set(`k${i}`, make(`k${i}`, i, i * 3), i % 2 ? 100 : 0, i)
    const refs = header(d)[H_REFS]!
    const before = new Uint8Array(d.buffer).slice()
    expect(d.get('k7')).toBe(make('k7', 7, 21))
    expect(d.getWithFlags('k8')).toEqual({ value: make('k8', 8, 24), flags: 8 })
    expect(d.getStale('k9')).toEqual({ value: make('k9', 9, 27), flags: 9, stale: false })
    expect(d.get('missing')).toBeUndefined()
    const after = new Uint8Array(d.buffer)
    const changed: number[] = []
    for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed.push(i)
    expect(changed).toHaveLength(3)
    for (const at of changed) expect(at >= refs && at < refs + (d.capacity() >> 6)).toBe(true)
    const again = after.slice()
    for (let n = 0; n < 100; n++) d.get('k7')
    expect(Buffer.compare(new Uint8Array(d.buffer), again)).toBe(0)
    expect(d.readStats()).toEqual({ lockFree: 104, retries: 0, locked: 0 })
  })

  it('expired entries read as missing without being reclaimed (no write); getStale still sees them', () => {
    let clock = 1_000_000
    const d = SharedDict.create(64 * 1024, { now: () => clock })
    d.set('e', 'old', 1, 5)
    clock += 2000
    const before = new Uint8Array(d.buffer).slice()
    expect(d.get('e')).toBeUndefined()
    expect(d.getWithFlags('e')).toBeUndefined()
    expect(d.getStale('e')).toEqual({ value: 'old', flags: 5, stale: true })
    expect(Buffer.compare(new Uint8Array(d.buffer), before)).toBe(0)
    expect(d.stats().entries).toBe(1)
    expect(d.flushExpired()).toBe(1)
  })

  it('SEQ changes only when a critical section changes something readers see', () => {
    const d = SharedDict.create(64 * 1024)
    const h = header(d)
    d.set('n', 1)
    d.rpush('l', 'x')
    const s0 = h[H_SEQ]!
    expect(s0 % 2).toBe(0)
    d.ttl('n')
    d.llen('l')
    expect(d.safeAdd('n', 2)).toEqual({ ok: false, err: 'exists' })
    expect(() => d.lpop('n')).toThrow()
    expect(h[H_SEQ]).toBe(s0)
    d.incr('n', 1)
    const s1 = h[H_SEQ]!
    expect(s1).toBe(s0 + 2)
    d.set('n', 5)
    d.expire('n', 10)
    d.delete('n')
    d.flushAll()
    expect(h[H_SEQ]! % 2).toBe(0)
    expect(h[H_SEQ]!).toBeGreaterThan(s1)
    expect(d.get('l')).toBeUndefined() // flushed
    expect(d.verify()).toEqual([])
  })

  it('a zone left with SEQ odd but the lock free heals on the next locked operation', () => {
    const d = SharedDict.create(64 * 1024)
    d.set('a', 'v')
    const h = header(d)
    h[H_SEQ] = h[H_SEQ]! + 1
    expect(d.get('a')).toBe('v') // lock-free attempts fail, the locked path answers
    expect(d.readStats().locked).toBe(1)
    expect(h[H_SEQ]! % 2).toBe(0)
    expect(d.get('a')).toBe('v')
    expect(d.readStats().locked).toBe(1)
  })

  it('second chance: read tail entries survive eviction; with every entry read, eviction still ends', () => {
    const d = SharedDict.create(16 * 1024)
    const v = 'x'.repeat(60)
    let cap = 0
    while (d.safeSet(`k${cap}`, v).ok) cap++ // as many entries as fit, and room for none more
    d.delete(`k${cap}`) // safeSet's failed overwrite attempt left nothing, but be explicit
    expect(d.get('k0')).toBe(v)
    expect(d.set('new1', v)).toEqual({ ok: true, forcible: true })
    expect(d.get('k0')).toBe(v) // read: second chance, moved to the head
    expect(d.get('k1')).toBeUndefined() // the oldest unread entry went
    for (const k of d.getKeys(0)) d.get(k) // every entry referenced
    expect(d.set('new2', v)).toEqual({ ok: true, forcible: true })
    expect(d.getKeys(0)).toHaveLength(cap)
    expect(d.get('new2')).toBe(v)
    expect(d.verify()).toEqual([])
  })

  it('the lock-free lookup survives arbitrary garbage: no throw, no hang', () => {
    let seed = 12345
    const rnd = (n: number): number => {
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      return (seed >>> 0) % n
    }
    const d = SharedDict.create(32 * 1024)
    const keys: string[] = []
    for (let i = 0; i < 60; i++) {
      keys.push(`key${i}`)
      d.set(`key${i}`, i % 3 ? make(`key${i}`, i, i * 11) : i)
    }
    const core = new Reader(new Core(new Zone(d.buffer), Date.now, DEFAULT_TIMING), 1024)
    const i32 = new Int32Array(d.buffer)
    const heapFrom = 128 // leave the header's geometry alone (attach-time state)
    const codes = new Set<number>()
    const valid = new Set([OPT_MISS, OPT_HIT, OPT_RETRY, OPT_LIST])
    const t0 = Date.now()
    for (let round = 0; round < 2000; round++) {
      // scribble: random words anywhere past the geometry, some of them plausible offsets
      for (let j = 0; j < 20; j++) {
        const w = heapFrom + rnd(i32.length - heapFrom)
        if (w === H_SEQ || w === H_LOCK) continue
        i32[w] = rnd(4) === 0 ? rnd(d.capacity() + 4096) - 2048 : rnd(4) === 0 ? (rnd(0x10000) << 8) | rnd(40) : (rnd(0x7fffffff) * (rnd(2) ? 1 : -1)) | 0
      }
      for (const k of keys) {
        const r = core.optRead(k, hashKey(k), rnd(2) === 0)
        codes.add(r)
        if (!valid.has(r)) throw new Error(`optRead returned ${r}`)
      }
    }
    expect(Date.now() - t0).toBeLessThan(30_000)
    expect(codes.size).toBeGreaterThan(1)
  })
})

describe('shdict lock-free reads across processes', () => {
  let zone: ShmZone
  let dict: SharedDict
  let writer: Child
  beforeAll(async () => {
    zone = createZone('dict', 128 * 1024)
    dict = SharedDict.create(zone.buffer)
    writer = await forkChild(local('rewriter.mjs'), [zone], ['7'])
  })
  afterAll(async () => {
    await writer?.stop()
    closeZoneFd(zone)
  })

  it('every value read while another process rewrites (and frees, reuses, evicts) is one fully written', async () => {
    const problems: string[] = []
    const note = (what: string): void => {
      if (problems.length < 20) problems.push(what)
    }
    let reads = 0
    let values = 0
    const { ops: startOps } = await nextMessage<{ ops?: number }>(writer, (m) => (m.ops ?? 0) >= 1000)
    const start = Date.now()
    // read synchronously in slices, letting the writer's messages through in between
    while (Date.now() - start < 2500) {
      const slice = Date.now()
      while (Date.now() - slice < 50) {
        for (let i = 0; i < 16; i++) {
          const key = `k${i}`
          for (const k of [key, `k${i & 3}:n`, `k${i & 3}:b`]) {
            reads++
            let v: unknown
            let flags: number | undefined
            try {
              const which = reads % 3
              if (which === 0) v = dict.get(k)
              else if (which === 1) {
                const r = dict.getWithFlags(k)
                v = r?.value
                flags = r?.flags
              } else {
                const r = dict.getStale(k)
                v = r?.value
                flags = r?.flags
              }
            } catch (err) {
              if ((err as { code?: string }).code !== 'SHD_ERR_IS_A_LIST' || k !== key) note(`${k}: threw ${String(err)}`)
              continue
            }
            if (v === undefined) continue
            values++
            const bad = check(k, v)
            if (bad) note(`${k}: ${bad}`)
            if (flags !== undefined && typeof v !== 'number') {
              const len = typeof v === 'string' ? Buffer.byteLength(v) : typeof v === 'boolean' ? 1 : (v as Uint8Array).byteLength
              if (flags !== len) note(`${k}: flags ${flags} != length ${len}`)
            }
          }
        }
        const big = dict.get(`big${reads % 3}`)
        if (big !== undefined && (typeof big !== 'string' || !/^B+$/.test(big))) note('big: torn')
      }
      await new Promise((r) => setImmediate(r))
    }
    const { ops: endOps } = await nextMessage<{ ops?: number }>(writer, (m) => m.ops !== undefined)
    const stats = dict.readStats()
    console.log(`[shdict-lockfree] ${reads} reads (${values} values) during ${endOps! - startOps!} writes; ` +
      `lock-free ${stats.lockFree}, discarded attempts ${stats.retries}, locked ${stats.locked}`)
    expect(problems).toEqual([])
    expect(values).toBeGreaterThan(1000)
    expect(endOps! - startOps!).toBeGreaterThan(1000) // the writer really ran meanwhile
    expect(stats.lockFree).toBeGreaterThan(stats.locked)
    expect(dict.verify()).toEqual([])
  })
})

describe('shdict lock-free reads: a writer killed mid-write (SEQ odd)', () => {
  for (const scenario of ['half', 'odd-only'] as const) {
    it(`${scenario}: readers fall back to the lock, steal it, recover, and SEQ ends even`, async () => {
      const zone = createZone('dict', 64 * 1024)
      const d = SharedDict.create(zone.buffer, { lockStealAfterMs: 20 })
      d.set('a', make('a', 1, 10))
      d.set('b', make('b', 2, 100))
      for (let i = 0; i < 20; i++) d.set(`f${i}`, make(`f${i}`, i, i * 5))
      const { pid, signal } = await runToExit(local('killed-writer.mjs'), [zone], [scenario])
      closeZoneFd(zone)
      expect(signal).toBe('SIGKILL')
      const h = header(d)
      expect(d.lockOwner()).toBe(pid)
      expect(h[H_SEQ]! % 2).toBe(1)
      const recoveries = d.stats().recoveries // takes the lock: steals it (dead owner) first
      expect(recoveries).toBe(scenario === 'half' ? 1 : 0)
      expect(h[H_SEQ]! % 2).toBe(0)
      expect(d.lockOwner()).toBe(0)
      expect(d.verify()).toEqual([])
      expect(d.get('a')).toBe(scenario === 'half' ? undefined : make('a', 1, 10))
      expect(d.get('b')).toBe(make('b', 2, 100))
      for (const k of d.getKeys(0)) expect(check(k, d.get(k))).toBeNull()
      expect(d.readStats().locked).toBe(0) // after recovery every read is lock-free again
    })

    it(`${scenario}: a get is the first to notice — it does not wait forever`, async () => {
      const zone = createZone('dict', 64 * 1024)
      const d = SharedDict.create(zone.buffer, { lockStealAfterMs: 20 })
      d.set('a', make('a', 1, 10))
      d.set('b', make('b', 2, 100))
      await runToExit(local('killed-writer.mjs'), [zone], [scenario])
      closeZoneFd(zone)
      const t0 = Date.now()
      expect(d.get('b')).toBe(make('b', 2, 100))
      expect(Date.now() - t0).toBeLessThan(5000)
      expect(d.readStats()).toMatchObject({ locked: 1 })
      expect(header(d)[H_SEQ]! % 2).toBe(0)
      expect(d.lockOwner()).toBe(0)
      expect(d.get('a')).toBe(scenario === 'half' ? undefined : make('a', 1, 10))
      expect(d.verify()).toEqual([])
    })
  }
})
