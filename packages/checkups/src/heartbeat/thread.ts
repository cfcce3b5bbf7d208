/**
 * piscina task: one round's probing + aggregation + record writes, run in a worker thread over
 * the zones' SharedArrayBuffers (SharedDict.attach). The leader's thread keeps only the
 * finishing keys (round.ts finishRound), so probing never competes with request handling.
 *
 * Invariants
 * - Records are written only if the lease still names the leader that posted the task
 *   (checked in this thread right before the write pass, like the in-process round).
 * - Upstreams arrive and checks leave as msgpackr bytes (pool.ts says why); the checks in
 *   batches of CHECK_BATCH (round.ts encodeChecks), in the order the in-process round reports them.
 */
import { SharedDict } from '@checkups/shdict'
import type { ResolvedUpstream } from '../config/types.js'
import { decodeRecord } from '../records.js'
import type { WriteResult } from './contract.js'
import { holdsLease, type Candidate } from './election.js'
import type { Bounds } from './limit.js'
import { CHECK_BATCH, encodeChecks, probeAndWrite } from './round.js'

export interface ThreadTask {
  state: SharedArrayBuffer
  mutex: SharedArrayBuffer
  /** check the lease before writing (false for manual rounds) */
  guard: boolean
  me: Candidate
  /** upstreams without a custom heartbeat (functions cannot cross threads), msgpackr bytes */
  upstreams: Record<string, Uint8Array>
  defaultEnable: boolean
  limits: Bounds
}

export interface ThreadResult extends Omit<WriteResult, 'checks'> {
  /** the round's checks, msgpackr-encoded PeerCheck[] of at most CHECK_BATCH each */
  checkBatches: Uint8Array[]
}

export default async function heartbeatTask(task: ThreadTask): Promise<ThreadResult> {
  const state = SharedDict.attach(task.state)
  const mutex = SharedDict.attach(task.mutex)
  const upstreams: Record<string, ResolvedUpstream> = {}
  for (const [skey, bytes] of Object.entries(task.upstreams)) upstreams[skey] = decodeRecord<ResolvedUpstream>(bytes) as ResolvedUpstream
  const { checks, ...rest } = await probeAndWrite(upstreams, {
    state, limits: task.limits, defaultEnable: task.defaultEnable,
    nowSeconds: () => Date.now() / 1000,
    stillLeader: () => !task.guard || holdsLease(mutex, task.me),
  })
  const checkBatches: Uint8Array[] = []
  for (let i = 0; i < checks.length; i += CHECK_BATCH) checkBatches.push(encodeChecks(checks.slice(i, i + CHECK_BATCH)))
  return { ...rest, checkBatches }
}
