/**
 * checkups.redis(): two real redis-servers as level 1 and level 2 of one upstream. Commands go
 * to level 1; when it is killed, idempotent commands continue on level 2 without one failure;
 * a non-idempotent command in flight on the killed peer fails with CKP_ERR_PEER_LOST and is not
 * repeated; error replies are the caller's, not the peer's failure.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../test/fixtures/net.js'
import { prepared } from './helpers.js'

interface RedisProc { port: number; proc: ChildProcess }

async function startRedis(): Promise<RedisProc> {
  const port = await freePort()
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null })
  probe.on('error', () => {})
  await probe.connect().catch(() => undefined)
  await probe.ping()
  probe.disconnect()
  return { port, proc }
}

const killed = (p: ChildProcess) => new Promise<void>((r) => { if (p.exitCode !== null || p.signalCode !== null) return r(); p.once('exit', () => r()); p.kill('SIGKILL') })

describe('checkups.redis()', () => {
  let l1: RedisProc
  let l2: RedisProc
  beforeAll(async () => { [l1, l2] = await Promise.all([startRedis(), startRedis()]) })
  afterAll(async () => { await Promise.all([killed(l1.proc), killed(l2.proc)]) })

  const config = () => ({ cache: { typ: 'redis', timeout: 1, cluster: [
    { servers: [{ host: '127.0.0.1', port: l1.port }] },
    { servers: [{ host: '127.0.0.1', port: l2.port }] },
  ] } })

  it('uses level 1, keeps every idempotent command working when it dies, then uses level 2', async () => {
    const c = prepared(config())
    const redis = c.redis('cache')
    try {
      expect(await redis.set('k0', 'v0')).toBe('OK')
      const direct1 = new Redis({ port: l1.port, host: '127.0.0.1' })
      expect(await direct1.get('k0')).toBe('v0')
      direct1.disconnect()
      let failed = 0
      for (let i = 1; i <= 200; i++) {
        if (i === 60) await killed(l1.proc)
        await redis.set(`k${i}`, `v${i}`).catch(() => failed++)
        if ((await redis.get(`k${i}`).catch(() => { failed++ })) !== `v${i}`) failed++
      }
      expect(failed).toBe(0)
      const direct2 = new Redis({ port: l2.port, host: '127.0.0.1' })
      expect(await direct2.get('k200')).toBe('v200')
      expect(await direct2.get('k59')).toBe(null) // written to level 1 before it died
      direct2.disconnect()
      // an error reply is the caller's; the peer stays usable
      await redis.set('str', 'x')
      await expect(redis.call('lpush', 'str', 'y')).rejects.toThrow(/WRONGTYPE/)
      expect(await redis.get('str')).toBe('x')
    } finally {
      await redis.quit()
    }
  })

  it('a non-idempotent command in flight on a peer that dies fails with CKP_ERR_PEER_LOST and is not repeated', async () => {
    l1 = await startRedis()
    const c = prepared(config())
    const redis = c.redis('cache')
    try {
      await redis.del('list')
      // BLPOP blocks on level 1 (a write command: not repeatable); kill the peer under it
      const pending = redis.call('blpop', 'list', '5').then(() => null, (e: { code?: string }) => e.code)
      await new Promise((r) => setTimeout(r, 200))
      await killed(l1.proc)
      expect(await pending).toBe('CKP_ERR_PEER_LOST')
      // the next command goes to the live level
      expect(await redis.call('rpush', 'list', 'a')).toBe(1)
      const direct2 = new Redis({ port: l2.port, host: '127.0.0.1' })
      expect(await direct2.lrange('list', 0, -1)).toEqual(['a'])
      direct2.disconnect()
    } finally {
      await redis.quit()
    }
  })
})
