/**
 * The zone lock protocol, on top of the lock word (shmtx.ts) and recovery (recover.ts):
 *
 *   lockZone … locked work … H_DIRTY = 0 … unlockZone
 *
 * Work that changes derived state sets H_DIRTY = 1 first. If the work throws half-way,
 * DIRTY is still set when `unlockZone` runs, and it recovers the zone before releasing the
 * lock; if the process dies instead, the next locker (stealing a dead owner's lock) or the
 * supervisor's `forceUnlockZone` recovers it.
 *
 * Invariant (seqlock.ts): the lock is never released with H_SEQ odd — a critical section
 * that made it odd (or a dead holder before it) makes it even, a value no reader saw while
 * the writes were going on.
 */
import { H_DIRTY, H_LOCK, H_SEQ } from './layout.js'
import { recover } from './recover.js'
import { isDirty, lockSlow, PID, takeFrom, type LockTiming } from './shmtx.js'
import type { Zone } from './zone.js'

export function lockZone(z: Zone, timing: LockTiming): void {
  if (Atomics.compareExchange(z.i32, H_LOCK, 0, PID) !== 0) {
    if (lockSlow(z.i32, timing) && isDirty(z.i32)) recover(z)
  }
}

export function unlockZone(z: Zone): void {
  if (z.i32[H_DIRTY] !== 0) recover(z)
  release(z)
}

/** Supervisor: if `pid` holds the lock, repair what it may have left and release. */
export function forceUnlockZone(z: Zone, pid: number): boolean {
  if (!takeFrom(z.i32, pid)) return false
  if (isDirty(z.i32)) recover(z)
  release(z)
  return true
}

function release(z: Zone): void {
  const i32 = z.i32
  const s = i32[H_SEQ]!
  if ((s & 1) !== 0) Atomics.store(i32, H_SEQ, (s + 1) | 0)
  Atomics.store(i32, H_LOCK, 0)
}
