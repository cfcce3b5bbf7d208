/**
 * The event ring: health transitions and config changes in the statistics zone, so every
 * worker (and an SSE client reaching any of them) sees the same numbered sequence.
 *
 * Invariants
 * - The head (next sequence number, from 1) is a 64-bit word; a writer claims `seq` with one
 *   Atomics.add, writes its slot (seq % EVENT_SLOTS): seq word -1, bytes, length, then the
 *   seq word = seq. Any number of writers in any processes, no lock.
 * - A reader takes slot seq only when its seq word equals seq before AND after copying the
 *   bytes; a larger word means the ring lapped it (the event is lost, reported as `lost`),
 *   a smaller one means it is still being written (the reader stops there and retries, and
 *   skips it after STUCK_MS: its writer died mid-write).
 * - An event is JSON of at most EVENT_BYTES - EVENT_DATA bytes; a longer one loses its `msg`.
 */
import { EVENT_BYTES, EVENT_DATA, EVENT_SLOTS, EVENTS_OFFSET, H64 } from './layout.js'
import type { StatsZone } from './zone.js'

const STUCK_MS = 1000
const MAX_JSON = EVENT_BYTES - EVENT_DATA
const enc = new TextEncoder()
const dec = new TextDecoder()

export type HealthCause = 'heartbeat' | 'passive' | 'admin'

export interface TransitionEvent {
  type: 'transition'
  upstream: string
  peer: string
  from: string
  to: string
  cause: HealthCause
  msg?: string | null
}

export interface ConfigEvent {
  type: 'config'
  /** the shared config version after the change */
  version: number
  op: 'update' | 'delete' | 'reload'
  upstream?: string
}

export type EventBody = TransitionEvent | ConfigEvent
/** An event as read back: its sequence number and time (ms since the epoch) added. */
export type StoredEvent = EventBody & { id: number; time: number }

export class EventRing {
  readonly #z: StatsZone
  #stuckSeq = 0
  #stuckSince = 0

  constructor(zone: StatsZone) {
    this.#z = zone
  }

  /** The sequence number the next event will get (events so far + 1). */
  head(): number {
    return Number(Atomics.load(this.#z.i64, H64.EVENT_HEAD)) + 1
  }

  /** Appends an event; returns its sequence number. */
  push(body: EventBody, now = Date.now()): number {
    const seq = Number(Atomics.add(this.#z.i64, H64.EVENT_HEAD, 1n)) + 1
    const slot = seq % EVENT_SLOTS
    const base = EVENTS_OFFSET + slot * EVENT_BYTES
    const w64 = base / 8
    let bytes = enc.encode(JSON.stringify({ id: seq, time: now, ...body }))
    if (bytes.length > MAX_JSON && 'msg' in body) bytes = enc.encode(JSON.stringify({ id: seq, time: now, ...body, msg: null }))
    if (bytes.length > MAX_JSON) bytes = enc.encode(JSON.stringify({ id: seq, time: now, type: body.type, truncated: true }))
    Atomics.store(this.#z.i64, w64, -1n)
    this.#z.u8.set(bytes, base + EVENT_DATA)
    Atomics.store(this.#z.i32, base / 4 + 2, bytes.length)
    Atomics.store(this.#z.i64, w64, BigInt(seq))
    return seq
  }

  /**
   * Events after `since` (a sequence number; 0 = from the oldest still held), at most `max`.
   * `next` is the `since` to pass next time; `lost` counts events the ring overwrote.
   */
  read(since: number, max = 256): { events: StoredEvent[]; next: number; lost: number } {
    const head = this.head()
    let from = Math.max(since + 1, head - EVENT_SLOTS, 1)
    const lost = from - (since + 1) > 0 && since > 0 ? from - (since + 1) : 0
    const events: StoredEvent[] = []
    for (; from < head && events.length < max; from++) {
      const got = this.#take(from)
      if (got === 'pending') break
      if (got !== 'lapped') events.push(got)
    }
    return { events, next: from - 1, lost }
  }

  #take(seq: number): StoredEvent | 'pending' | 'lapped' {
    const base = EVENTS_OFFSET + (seq % EVENT_SLOTS) * EVENT_BYTES
    const w64 = base / 8
    const before = Number(Atomics.load(this.#z.i64, w64))
    if (before > seq) return 'lapped'
    if (before !== seq) return this.#pending(seq)
    const len = Atomics.load(this.#z.i32, base / 4 + 2)
    const text = dec.decode(this.#z.u8.slice(base + EVENT_DATA, base + EVENT_DATA + Math.min(len, MAX_JSON)))
    if (Number(Atomics.load(this.#z.i64, w64)) !== seq) return 'lapped'
    try {
      return JSON.parse(text) as StoredEvent
    } catch {
      return 'lapped'
    }
  }

  #pending(seq: number): 'pending' | 'lapped' {
    const now = Date.now()
    if (this.#stuckSeq !== seq) {
      this.#stuckSeq = seq
      this.#stuckSince = now
      return 'pending'
    }
    return now - this.#stuckSince >= STUCK_MS ? 'lapped' : 'pending'
  }
}
