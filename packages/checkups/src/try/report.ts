/**
 * The one funnel every attempt outcome goes through — readyOk's own judgement of a
 * callback's result, and any `ctx.report(...)` a callback makes, during the attempt or later
 * (a response body that breaks off after readyOk resolved).
 *
 * Invariants
 * - Accounting: an outcome that counts against the peer (outcome.ts `countsAgainstPeer`)
 *   halves the peer's effective weight in its level's balancer and is a passive failure; 'ok'
 *   is a success for both; 'client_abort' touches neither.
 * - An attempt's first outcome also feeds the upstream's outlier detection, when it has one.
 * - Every outcome, 'client_abort' included, is then handed to the env's recorder (per-peer
 *   statistics), after the accounting, so a recorder sees the state the outcome produced.
 *   It runs on the request path, synchronously: it must be cheap and must not throw (a throw
 *   reaches the caller of readyOk, or of `ctx.report`).
 * - A report names its level view and peer index as of the attempt: a later config change
 *   rebuilds the view, and a late report then only reaches the balancer of the old view,
 *   which nothing selects from any more (harmless), while passive accounting is by host:port.
 */
import type { Clock } from '../clock.js'
import type { PassiveAccounting } from '../passive/accounting.js'
import type { LevelView, UpstreamView } from '../view/upstream-view.js'
import { type AttemptInfo, type AttemptOutcome, countsAgainstPeer } from './outcome.js'
import { reportAttempt } from './pick.js'

/** One reported outcome, as a statistics recorder receives it. */
export interface AttemptReport {
  readonly skey: string
  readonly host: string
  readonly port: number
  /** 1-based attempt number within its readyOk call */
  readonly attempt: number
  /** the attempt's first report (a later one, e.g. a body failing after 'ok', adds an outcome to the same attempt) */
  readonly first: boolean
  readonly outcome: AttemptOutcome
  readonly info: AttemptInfo
}

export type AttemptRecorder = (report: AttemptReport) => void

export interface FunnelEnv {
  readonly clock: Clock
  readonly passive: PassiveAccounting
  /** per-peer statistics; called for every outcome */
  readonly record?: AttemptRecorder | undefined
  /** per-peer statistics; called when an attempt starts (before its callback runs) */
  readonly start?: ((t: AttemptTarget) => void) | undefined
}

/** Where an attempt ran: the view, the level and the peer's index in it. */
export interface AttemptTarget {
  readonly u: UpstreamView
  readonly level: LevelView
  readonly idx: number
  readonly attempt: number
  /** reports made for this attempt so far, this one included */
  readonly reports?: number
}

/** Accounts `outcome` of the attempt at `t` (balancer + passive), then records it. */
export function funnel(env: FunnelEnv, t: AttemptTarget, outcome: AttemptOutcome, info: AttemptInfo = {}): void {
  if (outcome !== 'client_abort') reportAttempt(env.passive, env.clock, t.u, t.level, t.idx, countsAgainstPeer(outcome))
  if (t.u.outliers !== undefined && (t.reports ?? 1) <= 1) t.u.outliers.observe(t.level.peers[t.idx]!.load, outcome, info.status)
  if (env.record === undefined) return
  const { host, port } = t.level.peers[t.idx]!.server
  env.record({ skey: t.u.skey, host, port, attempt: t.attempt, first: (t.reports ?? 1) <= 1, outcome, info })
}
