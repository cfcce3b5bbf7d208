// Primary kill -9 and restart: `node apps/server` (SOAK_WORKERS workers, 2 backends) is started
// cold (the baseline: spawn → first proxied 200), takes SOAK_PUTS acknowledged PUTs, then
// SOAK_ROUNDS times its primary alone gets SIGKILL: the script times until the workers are gone
// (they exit by themselves), starts the server again as systemd's Restart=always would and
// times restart-to-serving, then counts acknowledged PUTs missing from the restarted server.
// Prints each figure next to the cold start of the same run, and the CPU a start costs.
// Every process started here is stopped here (lib.mjs); loopback only; bounded waits.
//
// env: SOAK_WORKERS (3), SOAK_ROUNDS (5), SOAK_PUTS (50)
import { alive, json, procStats, sleep, spawnServer, startBackends, stopAll, waitServing, waitWorkers, writeServerConfig } from './lib.mjs'

const WORKERS = Number(process.env.SOAK_WORKERS ?? 3)
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 5)
const PUTS = Number(process.env.SOAK_PUTS ?? 50)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** CPU seconds of a primary and its workers, once serving */
function startCpu(primary, workers) {
  return [primary, ...workers.map((w) => w.pid)].reduce((n, pid) => n + procStats(pid).cpu, 0)
}

async function main() {
  const ports = await startBackends(2)
  const cfg = await writeServerConfig(
    { api: { cluster: [{ servers: ports.map((port) => ({ host: '127.0.0.1', port })) }] } },
    { routes: [{ path_prefix: '/', upstream: 'api' }] },
  )
  let t0 = Date.now()
  let proc = spawnServer(cfg, WORKERS)
  const cold = (await waitServing(cfg)) - t0
  let workers = await waitWorkers(cfg, WORKERS)
  const coldCpu = startCpu(proc.pid, workers)
  const acked = new Map()
  for (let i = 0; i < PUTS; i++) {
    const r = await json(cfg.adminPort, 'PUT', `/upstreams/soak${i}`, { cluster: [{ servers: [{ host: '127.0.0.1', port: 40_000 + i }] }] })
    if (r.status === 200) acked.set(`soak${i}`, 40_000 + i)
  }
  const gone = []
  const restart = []
  const cpu = []
  let lost = 0
  for (let k = 0; k < ROUNDS; k++) {
    const pids = workers.map((w) => w.pid)
    const exited = new Promise((r) => proc.once('exit', r))
    const tk = Date.now()
    process.kill(proc.pid, 'SIGKILL')
    await exited
    for (let i = 0; i < 2000 && pids.some(alive); i++) await sleep(5)
    if (pids.some(alive)) throw new Error(`workers ${pids.filter(alive)} still alive 10 s after the primary died`)
    gone.push(Date.now() - tk)
    t0 = Date.now()
    proc = spawnServer(cfg, WORKERS)
    restart.push((await waitServing(cfg)) - t0)
    workers = await waitWorkers(cfg, WORKERS)
    cpu.push(startCpu(proc.pid, workers))
    const ups = (await json(cfg.adminPort, 'GET', '/upstreams')).body
    for (const [skey, port] of acked) if (ups[skey]?.cluster?.[0]?.servers?.[0]?.port !== port) lost++
  }
  console.log(`node apps/server, ${WORKERS} workers, ${acked.size} acknowledged PUTs, ${ROUNDS} primary kill -9 rounds`)
  console.log(`cold start → serving (baseline)   ${cold} ms   cpu ${coldCpu.toFixed(2)} s per start`)
  console.log(`restart → serving                 median ${median(restart)} ms (${restart.join(' ')})   ratio ${(median(restart) / cold).toFixed(2)}x   cpu ${median(cpu).toFixed(2)} s per start (${(median(cpu) / coldCpu).toFixed(2)}x)`)
  console.log(`kill -9 → every worker exited     median ${median(gone)} ms (${gone.join(' ')})`)
  console.log(`acknowledged PUTs lost            ${lost} of ${acked.size * ROUNDS} checks`)
}

try {
  await main()
} finally {
  await stopAll()
}
