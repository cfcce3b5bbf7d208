/**
 * The shared load of each peer, as the load-aware balancers (least_conn, p2c, max_conns) read
 * it: in-flight attempts and a latency cost (tracking the median), both in the statistics
 * zone, so every worker balances with the same numbers.
 *
 * Invariants
 * - In flight = SELECTED - REQUESTS of the peer's statistics slot: the try engine's funnel
 *   adds SELECTED when an attempt starts and REQUESTS with the attempt's first report (stats
 *   recorder), in every worker. Nothing here writes those words.
 * - The cost tracks the median of attempt latency by bounded steps: each sample moves it
 *   toward itself by at most STEP (×1.1 up, ×0.9 down). A mean, and more so a peak-biased
 *   EWMA (Finagle's, Linkerd's), follows the tail instead: measured here, a client's own
 *   stalls (GC, a busy shared machine) inflate the samples of every busy peer at once and
 *   pushed the fast peers' cost to ~3× their median while an idle slow peer kept its own, so
 *   p2c sent it 3–4 % of requests. A peer turning slow is still seen at once through its
 *   in-flight count (its attempts pile up); its cost follows within ~25 samples.
 * - While no sample arrives the cost fades toward 0 (e^(-Δt/DECAY_MS)), so a peer once slow
 *   is tried again in time; the first sample after such a pause weighs 1 - e^(-Δt/DECAY_MS)
 *   (what the fade forgot), so a long-idle peer gets its cost back from one answer, not 25.
 *   Workers update it without a lock: two concurrent updates may lose one sample (last store
 *   wins), never corrupt the words.
 * - A peer without a slot (zone full, key too long) reads as idle with no cost.
 */
import { C } from '../stats/layout.js'
import type { StatsZone } from '../stats/zone.js'

/** how fast an idle peer's cost fades toward 0, ms (Finagle's decay time: 10 s) */
export const DECAY_MS = 10_000
/**
 * the most one sample moves the cost, as a share of it: 0.1 measured best of 0.05 / 0.1 and
 * the EWMAs tried (scripts/bench/balance.mjs, the slow peer's share of requests)
 */
export const STEP = 0.1
/** the least one step moves the cost, ms: a cost near 0 (a sub-ms peer, timed by a 1 ms clock, measures 0) still rises */
export const MIN_STEP_MS = 0.05
/** the least cost kept after a sample, ms: a cost of 0 means "no sample yet" to p2c */
export const MIN_COST_MS = 0.001

/** One peer's handle on the shared words: resolved once per view peer. */
export class PeerLoad {
  constructor(private readonly zone: StatsZone, readonly slot: number, private readonly now: () => number) {}

  /** one of the slot's counter words (outlier detection), 0 without a slot */
  word(c: number): number {
    return this.slot < 0 ? 0 : Number(Atomics.load(this.zone.i64, this.zone.word(this.slot, c)))
  }

  /** adds `n` to a counter word; returns the new value (0 without a slot) */
  add(c: number, n: number): number {
    if (this.slot < 0) return 0
    return Number(Atomics.add(this.zone.i64, this.zone.word(this.slot, c), BigInt(n))) + n
  }

  set(c: number, v: number): void {
    if (this.slot >= 0) Atomics.store(this.zone.i64, this.zone.word(this.slot, c), BigInt(Math.trunc(v)))
  }

  /** in-flight attempts on the peer, every worker counted */
  inflight(): number {
    if (this.slot < 0) return 0
    const a = this.zone.i64
    const w = this.zone.word(this.slot, 0)
    // REQUESTS before SELECTED (as the statistics view reads them): never below 0
    const done = Atomics.load(a, w + C.REQUESTS)
    const n = Number(Atomics.load(a, w + C.SELECTED) - done)
    return n > 0 ? n : 0
  }

  /**
   * the latency cost now, ms (0 before any sample); it decays toward 0 while
   * no sample arrives, as Finagle's does, so a peer once slow is tried again in time
   */
  cost(now = this.now()): number {
    if (this.slot < 0) return 0
    const a = this.zone.i64
    const c = Number(Atomics.load(a, this.zone.word(this.slot, C.EWMA_US))) / 1000
    if (c === 0) return 0
    const last = Number(Atomics.load(a, this.zone.word(this.slot, C.EWMA_MS)))
    return c * Math.exp(-Math.max(0, now - last) / DECAY_MS)
  }

  /** folds one attempt's latency (ms), observed now, into the cost */
  observe(latencyMs: number): void {
    if (this.slot < 0 || !(latencyMs >= 0)) return
    const now = this.now()
    const a = this.zone.i64
    const wc = this.zone.word(this.slot, C.EWMA_US)
    const wt = this.zone.word(this.slot, C.EWMA_MS)
    const last = Number(Atomics.load(a, wt))
    // cost(now) with the same decay factor: one read of each word, one exp
    const kept = Math.exp(-Math.max(0, now - last) / DECAY_MS)
    const decayed = (Number(Atomics.load(a, wc)) / 1000) * kept
    const next = last === 0 ? latencyMs : stepToward(decayed, latencyMs, 1 - kept)
    Atomics.store(a, wc, BigInt(Math.round(Math.max(MIN_COST_MS, next) * 1000)))
    Atomics.store(a, wt, BigInt(Math.trunc(now)))
  }
}

/**
 * The next cost after a sample `x`: at most STEP of `c` (MIN_STEP_MS at least) toward it, or
 * the share `forgot` of the way (what the idle fade forgot since the last sample), whichever
 * moves further.
 */
export function stepToward(c: number, x: number, forgot: number): number {
  const mix = c + (x - c) * forgot
  const d = Math.max(c * STEP, MIN_STEP_MS)
  return x > c ? Math.max(Math.min(x, c + d), mix) : Math.min(Math.max(x, c - d), mix)
}

/** Where a view finds the shared load of its peers. */
export class LoadBoard {
  /**
   * `now`: the clock in ms (every process must share its epoch: the wall clock, or a test's
   * fake); `onEject`: tells every worker's view to re-derive availability (outlier.ts)
   */
  constructor(readonly zone: StatsZone, readonly now: () => number = Date.now, readonly onEject: () => void = () => {}) {}

  peer(skey: string, host: string, port: number): PeerLoad {
    return new PeerLoad(this.zone, this.zone.slot(skey, host, port), this.now)
  }
}
