// Smoke app, run from the packed install: run() with 2 workers, each calls readyOk against the
// loopback backend on SMOKE_BACKEND_PORT and stores what it got in the shared `smoke` zone; the
// primary waits until both are ready, prints the zone's entries as one JSON line, and stops.
import { run } from '@checkups/runtime'

const port = Number(process.env.SMOKE_BACKEND_PORT)
const handle = await run({
  config: {
    global: { checkup_timer_interval: 1 },
    backend: { timeout: 2, try: 2, cluster: [{ servers: [{ host: '127.0.0.1', port }] }] },
  },
  workers: 2,
  shared_dicts: { smoke: '64k' },
  shutdownTimeout: 5_000,
  async initWorker(ctx) {
    const body = await ctx.checkups.readyOk('backend', async (host, p) => {
      const res = await fetch(`http://${host}:${p}/hello?worker=${ctx.worker.id}`)
      return res.ok ? res.text() : null
    })
    ctx.shared.smoke.set(`worker-${ctx.worker.id}`, body)
  },
})

if (handle.role === 'primary') {
  await handle.ready
  const out = {}
  for (const key of handle.ctx.shared.smoke.getKeys(0).sort()) out[key] = handle.ctx.shared.smoke.get(key)
  process.stdout.write(JSON.stringify(out) + '\n')
  await handle.stop()
}
