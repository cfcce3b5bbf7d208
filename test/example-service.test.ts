/**
 * The example service of docs/library.md (examples/service) runs as written: 2 workers against
 * two HTTP backends, the test redis-server and the test MariaDB; a user is read from MySQL, then
 * from the cache; the admin API of library mode answers with every upstream.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, Primary, request, waitFor } from './fixtures/runtime-harness.js'
import { SERVICES } from './setup/global.js'

const EXAMPLE = fileURLToPath(new URL('../examples/service/index.mjs', import.meta.url))
const BACKEND = fileURLToPath(new URL('./fixtures/http-backend.mjs', import.meta.url))

describe('examples/service', () => {
  let primary: Primary
  let port: number
  let admin: number
  const backends: ChildProcess[] = []

  beforeAll(async () => {
    const api = [await freePort(), await freePort()]
    for (const p of api) {
      const b = spawn(process.execPath, [BACKEND, String(p)], { stdio: ['ignore', 'pipe', 'inherit'] })
      await new Promise<void>((r) => b.stdout!.once('data', () => r()))
      backends.push(b)
    }
    ;[port, admin] = [await freePort(), await freePort()]
    const { redis, mysql } = SERVICES
    primary = new Primary([EXAMPLE], {
      WORKERS: '2', PORT: String(port), ADMIN: `127.0.0.1:${admin}`,
      API_SERVERS: api.join(','), REDIS_SERVERS: `${redis.host}:${redis.port}`, MYSQL_SERVERS: `${mysql.host}:${mysql.port}`,
      MYSQL_USER: mysql.user, MYSQL_PASSWORD: mysql.password, MYSQL_DATABASE: mysql.database,
    })
    await primary.waitLog('all workers ready', undefined, 90_000)
  })

  afterAll(async () => {
    await primary?.kill()
    for (const b of backends) b.kill('SIGKILL')
  })

  it('serves a user from MySQL, then from redis, with the profile from the HTTP API', async () => {
    const id = 1_000_000 + Math.floor(Math.random() * 1_000_000)
    const first = (await request(port, `/users/${id}`)).json()
    expect(first).toMatchObject({ id, name: `user ${id}`, from: 'db' })
    expect(Number(first.profile)).toBeGreaterThan(0)
    const second = (await request(port, `/users/${id}`)).json()
    expect(second).toMatchObject({ id, name: `user ${id}`, from: 'cache' })
  })

  it('answers the admin API in library mode with every upstream', async () => {
    const status = await waitFor('heartbeat of every upstream', async () => {
      const s = (await request(admin, '/status')).json<Record<string, unknown>>()
      return ['cls:api', 'cls:cache', 'cls:db'].every((k) => k in s) ? s : undefined
    })
    expect(Object.keys(status)).toEqual(expect.arrayContaining(['cls:api', 'cls:cache', 'cls:db']))
  })
})
