/**
 * Value codec: JS values ⇄ bytes in a block. Encoding is split in two so the size is known
 * before the lock is taken: `encode` classifies a value into the reusable `Encoded` scratch
 * (no allocation), `writeValue` copies it into a block that nothing references yet.
 *
 * Types: ASCII strings (decoded with latin1Slice, the fastest path), other strings (UTF-8),
 * numbers (float64, 8-aligned), booleans (1 byte), binary (Uint8Array, returned as a copy).
 */
import { T_ASCII, T_BINARY, T_BOOL, T_NUMBER, T_UTF8 } from './layout.js'
import type { Zone } from './zone.js'

export type Value = string | number | boolean | Uint8Array

export interface Encoded {
  type: number
  len: number
  str: string
  num: number
  bin: Uint8Array | null
}

export function newEncoded(): Encoded {
  return { type: 0, len: 0, str: '', num: 0, bin: null }
}

/** Classifies `v` into `out`; returns false for an unsupported type. */
export function encode(v: unknown, out: Encoded): boolean {
  out.bin = null
  switch (typeof v) {
    case 'string': {
      const len = Buffer.byteLength(v, 'utf8') // measured: faster than a JS scan even for short strings
      out.type = len === v.length ? T_ASCII : T_UTF8
      out.len = len
      out.str = v
      return true
    }
    case 'number':
      out.type = T_NUMBER
      out.len = 8
      out.num = v
      return true
    case 'boolean':
      out.type = T_BOOL
      out.len = 1
      out.num = v ? 1 : 0
      return true
    default:
      if (v instanceof Uint8Array) {
        out.type = T_BINARY
        out.len = v.byteLength
        out.bin = v
        return true
      }
      return false
  }
}

/** Writes the encoded value at byte offset `off` (8-aligned). */
export function writeValue(z: Zone, off: number, v: Encoded): void {
  switch (v.type) {
    case T_ASCII:
      z.buf.latin1Write(v.str, off, v.len)
      break
    case T_UTF8:
      z.buf.utf8Write(v.str, off, v.len)
      break
    case T_NUMBER:
      z.f64[off >> 3] = v.num
      break
    case T_BOOL:
      z.u8[off] = v.num
      break
    default:
      z.u8.set(v.bin!, off)
  }
}

/** Reads a value of `type` stored at `off` with byte length `len`. */
export function readValue(z: Zone, type: number, off: number, len: number): Value {
  switch (type) {
    case T_ASCII:
      return z.buf.latin1Slice(off, off + len)
    case T_NUMBER:
      return z.f64[off >> 3]!
    case T_UTF8:
      return z.buf.utf8Slice(off, off + len)
    case T_BOOL:
      return z.u8[off] === 1
    default:
      return z.u8.slice(off, off + len)
  }
}
