#!/usr/bin/env node
// Cross-node propagation benchmark: three `node apps/server` nodes on loopback share one
// cluster store (a redis-server this script starts on a free port, in its own dir). 200 times,
// PUT a changed upstream on node A's admin API and measure, for B and C, the time from A's
// acknowledgement to that node's admin answering with the new config. p50/p99 are printed next
// to a same-run baseline: the Redis round trip (PING with ioredis, interleaved with the updates
// so both see the same machine load) and the admin GET round trip with nothing changed (the
// floor of a sample: one poll), and a PUT on a fourth node that works alone (no cluster store,
// the same durability: state file fsynced). CPU per update is the three nodes' and
// redis-server's (from /proc).
// Target p99 <= 20 ms.
//
//   node scripts/bench/cluster-propagation.mjs [--updates 200] [--workers 2]
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connection, freePort } from './lib/admin-conn.mjs'
import { Redis } from 'ioredis'

const args = Object.fromEntries(process.argv.slice(2).flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])))
const UPDATES = Number(args.updates ?? 200)
const WORKERS = Number(args.workers ?? 2)
const TARGET_P99_MS = 20
const ENTRY = fileURLToPath(new URL('../../apps/server', import.meta.url))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function startNode(dir, redisPort, alone = false) {
  const [adminPort, proxyPort] = [await freePort(), await freePort()]
  const file = join(dir, 'checkups.config.mjs')
  const cfg = {
    global: { checkup_timer_interval: 5, ...(alone ? {} : { cluster_store: { redis: `redis://127.0.0.1:${redisPort}`, namespace: 'bench' } }) },
    bench: { enable: false, cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] },
    server: { workers: WORKERS, listen: `127.0.0.1:${proxyPort}`, admin: { listen: `127.0.0.1:${adminPort}` }, routes: [] },
  }
  writeFileSync(file, `export default ${JSON.stringify(cfg)}\n`)
  const proc = spawn(process.execPath, [ENTRY, '--config', file], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  proc.stderr.on('data', (c) => (err += c))
  for (let i = 0; i < 1200; i++) {
    if (proc.exitCode !== null) throw new Error(`node exited ${proc.exitCode}\n${err}`)
    if (err.includes('"all workers ready"')) return { proc, file, adminPort, conn: connection(adminPort) }
    await sleep(50)
  }
  throw new Error(`node not ready\n${err}`)
}

/** utime + stime in ms of these pids (Linux /proc; 0 for a pid that is gone). */
function cpuMs(pids) {
  let ticks = 0
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks += Number(f[11]) + Number(f[12])
    } catch {
      // gone
    }
  }
  return (ticks * 1000) / 100 // USER_HZ is 100 on Linux
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
const fmt = (ms) => `${ms.toFixed(2)} ms`
const sorted = (a) => [...a].sort((x, y) => x - y)

