/**
 * The config writers' lock (the original's resty.lock on `checkups:skeys`), with an owner.
 *
 * Invariants
 * - The lock key in the `locks` zone holds the holder's pid (a number) and a lifetime of
 *   `exptime` seconds, so a holder that dies in the middle of a write is recognisable: the
 *   primary calls `releaseDeadHolder(locks, pid)` for every dead worker (as it frees the zone
 *   locks), and the survivors get the lock at once instead of after `exptime`.
 * - A key holding anything else (an older writer's `true`) is simply a held lock.
 * - `unlock` deletes the key only while it still holds this holder's pid: a holder whose key
 *   expired and was taken by another never frees the other's lock.
 * - Waiting is a back-off sleep (1 ms doubling to 50 ms) bounded by `timeout` seconds; a
 *   timeout rejects with an Error whose message is `timeout` (as resty.lock).
 */
import type { LockLike } from '../config/store.js'
import type { Dict } from '../zone-types.js'

export interface PidLockOptions {
  /** seconds to wait (default 5) */
  timeout?: number
  /** seconds the key lives if never unlocked (default 30, as resty.lock) */
  exptime?: number
  /** the owner recorded in the key (default process.pid) */
  pid?: number
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class PidLock implements LockLike {
  readonly #dict: Dict
  readonly #timeoutMs: number
  readonly #exptime: number
  readonly #pid: number
  #key: string | undefined

  constructor(dict: Dict, opts: PidLockOptions = {}) {
    this.#dict = dict
    this.#timeoutMs = (opts.timeout ?? 5) * 1000
    this.#exptime = opts.exptime ?? 30
    this.#pid = opts.pid ?? process.pid
  }

  async lock(key: string): Promise<number> {
    if (this.#key !== undefined) throw new Error('locked')
    const t0 = Date.now()
    let step = 1
    for (;;) {
      const r = this.#dict.add(key, this.#pid, this.#exptime)
      if (r.ok) {
        this.#key = key
        return (Date.now() - t0) / 1000
      }
      if (r.err !== 'exists') throw new Error(r.err)
      const left = this.#timeoutMs - (Date.now() - t0)
      if (left <= 0) throw new Error('timeout')
      await sleep(Math.min(step, left))
      step = Math.min(step * 2, 50)
    }
  }

  unlock(): void {
    const key = this.#key
    if (key === undefined) return
    this.#key = undefined
    if (this.#dict.get(key) === this.#pid) this.#dict.delete(key)
  }
}

/** Frees `key` when it is held by `pid` (a dead process); true when it was. */
export function releaseDeadHolder(locks: Dict, key: string, pid: number): boolean {
  if (locks.get(key) !== pid) return false
  locks.delete(key)
  return true
}
