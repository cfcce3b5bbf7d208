// fetch through checkups.dispatcher() next to fetch through an undici Pool to the same peer,
// in the same run: requests/s and CPU per request of this process (the client side), for a
// 2-peer upstream on one loopback backend process. Target: CPU per request <= 1.3x the Pool's.
// Bounded: ~2 x ROUNDS x MS of load plus start-up (~15 s).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { SharedDict } from '@checkups/shdict'
import { Checkups } from '@checkups/core'
import { Pool } from 'undici'

const MS = Number(process.env.BENCH_MS ?? 2000)
const ROUNDS = 3
const CONCURRENCY = 16

// the backend: one process, two ports (two "peers"), so the client's CPU is what we measure
const backendSrc = `
  const http = require('node:http')
  const body = Buffer.from('x'.repeat(256))
  for (const port of [0, 0]) {
    const s = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-length': body.length }); res.end(body) })
    s.keepAliveTimeout = 60000
    s.listen(port, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'))
  }`
const backend = spawn(process.execPath, ['-e', backendSrc], { stdio: ['ignore', 'pipe', 'inherit'] })
const ports = await new Promise((resolve) => {
  let out = ''
  backend.stdout.on('data', (d) => { out += d; const p = out.trim().split('\n'); if (p.length === 2) resolve(p.map(Number)) })
})

const config = { api: { timeout: 5, cluster: [{ servers: ports.map((port) => ({ host: '127.0.0.1', port })) }] } }
const zones = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 20), locks: SharedDict.create(1 << 20), config: SharedDict.create(1 << 20) }
new Checkups({ shared: zones }).init(config)
const c = new Checkups({ shared: zones })
c.prepareChecker(config)

const dispatcher = c.dispatcher()
const pool = new Pool(`http://127.0.0.1:${ports[0]}`)

async function load(url, d) {
  let n = 0
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const lane = async () => {
    while (performance.now() - t0 < MS) {
      const res = await fetch(url, { dispatcher: d })
      await res.arrayBuffer()
      n++
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  const cpu = process.cpuUsage(cpu0)
  const secs = (performance.now() - t0) / 1000
  return { rps: n / secs, cpuUs: (cpu.user + cpu.system) / n }
}

// warm-up, then alternate the two so machine noise hits both alike
await load(`http://127.0.0.1:${ports[0]}/`, pool)
await load('http://api/', dispatcher)
const base = []
const ours = []
for (let r = 0; r < ROUNDS; r++) {
  base.push(await load(`http://127.0.0.1:${ports[0]}/`, pool))
  ours.push(await load('http://api/', dispatcher))
}
const best = (xs) => xs.reduce((a, b) => (b.cpuUs < a.cpuUs ? b : a))
const [b, o] = [best(base), best(ours)]
console.log(`fetch, ${CONCURRENCY} concurrent, best of ${ROUNDS} x ${MS} ms (node ${process.version})`)
console.log(`${'case'.padEnd(28)}${'req/s'.padStart(10)}${'CPU us/req'.padStart(12)}`)
console.log(`${'undici Pool (baseline)'.padEnd(28)}${Math.round(b.rps).toString().padStart(10)}${b.cpuUs.toFixed(1).padStart(12)}`)
console.log(`${'checkups.dispatcher()'.padEnd(28)}${Math.round(o.rps).toString().padStart(10)}${o.cpuUs.toFixed(1).padStart(12)}`)
const ratio = o.cpuUs / b.cpuUs
console.log(`CPU per request ratio ${ratio.toFixed(3)} (target <= 1.3: ${ratio <= 1.3 ? 'met' : 'MISSED'}); throughput ratio ${(o.rps / b.rps).toFixed(3)}`)
await dispatcher.close()
await pool.close()
backend.kill()
await once(backend, 'exit')
