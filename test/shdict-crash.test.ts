// Crash safety. (1) Deterministic: a child takes the zone lock, performs half of a write
// and SIGKILLs itself; recovery (the supervisor's forceUnlock, or a waiter stealing the
// lock of a dead owner) leaves a consistent zone where only fully written data is visible.
// (2) Random: writers SIGKILLed at random points of a busy write loop while a survivor
// keeps writing; every readable value is one that was fully written, and freeSpace()
// comes back after all keys are deleted.
import { fork } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { closeZoneFd, createZone, zoneStdio, type Zone } from '@checkups/shm'
import { fixture, forkChild, nextMessage, runToExit, type Child } from '../packages/shdict/test/support/children.js'
// @ts-expect-error plain .mjs fixture without types
import { checkValue, makeValue } from './fixtures/shdict-values.mjs'

const check = checkValue as (key: string, value: unknown) => string | null
const make = makeValue as (key: string, seq: number, len: number) => string

describe('shdict crash safety: half-done writes', () => {
  const scenarios: [string, (d: SharedDict) => void][] = [
    ['unpublished', (d) => expect(d.get('ghost')).toBeUndefined()],
    ['unlinked', (d) => expect(d.get('a')).toBeUndefined()],
    ['lru', (d) => expect(d.get('b')).toBe(make('b', 2, 50))],
    ['lpush', (d) => {
      expect(d.llen('list')).toBe(3)
      expect(d.lpop('list')).toBe('new')
    }],
    ['freelists', (d) => expect(d.get('c')).toBe(make('c', 3, 5000))],
  ]

  for (const [scenario, effect] of scenarios) {
    for (const how of ['forceUnlock', 'steal'] as const) {
      it(`${scenario}: recovered by ${how}`, async () => {
        const zone: Zone = createZone('dict', 256 * 1024)
        const dict = SharedDict.create(zone.buffer, { lockStealAfterMs: 20 })
        const initial = dict.freeSpace()
        dict.set('a', make('a', 1, 10))
        dict.set('b', make('b', 2, 50))
        dict.set('c', make('c', 3, 5000))
        dict.rpush('list', 'x')
        dict.rpush('list', 'y')
        for (let i = 0; i < 50; i++) dict.set(`filler${i}`, make(`filler${i}`, i, i * 7))
        const recoveries = dict.stats().recoveries
        const { pid, signal } = await runToExit(fixture('shdict-halfwrite.mjs'), [zone], [scenario])
        closeZoneFd(zone)
        expect(signal).toBe('SIGKILL')
        expect(dict.lockOwner()).toBe(pid)
        if (how === 'forceUnlock') {
          expect(dict.forceUnlock(pid + 1)).toBe(false)
          expect(dict.forceUnlock(pid)).toBe(true)
          expect(dict.lockOwner()).toBe(0)
        } else {
          expect(dict.get('filler1')).toBe(make('filler1', 1, 7)) // waits, finds pid dead, steals
        }
        expect(dict.stats().recoveries).toBe(recoveries + 1)
        expect(dict.verify()).toEqual([])
        effect(dict)
        for (const k of dict.getKeys(0)) {
          if (k === 'list') continue
          expect(check(k, dict.get(k))).toBeNull()
        }
        expect(dict.set('after', make('after', 9, 100))).toEqual({ ok: true, forcible: false })
        for (const k of dict.getKeys(0)) dict.delete(k)
        expect(dict.freeSpace()).toBe(initial)
        expect(dict.verify()).toEqual([])
      })
    }
  }
})

