/**
 * `retry_budget: { ratio, min_concurrency }` (Envoy's retry budget): retries in flight for an
 * upstream may be at most max(min_concurrency, ratio × attempts in flight on its peers), all
 * workers counted, so retries cannot multiply the load during an outage. A retry beyond the
 * budget is not made: the call fails with CKP_ERR_RETRY_BUDGET (cause: the last failure).
 *
 * Invariants
 * - Retries in flight are one shared word (RETRIES) in the statistics slot of the upstream's
 *   pseudo-peer (host '', port 0, never a real server); `acquire` adds 1 and gives it back at
 *   once when that went over the budget, `release` subtracts the 1 of a granted retry: each
 *   granted acquire is paired with exactly one release by the try engine.
 * - Attempts in flight are the peers' shared counts (load.ts), read when a retry is asked for.
 * - No slot (zone full): no budget is enforced (the call behaves as without the option).
 */
import { CheckupsError } from '../errors.js'
import { C } from '../stats/layout.js'
import type { StatsZone } from '../stats/zone.js'
import type { PeerLoad } from './load.js'

export class RetryBudget {
  private readonly word: number

  constructor(private readonly zone: StatsZone, skey: string, private readonly loads: readonly PeerLoad[],
    private readonly ratio: number, private readonly min: number) {
    const slot = zone.slot(skey, '', 0)
    this.word = slot < 0 ? -1 : zone.word(slot, C.RETRIES)
  }

  /** the number of retries that may be in flight now */
  allowed(): number {
    let inflight = 0
    for (const l of this.loads) inflight += l.inflight()
    return Math.max(this.min, Math.floor(this.ratio * inflight))
  }

  /** true (and counted) when one more retry fits the budget */
  acquire(): boolean {
    if (this.word < 0) return true
    const a = this.zone.i64
    const now = Number(Atomics.add(a, this.word, 1n)) + 1
    if (now <= this.allowed()) return true
    Atomics.sub(a, this.word, 1n)
    return false
  }

  release(): void {
    if (this.word >= 0) Atomics.sub(this.zone.i64, this.word, 1n)
  }
}

export function retryBudgetExhausted(cause: unknown): CheckupsError {
  return new CheckupsError('CKP_ERR_RETRY_BUDGET', 'retry budget exhausted', { cause })
}
