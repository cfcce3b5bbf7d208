/**
 * checkups' clients inside a service with 2 workers (test/fixtures/clients-app.mjs), against
 * real backends in their own processes: one of two HTTP backends killed during 1 000 fetch
 * calls → 0 failed calls; the level-1 redis-server killed during the commands → they continue
 * on level 2 with 0 failed commands.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, Primary, request } from './fixtures/runtime-harness.js'

const APP = fileURLToPath(new URL('./fixtures/clients-app.mjs', import.meta.url))
const BACKEND = fileURLToPath(new URL('./fixtures/http-backend.mjs', import.meta.url))

async function proc(cmd: string, args: string[], ready: (out: string) => boolean): Promise<ChildProcess> {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (ready(out)) resolve() })
    p.once('exit', (code) => reject(new Error(`${cmd} exited ${code}`)))
  })
  return p
}
const killed = (p: ChildProcess) => new Promise<void>((r) => { if (p.exitCode !== null || p.signalCode !== null) return r(); p.once('exit', () => r()); p.kill('SIGKILL') })
const redisServer = (port: number) => proc('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], (o) => o.includes('Ready to accept'))

interface Result { id: number; ok: number; failed: number; errors: string[]; peers: Record<string, number> }

describe('clients in a 2-worker service', () => {
  let primary: Primary
  let port: number
  const children: ChildProcess[] = []
  let httpPorts: number[]
  let redisPorts: number[]

  beforeAll(async () => {
    httpPorts = [await freePort(), await freePort()]
    redisPorts = [await freePort(), await freePort()]
    for (const p of httpPorts) children.push(await proc(process.execPath, [BACKEND, String(p)], (o) => o.includes('ready')))
    for (const p of redisPorts) children.push(await redisServer(p))
    port = await freePort()
    primary = new Primary([APP], { FIXTURE_PORT: String(port), FIXTURE_HTTP: httpPorts.join(','), FIXTURE_REDIS: redisPorts.join(',') })
    await primary.waitLog('all workers ready', undefined, 90_000)
  })

  afterAll(async () => {
    await primary?.kill()
    await Promise.all(children.map(killed))
  })

  /** `n` calls on each of the 2 workers at once (the primary hands connections out in turn). */
  async function onBothWorkers(path: string, during?: () => Promise<void>): Promise<Result[]> {
    const calls = [request(port, path, { timeout: 60_000 }), request(port, path, { timeout: 60_000 })]
    if (during) await during()
    return (await Promise.all(calls)).map((a) => a.json<Result>())
  }

  it('1 000 fetch calls while one of two HTTP backends is killed: 0 failed', async () => {
    const results = await onBothWorkers('/fetch?n=500', async () => {
      // kill the second backend while the calls run (the workers answer only when all are done)
      await new Promise((r) => setTimeout(r, 150))
      await killed(children[1]!)
    })
    expect(new Set(results.map((r) => r.id)).size).toBe(2)
    expect(results.map((r) => r.errors).flat()).toEqual([])
    expect(results.reduce((n, r) => n + r.ok, 0)).toBe(1000)
    const peers = results.reduce<Record<string, number>>((m, r) => { for (const [k, v] of Object.entries(r.peers)) m[k] = (m[k] ?? 0) + v; return m }, {})
    expect(peers[String(httpPorts[0])]).toBeGreaterThan(500) // the survivor took over
  })

  it('the level-1 redis killed during the commands: 0 failed, level 2 serves the rest', async () => {
    const { Redis } = await import('ioredis')
    const l1 = new Redis({ port: redisPorts[0]!, host: '127.0.0.1' })
    const results = await onBothWorkers('/redis?n=3000', async () => {
      // kill level 1 once both workers' commands are reaching it (however loaded the machine)
      for (let i = 0; i < 3000; i++) {
        const [a, b] = await Promise.all([l1.exists('w0:0'), l1.exists('w1:0')])
        if (a + b === 2) break
        await new Promise((r) => setTimeout(r, 5))
      }
      l1.disconnect()
      await killed(children[2]!)
    })
    expect(new Set(results.map((r) => r.id)).size).toBe(2)
    expect(results.map((r) => r.errors).flat()).toEqual([])
    expect(results.reduce((n, r) => n + r.ok, 0)).toBe(6000)
    const l2 = new Redis({ port: redisPorts[1]!, host: '127.0.0.1' })
    try {
      // the last keys are on level 2, the first ones were written to level 1 before it died
      expect(await l2.get('w0:2999')).toBe('2999')
      expect(await l2.get('w1:2999')).toBe('2999')
      expect(await l2.dbsize()).toBeLessThan(6000)
    } finally { l2.disconnect() }
  })
})
