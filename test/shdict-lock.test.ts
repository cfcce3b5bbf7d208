// Lock contention between processes: a child holds a lock key in the shared zone, this
// process waits (timers) and gets it once the child unlocks, and the other way round.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lock, SharedDict } from '@checkups/shdict'
import { closeZoneFd, createZone } from '@checkups/shm'
import { fixture, forkChild, type Child } from '../packages/shdict/test/support/children.js'

describe('Lock across processes', () => {
  let dict: SharedDict
  let child: Child
  beforeAll(async () => {
    const zone = createZone('dict', 256 * 1024)
    dict = SharedDict.create(zone.buffer)
    child = await forkChild(fixture('shdict-rpc.mjs'), [zone])
    closeZoneFd(zone)
  })
  afterAll(async () => {
    await child?.stop()
  })

  it('a lock held by another process excludes this one until it unlocks', async () => {
    expect(await child.call('lock:lock', 'c', 'res', { timeout: 1 })).toBe(0)
    const mine = new Lock(dict, { timeout: 0.05 })
    await expect(mine.lock('res')).rejects.toMatchObject({ code: 'SHD_ERR_LOCK_TIMEOUT', message: 'timeout' })
    const waiting = new Lock(dict, { timeout: 30, max_step: 0.01 }).lock('res')
    await child.call('lock:unlock', 'c')
    expect(await waiting).toBeGreaterThan(0)
  })

  it('another process waits for a lock this process holds', async () => {
    const mine = new Lock(dict)
    expect(await mine.lock('res2')).toBe(0)
    const theirs = child.call<number>('lock:lock', 'd', 'res2', { timeout: 30, max_step: 0.01 })
    let settled = false
    void theirs.then(() => (settled = true))
    // the child is still waiting after we made a round trip to it
    expect(await child.call('get', 'res2')).toBe(true)
    expect(settled).toBe(false)
    mine.unlock()
    expect(await theirs).toBeGreaterThan(0)
    await expect(new Lock(dict, { timeout: 0 }).lock('res2')).rejects.toMatchObject({ code: 'SHD_ERR_LOCK_TIMEOUT' })
    await child.call('lock:unlock', 'd')
    expect(dict.get('res2')).toBeUndefined()
  })
})