describe('shdict zone lock: live vs dead holders', () => {
  it('a live holder makes waiters fail with SHD_ERR_LOCK_BUSY; once it dies they steal the lock', async () => {
    const zone = createZone('dict', 64 * 1024)
    const dict = SharedDict.create(zone.buffer, { lockStealAfterMs: 20, lockTimeoutMs: 300 })
    dict.set('k', 'v')
    const { stdio, env } = zoneStdio([zone])
    const holder = fork(fixture('shdict-halfwrite.mjs'), ['hold'], { stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio], env: { ...process.env, ...env } })
    closeZoneFd(zone)
    const exited = new Promise((resolve) => holder.on('exit', resolve))
    try {
      const deadline = Date.now() + 30_000
      while (dict.lockOwner() !== holder.pid) {
        if (Date.now() > deadline) throw new Error('holder never took the lock')
        await sleep(5)
      }
      expect(() => dict.get('k')).toThrow(expect.objectContaining({ code: 'SHD_ERR_LOCK_BUSY' }))
      expect(dict.lockOwner()).toBe(holder.pid)
    } finally {
      process.kill(holder.pid!, 'SIGKILL')
      await exited
    }
    expect(dict.get('k')).toBe('v') // dead owner: stolen, no recovery needed (not dirty)
    expect(dict.lockOwner()).toBe(0)
    expect(dict.stats().recoveries).toBe(0)
    expect(dict.verify()).toEqual([])
  })
})

/** Reads every key (lists: pops each item and pushes it back) and checks each value. */
function checkAll(dict: SharedDict): { keys: number; problems: string[] } {
  const problems: string[] = []
  const keys = dict.getKeys(0)
  for (const k of keys) {
    let v: unknown
    try {
      v = dict.get(k)
    } catch (err) {
      if ((err as { code?: string }).code !== 'SHD_ERR_IS_A_LIST') throw err
      for (let n = dict.llen(k); n > 0; n--) {
        const item = dict.lpop(k)
        if (item === undefined) break
        const bad = check(k, item)
        if (bad) problems.push(`${k}: ${bad}`)
        dict.rpush(k, item)
      }
      continue
    }
    if (v === undefined) continue
    const bad = check(k, v)
    if (bad) problems.push(`${k}: ${bad}`)
  }
  return { keys: keys.length, problems }
}

describe('shdict crash safety: writers killed at random points', () => {
  let zone: Zone
  let dict: SharedDict
  let survivor: Child
  let initial = 0
  beforeAll(async () => {
    zone = createZone('dict', 256 * 1024)
    dict = SharedDict.create(zone.buffer)
    initial = dict.freeSpace()
    survivor = await forkChild(fixture('shdict-writer.mjs'), [zone], ['survivor', '7'])
  })
  afterAll(async () => {
    await survivor?.stop()
    closeZoneFd(zone)
  })

  it('survivors continue and only fully written values are ever readable', async () => {
    let held = 0
    for (let round = 0; round < 6; round++) {
      const victim = await forkChild(fixture('shdict-writer.mjs'), [zone], [`v${round}`, String(1000 + round)])
      await nextMessage<{ ops?: number }>(victim, (m) => (m.ops ?? 0) >= 600)
      await sleep(Math.floor(Math.random() * 40))
      process.kill(victim.pid, 'SIGKILL')
      await victim.exited
      if (dict.forceUnlock(victim.pid)) held++
      const { ops } = await nextMessage<{ ops?: number }>(survivor, (m) => m.ops !== undefined)
      // the survivor still makes progress after the crash
      await nextMessage<{ ops?: number }>(survivor, (m) => (m.ops ?? 0) > ops! + 600)
      expect(dict.verify()).toEqual([])
      const { keys, problems } = checkAll(dict)
      expect(problems).toEqual([])
      expect(keys).toBeGreaterThan(0)
    }
    await survivor.stop()
    dict.forceUnlock(survivor.pid)
    expect(dict.verify()).toEqual([])
    expect(checkAll(dict).problems).toEqual([])
    for (const k of dict.getKeys(0)) dict.delete(k)
    dict.flushExpired()
    expect(dict.getKeys(0)).toEqual([])
    expect(dict.freeSpace()).toBe(initial)
    console.log(`[shdict-crash] lock held by the victim at kill time in ${held}/6 rounds`)
  })
})
