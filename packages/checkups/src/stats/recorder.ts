/**
 * The request-path recorder: what one attempt on a peer adds to its counters.
 *
 * Invariants
 * - `begin` adds 1 to SELECTED; the one `end` paired with it adds 1 to its outcome, and for a
 *   response its status class, latency sum and latency bucket. Requests (attempts ended) are
 *   the sum of the outcomes, in flight is selected - requests, the latency count the sum of
 *   the buckets: derived by the reader (view.ts), so an attempt costs five atomic adds.
 * - Only Atomics.add on fixed words: no lock, no allocation besides the BigInt operands.
 * - A slot of -1 (zone full, key too long) records nothing.
 */
import { C, LATENCY_BOUNDS, OUTCOMES, type StatsOutcome } from './layout.js'
import type { StatsZone } from './zone.js'

export interface AttemptStats {
  /** the HTTP status of the peer's response, when there was one */
  status?: number
  latencyMs?: number
  bytesIn?: number
  bytesOut?: number
}

const OUTCOME_INDEX: Readonly<Record<string, number>> = Object.fromEntries(OUTCOMES.map((o, i) => [o, i]))
const ERROR_INDEX = OUTCOME_INDEX['error']!
const ONE = 1n

export function latencyBucket(seconds: number): number {
  let i = 0
  while (i < LATENCY_BOUNDS.length && seconds > LATENCY_BOUNDS[i]!) i++
  return i
}

export class PeerRecorder {
  /** slot by the caller's own object for the peer (a view's peer entry): no key string per call */
  readonly #byRef = new WeakMap<object, number>()

  /** false: `begin` hands out no slot, so nothing is recorded (measuring the cost) */
  enabled = true

  constructor(readonly zone: StatsZone) {}

  /** An attempt starts on the peer: returns its slot for `end`. `ref` caches the slot lookup. */
  begin(skey: string, host: string, port: number, ref?: object): number {
    if (!this.enabled) return -1
    let idx = ref === undefined ? undefined : this.#byRef.get(ref)
    if (idx === undefined) {
      idx = this.zone.slot(skey, host, port)
      if (ref !== undefined && idx >= 0) this.#byRef.set(ref, idx)
    }
    if (idx < 0) return idx
    Atomics.add(this.zone.i64, this.zone.word(idx, C.SELECTED), ONE)
    return idx
  }

  /** The attempt begun on `idx` ended as `outcome`. */
  end(idx: number, outcome: StatsOutcome, info?: AttemptStats): void {
    this.ended(idx, outcome, info?.status, info?.latencyMs)
    if (idx < 0 || info === undefined) return
    if (info.bytesIn) this.zone.add(idx, C.BYTES_IN, BigInt(Math.trunc(info.bytesIn)))
    if (info.bytesOut) this.zone.add(idx, C.BYTES_OUT, BigInt(Math.trunc(info.bytesOut)))
  }

  /** `end` without an info object (the try engine's path: no allocation). */
  ended(idx: number, outcome: StatsOutcome, status: number | undefined, latencyMs: number | undefined): void {
    if (idx < 0) return
    const a = this.zone.i64
    const w = this.zone.word(idx, 0)
    Atomics.add(a, w + C.OUTCOME + (OUTCOME_INDEX[outcome] ?? ERROR_INDEX), ONE)
    if (status !== undefined && status >= 100 && status < 600) Atomics.add(a, w + C.RESP + ((status / 100) | 0) - 1, ONE)
    if (latencyMs !== undefined && latencyMs >= 0) {
      Atomics.add(a, w + C.LAT_SUM_US, BigInt(Math.round(latencyMs * 1000)))
      Atomics.add(a, w + C.LAT_BUCKETS + latencyBucket(latencyMs / 1000), ONE)
    }
  }

  /** Bytes exchanged with a peer after the attempt ended (a streamed body). */
  bytes(skey: string, host: string, port: number, bytesIn: number, bytesOut: number): void {
    const idx = this.zone.slot(skey, host, port)
    if (idx < 0) return
    if (bytesIn > 0) this.zone.add(idx, C.BYTES_IN, BigInt(Math.trunc(bytesIn)))
    if (bytesOut > 0) this.zone.add(idx, C.BYTES_OUT, BigInt(Math.trunc(bytesOut)))
  }
}

/** An error's stable code, for classifying it. */
function codeOf(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code
  return typeof c === 'string' ? c : ''
}

/**
 * What a failed callback's error says about the attempt (undici and node:net codes; any
 * error carrying `outcome` names it itself).
 */
export function outcomeOfError(err: unknown): StatsOutcome {
  const own = (err as { outcome?: unknown } | null)?.outcome
  if (typeof own === 'string' && own in OUTCOME_INDEX) return own as StatsOutcome
  const code = codeOf(err)
  if (/CLIENT_ABORT/.test(code)) return 'client_abort'
  if (/TIMEOUT|ETIMEDOUT/.test(code)) return 'timeout'
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /CONNECT/.test(code)) return 'connect_error'
  if (code === 'ECONNRESET' || code === 'EPIPE' || /SOCKET|CLOSED/.test(code)) return 'reset'
  const cause = (err as { cause?: unknown } | null)?.cause
  return cause !== undefined && cause !== err ? outcomeOfError(cause) : 'error'
}

/** The HTTP status of a callback's result (`status` or `statusCode`), if any. */
export function statusOf(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined
  const r = result as { status?: unknown; statusCode?: unknown }
  const s = typeof r.status === 'number' ? r.status : r.statusCode
  return typeof s === 'number' ? s : undefined
}
