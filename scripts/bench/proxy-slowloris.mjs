// Legitimate latency under a slowloris attack: `node apps/server` (2 workers) in front of a
// node:http backend; legitimate clients (BENCH_CLIENTS keep-alive connections, BENCH_REQUESTS
// requests) are timed twice in one run — first alone (the baseline, after two warm-up phases), then while
// BENCH_TRICKLERS connections each send one header line every 100 ms and never finish their
// head. Prints p50/p99 of both, their ratio, and the proxy's CPU per legitimate request.
// Every process started here is stopped here, by pid; loopback only; bounded by the request
// counts (and headers_timeout, default 60 s, is longer than a run).
//
// env: BENCH_TRICKLERS (500), BENCH_REQUESTS (2000), BENCH_CLIENTS (8), BENCH_WORKERS (2)
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const TRICKLERS = Number(process.env.BENCH_TRICKLERS ?? 500)
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000)
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
const entry = fileURLToPath(new URL('../../apps/server/index.js', import.meta.url))

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/** CPU seconds of `pid` and its descendants (from /proc) */
function cpuSeconds(pid) {
  const kids = new Map()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')
      kids.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK })
    } catch {}
  }
  let total = 0
  const walk = (p) => {
    total += kids.get(p)?.cpu ?? 0
    for (const [c, v] of kids) if (v.ppid === p) walk(c)
  }
  walk(pid)
  return total
}

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
function timedGet(port) {
  const t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/x', agent }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`status ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end()
  })
}

async function phase(port, pid) {
  const times = []
  let next = 0
  const c0 = cpuSeconds(pid)
  const lane = async () => {
    while (next < REQUESTS) {
      next++
      times.push(await timedGet(port))
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, lane))
  const cpuUs = ((cpuSeconds(pid) - c0) * 1e6) / REQUESTS
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)], cpuUs }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-slowloris-'))
  const [backendPort, proxyPort, adminPort] = [await freePort(), await freePort(), await freePort()]
  const children = []
  const socks = []
  let drip
  try {
    children.push(spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-length': 2 }); s.end('ok') }).listen(${backendPort}, '127.0.0.1')`], { stdio: 'ignore' }))
    const cfg = join(dir, 'checkups.config.mjs')
    writeFileSync(cfg, `export default ${JSON.stringify({
      global: { default_heartbeat_enable: false },
      bench: { timeout: 5, cluster: [{ servers: [{ host: '127.0.0.1', port: backendPort }] }] },
      server: { listen: `127.0.0.1:${proxyPort}`, admin: { listen: `127.0.0.1:${adminPort}` }, routes: [{ upstream: 'bench' }], access_log: { format: 'off' } },
    })}\n`)
    const proxy = spawn(process.execPath, [entry, '--config', cfg, '--workers', String(WORKERS)], { stdio: 'ignore' })
    children.push(proxy)
    for (let i = 0; i < 300; i++) {
      if (await timedGet(proxyPort).then(() => true, () => false)) break
      await new Promise((r) => setTimeout(r, 100))
    }
    await phase(proxyPort, proxy.pid) // warm-up
    await phase(proxyPort, proxy.pid)
    const alone = await phase(proxyPort, proxy.pid)
    for (let i = 0; i < TRICKLERS; i++) {
      const s = connect(proxyPort, '127.0.0.1')
      s.on('error', () => {})
      s.write('GET / HTTP/1.1\r\nHost: a\r\n')
      socks.push(s)
    }
    let n = 0
    drip = setInterval(() => {
      for (const s of socks) if (!s.destroyed) s.write(`X-Drip-${n}: 1\r\n`)
      n++
    }, 100)
    await new Promise((r) => setTimeout(r, 500))
    const attacked = await phase(proxyPort, proxy.pid)
    const open = socks.filter((s) => !s.destroyed).length
    console.log(`node apps/server, ${WORKERS} workers; ${CLIENTS} keep-alive clients x ${REQUESTS} requests per phase`)
    console.log(`alone                          p50 ${alone.p50.toFixed(2)} ms   p99 ${alone.p99.toFixed(2)} ms   proxy cpu ${alone.cpuUs.toFixed(1)} us/req`)
    console.log(`with ${String(TRICKLERS).padEnd(4)} trickling (${open} open) p50 ${attacked.p50.toFixed(2)} ms   p99 ${attacked.p99.toFixed(2)} ms   proxy cpu ${attacked.cpuUs.toFixed(1)} us/req`)
    console.log(`ratio attacked / alone          p50 ${(attacked.p50 / alone.p50).toFixed(2)}x   p99 ${(attacked.p99 / alone.p99).toFixed(2)}x   cpu ${(attacked.cpuUs / alone.cpuUs).toFixed(2)}x`)
  } finally {
    clearInterval(drip)
    for (const s of socks) s.destroy()
    agent.destroy()
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((r) => c.once('exit', r))
        process.kill(c.pid, 'SIGTERM')
        await exited
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
