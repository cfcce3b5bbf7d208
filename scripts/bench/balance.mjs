// Balancing under a slow peer: 4 loopback HTTP peers, one answering 10x slower; the same
// closed-loop client load through readyOk with mode wrr (the same-run baseline), least_conn
// and p2c, and wrr over the fast peers only (the floor: no balancer can do better on this
// machine in this run). Prints each mode's share of requests on the slow peer, client p50/p99,
// the p99 as a ratio of wrr's, and client CPU per request. Goal: p2c p99 <= 0.3x wrr's (which
// needs well under 1 % of requests on the slow peer). The modes take turns in rounds.
// Bounded: ~30 s.
// The peers run in a child process, so their timers do not share the client's event loop.
import { fork } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'

const FAST_MS = Number(process.env.BENCH_FAST_MS ?? 2)
const SLOW_MS = FAST_MS * 10
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 6000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)

if (process.argv[2] === 'peers') {
  const ports = []
  for (let i = 0; i < 4; i++) {
    const delay = i === 3 ? SLOW_MS : FAST_MS
    const s = createServer((_req, res) => setTimeout(() => res.end('x'), delay))
    s.keepAliveTimeout = 10_000
    await new Promise((r) => s.listen(0, '127.0.0.1', r))
    ports.push(s.address().port)
  }
  process.send({ ports })
  process.on('message', () => process.exit(0))
} else {
  const { SharedDict } = await import('@checkups/shdict')
  const { Checkups } = await import('@checkups/core')
  const { Agent, request } = await import('undici')
  const child = fork(fileURLToPath(import.meta.url), ['peers'], { stdio: 'inherit' })
  const { ports } = await new Promise((r) => child.once('message', r))
  const slowPort = ports[3]
  const servers = ports.map((port) => ({ host: '127.0.0.1', port }))
  // `fast only`: wrr over the three fast peers, what a balancer that never picks the slow
  // peer would get on this machine in this run (the floor of p2c's p99: the client's own tail)
  const modes = ['wrr', 'least_conn', 'p2c', 'fast only']
  const config = Object.fromEntries(modes.map((m) => [m, { mode: m === 'fast only' ? 'wrr' : m, enable: false, timeout: 5,
    cluster: [{ servers: m === 'fast only' ? servers.slice(0, 3) : servers }] }]))
  const mk = () => SharedDict.create(new SharedArrayBuffer(1 << 20))
  const shared = { state: mk(), mutex: mk(), locks: mk(), config: mk() }
  new Checkups({ shared }).init(config)
  const c = new Checkups({ shared })
  c.prepareChecker(config)
  const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 })

  // one slice of a mode's requests: [from, to) of its latency array; adds to its totals
  async function run(r, from, to) {
    let next = from
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    async function loop() {
      while (next < to) {
        const i = next++
        const s = performance.now()
        const port = await c.readyOk(r.mode, async (host, p) => {
          const res = await request(`http://${host}:${p}/`, { dispatcher: agent })
          await res.body.text()
          return res.statusCode === 200 ? p : null
        })
        r.lat[i] = performance.now() - s
        if (port === slowPort) r.slow++
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, loop))
    r.wall += performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    r.cpu += cpu.user + cpu.system
  }
  function summary(r) {
    const lat = r.lat.slice().sort()
    const q = (p) => lat[Math.min(REQUESTS - 1, Math.floor(p * REQUESTS))]
    return { mode: r.mode, slowShare: r.slow / REQUESTS, p50: q(0.5), p99: q(0.99), rps: (REQUESTS * 1000) / r.wall, cpuUs: r.cpu / REQUESTS }
  }

  // warm the connections once per mode (not measured)
  for (const m of modes) await Promise.all(Array.from({ length: 16 }, () => c.readyOk(m, async (h, p) => (await (await request(`http://${h}:${p}/`, { dispatcher: agent })).body.text(), p))))
  // the modes take turns in ROUNDS slices (the order rotating), so a stall of the shared
  // machine falls on every mode alike instead of on whichever ran at that moment
  const runs = modes.map((mode) => ({ mode, lat: new Float64Array(REQUESTS), slow: 0, wall: 0, cpu: 0 }))
  for (let k = 0; k < ROUNDS; k++) {
    const from = Math.floor((k * REQUESTS) / ROUNDS)
    const to = Math.floor(((k + 1) * REQUESTS) / ROUNDS)
    for (let j = 0; j < runs.length; j++) await run(runs[(j + k) % runs.length], from, to)
  }
  const rows = runs.map(summary)
  const base = rows[0].p99
  console.log(`balancing, 4 peers (${FAST_MS} ms, one ${SLOW_MS} ms), ${REQUESTS} requests a mode in ${ROUNDS} interleaved rounds, ${CONCURRENCY} concurrent, node ${process.version}`)
  console.log(`${'mode'.padEnd(12)}${'on slow'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'p99/wrr'.padStart(9)}${'req/s'.padStart(9)}${'CPU µs/req'.padStart(12)}`)
  for (const r of rows) {
    console.log(`${r.mode.padEnd(12)}${(r.slowShare * 100).toFixed(2).padStart(8)}%${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${(r.p99 / base).toFixed(3).padStart(9)}${Math.round(r.rps).toString().padStart(9)}${r.cpuUs.toFixed(1).padStart(12)}`)
  }
  const p2c = rows.find((r) => r.mode === 'p2c')
  const floor = rows.find((r) => r.mode === 'fast only')
  console.log(`goal p2c p99 <= 0.3 x wrr: ${p2c.p99 / base <= 0.3 ? 'met' : 'MISSED'} (${(p2c.p99 / base).toFixed(3)}); fast only: ${(floor.p99 / base).toFixed(3)} x wrr, p2c p99 = ${(p2c.p99 / floor.p99).toFixed(2)} x fast only`)
  await agent.close()
  child.send('exit')
}
