/**
 * Process blocks: each process (block 0 = the primary, 1 + id = worker id) periodically
 * writes a snapshot of its own process metrics here, so any worker can answer for all.
 *
 * Invariants
 * - One writer per block (the process it belongs to; a respawned worker takes its id's block).
 * - Seqlock: the writer makes the word odd, writes pid, time, length and bytes, makes it even.
 *   A reader copies only between two equal even reads (retrying a few times), so it never
 *   returns a torn snapshot.
 * - A snapshot larger than the block is not written (the old one stays; `put` returns false).
 */
import { PROC_BYTES, PROC_DATA, PROC_SLOTS, PROCS_OFFSET } from './layout.js'
import type { StatsZone } from './zone.js'

const MAX = PROC_BYTES - PROC_DATA
const RETRIES = 16
const enc = new TextEncoder()
const dec = new TextDecoder()

export interface ProcessSnapshot {
  block: number
  pid: number
  /** ms since the epoch it was written */
  time: number
  text: string
}

export class ProcessBlocks {
  readonly #z: StatsZone
  readonly #f64: Float64Array

  constructor(zone: StatsZone) {
    this.#z = zone
    this.#f64 = new Float64Array(zone.buffer, PROCS_OFFSET, (PROC_SLOTS * PROC_BYTES) / 8)
  }

  /** Block of a process: 0 for the primary, 1 + id for worker `id`; -1 beyond the zone. */
  static blockOf(workerId: number | 'primary'): number {
    const b = workerId === 'primary' ? 0 : workerId + 1
    return b >= 0 && b < PROC_SLOTS ? b : -1
  }

  put(block: number, pid: number, text: string, now = Date.now()): boolean {
    if (block < 0 || block >= PROC_SLOTS) return false
    const bytes = enc.encode(text)
    if (bytes.length > MAX) return false
    const base = PROCS_OFFSET + block * PROC_BYTES
    const w = base / 4
    Atomics.add(this.#z.i32, w, 1)
    Atomics.store(this.#z.i32, w + 2, pid)
    this.#f64[(block * PROC_BYTES + 16) / 8] = now
    this.#z.u8.set(bytes, base + PROC_DATA)
    Atomics.store(this.#z.i32, w + 1, bytes.length)
    Atomics.add(this.#z.i32, w, 1)
    return true
  }

  get(block: number): ProcessSnapshot | undefined {
    if (block < 0 || block >= PROC_SLOTS) return undefined
    const base = PROCS_OFFSET + block * PROC_BYTES
    const w = base / 4
    for (let i = 0; i < RETRIES; i++) {
      const s1 = Atomics.load(this.#z.i32, w)
      if (s1 === 0) return undefined
      if (s1 & 1) continue
      const pid = Atomics.load(this.#z.i32, w + 2)
      const time = this.#f64[(block * PROC_BYTES + 16) / 8]!
      const len = Math.min(Atomics.load(this.#z.i32, w + 1), MAX)
      const text = dec.decode(this.#z.u8.slice(base + PROC_DATA, base + PROC_DATA + len))
      if (Atomics.load(this.#z.i32, w) === s1) return { block, pid, time, text }
    }
    return undefined
  }

  /** Every written block, primary first. */
  all(): ProcessSnapshot[] {
    const out: ProcessSnapshot[] = []
    for (let b = 0; b < PROC_SLOTS; b++) {
      const s = this.get(b)
      if (s) out.push(s)
    }
    return out
  }
}
