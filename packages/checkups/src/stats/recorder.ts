/**
 * The request-path recorder: what one attempt on a peer adds to its counters.
 *
 * Invariants
 * - `begin` (selected + 1, in flight + 1) is always paired with exactly one `end` (in flight
 *   - 1, requests + 1, the outcome, and for a response its class and latency), so in flight
 *   returns to zero and requests equals the attempts that ended.
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
const ONE = 1n
const MINUS_ONE = -1n

export function latencyBucket(seconds: number): number {
  let i = 0
  while (i < LATENCY_BOUNDS.length && seconds > LATENCY_BOUNDS[i]!) i++
  return i
}

export class PeerRecorder {
  constructor(readonly zone: StatsZone) {}

  /** An attempt starts on the peer: returns its slot for `end`. */
  begin(skey: string, host: string, port: number): number {
    const idx = this.zone.slot(skey, host, port)
    if (idx < 0) return idx
    this.zone.add(idx, C.SELECTED, ONE)
    this.zone.add(idx, C.INFLIGHT, ONE)
    return idx
  }

  /** The attempt begun on `idx` ended as `outcome`. */
  end(idx: number, outcome: StatsOutcome, info: AttemptStats = {}): void {
    if (idx < 0) return
    const z = this.zone
    z.add(idx, C.INFLIGHT, MINUS_ONE)
    z.add(idx, C.REQUESTS, ONE)
    z.add(idx, C.OUTCOME + (OUTCOME_INDEX[outcome] ?? OUTCOME_INDEX['error']!), ONE)
    const st = info.status
    if (st !== undefined && st >= 100 && st < 600) z.add(idx, C.RESP + Math.floor(st / 100) - 1, ONE)
    const ms = info.latencyMs
    if (ms !== undefined && ms >= 0) {
      z.add(idx, C.LAT_SUM_US, BigInt(Math.round(ms * 1000)))
      z.add(idx, C.LAT_COUNT, ONE)
      z.add(idx, C.LAT_BUCKETS + latencyBucket(ms / 1000), ONE)
    }
    if (info.bytesIn) z.add(idx, C.BYTES_IN, BigInt(info.bytesIn))
    if (info.bytesOut) z.add(idx, C.BYTES_OUT, BigInt(info.bytesOut))
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
