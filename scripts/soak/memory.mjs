// Memory over a long run: `node apps/server` (SOAK_WORKERS workers, 3 backends, heartbeat on)
// serves SOAK_REQUESTS proxied requests while admin writers run SOAK_CYCLES PUT/DELETE cycles
// (a new upstream, then its removal). SOAK_SAMPLES times along the way it samples each
// worker's RSS (/proc) and V8 heap in use (GET /metrics, nodejs_heap_size_used_bytes) and the
// dict zones' used bytes (read from outside through ./zones.mjs). Prints start, end, the
// end/start ratio and the least-squares slope per 1 000 operations of each, and the server's
// CPU per operation. No GC is forced: heap figures include garbage not yet collected, so the
// slope, not one sample, is the figure. Every process started here is stopped here.
//
// env: SOAK_REQUESTS (168000), SOAK_CYCLES (20000), SOAK_WORKERS (3), SOAK_SAMPLES (12),
//      SOAK_CLIENTS (8), SOAK_WRITERS (2)
import { Agent, request } from 'node:http'
import { attachServerZones, zoneUsage } from './zones.mjs'
import { H, http, json, procStats, spawnServer, startBackends, stopAll, waitServing, waitWorkers, writeServerConfig } from './lib.mjs'

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 168_000)
const CYCLES = Number(process.env.SOAK_CYCLES ?? 20_000)
const WORKERS = Number(process.env.SOAK_WORKERS ?? 3)
const SAMPLES = Number(process.env.SOAK_SAMPLES ?? 12)
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 8)
const WRITERS = Number(process.env.SOAK_WRITERS ?? 2)

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
function proxied(port) {
  return new Promise((resolve) => {
    const req = request({ host: H, port, path: '/', agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.on('error', () => resolve(0))
    req.end()
  })
}

/** worker id → nodejs_heap_size_used_bytes from one /metrics scrape */
async function heaps(cfg) {
  const text = (await http(cfg.adminPort, 'GET', '/metrics', { fresh: true })).text
  const out = {}
  for (const m of text.matchAll(/^nodejs_heap_size_used_bytes\{[^}]*worker="(\d+)"[^}]*\} (\d+(?:\.\d+)?)/gm)) out[m[1]] = Number(m[2])
  return out
}

function slope(xs, ys) {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my)
    den += (xs[i] - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

const MB = (b) => `${(b / 1048576).toFixed(1)} MB`
const KB = (b) => `${(b / 1024).toFixed(1)} KB`

async function main() {
  const ports = await startBackends(3)
  const cfg = await writeServerConfig(
    { api: { cluster: [{ servers: ports.map((port) => ({ host: H, port })) }] } },
    { routes: [{ path_prefix: '/', upstream: 'api' }] },
  )
  const proc = spawnServer(cfg, WORKERS)
  await waitServing(cfg)
  const workers = await waitWorkers(cfg, WORKERS)
  const zones = attachServerZones(workers[0].pid)
  let done = 0
  let cycles = 0
  let errors = 0
  let refused = 0
  const samples = []
  const cpuOf = () => [proc.pid, ...workers.map((w) => w.pid)].reduce((n, pid) => n + procStats(pid).cpu, 0)
  const sample = async () => {
    const h = await heaps(cfg)
    samples.push({
      ops: done + cycles,
      rss: workers.map((w) => procStats(w.pid).rss),
      heap: workers.map((w) => h[w.id] ?? NaN),
      zones: zoneUsage(zones),
    })
  }
  // warm-up, then the first sample is the baseline
  for (let i = 0; i < 2000; i++) await proxied(cfg.proxyPort)
  for (let i = 0; i < 50; i++) {
    await json(cfg.adminPort, 'PUT', `/upstreams/warm${i}`, { cluster: [{ servers: [{ host: H, port: ports[0] }] }] })
    await json(cfg.adminPort, 'DELETE', `/upstreams/warm${i}`)
  }
  await new Promise((r) => setTimeout(r, 1500)) // a fresh /metrics block
  await sample()
  const cpu0 = cpuOf()
  const total = REQUESTS + CYCLES
  let nextSample = total / SAMPLES
  let sampling = Promise.resolve()
  const progress = () => {
    if (done + cycles >= nextSample) {
      nextSample += total / SAMPLES
      sampling = sampling.then(sample)
    }
  }
  const client = async () => {
    while (done < REQUESTS) {
      done++
      if ((await proxied(cfg.proxyPort)) !== 200) errors++
      progress()
    }
  }
  const writer = async (w) => {
    for (let i = 0; cycles < CYCLES; i++) {
      cycles++
      const skey = `soak${w}-${i % 100}`
      const put = await json(cfg.adminPort, 'PUT', `/upstreams/${skey}`, { cluster: [{ servers: [{ host: H, port: ports[i % 3] }, { host: H, port: 20_000 + (i % 1000) }] }] })
      const del = await json(cfg.adminPort, 'DELETE', `/upstreams/${skey}`)
      if (put.status !== 200 || del.status !== 200) refused++
      progress()
    }
  }
  await Promise.all([...Array.from({ length: CLIENTS }, client), ...Array.from({ length: WRITERS }, (_, w) => writer(w))])
  await sampling
  const cpu = cpuOf() - cpu0
  await new Promise((r) => setTimeout(r, 1500))
  await sample()

  const first = samples[0]
  const last = samples[samples.length - 1]
  const xs = samples.map((s) => s.ops / 1000)
  console.log(`node apps/server, ${WORKERS} workers: ${done} proxied requests (${errors} not 200), ${cycles} PUT/DELETE cycles (${refused} refused), ${samples.length} samples`)
  console.log(`server cpu ${((cpu * 1e6) / (done + 2 * cycles)).toFixed(0)} us per operation (request, PUT or DELETE)`)
  workers.forEach((w, i) => {
    const rss = samples.map((s) => s.rss[i])
    const heap = samples.map((s) => s.heap[i])
    console.log(`worker ${w.id}  rss  start ${MB(first.rss[i])}  end ${MB(last.rss[i])}  ratio ${(last.rss[i] / first.rss[i]).toFixed(2)}x  slope ${KB(slope(xs, rss))} per 1000 ops`)
    console.log(`worker ${w.id}  heap start ${MB(first.heap[i])}  end ${MB(last.heap[i])}  ratio ${(last.heap[i] / first.heap[i]).toFixed(2)}x  slope ${KB(slope(xs, heap))} per 1000 ops`)
  })
  for (const name of Object.keys(first.zones)) {
    const ys = samples.map((s) => s.zones[name].usedBytes)
    console.log(`zone ${name.padEnd(7)} used start ${first.zones[name].usedBytes} B (${first.zones[name].entries} entries)  end ${last.zones[name].usedBytes} B (${last.zones[name].entries} entries)  max ${Math.max(...ys)} B  slope ${slope(xs, ys).toFixed(1)} B per 1000 ops`)
  }
}

try {
  await main()
} finally {
  agent.destroy()
  await stopAll()
}
