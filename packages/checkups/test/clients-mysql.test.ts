/**
 * checkups.mysql(): the test MariaDB as level 2, and a TCP forwarder process in front of it as
 * level 1. Queries go through level 1; when it is killed with a query in flight, that query
 * fails with CKP_ERR_PEER_LOST (never repeated) and the next one runs on level 2. SQL errors
 * are the caller's, not a peer failure.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../test/fixtures/net.js'
import { SERVICES } from '../../../test/setup/global.js'
import { prepared } from './helpers.js'

const FORWARD = fileURLToPath(new URL('../../../test/fixtures/tcp-forward.mjs', import.meta.url))

async function forwarder(target: number): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort()
  const proc = spawn(process.execPath, [FORWARD, String(port), String(target)], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve() })
    proc.once('exit', () => reject(new Error('forwarder exited')))
  })
  return { port, proc }
}
const killed = (p: ChildProcess) => new Promise<void>((r) => { if (p.exitCode !== null || p.signalCode !== null) return r(); p.once('exit', () => r()); p.kill('SIGKILL') })

describe('checkups.mysql()', () => {
  const { host, port, user, password, database } = SERVICES.mysql
  let fwd: { port: number; proc: ChildProcess }
  beforeAll(async () => { fwd = await forwarder(port) })
  afterAll(async () => { await killed(fwd.proc) })

  it('a query in flight when its peer dies fails clearly; the next goes to the live level', async () => {
    const c = prepared({ db: { typ: 'mysql', timeout: 5, cluster: [
      { servers: [{ host, port: fwd.port }] },
      { servers: [{ host, port }] },
    ] } })
    const db = c.mysql('db', { pool: { user, password, database, connectionLimit: 2 } })
    try {
      const [rows] = await db.query<[Array<{ one: number }>]>('SELECT 1 AS one')
      expect(rows[0]!.one).toBe(1)
      await expect(db.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: 'ER_NO_SUCH_TABLE' })
      expect(c.getStatus()).toBeDefined()
      const slow = db.query('SELECT SLEEP(3) AS s').then(() => null, (e: { code?: string }) => e.code)
      await new Promise((r) => setTimeout(r, 300))
      await killed(fwd.proc)
      expect(await slow).toBe('CKP_ERR_PEER_LOST')
      const [after] = await db.query<[Array<{ two: number }>]>('SELECT 2 AS two')
      expect(after[0]!.two).toBe(2)
      for (let i = 0; i < 5; i++) await db.execute('SELECT ? AS n', [i])
    } finally {
      await db.end()
    }
  })
})
