/**
 * Heartbeat leader election: a lease in the `mutex` zone.
 *
 * Key `KEY.HEARTBEAT_LEASE` → msgpackr `{ worker, pid, since }` (`since`: ms since the epoch when
 * this holder took it), TTL `checkup_timer_overtime`.
 *
 * Invariants
 * - Taken only with `safeAdd` (atomic under the zone lock: of concurrent candidates exactly
 *   one succeeds, and it never evicts another key to do so).
 * - Renewed only by its holder: read, check the pid is ours, set with a fresh TTL. Renewals
 *   happen every poll (≈250 ms) and every round, so the TTL only runs out when the holder's
 *   event loop has been stuck for `overtime` seconds.
 * - A holder that reads someone else's lease (or none) stops leading at once and discards the
 *   round in flight; the lease is never taken over by `set`.
 * - Removed by its holder on stop, and by the primary when the holder dies
 *   (`releaseLease(mutex, pid)`), so a candidate takes over at its next poll.
 */
import { KEY } from '../keys.js'
import { decodeRecord, encodeRecord } from '../records.js'
import type { Dict } from '../zone-types.js'
import type { Lease } from './contract.js'

export type { Lease } from './contract.js'

export interface Candidate {
  worker: number
  pid: number
}

/** The current lease, or undefined (none, expired, or unreadable). */
export function readLease(mutex: Pick<Dict, 'get'>): Lease | undefined {
  const v = mutex.get(KEY.HEARTBEAT_LEASE)
  if (!(v instanceof Uint8Array)) return undefined
  try {
    const l = decodeRecord<Lease>(v)
    return l && typeof l.pid === 'number' ? l : undefined
  } catch {
    return undefined
  }
}

/** Tries to take a free lease. */
export function tryAcquire(mutex: Pick<Dict, 'safeAdd'>, me: Candidate, nowMs: number, overtimeS: number): boolean {
  const lease: Lease = { worker: me.worker, pid: me.pid, since: nowMs }
  return mutex.safeAdd(KEY.HEARTBEAT_LEASE, encodeRecord(lease), overtimeS).ok
}

/** Renews the lease if `me` holds it; false when someone else (or nobody) does. */
export function renewLease(mutex: Pick<Dict, 'get' | 'set'>, me: Candidate, overtimeS: number): boolean {
  const cur = readLease(mutex)
  if (!cur || cur.pid !== me.pid || cur.worker !== me.worker) return false
  return mutex.set(KEY.HEARTBEAT_LEASE, encodeRecord(cur), overtimeS).ok
}

/** True when `me` holds the lease now (one read). */
export function holdsLease(mutex: Pick<Dict, 'get'>, me: Candidate): boolean {
  const cur = readLease(mutex)
  return cur !== undefined && cur.pid === me.pid && cur.worker === me.worker
}

/**
 * Removes the lease if `pid` holds it (the primary calls it when a worker dies; a stopping
 * leader calls it for itself). Returns whether a lease was removed.
 */
export function releaseLease(mutex: Pick<Dict, 'get' | 'delete'>, pid: number): boolean {
  const cur = readLease(mutex)
  if (!cur || cur.pid !== pid) return false
  mutex.delete(KEY.HEARTBEAT_LEASE)
  return true
}
