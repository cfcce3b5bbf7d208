// resty.lock semantics: contention, timeout, step/ratio/max_step schedule (fake timers:
// only the clock is faked), 'locked' / 'unlocked', expire, and exptime releasing a lock
// whose holder vanished.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Lock, SharedDict } from '@checkups/shdict'

const codeOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(() => 'resolved', (err: { code: string; message: string }) => ({ code: err.code, message: err.message }))

describe('Lock (resty.lock)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('excludes a second holder until unlock; timeout rejects with SHD_ERR_LOCK_TIMEOUT', async () => {
    const dict = SharedDict.create(64 * 1024)
    const a = new Lock(dict)
    const b = new Lock(dict, { timeout: 0.02 })
    expect(await a.lock('res')).toBe(0)
    expect(a.key).toBe('res')
    expect(await codeOf(b.lock('res'))).toEqual({ code: 'SHD_ERR_LOCK_TIMEOUT', message: 'timeout' })
    a.unlock()
    expect(await b.lock('res')).toBe(0)
    expect(await new Lock(dict).lock('other')).toBe(0)
    b.unlock()
    expect(dict.get('res')).toBeUndefined()
  })

  it('a waiter gets the lock after the holder unlocks; elapsed is the sum of the steps', async () => {
    vi.useFakeTimers()
    const dict = SharedDict.create(64 * 1024)
    const a = new Lock(dict)
    const b = new Lock(dict)
    await a.lock('k')
    let got: number | undefined
    const p = b.lock('k').then((e) => (got = e))
    await vi.advanceTimersByTimeAsync(1) // slept 0.001, retry fails
    await vi.advanceTimersByTimeAsync(2) // slept 0.002, retry fails
    expect(got).toBeUndefined()
    a.unlock()
    await vi.advanceTimersByTimeAsync(4) // slept 0.004, retry succeeds
    await p
    expect(got).toBeCloseTo(0.007, 10)
    expect(b.key).toBe('k')
  })

  it('steps grow by ratio, are capped by max_step and by the time left', async () => {
    vi.useFakeTimers()
    const dict = SharedDict.create(64 * 1024)
    await new Lock(dict).lock('k')
    const b = new Lock(dict, { timeout: 0.1, step: 0.01, ratio: 3, max_step: 0.04 })
    let result: unknown
    void codeOf(b.lock('k')).then((r) => (result = r))
    // schedule: 0.01, 0.03, 0.04 (max_step), then 0.02 (time left) = 0.1
    await vi.advanceTimersByTimeAsync(10 + 30 + 40 + 19)
    expect(result).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(result).toEqual({ code: 'SHD_ERR_LOCK_TIMEOUT', message: 'timeout' })
  })

  it('timeout 0 tries exactly once', async () => {
    const dict = SharedDict.create(64 * 1024)
    await new Lock(dict).lock('k')
    expect(await codeOf(new Lock(dict, { timeout: 0 }).lock('k'))).toEqual({ code: 'SHD_ERR_LOCK_TIMEOUT', message: 'timeout' })
  })

  it("'locked' when this object already holds a key, 'unlocked' when it holds none", async () => {
    const dict = SharedDict.create(64 * 1024)
    const a = new Lock(dict)
    expect(() => a.unlock()).toThrow(expect.objectContaining({ code: 'SHD_ERR_NOT_LOCKED', message: 'unlocked' }))
    expect(() => a.expire(1)).toThrow(expect.objectContaining({ code: 'SHD_ERR_NOT_LOCKED' }))
    await a.lock('x')
    expect(await codeOf(a.lock('y'))).toEqual({ code: 'SHD_ERR_LOCKED', message: 'locked' })
    expect(await codeOf(a.lock('x'))).toEqual({ code: 'SHD_ERR_LOCKED', message: 'locked' })
    a.unlock()
    expect(() => a.unlock()).toThrow(expect.objectContaining({ code: 'SHD_ERR_NOT_LOCKED' }))
  })

  it('exptime frees a lock whose holder never unlocks; expire() extends it', async () => {
    let clock = 5_000_000
    const dict = SharedDict.create(64 * 1024, { now: () => clock })
    const a = new Lock(dict, { exptime: 2 })
    const b = new Lock(dict, { timeout: 0 })
    await a.lock('k')
    expect(dict.ttl('k')).toBe(2)
    clock += 1500
    expect(a.expire(3)).toBe(true)
    expect(dict.ttl('k')).toBe(3)
    expect(a.expire()).toBe(true)
    expect(dict.ttl('k')).toBe(2)
    clock += 1999
    expect(await codeOf(b.lock('k'))).toEqual({ code: 'SHD_ERR_LOCK_TIMEOUT', message: 'timeout' })
    clock += 1
    expect(await b.lock('k')).toBe(0)
    expect(a.expire(10)).toBe(true) // resty.lock: replace succeeds on the (new) live key
  })

  it('rejects bad options with SHD_ERR_INVALID_ARG', () => {
    const dict = SharedDict.create(64 * 1024)
    expect(() => new Lock(dict, { timeout: -1 })).toThrow(expect.objectContaining({ code: 'SHD_ERR_INVALID_ARG' }))
    expect(() => new Lock(dict, { step: NaN })).toThrow(expect.objectContaining({ code: 'SHD_ERR_INVALID_ARG' }))
  })
})
