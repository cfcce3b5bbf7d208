/**
 * The zones checkups uses, typed structurally as the subset of @checkups/shdict's SharedDict
 * (its public methods + the counter slots of docs/internals.md) that core calls, so any
 * SharedDict — in shared memory or a plain SharedArrayBuffer — fits.
 */
export type DictValue = string | number | boolean | Uint8Array

export type SetResult = { ok: true; forcible: boolean } | { ok: false; err: string }
export type IncrResult = { ok: true; value: number; forcible: boolean } | { ok: false; err: string }

export interface Dict {
  get(key: string): DictValue | undefined
  set(key: string, value: DictValue, exptime?: number, flags?: number): SetResult
  safeSet(key: string, value: DictValue, exptime?: number, flags?: number): SetResult
  add(key: string, value: DictValue, exptime?: number, flags?: number): SetResult
  safeAdd(key: string, value: DictValue, exptime?: number, flags?: number): SetResult
  delete(key: string): void
  incr(key: string, n: number, init?: number, initTtl?: number): IncrResult
  ttl(key: string): number | undefined
  getKeys(max?: number): string[]
  loadSlot(i: number): number
  addSlot(i: number, n: number): number
  storeSlot(i: number, v: number): void
  /** the slots as a live Int32Array (plain reads for change checks); optional */
  slotWords?(): Int32Array
  readonly buffer: SharedArrayBuffer
}

export interface SharedZones<D extends Dict = Dict> {
  readonly state: D
  readonly mutex: D
  readonly locks: D
  readonly config: D
}

export const ZONE_NAMES = ['state', 'mutex', 'locks', 'config'] as const

export interface WorkerInfo {
  readonly id: number
  readonly count: number
  readonly pid: number
}

/**
 * The one logger shape of every package: pino's argument order, `(fields, msg)`, with `msg` a
 * stable string and the variable data in `fields` (a pino logger fits as is). The process's
 * identity (worker id, pid) is the logger's own business, not repeated in fields.
 */
export interface Logger {
  info(fields: Record<string, unknown>, msg: string): void
  warn(fields: Record<string, unknown>, msg: string): void
  error(fields: Record<string, unknown>, msg: string): void
  debug?(fields: Record<string, unknown>, msg: string): void
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} }

export function asBytes(v: DictValue | undefined): Uint8Array | undefined {
  return v instanceof Uint8Array ? v : undefined
}
