// Bad input: each call throws its stable code and the zone stays byte-for-byte unchanged.
import { describe, expect, it } from 'vitest'
import { SharedDict, SharedDictError } from '@checkups/shdict'
import { thrownBy } from '../../../test/fixtures/thrown.js'

type Call = (d: SharedDict) => unknown
const any = (v: unknown): never => v as never

const table: [string, Call, string][] = [
  ['get empty key', (d) => d.get(''), 'SHD_ERR_INVALID_KEY'],
  ['get number key', (d) => d.get(any(1)), 'SHD_ERR_INVALID_KEY'],
  ['get undefined key', (d) => d.get(any(undefined)), 'SHD_ERR_INVALID_KEY'],
  ['getStale object key', (d) => d.getStale(any({})), 'SHD_ERR_INVALID_KEY'],
  ['set empty key', (d) => d.set('', 1), 'SHD_ERR_INVALID_KEY'],
  ['set null key', (d) => d.set(any(null), 1), 'SHD_ERR_INVALID_KEY'],
  ['set 65536-byte key', (d) => d.set('k'.repeat(65536), 1), 'SHD_ERR_INVALID_KEY'],
  ['delete empty key', (d) => d.delete(''), 'SHD_ERR_INVALID_KEY'],
  ['lpush empty key', (d) => d.lpush('', 1), 'SHD_ERR_INVALID_KEY'],
  ['set object value', (d) => d.set('k', any({ a: 1 })), 'SHD_ERR_INVALID_VALUE'],
  ['set array value', (d) => d.set('k', any([1])), 'SHD_ERR_INVALID_VALUE'],
  ['set bigint value', (d) => d.set('k', any(10n)), 'SHD_ERR_INVALID_VALUE'],
  ['set symbol value', (d) => d.set('k', any(Symbol('s'))), 'SHD_ERR_INVALID_VALUE'],
  ['set function value', (d) => d.set('k', any(() => 1)), 'SHD_ERR_INVALID_VALUE'],
  ['set ArrayBuffer value', (d) => d.set('k', any(new ArrayBuffer(4))), 'SHD_ERR_INVALID_VALUE'],
  ['add undefined value', (d) => d.add('k', any(undefined)), 'SHD_ERR_INVALID_VALUE'],
  ['replace null value', (d) => d.replace('present', any(null)), 'SHD_ERR_INVALID_VALUE'],
  ['set value larger than the zone', (d) => d.set('k', 'x'.repeat(70_000)), 'SHD_ERR_INVALID_VALUE'],
  ['lpush object value', (d) => d.lpush('l', any({})), 'SHD_ERR_INVALID_VALUE'],
  ['rpush undefined value', (d) => d.rpush('l', any(undefined)), 'SHD_ERR_INVALID_VALUE'],
  ['rpush value larger than the zone', (d) => d.rpush('l', new Uint8Array(70_000)), 'SHD_ERR_INVALID_VALUE'],
  ['set negative exptime', (d) => d.set('k', 1, -1), 'SHD_ERR_INVALID_ARG'],
  ['set NaN exptime', (d) => d.set('k', 1, NaN), 'SHD_ERR_INVALID_ARG'],
  ['set Infinity exptime', (d) => d.set('k', 1, Infinity), 'SHD_ERR_INVALID_ARG'],
  ['set string exptime', (d) => d.set('k', 1, any('5')), 'SHD_ERR_INVALID_ARG'],
  ['set negative flags', (d) => d.set('k', 1, 0, -1), 'SHD_ERR_INVALID_ARG'],
  ['set fractional flags', (d) => d.set('k', 1, 0, 1.5), 'SHD_ERR_INVALID_ARG'],
  ['set flags 2^32', (d) => d.set('k', 1, 0, 2 ** 32), 'SHD_ERR_INVALID_ARG'],
  ['safeAdd NaN flags', (d) => d.safeAdd('k', 1, 0, NaN), 'SHD_ERR_INVALID_ARG'],
  ['set(undefined) with bad exptime', (d) => d.set('present', undefined, -1), 'SHD_ERR_INVALID_ARG'],
  ['incr NaN', (d) => d.incr('present', NaN), 'SHD_ERR_INVALID_ARG'],
  ['incr string n', (d) => d.incr('present', any('1')), 'SHD_ERR_INVALID_ARG'],
  ['incr string init', (d) => d.incr('k', 1, any('0')), 'SHD_ERR_INVALID_ARG'],
  ['incr negative initTtl', (d) => d.incr('k', 1, 0, -1), 'SHD_ERR_INVALID_ARG'],
  ['expire negative', (d) => d.expire('present', -1), 'SHD_ERR_INVALID_ARG'],
  ['getKeys negative', (d) => d.getKeys(-1), 'SHD_ERR_INVALID_ARG'],
  ['getKeys fractional', (d) => d.getKeys(1.5), 'SHD_ERR_INVALID_ARG'],
  ['flushExpired negative', (d) => d.flushExpired(-1), 'SHD_ERR_INVALID_ARG'],
  ['loadSlot 16', (d) => d.loadSlot(16), 'SHD_ERR_INVALID_ARG'],
  ['loadSlot -1', (d) => d.loadSlot(-1), 'SHD_ERR_INVALID_ARG'],
  ['addSlot fractional', (d) => d.addSlot(0, 1.5), 'SHD_ERR_INVALID_ARG'],
  ['storeSlot beyond int32', (d) => d.storeSlot(0, 2 ** 31), 'SHD_ERR_INVALID_ARG'],
  ['lpop on a scalar', (d) => d.lpop('present'), 'SHD_ERR_NOT_A_LIST'],
  ['llen on a scalar', (d) => d.llen('present'), 'SHD_ERR_NOT_A_LIST'],
  ['get on a list', (d) => d.get('list'), 'SHD_ERR_IS_A_LIST'],
]

