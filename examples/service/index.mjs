// A complete small service on checkups: 4 workers (WORKERS), each serving
//   GET /users/:id  → the user from the redis cache, else from MySQL (then cached), plus its
//                     profile from the HTTP API — every backend call balanced, health-checked
//                     and failed over by checkups;
// and the admin API (status, upstream changes, metrics) on ADMIN (default 127.0.0.1:9080).
// Run: node examples/service/index.mjs  (see docs/library.md for the environment it reads)
import http from 'node:http'
import { run } from '@checkups/runtime'
import { listenAdmin } from '@checkups/server'

const env = process.env
const [adminHost, adminPort] = (env.ADMIN ?? '127.0.0.1:9080').split(':')

await run({
  config: new URL('./checkups.config.mjs', import.meta.url),
  workers: Number(env.WORKERS ?? 4),
  initWorker(ctx) {
    const dispatcher = ctx.checkups.dispatcher()
    const cache = ctx.checkups.redis('cache')
    const db = ctx.checkups.mysql('db', { pool: { connectionLimit: 4 } })
    ctx.onClose(async () => { await dispatcher.close(); await cache.quit(); await db.end() })

    async function user(id) {
      const cached = await cache.get(`user:${id}`)
      if (cached !== null) return { ...JSON.parse(cached), from: 'cache' }
      const [rows] = await db.query("SELECT ? AS id, CONCAT('user ', ?) AS name", [id, id])
      await cache.set(`user:${id}`, JSON.stringify(rows[0]), 'EX', 60)
      return { ...rows[0], from: 'db' }
    }

    const app = http.createServer(async (req, res) => {
      const m = /^\/users\/(\d+)$/.exec(req.url ?? '')
      if (!m) { res.writeHead(404).end(); return }
      try {
        const [u, profile] = await Promise.all([
          user(Number(m[1])),
          fetch(`http://api/profiles/${m[1]}`, { dispatcher }).then((r) => r.text()),
        ])
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ ...u, profile, worker: ctx.worker.id }))
      } catch (err) {
        res.writeHead(502, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: err.code ?? 'error', message: err.message }))
      }
    })
    ctx.serve(app).listen(Number(env.PORT ?? 8080), '127.0.0.1')
    listenAdmin(ctx, { host: adminHost, port: Number(adminPort), token: env.ADMIN_TOKEN })
  },
})
