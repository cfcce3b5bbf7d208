/**
 * The shared-dict conformance suite: ngx.shared.DICT semantics with
 * exact results, run against any Executor — a plain SAB in this process, or a shared-memory
 * zone where consecutive calls run in different processes.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Executor } from './support/executor.js'

const T0 = 1_700_000_000_000

export function conformance(name: string, make: () => Promise<Executor>): void {
  describe(`shared dict conformance: ${name}`, () => {
    let x: Executor
    const run = <T = unknown>(op: string, ...args: unknown[]): Promise<T> => x.run<T>(op, ...args)
    beforeAll(async () => {
      x = await make()
    })
    afterAll(async () => {
      await x?.close()
    })
    beforeEach(async () => {
      await x.reset()
      await x.setClock(T0)
    })
    afterEach(async () => {
      expect(await run('verify')).toEqual([])
    })

    it('stores and returns every value type', async () => {
      const bin = new Uint8Array([0, 1, 2, 254, 255])
      const cases: [string, unknown][] = [
        ['ascii', 'hello world'], ['empty', ''], ['utf8', 'héllo wörld ✓ 🚀'], ['int', 42],
        ['float', -3.25], ['big', 2 ** 53 + 2], ['zero', 0], ['true', true], ['false', false],
        ['bin', bin], ['emptybin', new Uint8Array(0)], ['long', 'x'.repeat(10_000)],
      ]
      for (const [k, v] of cases) expect(await run('set', k, v)).toEqual({ ok: true, forcible: false })
      for (const [k, v] of cases) expect(await run('get', k)).toEqual(v)
      const back = await run<Uint8Array>('get', 'bin')
      expect(back).toBeInstanceOf(Uint8Array)
      expect(await run('get', 'missing')).toBeUndefined()
    })

    it('a value overwritten (in place of a freed block) is never read stale by any process', async () => {
      for (let round = 0; round < 4 * x.processes; round++) {
        const v = `v${round}`.padEnd(40, String.fromCharCode(97 + (round % 26)))
        if (round % 2) await run('delete', 'k')
        expect(await run('set', 'k', v)).toEqual({ ok: true, forcible: false })
        expect(await run('get', 'k')).toBe(v)
        expect(await run('get', 'k')).toBe(v)
        expect(await run('getStale', 'k')).toEqual({ value: v, flags: 0, stale: false })
      }
    })

    it('keeps flags (default 0, uint32) and reports them with getWithFlags/getStale', async () => {
      await run('set', 'a', 'v')
      await run('set', 'b', 7, 0, 0xffffffff)
      expect(await run('getWithFlags', 'a')).toEqual({ value: 'v', flags: 0 })
      expect(await run('getWithFlags', 'b')).toEqual({ value: 7, flags: 0xffffffff })
      expect(await run('getStale', 'b')).toEqual({ value: 7, flags: 0xffffffff, stale: false })
      expect(await run('getWithFlags', 'nope')).toBeUndefined()
      expect(await run('getStale', 'nope')).toBeUndefined()
    })

    it('add / replace / safeAdd / safeSet / overwrite with another type', async () => {
      expect(await run('add', 'k', 1)).toEqual({ ok: true, forcible: false })
      expect(await run('add', 'k', 2)).toEqual({ ok: false, err: 'exists' })
      expect(await run('safeAdd', 'k', 2)).toEqual({ ok: false, err: 'exists' })
      expect(await run('replace', 'k', 'one')).toEqual({ ok: true, forcible: false })
      expect(await run('get', 'k')).toBe('one')
      expect(await run('replace', 'nope', 1)).toEqual({ ok: false, err: 'not found' })
      expect(await run('get', 'nope')).toBeUndefined()
      expect(await run('safeAdd', 's', true)).toEqual({ ok: true, forcible: false })
      expect(await run('safeSet', 's', new Uint8Array([9]))).toEqual({ ok: true, forcible: false })
      expect(await run('get', 's')).toEqual(new Uint8Array([9]))
      expect(await run('set', 'k', 5.5, 0, 3)).toEqual({ ok: true, forcible: false })
      expect(await run('getWithFlags', 'k')).toEqual({ value: 5.5, flags: 3 })
    })

    it('delete, and set(key, undefined/null) deletes as in nginx', async () => {
      await run('set', 'a', 1)
      await run('set', 'b', 2)
      await run('set', 'c', 3)
      await run('delete', 'a')
      await run('delete', 'never-there')
      expect(await run('set', 'b', undefined)).toEqual({ ok: true, forcible: false })
      expect(await run('set', 'c', null)).toEqual({ ok: true, forcible: false })
      for (const k of ['a', 'b', 'c']) expect(await run('get', k)).toBeUndefined()
      await expect(run('add', 'a', undefined)).rejects.toMatchObject({ code: 'SHD_ERR_INVALID_VALUE' })
    })

    it('incr: missing, init, existing, not a number, fractions', async () => {
      expect(await run('incr', 'n', 1)).toEqual({ ok: false, err: 'not found' })
      expect(await run('incr', 'n', 2, 10)).toEqual({ ok: true, value: 12, forcible: false })
      expect(await run('incr', 'n', -5, 100)).toEqual({ ok: true, value: 7, forcible: false })
      expect(await run('incr', 'n', 0.5)).toEqual({ ok: true, value: 7.5, forcible: false })
      await run('set', 's', '12')
      expect(await run('incr', 's', 1)).toEqual({ ok: false, err: 'not a number' })
      expect(await run('incr', 's', 1, 0)).toEqual({ ok: false, err: 'not a number' })
      expect(await run('get', 'n')).toBe(7.5)
    })

    it('incr initTtl applies only when init creates the key', async () => {
      expect(await run('incr', 'c', 1, 0, 2)).toEqual({ ok: true, value: 1, forcible: false })
      expect(await run('ttl', 'c')).toBe(2)
      await x.setClock(T0 + 500)
      expect(await run('incr', 'c', 1, 0, 10)).toEqual({ ok: true, value: 2, forcible: false })
      expect(await run('ttl', 'c')).toBe(1.5)
      await x.setClock(T0 + 2000)
      expect(await run('get', 'c')).toBeUndefined()
      expect(await run('incr', 'c', 1)).toEqual({ ok: false, err: 'not found' })
      expect(await run('incr', 'c', 5, 100)).toEqual({ ok: true, value: 105, forcible: false })
      expect(await run('ttl', 'c')).toBe(0)
    })

    it('lists: push/pop order, length, mixed values, empty list deletes the key', async () => {
      expect(await run('lpush', 'l', 'b')).toEqual({ ok: true, length: 1 })
      expect(await run('lpush', 'l', 'a')).toEqual({ ok: true, length: 2 })
      expect(await run('rpush', 'l', 3)).toEqual({ ok: true, length: 3 })
      expect(await run('rpush', 'l', new Uint8Array([4]))).toEqual({ ok: true, length: 4 })
      expect(await run('llen', 'l')).toBe(4)
      expect(await run('lpop', 'l')).toBe('a')
      expect(await run('rpop', 'l')).toEqual(new Uint8Array([4]))
      expect(await run('rpop', 'l')).toBe(3)
      expect(await run('llen', 'l')).toBe(1)
      expect(await run('lpop', 'l')).toBe('b')
      expect(await run('llen', 'l')).toBe(0)
      expect(await run('lpop', 'l')).toBeUndefined()
      expect(await run('rpop', 'l')).toBeUndefined()
      expect(await run('getKeys', 0)).toEqual([])
      expect(await run('llen', 'missing')).toBe(0)
    })

    it('lists vs scalars: value not a list / value is a list', async () => {
      await run('set', 's', 'scalar')
      expect(await run('lpush', 's', 1)).toEqual({ ok: false, err: 'value not a list' })
      expect(await run('rpush', 's', 1)).toEqual({ ok: false, err: 'value not a list' })
      await expect(run('lpop', 's')).rejects.toMatchObject({ code: 'SHD_ERR_NOT_A_LIST', message: 'value not a list' })
      await expect(run('rpop', 's')).rejects.toMatchObject({ code: 'SHD_ERR_NOT_A_LIST' })
      await expect(run('llen', 's')).rejects.toMatchObject({ code: 'SHD_ERR_NOT_A_LIST' })
      await run('rpush', 'l', 1)
      await expect(run('get', 'l')).rejects.toMatchObject({ code: 'SHD_ERR_IS_A_LIST' })
      expect(await run('incr', 'l', 1)).toEqual({ ok: false, err: 'not a number' })
      expect(await run('set', 'l', 'now a scalar')).toEqual({ ok: true, forcible: false })
      expect(await run('get', 'l')).toBe('now a scalar')
      expect(await run('get', 's')).toBe('scalar')
    })

    it('TTL with fractions: expiry, getStale, add over expired, replace fails', async () => {
      await run('set', 'k', 'v', 0.25)
      await run('set', 'forever', 'f')
      expect(await run('ttl', 'k')).toBe(0.25)
      expect(await run('ttl', 'forever')).toBe(0)
      expect(await run('ttl', 'missing')).toBeUndefined()
      await x.setClock(T0 + 249)
      expect(await run('get', 'k')).toBe('v')
      await x.setClock(T0 + 250)
      expect(await run('get', 'k')).toBeUndefined()
      expect(await run('getWithFlags', 'k')).toBeUndefined()
      expect(await run('ttl', 'k')).toBeUndefined()
      expect(await run('getStale', 'k')).toEqual({ value: 'v', flags: 0, stale: true })
      expect(await run('replace', 'k', 'w')).toEqual({ ok: false, err: 'not found' })
      expect(await run('expire', 'k', 10)).toBe(false)
      expect(await run('getKeys')).toEqual(['forever'])
      expect(await run('add', 'k', 'again', 1)).toEqual({ ok: true, forcible: false })
      expect(await run('getStale', 'k')).toEqual({ value: 'again', flags: 0, stale: false })
      expect(await run('get', 'forever')).toBe('f')
    })

    it('expired lists read as missing and are replaced by a new list', async () => {
      await run('rpush', 'l', 'old')
      await run('expire', 'l', 0.1)
      await x.setClock(T0 + 100)
      expect(await run('llen', 'l')).toBe(0)
      expect(await run('lpop', 'l')).toBeUndefined()
      expect(await run('rpush', 'l', 'new')).toEqual({ ok: true, length: 1 })
      expect(await run('lpop', 'l')).toBe('new')
    })

    it('expire sets and clears TTLs', async () => {
      await run('set', 'k', 1)
      expect(await run('expire', 'k', 1.5)).toBe(true)
      expect(await run('ttl', 'k')).toBe(1.5)
      await x.setClock(T0 + 1000)
      expect(await run('ttl', 'k')).toBe(0.5)
      expect(await run('expire', 'k', 0)).toBe(true)
      expect(await run('ttl', 'k')).toBe(0)
      await x.setClock(T0 + 1_000_000)
      expect(await run('get', 'k')).toBe(1)
      expect(await run('expire', 'missing', 1)).toBe(false)
    })

    it('flushAll marks everything expired; flushExpired frees and counts; freeSpace comes back', async () => {
      const initial = await run<number>('freeSpace')
      expect(initial).toBeGreaterThan(0)
      expect(await run('capacity')).toBe(1 << 20)
      for (let i = 0; i < 20; i++) await run('set', `k${i}`, 'v'.repeat(i * 10))
      await run('rpush', 'list', 'a')
      await run('rpush', 'list', 'b')
      expect(await run<number>('freeSpace')).toBeLessThan(initial)
      await run('flushAll')
      expect(await run('get', 'k3')).toBeUndefined()
      expect(await run('getStale', 'k3')).toEqual({ value: 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv', flags: 0, stale: true })
      expect(await run('getKeys', 0)).toEqual([])
      expect(await run('flushExpired', 5)).toBe(5)
      expect(await run('flushExpired')).toBe(16)
      expect(await run('flushExpired')).toBe(0)
      expect(await run('getStale', 'k3')).toBeUndefined()
      expect(await run('freeSpace')).toBe(initial)
    })

    it('flushExpired leaves live keys', async () => {
      await run('set', 'a', 1, 1)
      await run('set', 'b', 2, 3)
      await run('set', 'c', 3)
      await x.setClock(T0 + 2000)
      expect(await run('flushExpired')).toBe(1)
      expect((await run<string[]>('getKeys')).sort()).toEqual(['b', 'c'])
    })

    it('getKeys: default 1024, 0 = all, max n', async () => {
      for (let i = 0; i < 1100; i++) await run('set', `key:${i}`, i)
      expect(await run<string[]>('getKeys')).toHaveLength(1024)
      const all = await run<string[]>('getKeys', 0)
      expect(all).toHaveLength(1100)
      expect(new Set(all)).toEqual(new Set(Array.from({ length: 1100 }, (_, i) => `key:${i}`)))
      expect(await run<string[]>('getKeys', 7)).toHaveLength(7)
    })

    it('keys: unicode, long, distinct by every code unit', async () => {
      const long = 'k'.repeat(65535)
      const keys = ['ключ', '键', '🔑', 'a', 'A', 'ab', 'ba', long]
      for (const [i, k] of keys.entries()) expect(await run('set', k, i)).toEqual({ ok: true, forcible: false })
      for (const [i, k] of keys.entries()) expect(await run('get', k)).toBe(i)
      expect((await run<string[]>('getKeys', 0)).sort()).toEqual([...keys].sort())
      await expect(run('set', 'k'.repeat(65536), 1)).rejects.toMatchObject({ code: 'SHD_ERR_INVALID_KEY' })
      await expect(run('set', '€'.repeat(21846), 1)).rejects.toMatchObject({ code: 'SHD_ERR_INVALID_KEY' })
    })

    it('freeSpace shrinks on set and returns after delete', async () => {
      const initial = await run<number>('freeSpace')
      await run('set', 'big', 'x'.repeat(100_000))
      await run('set', 'small', 1)
      await run('lpush', 'l', 'item')
      expect(await run<number>('freeSpace')).toBeLessThanOrEqual(initial - 100_000)
      await run('delete', 'big')
      await run('delete', 'small')
      await run('lpop', 'l')
      expect(await run('freeSpace')).toBe(initial)
    })

    it('counter slots are shared and exact', async () => {
      await run('storeSlot', 3, 10)
      expect(await run('loadSlot', 3)).toBe(10)
      expect(await run('addSlot', 3, 5)).toBe(15)
      expect(await run('addSlot', 3, -20)).toBe(-5)
      expect(await run('loadSlot', 3)).toBe(-5)
      expect(await run('loadSlot', 15)).toBe(0)
      await expect(run('loadSlot', 16)).rejects.toMatchObject({ code: 'SHD_ERR_INVALID_ARG' })
    })
  })
}
