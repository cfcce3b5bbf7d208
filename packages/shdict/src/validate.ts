/**
 * Argument checks, run before the zone lock is taken so that bad input throws a typed
 * error and leaves the zone untouched.
 */
import { SharedDictError } from './errors.js'

/** ngx.shared.DICT limit: keys up to 65535 bytes */
const MAX_KEY_BYTES = 65535

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new SharedDictError('SHD_ERR_INVALID_KEY', 'key must be a non-empty string')
  }
  // a UTF-16 unit is at most 3 UTF-8 bytes: only long keys need the exact count
  if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new SharedDictError('SHD_ERR_INVALID_KEY', `key too long (max ${MAX_KEY_BYTES} bytes)`)
  }
}

/** exptime in seconds: undefined → 0 (never); returns milliseconds */
export function checkExptime(exptime: unknown, name = 'exptime'): number {
  if (exptime === undefined || exptime === null) return 0
  if (typeof exptime !== 'number' || !(exptime >= 0) || exptime === Infinity) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `bad ${name}: must be a finite number >= 0`)
  }
  return exptime * 1000
}

export function checkFlags(flags: unknown): number {
  if (flags === undefined || flags === null) return 0
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', 'bad flags: must be an integer in [0, 2^32)')
  }
  return flags
}

export function checkNumber(n: unknown, name: string): asserts n is number {
  if (typeof n !== 'number' || Number.isNaN(n)) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `bad ${name}: must be a number`)
  }
}

/** non-negative integer count, undefined → `dflt` */
export function checkCount(n: unknown, name: string, dflt: number): number {
  if (n === undefined || n === null) return dflt
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `bad ${name}: must be an integer >= 0`)
  }
  return n
}

export function checkSlot(i: unknown, count: number): asserts i is number {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= count) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `bad slot index: must be an integer in [0, ${count})`)
  }
}

export function checkInt32(v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `bad ${name}: must be an int32`)
  }
}
