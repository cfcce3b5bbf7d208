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
 * - With `retry_budget`, every attempt after the first holds one unit of the upstream's shared
 *   retry budget while its callback runs; no unit left → CKP_ERR_RETRY_BUDGET (the last
 *   failure as cause). With `max_conns`, full peers are not candidates; nothing left for
 *   that reason → CKP_ERR_MAX_CONNS.
 * - The view is synced once per call (by the caller, when it looks the upstream up); picks
 *   within the call only re-derive availability when a passive window ran out (freshen).
 * - Every attempt reaches the funnel (report.ts) exactly once on its own: through the
 *   callback's `ctx.report(...)` when it made one, else with the outcome readyOk derives
 *   from the result (outcome.ts). Retrying is decided by the result alone.
 */
import { CheckupsError } from '../errors.js'
import type { LevelView, UpstreamView } from '../view/upstream-view.js'
import { Attempt, type AttemptContext } from './attempt.js'
import { outcomeOfError, outcomeOfResult } from './outcome.js'
import { statusOf } from '../stats/recorder.js'
import { type ClusterKey, clusterOrder, freshen } from './pick.js'
import type { FunnelEnv } from './report.js'
import { hashKeyOf, type HashKeyOptions } from '../balancer/key.js'
import { maxConns } from '../balancer/max-conns.js'
import { retryBudgetExhausted } from '../balancer/retry-budget.js'

export type { AttemptContext } from './attempt.js'

export interface ReadyOkOptions extends HashKeyOptions {
  cluster_key?: ClusterKey
  try?: number | null
  try_timeout?: number | null
}

export type ReadyOkCallback<T> = (host: string, port: number, ctx: AttemptContext) => T | Promise<T>

export type TryEnv = FunnelEnv

interface CallState {
  attempt: number
  failures: number
  elapsed: number
  lastError: unknown
  lastResult: unknown
  /** the last level looked at had nothing to pick because its peers were at max_conns */
  full: boolean
  readonly excluded: Set<string>
}

function candidate(u: UpstreamView, level: LevelView, call: CallState, key: string, env: TryEnv): number {
  freshen(u, env.clock)
  let avail = level.avail
  if (call.excluded.size > 0) {
    avail = avail.slice()
    level.peers.forEach((p, i) => {
      if (call.excluded.has(`${level.key}:${p.server.host}:${p.server.port}`)) avail[i] = 0
    })
  }
  if (level.limit === undefined) return level.balancer.pick(avail, key)
  const idx = level.balancer.pick(level.limit.mask(avail), key)
  call.full = idx === -1 && level.limit.skipped > 0
  return idx
}

/**
 * Accounts one settled attempt (the callback threw `error`, or returned `result`); true when
 * it failed. Synchronous: a callback that returns a plain value costs no extra await.
 */
function settle<T>(env: TryEnv, u: UpstreamView, call: CallState, ctx: Attempt, t0: number,
  threw: boolean, result: T | undefined, error: unknown): boolean {
  const derived = threw ? { outcome: outcomeOfError(error) } : outcomeOfResult(result, u.ups)
  const failed = derived.outcome !== 'ok'
  if (threw) [call.lastError, call.lastResult] = [error, undefined]
  else if (failed) [call.lastError, call.lastResult] = [undefined, result]
  const latencyMs = env.clock.now() - t0
  call.elapsed += latencyMs
  if (ctx.reports === 0) {
    // any response's status, not only a failing one: statistics count responses by class
    const status = derived.status ?? (threw ? undefined : statusOf(result))
    ctx.report(derived.outcome, status === undefined ? { latencyMs } : { status, latencyMs })
  }
  if (ctx.firstOutcome !== 'client_abort') ctx.level.balancer.observe?.(ctx.idx, latencyMs)
  return failed
}

export async function readyOk<T>(env: TryEnv, u: UpstreamView, cb: ReadyOkCallback<T>, opts: ReadyOkOptions = {}): Promise<T> {
  const levels = clusterOrder(u, opts.cluster_key)
  const servers = levels.reduce((n, l) => n + l.peers.length, 0)
  const limit = opts.try ?? u.ups.try ?? servers
  const budget = opts.try_timeout ?? u.ups.try_timeout ?? 0
  const key = u.hashed ? hashKeyOf(u.ups.mode, opts) : ''
  const call: CallState = { attempt: 0, failures: 0, elapsed: 0, lastError: undefined, lastResult: undefined, full: false, excluded: new Set() }
  for (const level of levels) {
    for (let idx = candidate(u, level, call, key, env); idx !== -1; idx = candidate(u, level, call, key, env)) {
      // a retry needs room in the upstream's retry budget (when it has one)
      const retry = call.attempt > 0 && u.retryBudget !== undefined
      if (retry && !u.retryBudget!.acquire()) throw retryBudgetExhausted(lastCause(call))
      const ctx = new Attempt(env, u, level, idx, ++call.attempt)
      env.start?.(ctx)
      const t0 = env.clock.now()
      let result: T | undefined
      let error: unknown
      let threw = false
      try {
        const r = cb(ctx.host, ctx.port, ctx)
        result = isThenable(r) ? await r : r
      } catch (err) {
        threw = true
        error = err
      }
      if (retry) u.retryBudget!.release()
      if (!settle(env, u, call, ctx, t0, threw, result, error)) return result as T
      call.excluded.add(`${level.key}:${ctx.host}:${ctx.port}`)
      if (++call.failures >= limit) throw tryLimit(call)
      if (budget > 0 && call.elapsed >= budget * 1000) {
        throw new CheckupsError('CKP_ERR_TRY_TIMEOUT', 'try_timeout excceed', { cause: lastCause(call) })
      }
    }
  }
  const cause = call.attempt > 0 ? lastCause(call) : undefined
  if (call.full) throw maxConns(cause)
  throw new CheckupsError('CKP_ERR_NO_SERVERS', 'no servers available', cause === undefined ? undefined : { cause })
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
