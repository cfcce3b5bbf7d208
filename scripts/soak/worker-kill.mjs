// Worker kill -9 under load, at the rate of a real deployment: `node apps/server` (3 workers,
// 3 backends, worker_header on) serves SOAK_REQUESTS requests from SOAK_CONNECTIONS undici
// keep-alive connections paced to SOAK_RATE requests/s in total, while SOAK_KILLS times a random
// ready worker gets SIGKILL (evenly spread over the run). The same run first serves
// SOAK_REQUESTS / 4 requests without kills (the baseline). Prints requests answered, failures
// (each attributed to the worker id whose connection it rode, when known), 5xx, respawn-to-
// ready per kill, and the server's CPU per request next to the baseline's. Same assertion
// shape as test/worker-kill.test.ts; every process started here is stopped here (lib.mjs).
//
// env: SOAK_REQUESTS (20000), SOAK_RATE (1000), SOAK_CONNECTIONS (10), SOAK_KILLS (10)
import { Client } from 'undici'
import { H, json, procStats, sleep, spawnServer, startBackends, stopAll, waitServing, waitWorkers, writeServerConfig } from './lib.mjs'

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 20_000)
const RATE = Number(process.env.SOAK_RATE ?? 1000)
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 10)
const KILLS = Number(process.env.SOAK_KILLS ?? 10)

async function load(cfg, total, onProgress) {
  const stats = { ok: 0, fiveXX: 0, other: 0, failures: [], rate: 0 }
  let sent = 0
  const t0 = Date.now()
  const lane = async () => {
    const client = new Client(`http://${H}:${cfg.proxyPort}`, { pipelining: 1, keepAliveTimeout: 30_000 })
    let current
    let generation = 0
    client.on('connect', () => {
      generation++
      current = undefined
    })
    try {
      while (sent < total) {
        const n = sent++
        // pacing: request n is due at n / RATE seconds after the start
        const due = t0 + (n * 1000) / RATE
        if (due > Date.now()) await sleep(due - Date.now())
        const start = Date.now()
        const gen = generation
        const worker = current
        try {
          const r = await client.request({ path: '/', method: 'GET', headersTimeout: 15_000, bodyTimeout: 15_000 })
          await r.body.text()
          current = Number(r.headers['x-checkups-worker'])
          if (r.statusCode >= 500) stats.fiveXX++
          else if (r.statusCode === 200) stats.ok++
          else stats.other++
        } catch (err) {
          stats.failures.push({ start, end: Date.now(), worker: generation === gen ? worker : undefined, code: err.code ?? String(err) })
          current = undefined
        }
        onProgress?.(n)
      }
    } finally {
      await client.destroy()
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, lane))
  stats.rate = Math.round((total * 1000) / (Date.now() - t0))
  return stats
}

/** pid → CPU seconds */
const cpuMap = (pids) => new Map(pids.map((pid) => [pid, procStats(pid).cpu]))
/** CPU spent since `before` by the processes alive now (a killed worker's CPU is gone with it) */
const cpuSince = (before, pids) => pids.reduce((n, pid) => n + procStats(pid).cpu - (before.get(pid) ?? 0), 0)

async function main() {
  const ports = await startBackends(3)
  const cfg = await writeServerConfig(
    { api: { cluster: [{ servers: ports.map((port) => ({ host: H, port })) }] } },
    { routes: [{ path_prefix: '/', upstream: 'api' }], worker_header: true },
  )
  const proc = spawnServer(cfg, 3)
  await waitServing(cfg)
  let workers = await waitWorkers(cfg, 3)
  await load(cfg, 2000) // warm-up
  const pids = () => [proc.pid, ...workers.map((w) => w.pid)]
  const c0 = cpuMap(pids())
  const base = await load(cfg, Math.ceil(REQUESTS / 4))
  const baseCpuUs = (cpuSince(c0, pids()) * 1e6) / Math.ceil(REQUESTS / 4)

  const kills = []
  let killedCpu = 0
  let killing = Promise.resolve()
  const every = Math.floor(REQUESTS / (KILLS + 1))
  const kill = async () => {
    const table = (await json(cfg.adminPort, 'GET', '/workers')).body.filter((w) => w.state === 'ready')
    const victim = table[Math.floor(Math.random() * table.length)]
    const k = { id: victim.id, pid: victim.pid, at: Date.now() }
    kills.push(k)
    killedCpu += procStats(victim.pid).cpu - (c1.get(victim.pid) ?? 0) // what it spent, just before it goes
    process.kill(victim.pid, 'SIGKILL')
    for (let i = 0; i < 2000 && k.served === undefined; i++) {
      try {
        const now = (await json(cfg.adminPort, 'GET', '/workers')).body
        const back = now.find((w) => w.id === victim.id && w.pid !== victim.pid && w.state === 'ready')
        if (back) k.served = Date.now()
      } catch {}
      if (k.served === undefined) await sleep(5)
    }
  }
  const c1 = cpuMap(pids())
  const run = await load(cfg, REQUESTS, (n) => {
    if (n > 0 && n % every === 0 && kills.length < KILLS) killing = killing.then(kill)
  })
  await killing
  workers = await waitWorkers(cfg, 3)
  const cpuUs = ((cpuSince(c1, pids()) + killedCpu) * 1e6) / REQUESTS
  const explained = (f) => kills.some((k) => (f.worker === undefined || k.id === f.worker) && k.at <= f.end && f.start <= (k.served ?? Infinity))
  const unexplained = run.failures.filter((f) => !explained(f))
  const counts = new Map()
  for (const f of run.failures) counts.set(f.code, (counts.get(f.code) ?? 0) + 1)
  const codes = [...counts].map(([c, n]) => `${c}×${n}`).join(' ') || '-'
  const respawn = kills.map((k) => (k.served ?? NaN) - k.at)
  const table = (await json(cfg.adminPort, 'GET', '/workers')).body
  console.log(`node apps/server, 3 workers, 3 backends; ${CONNECTIONS} keep-alive connections paced to ${RATE} req/s`)
  console.log(`baseline (no kills)   ${base.ok} answered of ${Math.ceil(REQUESTS / 4)}, ${base.failures.length} failed, ${base.fiveXX} x 5xx, ${base.rate} req/s achieved   server cpu ${baseCpuUs.toFixed(0)} us/req`)
  console.log(`with ${kills.length} kill -9       ${run.ok} answered of ${REQUESTS}, ${run.failures.length} failed (${run.failures.filter((f) => f.worker !== undefined).length} on a connection of the killed worker id, ${unexplained.length} not around a kill; ${codes}), ${run.fiveXX} x 5xx, ${run.rate} req/s achieved   server cpu ${cpuUs.toFixed(0)} us/req (${(cpuUs / baseCpuUs).toFixed(2)}x)`)
  console.log(`respawn → ready ms    ${respawn.join(' ')}   (restarts in /workers: ${table.reduce((n, w) => n + w.restarts, 0)})`)
}

try {
  await main()
} finally {
  await stopAll()
}
