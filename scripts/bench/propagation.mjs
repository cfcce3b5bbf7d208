#!/usr/bin/env node
// Dynamic-upstream propagation benchmark: `node apps/server` with 4 workers; 200
// times, PUT a changed upstream through one worker's admin API and measure, for each OTHER
// worker, the time from the PUT's response to that worker's first answer showing the new
// config. p50/p99 are printed next to the original's design and the ratio. Target p99 <= 20 ms.
//
//   node scripts/bench/propagation.mjs [--workers 4] [--updates 200]
//
// - Connections: the cluster hands out connections round-robin, so we open keep-alive
//   connections (one http.Agent with maxSockets 1 each) until every worker holds one, and map
//   each by its `x-checkups-worker`; every answer is checked against that mapping (a changed
//   worker aborts the run rather than mis-attributing a sample).
// - Update i replaces upstream `bench` with one server on port 20000 + i (heartbeat disabled),
//   written through worker i % N; the others poll GET /upstreams/bench back to back on their
//   own connection until the port matches. A sample includes one full request round trip, so a
//   baseline (the same concurrent GETs with nothing changed, interleaved with the updates so
//   both see the same machine load) is printed too: it is the floor of this measurement.
// - The original (lua-resty-checkups): each worker copies shm config into its Lua tables from a
//   timer every shd_config_timer_interval (0.5 s here); with timer phases uniform over the
//   period the delay is U(0, 500 ms): mean 250 ms, p50 250 ms, p99 495 ms.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connection, freePort } from './lib/admin-conn.mjs'

const args = Object.fromEntries(process.argv.slice(2).flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])))
const WORKERS = Number(args.workers ?? 4)
const UPDATES = Number(args.updates ?? 200)
const ORIGINAL_INTERVAL_MS = 500
const TARGET_P99_MS = 20
const ENTRY = fileURLToPath(new URL('../../apps/server', import.meta.url))

