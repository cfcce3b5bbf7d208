/**
 * Passive state is shared (an improvement on the original, where it is per worker): failures reported in two different
 * processes attached to the same shared-memory zones add up to max_fails.
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createZone } from '@checkups/shm'
import { SharedDict } from '@checkups/shdict'
import { Checkups, KEY, decodeRecord, type PassiveRecord } from '@checkups/core'
import { forkWorkers, stopWorkers } from './workers.js'

const H = '127.0.0.1'
const config = { ups: { cluster: [{ servers: [
  { host: H, port: 1001, max_fails: 2, fail_timeout: 30 },
  { host: H, port: 1002 },
] }] } }
const fixture = fileURLToPath(new URL('./fixtures/passive-worker.mjs', import.meta.url))
const children: ChildProcess[] = []
let state: SharedDict

function request(child: ChildProcess, msg: object): Promise<{ ok: boolean; value?: unknown; error?: string }> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as { ok: boolean }))
    child.send(msg)
  })
}

beforeAll(async () => {
  const zones = ['state', 'mutex', 'locks', 'config'].map((n) => createZone(n, 1 << 20))
  const dicts = Object.fromEntries(zones.map((z) => [z.name, SharedDict.create(z.buffer)]))
  state = dicts.state!
  new Checkups({ shared: dicts as never }).init(config)
  await forkWorkers(children, fixture, config, zones, [0, 1])
})

afterAll(async () => {
  await stopWorkers(children)
})

it('one failure in each of two processes reaches max_fails 2', async () => {
  const [a, b] = children as [ChildProcess, ChildProcess]
  expect(await request(a, { op: 'fail', skey: 'ups', host: H, port: 1001 })).toEqual({ ok: true, value: null })
  const rec1 = decodeRecord<PassiveRecord>(state.get(KEY.passive('ups', H, 1001)) as Uint8Array)
  expect([rec1?.status, rec1?.count]).toEqual([0, 1])
  // still ok in both: round-robin gives 1001 then 1002 in process b
  expect((await request(b, { op: 'pick', skey: 'ups' })).value).toEqual({ host: H, port: 1001 })
  expect(await request(b, { op: 'fail', skey: 'ups', host: H, port: 1001 })).toEqual({ ok: true, value: null })
  const rec2 = decodeRecord<PassiveRecord>(state.get(KEY.passive('ups', H, 1001)) as Uint8Array)
  expect([rec2?.status, rec2?.count]).toEqual([2, 2])
  // both processes now skip 1001
  for (const child of [a, b, a, b]) {
    expect((await request(child, { op: 'pick', skey: 'ups' })).value).toEqual({ host: H, port: 1002 })
  }
})
