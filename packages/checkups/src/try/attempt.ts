/**
 * The context a readyOk callback receives as its third argument: which attempt this is,
 * where it goes, the upstream's timeouts, and `report(outcome)`.
 *
 * Invariants
 * - Own enumerable fields are exactly `attempt, skey, cluster, host, port` (a spread of the
 *   context gives them); `timeouts` and `report` live on the prototype.
 * - Reports made while the attempt runs replace readyOk's own judgement of the callback's
 *   result for accounting (readyOk then reports nothing itself); whether readyOk tries
 *   another peer is still decided by the result. Reports after the attempt settled (a body
 *   that fails mid-stream) go through the same funnel.
 * - `timeouts` are the upstream's, in ms, as of the view the call started with.
 */
import { CheckupsError } from '../errors.js'
import { ATTEMPT_OUTCOMES, type AttemptInfo, type AttemptOutcome } from './outcome.js'
import { type AttemptTarget, type FunnelEnv, funnel } from './report.js'
import type { LevelView, Timeouts, UpstreamView } from '../view/upstream-view.js'

/** What the callback learns about the attempt it runs, and how it tells what happened. */
export interface AttemptContext {
  /** 1 for the first attempt of this call */
  readonly attempt: number
  readonly skey: string
  /** the level number (1-based) or cluster name */
  readonly cluster: string | number
  readonly host: string
  readonly port: number
  /** the upstream's timeouts, ms (send/read default to connect = `timeout`) */
  readonly timeouts: Timeouts
  /** Reports what happened with this peer (balancer + passive accounting + statistics). */
  report(outcome: AttemptOutcome, info?: AttemptInfo): void
}

export class Attempt implements AttemptContext, AttemptTarget {
  readonly attempt: number
  readonly skey: string
  readonly cluster: string | number
  readonly host: string
  readonly port: number
  readonly #env: FunnelEnv
  readonly #u: UpstreamView
  readonly #level: LevelView
  readonly #idx: number
  /** reports made so far (readyOk reports on its own only when none was made) */
  #reports = 0
  #first: AttemptOutcome | undefined

  constructor(env: FunnelEnv, u: UpstreamView, level: LevelView, idx: number, attempt: number) {
    const { host, port } = level.peers[idx]!.server
    this.attempt = attempt
    this.skey = u.skey
    this.cluster = level.key
    this.host = host
    this.port = port
    this.#env = env
    this.#u = u
    this.#level = level
    this.#idx = idx
  }

  get timeouts(): Timeouts { return this.#u.timeouts }
  get u(): UpstreamView { return this.#u }
  get level(): LevelView { return this.#level }
  get idx(): number { return this.#idx }
  /** @internal how many reports were made */
  get reports(): number { return this.#reports }
  /** @internal the outcome of the first report (a load-aware balancer skips the latency of a client abort) */
  get firstOutcome(): AttemptOutcome | undefined { return this.#first }

  report(outcome: AttemptOutcome, info?: AttemptInfo): void {
    if (!ATTEMPT_OUTCOMES.includes(outcome)) {
      throw new CheckupsError('CKP_ERR_INVALID_OUTCOME', `unknown attempt outcome ${String(outcome)}`)
    }
    this.#reports++
    this.#first ??= outcome
    funnel(this.#env, this, outcome, info)
  }
}
