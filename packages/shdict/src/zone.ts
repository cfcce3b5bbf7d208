/**
 * Zone: the typed-array views over one SharedArrayBuffer plus the geometry read from its
 * header (format.ts writes it). Views are created once per process and cached (the hot
 * paths index them directly); a Buffer over the same memory decodes strings without copying.
 *
 * Invariant: a Zone's geometry never changes — a re-format of the same buffer writes the
 * same geometry (it is a function of the size) and a new H_FORMAT_ID.
 */
import { SharedDictError } from './errors.js'
import {
  FORMAT_VERSION, H_BUCKETS, H_HEAP, H_HEAP_END, H_MAGIC, H_MAX_ORDER, H_NBUCKETS, H_SIZE,
  H_REFS, H_VERSION, HEADER_BYTES, MAGIC, MIN_ORDER,
} from './layout.js'

/** the subset of Buffer's fast (undocumented but stable) codecs used on hot paths */
export interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string
  utf8Slice(start: number, end: number): string
  latin1Write(s: string, offset: number, length: number): number
  utf8Write(s: string, offset: number, length: number): number
}

export const MIN_ZONE_BYTES = 1024

export class Zone {
  readonly sab: SharedArrayBuffer
  readonly i32: Int32Array
  readonly u16: Uint16Array
  readonly u8: Uint8Array
  readonly f64: Float64Array
  readonly buf: FastBuffer
  readonly size: number
  readonly nbuckets: number
  readonly bucketMask: number
  /** int32 index of bucket 0 */
  readonly bucketsWord: number
  readonly heap: number
  readonly heapEnd: number
  readonly maxOrder: number
  /** byte offset of the reference-bit array (one byte per 64-byte heap unit) */
  readonly refs: number

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab
    const len = sab.byteLength
    this.i32 = new Int32Array(sab, 0, len >>> 2)
    this.u16 = new Uint16Array(sab, 0, len >>> 1)
    this.u8 = new Uint8Array(sab)
    this.f64 = new Float64Array(sab, 0, len >>> 3)
    this.buf = Buffer.from(sab) as FastBuffer
    const i32 = this.i32
    this.size = i32[H_SIZE]!
    this.nbuckets = i32[H_NBUCKETS]!
    this.bucketMask = this.nbuckets - 1
    this.bucketsWord = i32[H_BUCKETS]! >>> 2
    this.heap = i32[H_HEAP]!
    this.heapEnd = i32[H_HEAP_END]!
    this.maxOrder = i32[H_MAX_ORDER]!
    this.refs = i32[H_REFS]!
  }
}

/** Checks the header of `sab` (magic, version, geometry) without modifying it. */
export function checkFormatted(sab: SharedArrayBuffer): void {
  if (!(sab instanceof SharedArrayBuffer)) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', 'attach() needs a SharedArrayBuffer')
  }
  if (sab.byteLength < MIN_ZONE_BYTES) {
    throw new SharedDictError('SHD_ERR_NOT_FORMATTED', `buffer of ${sab.byteLength} bytes holds no shared dict zone`)
  }
  const i32 = new Int32Array(sab, 0, HEADER_BYTES >>> 2)
  if (Atomics.load(i32, H_MAGIC) !== MAGIC) {
    throw new SharedDictError('SHD_ERR_NOT_FORMATTED', 'buffer holds no shared dict zone (bad magic)')
  }
  if (i32[H_VERSION] !== FORMAT_VERSION) {
    throw new SharedDictError('SHD_ERR_NOT_FORMATTED', `zone format version ${i32[H_VERSION]} is not supported (expected ${FORMAT_VERSION})`)
  }
  const size = i32[H_SIZE]!
  const heap = i32[H_HEAP]!
  const heapEnd = i32[H_HEAP_END]!
  const nb = i32[H_NBUCKETS]!
  const refs = i32[H_REFS]!
  if (size !== sab.byteLength || heapEnd > size || heap >= heapEnd || nb <= 0 || (nb & (nb - 1)) !== 0 ||
    refs < HEADER_BYTES + 4 * nb || refs + ((heapEnd - heap) >> MIN_ORDER) > heap || (heap & ((1 << MIN_ORDER) - 1)) !== 0) {
    throw new SharedDictError('SHD_ERR_NOT_FORMATTED', 'zone header is inconsistent with the buffer')
  }
}
