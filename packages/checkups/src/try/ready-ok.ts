/**
 * The try engine (the original's try.lua).
 *
 * Invariants
 * - try limit = opts.try ?? ups.try ?? <server entries of the clusters tried>; counted over
 *   all clusters; checked after each failure with `>=`, BEFORE the try_timeout budget.
 * - try_timeout (s) = opts.try_timeout ?? ups.try_timeout ?? 0 (off); the callbacks' time is
 *   summed with the injected clock.
 * - A failed peer is excluded for the rest of the call by cluster + host + port.
 * - The next cluster is used only when the current one yields no candidate.
 * - Every attempt is reported: balancer (ew halving) and passive accounting.
 */
import type { Clock } from '../clock.js'
import { CheckupsError } from '../errors.js'
import type { PassiveAccounting } from '../passive/accounting.js'
import type { LevelView, UpstreamView } from '../view/upstream-view.js'
import { isFailure } from './outcome.js'
import { type ClusterKey, clusterOrder, freshen, reportAttempt } from './pick.js'
import { hashKeyOf, type HashKeyOptions } from '../balancer/key.js'
import { outcomeOfError, statusOf, type PeerRecorder } from '../stats/recorder.js'

export interface ReadyOkOptions extends HashKeyOptions {
  cluster_key?: ClusterKey
  try?: number | null
  try_timeout?: number | null
}

/** What the callback learns about the attempt it runs. */
export interface AttemptContext {
  /** 1 for the first attempt of this call */
  readonly attempt: number
  readonly skey: string
  /** the level number (1-based) or cluster name */
  readonly cluster: string | number
  readonly host: string
  readonly port: number
}

export type ReadyOkCallback<T> = (host: string, port: number, ctx: AttemptContext) => T | Promise<T>

export interface TryEnv {
  readonly clock: Clock
  readonly passive: PassiveAccounting
  /** re-syncs the worker view (health may change while callbacks run) */
  sync(): void
  /** per-peer statistics in shared memory (absent: not counted) */
  readonly stats?: PeerRecorder
}

interface CallState {
  attempt: number
  failures: number
  elapsed: number
  lastError: unknown
  lastResult: unknown
  readonly excluded: Set<string>
}

function candidate(u: UpstreamView, level: LevelView, call: CallState, key: string, env: TryEnv): number {
  env.sync()
  freshen(u, env.clock)
  const avail = level.avail.slice()
  if (call.excluded.size > 0) {
    level.peers.forEach((p, i) => {
      if (call.excluded.has(`${level.key}:${p.server.host}:${p.server.port}`)) avail[i] = 0
    })
  }
  return level.balancer.pick(avail, key)
}

export async function readyOk<T>(env: TryEnv, u: UpstreamView, cb: ReadyOkCallback<T>, opts: ReadyOkOptions = {}): Promise<T> {
  const levels = clusterOrder(u, opts.cluster_key)
  const servers = levels.reduce((n, l) => n + l.peers.length, 0)
  const limit = opts.try ?? u.ups.try ?? servers
  const budget = opts.try_timeout ?? u.ups.try_timeout ?? 0
  const key = u.ups.mode === 'wrr' ? '' : hashKeyOf(u.ups.mode, opts)
  const call: CallState = { attempt: 0, failures: 0, elapsed: 0, lastError: undefined, lastResult: undefined, excluded: new Set() }
  for (const level of levels) {
    for (let idx = candidate(u, level, call, key, env); idx !== -1; idx = candidate(u, level, call, key, env)) {
      const { host, port } = level.peers[idx]!.server
      const ctx: AttemptContext = { attempt: ++call.attempt, skey: u.skey, cluster: level.key, host, port }
      const t0 = env.clock.now()
      const slot = env.stats ? env.stats.begin(u.skey, host, port, level.peers[idx]) : -1
      let failed: boolean
      let result: T | undefined
      try {
        const r = cb(host, port, ctx)
        result = isThenable(r) ? await r : r
        failed = isFailure(result, u.ups)
        if (failed) [call.lastError, call.lastResult] = [undefined, result]
      } catch (err) {
        failed = true
        ;[call.lastError, call.lastResult] = [err, undefined]
      }
      const spent = env.clock.now() - t0
      call.elapsed += spent
      if (slot >= 0) recordEnd(env.stats!, slot, failed, call, result, spent)
      reportAttempt(env.passive, env.clock, u, level, idx, failed)
      if (!failed) return result as T
      call.excluded.add(`${level.key}:${host}:${port}`)
      if (++call.failures >= limit) throw tryLimit(call)
      if (budget > 0 && call.elapsed >= budget * 1000) {
        throw new CheckupsError('CKP_ERR_TRY_TIMEOUT', 'try_timeout excceed', { cause: lastCause(call) })
      }
    }
  }
  const cause = call.attempt > 0 ? lastCause(call) : undefined
  throw new CheckupsError('CKP_ERR_NO_SERVERS', 'no servers available', cause === undefined ? undefined : { cause })
}

/** The attempt's statistics: its outcome, and for a response its status and latency. */
function recordEnd(stats: PeerRecorder, slot: number, failed: boolean, call: CallState, result: unknown, ms: number): void {
  if (failed && call.lastError !== undefined) {
    stats.ended(slot, outcomeOfError(call.lastError), undefined, undefined)
    return
  }
  const status = statusOf(result)
  stats.ended(slot, failed ? (status === undefined ? 'error' : 'http_status') : 'ok', status, ms)
}

function lastCause(call: CallState): unknown {
  return call.lastError !== undefined ? call.lastError : { result: call.lastResult }
}

function tryLimit(call: CallState): CheckupsError {
  const e = call.lastError
  if (e !== undefined) {
    const msg = e instanceof Error ? e.message : String(e)
    return new CheckupsError('CKP_ERR_TRY_LIMIT', msg, { cause: e })
  }
  return new CheckupsError('CKP_ERR_TRY_LIMIT', 'try limit reached', { cause: { result: call.lastResult } })
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function'
}
