/**
 * The request-path recorder: what an attempt on a peer adds to its counters. The try
 * engine's funnel calls `start` when an attempt begins and `record` for each of its reports.
 *
 * Invariants
 * - `start` adds 1 to SELECTED. Each report adds 1 to its outcome, and when it carries them
 *   the status class, latency (sum + bucket) and bytes; an attempt's FIRST report also adds 1
 *   to REQUESTS (a later one, e.g. a body that fails after 'ok', adds only its outcome). So
 *   requests = attempts that ended, in flight = selected - requests (view.ts), the latency
 *   count = the sum of the buckets: six atomic adds for a plain attempt.
 * - Only Atomics.add on fixed words: no lock, no allocation besides the BigInt operands.
 * - A slot of -1 (zone full, key too long) or `enabled = false` records nothing.
 */
import type { AttemptReport, AttemptTarget } from '../try/report.js'
import { C, LATENCY_BOUNDS, OUTCOMES } from './layout.js'
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
  /** false: nothing is recorded (to measure what recording costs) */
  enabled = true
  /** slot by the view's peer entry (start) and by skey → host → port (record): no key string per call */
  readonly #byRef = new WeakMap<object, number>()
  readonly #bySkey = new Map<string, Map<string, Map<number, number>>>()

  constructor(readonly zone: StatsZone) {}

  /** The slot of a peer, cached per process; -1 when it cannot be counted. */
  slotOf(skey: string, host: string, port: number): number {
    let hosts = this.#bySkey.get(skey)
    if (hosts === undefined) this.#bySkey.set(skey, (hosts = new Map()))
    let ports = hosts.get(host)
    if (ports === undefined) hosts.set(host, (ports = new Map()))
    let idx = ports.get(port)
    if (idx === undefined) {
      idx = this.zone.slot(skey, host, port)
      if (idx >= 0) ports.set(port, idx)
    }
    return idx
  }

  /** The funnel's start hook: an attempt begins on `t.level.peers[t.idx]`. */
  readonly start = (t: AttemptTarget): void => {
    if (!this.enabled) return
    const peer = t.level.peers[t.idx]
    if (peer === undefined) return
    let idx = this.#byRef.get(peer)
    if (idx === undefined) {
      idx = this.slotOf(t.u.skey, peer.server.host, peer.server.port)
      if (idx >= 0) this.#byRef.set(peer, idx)
    }
    if (idx >= 0) Atomics.add(this.zone.i64, this.zone.word(idx, C.SELECTED), ONE)
  }

  /** The funnel's record hook: one report of an attempt. */
  readonly record = (r: AttemptReport): void => {
    if (!this.enabled) return
    const idx = this.slotOf(r.skey, r.host, r.port)
    if (idx < 0) return
    const a = this.zone.i64
    const w = this.zone.word(idx, 0)
    if (r.first) Atomics.add(a, w + C.REQUESTS, ONE)
    Atomics.add(a, w + C.OUTCOME + (OUTCOME_INDEX[r.outcome] ?? ERROR_INDEX), ONE)
    const { status, latencyMs, bytesIn, bytesOut } = r.info
    if (status !== undefined && status >= 100 && status < 600) Atomics.add(a, w + C.RESP + ((status / 100) | 0) - 1, ONE)
    if (latencyMs !== undefined && latencyMs >= 0) {
      Atomics.add(a, w + C.LAT_SUM_US, BigInt(Math.round(latencyMs * 1000)))
      Atomics.add(a, w + C.LAT_BUCKETS + latencyBucket(latencyMs / 1000), ONE)
    }
    if (bytesIn !== undefined && bytesIn > 0) Atomics.add(a, w + C.BYTES_IN, BigInt(Math.trunc(bytesIn)))
    if (bytesOut !== undefined && bytesOut > 0) Atomics.add(a, w + C.BYTES_OUT, BigInt(Math.trunc(bytesOut)))
  }

  /** Bytes exchanged with a peer after the attempt ended (a streamed body). */
  bytes(skey: string, host: string, port: number, bytesIn: number, bytesOut: number): void {
    if (!this.enabled) return
    const idx = this.slotOf(skey, host, port)
    if (idx < 0) return
    if (bytesIn > 0) this.zone.add(idx, C.BYTES_IN, BigInt(Math.trunc(bytesIn)))
    if (bytesOut > 0) this.zone.add(idx, C.BYTES_OUT, BigInt(Math.trunc(bytesOut)))
  }
}

/** The HTTP status of a callback's result (`status` or `statusCode`), if any. */
export function statusOf(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined
  const r = result as { status?: unknown; statusCode?: unknown }
  const s = typeof r.status === 'number' ? r.status : r.statusCode
  return typeof s === 'number' ? s : undefined
}
