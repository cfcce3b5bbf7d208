/**
 * Lock: lua-resty-lock over a SharedDict. The lock is a key added with `exptime` (so a
 * holder that dies releases it when the key expires); waiters retry `add` after timer
 * sleeps of `step`, growing by `ratio` up to `max_step`, for at most `timeout` seconds —
 * the event loop is never blocked. `lock()` resolves to the seconds slept (resty.lock's
 * `elapsed`: the sum of the steps, 0 when taken at once).
 *
 * Invariant: one Lock object holds at most one key at a time (resty.lock's "locked").
 */
import type { SharedDict } from './dict.js'
import { SharedDictError } from './errors.js'

export interface LockOptions {
  /** seconds the lock key lives (default 30) */
  exptime?: number
  /** seconds to wait for the lock, 0 = try once (default 5) */
  timeout?: number
  /** first sleep in seconds (default 0.001) */
  step?: number
  /** sleep growth factor (default 2) */
  ratio?: number
  /** longest sleep in seconds (default 0.5) */
  max_step?: number
}

const DEFAULTS: Required<LockOptions> = { exptime: 30, timeout: 5, step: 0.001, ratio: 2, max_step: 0.5 }

function option(opts: LockOptions | undefined, name: keyof LockOptions): number {
  const v = opts?.[name] ?? DEFAULTS[name]
  if (typeof v !== 'number' || !(v >= 0) || v === Infinity) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `bad Lock option ${name}: must be a finite number >= 0`)
  }
  return v
}

const sleep = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, seconds * 1000))

export class Lock {
  readonly dict: SharedDict
  readonly exptime: number
  readonly timeout: number
  readonly step: number
  readonly ratio: number
  readonly maxStep: number
  #key: string | undefined

  constructor(dict: SharedDict, opts?: LockOptions) {
    this.dict = dict
    this.exptime = option(opts, 'exptime')
    this.timeout = option(opts, 'timeout')
    this.step = option(opts, 'step')
    this.ratio = option(opts, 'ratio')
    this.maxStep = option(opts, 'max_step')
  }

  /** The key this object holds, if any. */
  get key(): string | undefined {
    return this.#key
  }

  /** Acquires `key`; resolves to the seconds waited, rejects with SHD_ERR_LOCK_TIMEOUT / SHD_ERR_LOCKED. */
  async lock(key: string): Promise<number> {
    if (this.#key !== undefined) throw new SharedDictError('SHD_ERR_LOCKED', 'locked')
    if (this.#tryAdd(key)) return 0
    let step = this.step
    let timeout = this.timeout
    let elapsed = 0
    while (timeout > 0) {
      await sleep(step)
      elapsed += step
      timeout -= step
      if (this.#key !== undefined) throw new SharedDictError('SHD_ERR_LOCKED', 'locked')
      if (this.#tryAdd(key)) return elapsed
      if (timeout <= 0) break
      step = Math.min(Math.max(0.001, step * this.ratio), timeout, this.maxStep)
    }
    throw new SharedDictError('SHD_ERR_LOCK_TIMEOUT', 'timeout')
  }

  #tryAdd(key: string): boolean {
    const r = this.dict.add(key, true, this.exptime)
    if (r.ok) {
      this.#key = key
      return true
    }
    if (r.err === 'exists') return false
    throw new SharedDictError('SHD_ERR_NO_MEMORY', r.err)
  }

  /** Releases the held key; throws SHD_ERR_NOT_LOCKED ('unlocked') when holding none. */
  unlock(): void {
    const key = this.#key
    if (key === undefined) throw new SharedDictError('SHD_ERR_NOT_LOCKED', 'unlocked')
    this.dict.delete(key)
    this.#key = undefined
  }

  /**
   * Resets the held key's lifetime to `exptime` seconds (default: the Lock's exptime).
   * Returns false when the key is gone (it expired); throws 'unlocked' when holding none.
   */
  expire(exptime?: number): boolean {
    const key = this.#key
    if (key === undefined) throw new SharedDictError('SHD_ERR_NOT_LOCKED', 'unlocked')
    return this.dict.replace(key, true, exptime ?? this.exptime).ok
  }
}