async function startServer(dir, adminPort, proxyPort) {
  const file = join(dir, 'checkups.config.mjs')
  const cfg = {
    global: { checkup_timer_interval: 5, shd_config_timer_interval: ORIGINAL_INTERVAL_MS / 1000 },
    seed: { enable: false, cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] },
    server: { workers: WORKERS, listen: `127.0.0.1:${proxyPort}`, admin: { listen: `127.0.0.1:${adminPort}` }, routes: [] },
  }
  writeFileSync(file, `export default ${JSON.stringify(cfg)}\n`)
  const proc = spawn(process.execPath, [ENTRY, '--config', file, '--workers', String(WORKERS)], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  proc.stderr.on('data', (c) => (err += c))
  for (let i = 0; i < 1200; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}\n${err}`)
    if (err.includes('"all workers ready"')) return proc
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`server not ready\n${err}`)
}

/** Opens connections until each worker holds one; returns them indexed by worker id. */
async function connectAll(port) {
  const byWorker = new Map()
  const spare = []
  for (let i = 0; i < 64 * WORKERS && byWorker.size < WORKERS; i++) {
    const c = connection(port)
    const r = await c.send('GET', '/status')
    c.worker = r.worker
    if (byWorker.has(r.worker)) spare.push(c)
    else byWorker.set(r.worker, c)
  }
  for (const c of spare) c.agent.destroy()
  if (byWorker.size < WORKERS) throw new Error(`connections reached only workers ${[...byWorker.keys()]}`)
  return [...byWorker.keys()].sort((a, b) => a - b).map((id) => byWorker.get(id))
}

async function checked(c, method, path, body) {
  const r = await c.send(method, path, body)
  if (r.worker !== c.worker) throw new Error(`connection of worker ${c.worker} answered from ${r.worker} (socket not kept alive)`)
  return r
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
const fmt = (ms) => `${ms.toFixed(2)} ms`

/** One round: each non-writer polls until `done(text)`; returns [ms after t0, polls] per worker. */
function pollRound(conns, writer, t0, done, what) {
  return Promise.all(
    conns.filter((c) => c !== writer).map(async (c) => {
      for (let polls = 1; ; polls++) {
        const r = await checked(c, 'GET', '/upstreams/bench')
        if (r.status === 200 && done(r.text)) return { ms: performance.now() - t0, polls }
        if (performance.now() - t0 > 5000) throw new Error(`worker ${c.worker} never saw ${what}`)
      }
    }),
  )
}

/**
 * Interleaved, so both see the same machine load: a baseline round (the same concurrent GETs,
 * nothing changed) then an update round (PUT through the writer, then poll the others).
 */
async function run(conns) {
  const samples = []
  const baseline = []
  for (let i = 0; i < UPDATES; i++) {
    const port = 20000 + i
    const writer = conns[i % conns.length]
    baseline.push(...(await pollRound(conns, writer, performance.now(), () => true, 'baseline')))
    const body = JSON.stringify({ enable: false, cluster: [{ servers: [{ host: '127.0.0.1', port }] }] })
    const put = await checked(writer, 'PUT', '/upstreams/bench', body)
    const t0 = performance.now()
    if (put.status !== 200) throw new Error(`PUT ${put.status} ${put.text}`)
    const needle = `"port":${port},`
    samples.push(...(await pollRound(conns, writer, t0, (text) => text.includes(needle), `update ${i}`)))
  }
  return { samples, baseline: baseline.map((b) => b.ms).sort((a, b) => a - b) }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ckp-bench-prop-'))
  const adminPort = await freePort()
  const proxyPort = await freePort()
  let proc
  try {
    proc = await startServer(dir, adminPort, proxyPort)
    const conns = await connectAll(adminPort)
    // warm-up: the first update compiles the paths involved in every worker
    await checked(conns[0], 'PUT', '/upstreams/bench', JSON.stringify({ enable: false, cluster: [{ servers: [{ host: '127.0.0.1', port: 19999 }] }] }))
    for (const c of conns) await checked(c, 'GET', '/upstreams/bench')
    const { samples, baseline: rtt } = await run(conns)
    const ms = samples.map((s) => s.ms).sort((a, b) => a - b)
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length
    const p50 = pct(ms, 50)
    const p99 = pct(ms, 99)
    const firstPoll = samples.filter((s) => s.polls === 1).length
    const orig = { mean: ORIGINAL_INTERVAL_MS / 2, p50: ORIGINAL_INTERVAL_MS / 2, p99: ORIGINAL_INTERVAL_MS * 0.99 }
    const load = loadavg().map((l) => l.toFixed(1)).join(' ')
    console.log(`propagation: ${WORKERS} workers, ${UPDATES} updates, ${ms.length} samples (PUT response → other worker answers with the new config)`)
    console.log(`  machine  : ${availableParallelism()} cores, load average ${load}`)
    console.log(`  baseline : p50 ${fmt(pct(rtt, 50))}  p99 ${fmt(pct(rtt, 99))}  (same ${WORKERS - 1} concurrent GETs, nothing changed: the floor of this measurement)`)
    console.log(`  checkups : mean ${fmt(mean)}  p50 ${fmt(p50)}  p99 ${fmt(p99)}  max ${fmt(ms[ms.length - 1])}  (${firstPoll}/${ms.length} seen on the first poll)`)
    console.log(`  original : mean ${fmt(orig.mean)}  p50 ${fmt(orig.p50)}  p99 ${fmt(orig.p99)}  (shd_config_timer_interval ${ORIGINAL_INTERVAL_MS / 1000} s polling, U(0, ${ORIGINAL_INTERVAL_MS} ms))`)
    console.log(`  ratio    : p50 ${(orig.p50 / p50).toFixed(0)}x  p99 ${(orig.p99 / p99).toFixed(0)}x faster`)
    console.log(`  target   : p99 <= ${TARGET_P99_MS} ms → ${p99 <= TARGET_P99_MS ? 'met' : 'MISSED'}`)
    for (const c of conns) c.agent.destroy()
  } finally {
    if (proc?.pid) {
      try {
        process.kill(-proc.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
