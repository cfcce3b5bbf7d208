/**
 * Zone lock in the ngx_shmtx style: one int32 lock word holding the owner's pid, 0 when
 * free, taken with Atomics.compareExchange. Atomics.wait/notify do not work across
 * processes, so a waiter spins with backoff (short sleeps on a private word between
 * bursts) — acceptable because holders only keep the lock for one dict operation.
 *
 * After `stealAfterMs` of waiting, the owner is checked with process.kill(pid, 0): a dead
 * owner's lock is taken over (CAS owner → self) and the zone recovered if it was DIRTY.
 * A live owner that keeps the lock past `timeoutMs` makes the wait fail with
 * SHD_ERR_LOCK_BUSY. Threads of one process share its pid: their CAS still excludes each
 * other, and a liveness check of the shared pid simply reports "alive".
 */
import { pidAlive } from '@checkups/shm'
import { SharedDictError } from './errors.js'
import { H_DIRTY, H_LOCK } from './layout.js'

export const PID = process.pid
/** polls of the lock word between sleeps: a critical section lasts well under a microsecond */
const SPINS = 256
/** sleeps double from MIN to MAX (ms); kept short so a freed lock is noticed quickly */
const SLEEP_MIN_MS = 0.01
const SLEEP_MAX_MS = 0.25
const sleeper = new Int32Array(new SharedArrayBuffer(4))

export interface LockTiming {
  /** wait this long before checking whether the owner is alive (ms) */
  stealAfterMs: number
  /** give up on a live owner after this long (ms) */
  timeoutMs: number
}

export const DEFAULT_TIMING: LockTiming = { stealAfterMs: 1000, timeoutMs: 5000 }

/** true when process `pid` exists (EPERM: exists, owned by someone else) */
export { pidAlive }

/**
 * Slow path of the zone lock. Returns true when the lock was taken over from a dead owner
 * (the caller must then recover the zone if it is DIRTY).
 */
export function lockSlow(i32: Int32Array, timing: LockTiming): boolean {
  let start = 0
  let nextCheck = 0
  let spins = 0
  let sleepMs = SLEEP_MIN_MS
  for (;;) {
    const owner = Atomics.load(i32, H_LOCK)
    if (owner === 0) {
      if (Atomics.compareExchange(i32, H_LOCK, 0, PID) === 0) return false
      continue
    }
    if (++spins < SPINS) continue
    spins = 0
    Atomics.wait(sleeper, 0, 0, sleepMs)
    if (sleepMs < SLEEP_MAX_MS) sleepMs *= 2
    const now = Date.now()
    if (start === 0) {
      start = now
      nextCheck = now + timing.stealAfterMs
      continue
    }
    if (now < nextCheck) continue
    nextCheck = now + Math.min(250, timing.stealAfterMs)
    if (owner !== PID && !pidAlive(owner)) {
      if (Atomics.compareExchange(i32, H_LOCK, owner, PID) === owner) return true
      continue
    }
    if (now - start >= timing.timeoutMs) {
      throw new SharedDictError('SHD_ERR_LOCK_BUSY', `zone lock held by live pid ${owner} for more than ${timing.timeoutMs} ms`)
    }
  }
}

/** Takes the lock if `pid` holds it; returns true when it did. */
export function takeFrom(i32: Int32Array, pid: number): boolean {
  return pid !== 0 && Atomics.compareExchange(i32, H_LOCK, pid, PID) === pid
}

export function isDirty(i32: Int32Array): boolean {
  return Atomics.load(i32, H_DIRTY) !== 0
}