describe('shdict bad input', () => {
  const dict = SharedDict.create(64 * 1024)
  dict.set('present', 5)
  dict.set('other', 'text', 100, 3)
  dict.rpush('list', 'a')

  it.each(table)('%s → %s, zone unchanged', (_name, call, code) => {
    const before = new Uint8Array(dict.buffer).slice()
    const thrown = thrownBy(() => call(dict))
    expect(thrown).toBeInstanceOf(SharedDictError)
    expect((thrown as SharedDictError).code).toBe(code)
    expect(Buffer.compare(new Uint8Array(dict.buffer), before)).toBe(0)
  })

  it('create/attach reject bad buffers and sizes', () => {
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f()
      } catch (err) {
        return (err as SharedDictError).code
      }
      return undefined
    }
    expect(codeOf(() => SharedDict.attach(new SharedArrayBuffer(4096)))).toBe('SHD_ERR_NOT_FORMATTED')
    expect(codeOf(() => SharedDict.attach(new SharedArrayBuffer(16)))).toBe('SHD_ERR_NOT_FORMATTED')
    const other = new SharedArrayBuffer(4096)
    new Int32Array(other)[0] = 0x31444853 // right magic, garbage geometry
    expect(codeOf(() => SharedDict.attach(other))).toBe('SHD_ERR_NOT_FORMATTED')
    expect(codeOf(() => SharedDict.attach(any(new ArrayBuffer(4096))))).toBe('SHD_ERR_INVALID_ARG')
    expect(codeOf(() => SharedDict.create(100))).toBe('SHD_ERR_INVALID_ARG')
    expect(codeOf(() => SharedDict.create(1.5e3 + 0.5))).toBe('SHD_ERR_INVALID_ARG')
    expect(codeOf(() => SharedDict.create(any('1m')))).toBe('SHD_ERR_INVALID_ARG')
    expect(codeOf(() => SharedDict.create(4096, { now: any(5) }))).toBe('SHD_ERR_INVALID_ARG')
    expect(codeOf(() => SharedDict.attach(dict.buffer))).toBeUndefined()
  })
})
