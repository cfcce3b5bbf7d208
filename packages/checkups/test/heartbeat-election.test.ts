// Heartbeat election across real processes sharing real shared memory: three
// candidates, one leader; SIGKILL the leader, remove its lease as the primary would
// (releaseLease), another candidate's round runs soon after; rounds never overlap.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createZone, zoneStdio } from '@checkups/shm'
import { SharedDict } from '@checkups/shdict'
import { KEY, SLOT } from '@checkups/core'
import { encodeRecord } from '@checkups/core'
import { createHeartbeat, readLease, releaseLease } from '@checkups/core/heartbeat'
import { hbView } from './fixtures/heartbeat-config.js'

const fixture = fileURLToPath(new URL('./fixtures/heartbeat-candidate.mjs', import.meta.url))

async function waitFor<T>(what: string, fn: () => T | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('election in one process (shared dicts, distinct pids)', () => {
  it('one leader; stop hands over; a replaced lease demotes its old holder', async () => {
    const shared = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 16) }
    const mk = (pid: number) => createHeartbeat({ shared, worker: { id: pid, count: 2, pid }, pollMs: 20, getConfig: () => hbView({}) })
    const a = mk(1), b = mk(2)
    a.start(); b.start()
    await waitFor('a leader', () => a.isLeader() || b.isLeader())
    const [leader, other] = a.isLeader() ? [a, b] : [b, a]
    expect(other.isLeader()).toBe(false)
    expect(shared.mutex.ttl(KEY.HEARTBEAT_LEASE)).toBeGreaterThan(50) // TTL = checkup_timer_overtime (60)
    expect(readLease(shared.mutex)).toMatchObject({ pid: leader === a ? 1 : 2 })
    expect(releaseLease(shared.mutex, 999)).toBe(false)
    await leader.stop()
    await waitFor('takeover', () => other.isLeader())
    // someone else's lease appears (e.g. after a stall longer than the TTL): the holder demotes
    // itself and nobody overwrites the foreign lease
    shared.mutex.set(KEY.HEARTBEAT_LEASE, encodeRecord({ worker: 9, pid: 9, since: 0 }), 60)
    await waitFor('demotion', () => !other.isLeader())
    await new Promise((r) => setTimeout(r, 100))
    expect(readLease(shared.mutex)).toEqual({ worker: 9, pid: 9, since: 0 })
    expect(other.phase()).toBe('candidate')
    // the primary removes the dead holder's lease: the candidate takes it
    expect(releaseLease(shared.mutex, 9)).toBe(true)
    await waitFor('re-election', () => other.isLeader())
    await other.stop()
  })
})

describe('contend', () => {
  it('a candidate told to contend takes a released lease at once, not at its next poll', async () => {
    const shared = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 16) }
    // a poll period no test waits for: only contend() can make b the leader here
    const mk = (pid: number, pollMs: number) => createHeartbeat({ shared, worker: { id: pid, count: 2, pid }, pollMs, getConfig: () => hbView({}) })
    const a = mk(1, 20)
    a.start()
    await waitFor('a leads', () => a.isLeader())
    const b = mk(2, 3_600_000)
    b.start() // polls once now: the lease is a's
    expect(b.isLeader()).toBe(false)
    b.contend() // a leader's lease still held: nothing changes
    expect(b.isLeader()).toBe(false)
    // a dies without handing over (no stop): the primary releases its lease, then tells b
    expect(releaseLease(shared.mutex, 1)).toBe(true)
    b.contend()
    expect(b.isLeader()).toBe(true)
    expect(readLease(shared.mutex)).toMatchObject({ pid: 2 })
    b.contend() // a leader: nothing
    expect(b.isLeader()).toBe(true)
    await b.stop()
    await a.stop()
  })
})

describe('election across processes (real shm)', () => {
  const children: ChildProcess[] = []
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  })

  it('SIGKILL the leader: another takes over soon after releaseLease; never two leaders', async () => {
    const zs = [createZone('state', 1 << 20), createZone('mutex', 1 << 16)]
    const state = SharedDict.create(zs[0]!.buffer)
    const mutex = SharedDict.create(zs[1]!.buffer)
    const { stdio, env } = zoneStdio(zs)
    const events: Array<{ msg: string; pid: number; at: number }> = []
    for (let i = 0; i < 3; i++) {
      const c = fork(fixture, [], {
        stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio],
        env: { ...process.env, ...env, CANDIDATE_ID: String(i) },
      })
      c.on('message', (m: { msg: string; pid: number }) => events.push({ ...m, at: Date.now() }))
      children.push(c)
    }
    await waitFor('3 ready', () => events.filter((e) => e.msg === 'ready').length === 3)
    const first = await waitFor('a lease', () => readLease(mutex))
    const v0 = state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION)
    await waitFor('rounds by the first leader', () => state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION) >= v0 + 3)
    expect(state.get(KEY.LAST_CHECK_TIME)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)

    const victim = children.find((c) => c.pid === first.pid)!
    const gone = new Promise((r) => victim.once('exit', r))
    victim.kill('SIGKILL')
    await gone
    const vKilled = state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION)
    const released = Date.now()
    expect(releaseLease(mutex, first.pid)).toBe(true) // what the primary does on worker exit
    const next = await waitFor('a new lease', () => { const l = readLease(mutex); return l && l.pid !== first.pid ? l : undefined })
    await waitFor('a round by the new leader', () => state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION) > vKilled)
    const takeover = Date.now() - released
    console.log(`[heartbeat] takeover after releaseLease: ${takeover} ms (new leader pid ${next.pid})`)
    await waitFor('more rounds', () => state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION) >= vKilled + 3)

    for (const c of children.filter((c) => c !== victim)) c.send('stop')
    await Promise.all(children.filter((c) => c !== victim).map((c) => new Promise((r) => c.exitCode !== null ? r(0) : c.once('exit', r))))

    // rounds per process, and no two processes' rounds overlap in time
    const rounds = Array.from({ length: state.llen('rounds') }, () => String(state.lpop('rounds')))
      .map((s) => s.split(' ').map(Number) as [number, number, number])
    const perPid = new Map<number, number>()
    for (const [pid] of rounds) perPid.set(pid, (perPid.get(pid) ?? 0) + 1)
    console.log(`[heartbeat] rounds per process: ${JSON.stringify(Object.fromEntries(perPid))}`)
    expect(perPid.get(first.pid)).toBeGreaterThanOrEqual(3)
    expect(perPid.get(next.pid)).toBeGreaterThanOrEqual(1)
    const sorted = [...rounds].sort((a, b) => a[1] - b[1])
    for (let i = 1; i < sorted.length; i++) {
      const [pa, , enda] = sorted[i - 1]!
      const [pb, startb] = sorted[i]!
      if (pa !== pb) expect(startb).toBeGreaterThanOrEqual(enda)
    }
    const elected = events.filter((e) => e.msg === 'heartbeat: leader elected').map((e) => e.pid)
    expect(elected).toEqual([first.pid, next.pid])
  })
})