async function pollUntil(node, needle, t0, what) {
  for (;;) {
    const r = await node.conn.send('GET', '/upstreams/bench')
    if (r.status === 200 && r.text.includes(needle)) return performance.now() - t0
    if (performance.now() - t0 > 5000) throw new Error(`${what}: not seen in 5 s`)
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ckp-bench-cluster-'))
  const redisPort = await freePort()
  const redisProc = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const nodes = []
  const redis = new Redis({ host: '127.0.0.1', port: redisPort, retryStrategy: () => 50 })
  redis.on('error', () => {}) // until redis-server listens
  try {
    for (let i = 0; i < 100 && redis.status !== 'ready'; i++) await sleep(50)
    await redis.ping()
    for (let i = 0; i < 3; i++) {
      const d = join(dir, `node${i}`)
      spawnSync('mkdir', ['-p', d])
      nodes.push(await startNode(d, redisPort))
    }
    // a node alone (no cluster store): its PUT has the same durability (state file fsynced)
    spawnSync('mkdir', ['-p', join(dir, 'alone')])
    const alone = await startNode(join(dir, 'alone'), redisPort, true)
    nodes.push(alone)
    const seeded = spawnSync(process.execPath, [ENTRY, 'seed-store', '--config', nodes[0].file], { encoding: 'utf8' })
    if (seeded.status !== 0) throw new Error(`seed-store: ${seeded.stderr}`)
    const [A, B, C] = nodes
    // warm-up: the first update compiles every path involved, and all nodes followed the seed
    for (let i = 0; i < 5; i++) {
      const r = await A.conn.send('PUT', '/upstreams/bench', JSON.stringify({ enable: false, cluster: [{ servers: [{ host: '127.0.0.1', port: 19990 + i }] }] }))
      if (r.status !== 200) {
        await sleep(200)
        continue
      }
      await pollUntil(B, `"port":${19990 + i},`, performance.now(), 'warm-up')
      await pollUntil(C, `"port":${19990 + i},`, performance.now(), 'warm-up')
    }
    const pids = [redisProc.pid]
    for (const n of [A, B, C]) {
      pids.push(n.proc.pid)
      for (const w of JSON.parse((await n.conn.send('GET', '/workers')).text)) pids.push(w.pid)
    }
    const samples = []
    const puts = []
    const local = []
    const ping = []
    const floor = []
    const cpu0 = cpuMs(pids)
    for (let i = 0; i < UPDATES; i++) {
      let t = performance.now()
      await redis.ping()
      ping.push(performance.now() - t)
      t = performance.now()
      await B.conn.send('GET', '/upstreams/bench')
      floor.push(performance.now() - t)
      const port = 20000 + i
      const body = JSON.stringify({ enable: false, cluster: [{ servers: [{ host: '127.0.0.1', port }] }] })
      t = performance.now()
      const lp = await alone.conn.send('PUT', '/upstreams/bench', JSON.stringify({ enable: false, cluster: [{ servers: [{ host: '127.0.0.1', port: 20000 + i }] }] }))
      local.push(performance.now() - t)
      if (lp.status !== 200) throw new Error(`local PUT ${lp.status} ${lp.text}`)
      t = performance.now()
      const put = await A.conn.send('PUT', '/upstreams/bench', body)
      const t0 = performance.now()
      puts.push(t0 - t)
      if (put.status !== 200) throw new Error(`PUT ${put.status} ${put.text}`)
      const needle = `"port":${port},`
      samples.push(...(await Promise.all([pollUntil(B, needle, t0, `B update ${i}`), pollUntil(C, needle, t0, `C update ${i}`)])))
    }
    const cpu = cpuMs(pids) - cpu0
    const ms = sorted(samples)
    const [pp, fl, pt, lt] = [sorted(ping), sorted(floor), sorted(puts), sorted(local)]
    const p50 = pct(ms, 50)
    const p99 = pct(ms, 99)
    const load = loadavg().map((l) => l.toFixed(1)).join(' ')
    console.log(`cluster propagation: 3 nodes x ${WORKERS} workers, ${UPDATES} updates, ${ms.length} samples (PUT acknowledged on A → B and C answer with it)`)
    console.log(`  machine   : ${availableParallelism()} cores, load average ${load}`)
    console.log(`  baseline  : Redis PING p50 ${fmt(pct(pp, 50))}  p99 ${fmt(pct(pp, 99))}  (ioredis, same run)`)
    console.log(`  floor     : admin GET p50 ${fmt(pct(fl, 50))}  p99 ${fmt(pct(fl, 99))}  (one poll, nothing changed)`)
    console.log(`  propagate : p50 ${fmt(p50)}  p99 ${fmt(p99)}  max ${fmt(ms[ms.length - 1])}  (${(p50 / pct(pp, 50)).toFixed(1)}x / ${(p99 / pct(pp, 99)).toFixed(1)}x the PING p50/p99)`)
    console.log(`  PUT on A  : p50 ${fmt(pct(pt, 50))}  p99 ${fmt(pct(pt, 99))}  (store write + A applied)`)
    console.log(`  PUT alone : p50 ${fmt(pct(lt, 50))}  p99 ${fmt(pct(lt, 99))}  (a node without a cluster store, same run: PUT on A is ${(pct(pt, 50) / pct(lt, 50)).toFixed(1)}x / ${(pct(pt, 99) / pct(lt, 99)).toFixed(1)}x)`)
    console.log(`  cpu       : ${(cpu / UPDATES).toFixed(2)} ms per update (3 nodes + redis-server, polling included; the node alone not counted)`)
    console.log(`  target    : p99 <= ${TARGET_P99_MS} ms → ${p99 <= TARGET_P99_MS ? 'met' : 'MISSED'}`)
  } finally {
    redis.disconnect()
    for (const n of nodes) {
      n.conn.agent.destroy()
      try {
        process.kill(-n.proc.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    redisProc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
