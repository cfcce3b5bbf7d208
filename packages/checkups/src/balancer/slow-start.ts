/**
 * `slow_start` (seconds): a peer that recovered (its heartbeat record flipped back to ok, or
 * its passive err window ran out) or was added by a config change gets its weight ramped
 * from 10 % to 100 % over slow_start, as Envoy's slow start and nginx Plus' `slow_start` do.
 *
 * Invariants
 * - Only a real recovery or addition ramps: a peer whose first check was ok (or that has no
 *   heartbeat record) was never down and is at full weight from the start; a view built
 *   without a predecessor (a worker's start, a new upstream) adds nothing.
 * - The ramp start is shared where the event is: the heartbeat record's `up_since` and
 *   the passive record's window end are in shared memory, so every worker ramps alike; an
 *   added peer ramps from when this worker's view first had it (the workers see a config
 *   change within one sync of each other).
 * - factor(t) = 0.1 + 0.9 × (t - start) / slow_start, clamped to [0.1, 1]; the view re-derives
 *   it at least every slow_start / STEPS while some peer ramps (through its expiry check),
 *   so the weights move in steps of ≤ 9 % of the ramp.
 * - Weight-aware balancers only (wrr, least_conn: `scale`); the hash modes and p2c ignore it.
 */
export const STEPS = 20
export const FLOOR = 0.1

/** the weight factor at `now` for a ramp that started at `start` (ms); 1 when no ramp runs */
export function rampFactor(now: number, start: number, durMs: number): number {
  if (durMs <= 0 || start <= 0 || now >= start + durMs) return 1
  if (now <= start) return FLOOR
  return FLOOR + (1 - FLOOR) * ((now - start) / durMs)
}

/** when the factor should next be re-derived (ms), Infinity when the ramp is over */
export function nextStep(now: number, start: number, durMs: number): number {
  if (durMs <= 0 || start <= 0 || now >= start + durMs) return Infinity
  return Math.min(start + durMs, now + durMs / STEPS)
}
