/**
 * piscina task: one round's probing + aggregation + record writes, run in a worker thread over
 * the zones' SharedArrayBuffers (SharedDict.attach). The leader's thread keeps only the
 * finishing keys (round.ts finishRound), so probing never competes with request handling.
 *
 * Invariant: records are written only if the lease still names the leader that posted the task
 * (checked in this thread right before the write pass, like the in-process round).
 */
import { SharedDict } from '@checkups/shdict'
import type { ResolvedUpstream } from '../config/types.js'
import type { WriteResult } from './contract.js'
import { holdsLease, type Candidate } from './election.js'
import type { Bounds } from './limit.js'
import { probeAndWrite } from './round.js'

export interface ThreadTask {
  state: SharedArrayBuffer
  mutex: SharedArrayBuffer
  /** check the lease before writing (false for manual rounds) */
  guard: boolean
  me: Candidate
  /** upstreams without a custom heartbeat (functions cannot cross threads) */
  upstreams: Record<string, ResolvedUpstream>
  defaultEnable: boolean
  limits: Bounds
}

export type ThreadResult = WriteResult

export default async function heartbeatTask(task: ThreadTask): Promise<ThreadResult> {
  const state = SharedDict.attach(task.state)
  const mutex = SharedDict.attach(task.mutex)
  return probeAndWrite(task.upstreams, {
    state, limits: task.limits, defaultEnable: task.defaultEnable,
    nowSeconds: () => Date.now() / 1000,
    stillLeader: () => !task.guard || holdsLease(mutex, task.me),
  })
}
