/**
 * Weighted round-robin for large levels in O(log n) a pick: earliest-deadline-first over a
 * binary heap (the scheme Envoy uses for weighted round-robin). The smooth weighted
 * round-robin of wrr.ts visits every peer on every pick, so its cost grows linearly with the
 * level; this one does not. The worker view uses it for levels of more than
 * `EDF_MIN_PEERS` servers; smaller levels keep nginx's exact sequence.
 *
 * Invariants
 * - Each peer has a virtual deadline; a pick pops the earliest (ties: lowest index), moves the
 *   clock to it and re-schedules that peer at `deadline + 1 / ew`. With every peer available
 *   and no failures each peer is picked `weight / sum(weights)` of the time, interleaved
 *   (equal weights = plain round-robin in list order).
 * - The heap holds the available peers only, rebuilt (O(n)) when the worker view says the
 *   level's availability changed (`availChanged`, after each recompute); a returning peer
 *   is scheduled no earlier than the current virtual time (no burst). A pick on the level's
 *   own array pops the heap top, O(log n), whatever the number of peers down. A pick on
 *   another array (a per-call copy with exclusions) scans: the earliest deadline among the
 *   peers both allow, O(n).
 * - A failed attempt halves the peer's effective weight `ew` (ceil); each time the peer comes
 *   up, `ew` grows by one back towards its weight.
 * - Slow start scales a peer's weight (`scale`), as in wrr.ts; the scheduled interval is
 *   1 / max(ew, MIN_WEIGHT).
 * - The virtual clock is rebased before it loses precision (deadlines keep their order).
 */
import type { Balancer, BalancerPeer } from './types.js'
import { PeerWeights } from './weights.js'

/** levels with more servers than this use the heap scheduler */
export const EDF_MIN_PEERS = 16
const REBASE_AT = 2 ** 40
/** a weight scaled towards 0 (slow start) still schedules, just rarely */
const MIN_WEIGHT = 1e-3

export class EdfRoundRobin implements Balancer {
  private readonly w: PeerWeights
  private readonly n: number
  private readonly weight: Float64Array
  private readonly ew: Float64Array
  private readonly deadline: Float64Array
  /** heap of the available peers' indices, ordered by (deadline, index); `size` of them */
  private readonly heap: Int32Array
  /** position of each peer in `heap`, -1 when out of it (unavailable) */
  private readonly pos: Int32Array
  private size: number
  /** the availability array the heap reflects (the level's own), undefined = all available */
  private known: Uint8Array | undefined
  private now = 0

  constructor(peers: readonly BalancerPeer[]) {
    const w = (this.w = new PeerWeights(peers))
    const n = (this.n = w.n)
    this.weight = w.weight
    this.ew = w.ew
    this.deadline = Float64Array.from(peers, (p) => 1 / p.weight)
    this.heap = new Int32Array(n)
    this.pos = new Int32Array(n).fill(-1)
    this.size = 0
    this.rebuild(undefined)
  }

  /**
   * The level's availability changed (the worker view calls this after each recompute): the
   * heap is rebuilt from the available peers, O(n). A peer coming back is scheduled no
   * earlier than the current virtual time, so it gets no burst of picks.
   */
  availChanged(avail: Uint8Array): void {
    this.rebuild(avail)
  }

  pick(avail: Uint8Array, _key?: string): number {
    if (this.known !== avail) {
      // first sight of the level's array, or a per-call copy (exclusions): scan, O(n)
      if (this.known === undefined && this.size === this.n && avail.length === this.n && avail.every((v) => v === 1)) {
        this.known = avail
      } else {
        return this.pickScan(avail)
      }
    }
    if (this.size === 0) return -1
    const i = this.heap[0]!
    this.advance(i)
    return i
  }

  /** Slow start: the peer's weight becomes `factor` of its configured one (like wrr.ts). */
  scale(index: number, factor: number): void {
    this.w.scale(index, factor)
  }

  report(index: number, failed: boolean): void {
    this.w.report(index, failed)
  }

  /** the earliest-deadline peer among those `avail` allows and the heap holds */
  private pickScan(avail: Uint8Array): number {
    let best = -1
    for (let i = 0; i < this.n; i++) {
      if (avail[i] !== 1 || this.pos[i] === -1) continue
      if (best === -1 || this.before(i, best)) best = i
    }
    if (best !== -1) this.advance(best)
    return best
  }

  /** `i` is picked: the clock moves to its deadline, it is re-scheduled 1 / ew later */
  private advance(i: number): void {
    const { deadline, ew, weight } = this
    const d = deadline[i]!
    if (d > this.now) this.now = d
    if (ew[i]! < weight[i]!) ew[i] = ew[i]! + 1
    deadline[i] = d + 1 / Math.max(ew[i]!, MIN_WEIGHT)
    this.siftDown(this.pos[i]!)
    if (this.now > REBASE_AT) this.rebase()
  }

  private rebuild(avail: Uint8Array | undefined): void {
    this.known = avail
    this.pos.fill(-1)
    let k = 0
    for (let i = 0; i < this.n; i++) {
      if (avail !== undefined && avail[i] !== 1) continue
      if (this.deadline[i]! < this.now) this.deadline[i] = this.now
      this.heap[k] = i
      this.pos[i] = k
      k++
    }
    this.size = k
    for (let j = (k >>> 1) - 1; j >= 0; j--) this.siftDown(j)
  }

  private before(a: number, b: number): boolean {
    const da = this.deadline[a]!
    const db = this.deadline[b]!
    return da < db || (da === db && a < b)
  }

  private siftDown(k: number): void {
    const { heap, pos, size } = this
    const item = heap[k]!
    for (;;) {
      let c = 2 * k + 1
      if (c >= size) break
      if (c + 1 < size && this.before(heap[c + 1]!, heap[c]!)) c++
      if (!this.before(heap[c]!, item)) break
      heap[k] = heap[c]!
      pos[heap[k]!] = k
      k = c
    }
    heap[k] = item
    pos[item] = k
  }

  private rebase(): void {
    const now = this.now
    for (let i = 0; i < this.n; i++) this.deadline[i] = this.deadline[i]! - now
    this.now = 0
  }
}

export const createEdfRoundRobin = (peers: readonly BalancerPeer[]): Balancer => new EdfRoundRobin(peers)
