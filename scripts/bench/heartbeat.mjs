#!/usr/bin/env node
// Heartbeat benchmark: one round over 2 000 loopback HTTP peers, 10 % of which hang
// until the probe timeout (1 s), next to the original's approach measured in the same run.
//
//   node scripts/bench/heartbeat.mjs [--peers 2000] [--upstreams 20] [--concurrency 256] [--max-sockets 1024]
//
// - Peers: a child process listens on 127.0.0.1..127.0.0.<upstreams>, <peers/upstreams> ports
//   each (one address = one upstream); every 10th peer accepts the request and never answers.
//   The child raises its soft fd limit (ulimit -n) to what it needs; the leader keeps at most
//   `max-sockets` probe sockets open (the defaults of createHeartbeat; peak fds are printed).
// - "round": createHeartbeat().runRound() — all peers concurrently (bounded), records written
//   into a SharedDict; run in-process and on the piscina pool, with the leader's event-loop
//   delay measured during each (perf_hooks.monitorEventLoopDelay, 1 ms resolution).
// - "original": lua-resty-checkups spawns one light thread per upstream and probes that
//   upstream's servers one after another; we run exactly that (upstreams in parallel, servers
//   sequential, same probe code and timeout) and report its wall time, plus the fully
//   sequential sum of the measured per-probe times.
// Total time stays well under 60 s (the original-style run is ~10 s at the defaults).
import { fork } from 'node:child_process'
import net from 'node:net'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const args = Object.fromEntries(process.argv.slice(2).flatMap((a, i, all) => a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : []))
const PEERS = Number(args.peers ?? 2000)
const UPSTREAMS = Number(args.upstreams ?? 20)
const CONCURRENCY = Number(args.concurrency ?? 256)
const MAX_SOCKETS = Number(args['max-sockets'] ?? 1024)
const HANG_EVERY = 10
const TIMEOUT_S = 1
const QUERY = 'GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'
const ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'

function fdLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  return Number(line?.split(/\s+/)[3] ?? 1024)
}

// ---- peer server (child process) -------------------------------------------------------------
async function serve() {
  const per = Math.ceil(PEERS / UPSTREAMS)
  const peers = []
  const held = new Set()
  for (let u = 0; u < UPSTREAMS; u++) {
    const host = `127.0.0.${u + 1}`
    for (let i = 0; i < per && peers.length < PEERS; i++) {
      const hang = peers.length % HANG_EVERY === HANG_EVERY - 1
      const server = net.createServer((sock) => {
        let buf = ''
        sock.on('error', () => {})
        sock.on('data', (d) => {
          buf += d
          if (!buf.includes('\r\n\r\n')) return
          if (hang) { held.add(sock); sock.on('close', () => held.delete(sock)); return }
          sock.end(ANSWER)
        })
      })
      await new Promise((r) => server.listen({ host, port: 0, backlog: 511 }, r))
      peers.push({ host, port: server.address().port, hang, upstream: u })
    }
  }
  process.send({ peers, fdLimit: fdLimit() })
  process.on('message', (m) => { if (m === 'exit') process.exit(0) })
}

// ---- leader side -----------------------------------------------------------------------------
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return { p50: s[Math.floor(s.length * 0.5)] ?? 0, max: s.at(-1) ?? 0 }
}

async function measuredRound(hb, label) {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  let fds = 0
  const sampler = setInterval(() => { fds = Math.max(fds, readdirSync('/proc/self/fd').length) }, 50)
  const t0 = performance.now()
  const elu0 = performance.eventLoopUtilization()
  const cpu0 = process.cpuUsage()
  const rep = await hb.runRound()
  const elu = performance.eventLoopUtilization(elu0)
  const cpu = process.cpuUsage(cpu0)
  const ms = performance.now() - t0
  clearInterval(sampler)
  h.disable()
  const lag = { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }
  console.log(`${label.padEnd(24)} ${(ms / 1000).toFixed(3)} s  (peers ${rep.peers}, written ${rep.written})` +
    `  leader loop delay p50 ${lag.p50.toFixed(1)} / p99 ${lag.p99.toFixed(1)} / max ${lag.max.toFixed(1)} ms,` +
    ` main-thread busy ${(elu.active).toFixed(0)} ms (ELU ${(elu.utilization * 100).toFixed(0)} %), process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, peak fds ${fds}`)
  return { ms, rep, lag, elu }
}

async function main() {
  const t0 = Date.now()
  const here = fileURLToPath(import.meta.url)
  const need = PEERS * 2 + 200
  const child = fork(here, ['--serve', '1', ...process.argv.slice(2)], {
    // raise the child's soft fd limit to what 2 fds per peer need (bounded by the hard limit)
    execPath: '/bin/sh',
    execArgv: ['-c', `ulimit -n ${need} 2>/dev/null || ulimit -n $(ulimit -H -n); exec "${process.execPath}" "$0" "$@"`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const { peers, fdLimit: childFds } = await new Promise((resolve) => child.once('message', resolve))
  const { SharedDict } = await import('@checkups/shdict')
  const { createHeartbeat, probeHttp } = await import('@checkups/core/heartbeat')
  const { decodeRecord, resolveConfig } = await import('@checkups/core')

  const upstreams = {}
  for (const p of peers) {
    const skey = `ups${p.upstream}`
    upstreams[skey] ??= { typ: 'http', timeout: TIMEOUT_S, http_opts: { query: QUERY, statuses: { 200: true } }, cluster: [{ servers: [] }] }
    upstreams[skey].cluster[0].servers.push({ host: p.host, port: p.port })
  }
  console.log(`heartbeat bench: ${peers.length} HTTP peers in ${Object.keys(upstreams).length} upstreams, ` +
    `${peers.filter((p) => p.hang).length} hang past timeout = ${TIMEOUT_S} s; concurrency ${CONCURRENCY}, max sockets ${MAX_SOCKETS}; ` +
    `fd limit leader ${fdLimit()}, peer server ${childFds}; node ${process.version}, ${(await import('node:os')).availableParallelism()} cores`)

  const zones = () => ({ state: SharedDict.create(16 << 20), mutex: SharedDict.create(1 << 16) })
  const view = resolveConfig({ global: {}, ...upstreams })
  const mk = (shared, pool) => createHeartbeat({ shared, worker: { id: 0, count: 1, pid: process.pid },
    concurrency: CONCURRENCY, maxSockets: MAX_SOCKETS, pool, getConfig: () => view })

  // JIT warm-up on a throwaway zone, then a first round with no history (nobody known to be
  // slow yet), then a steady-state round (last round's failures are probed first)
  await measuredRound(mk(zones(), false), 'warm-up (JIT)')
  const shared = zones()
  const inproc = mk(shared, false)
  const first = await measuredRound(inproc, 'round 1, no history')
  const a = await measuredRound(inproc, 'round 2, in-process')
  const pooled = mk(shared, true)
  await measuredRound(pooled, 'piscina warm-up')
  const b = await measuredRound(pooled, 'round 4, piscina thread')
  await pooled.stop()

  let ok = 0, err = 0
  for (const p of peers) {
    const r = decodeRecord(shared.state.get(`checkups:peer_status:ups${p.upstream}:${p.host}:${p.port}`))
    if (r?.status === 0 && !p.hang) ok++
    else if (r?.status === 2 && p.hang && r.msg === 'timeout') err++
  }
  console.log(`records: ${ok} ok + ${err} err('timeout') as expected of ${peers.length}`)

  // the original's approach: one thread per upstream, its servers probed one after another
  const perProbe = []
  const o0 = performance.now()
  await Promise.all(Object.values(upstreams).map(async (ups) => {
    for (const s of ups.cluster[0].servers) {
      const t = performance.now()
      await probeHttp(s.host, s.port, TIMEOUT_S * 1000, ups.http_opts)
      perProbe.push(performance.now() - t)
    }
  }))
  const orig = performance.now() - o0
  const seqSum = perProbe.reduce((x, y) => x + y, 0)
  const pp = stats(perProbe)
  console.log(`original (per-upstream sequential, measured)   ${(orig / 1000).toFixed(3)} s`)
  console.log(`fully sequential (sum of ${perProbe.length} measured probe times) ${(seqSum / 1000).toFixed(3)} s  (probe p50 ${pp.p50.toFixed(2)} ms, max ${pp.max.toFixed(0)} ms)`)
  console.log(`speed-up vs original: ${(orig / a.ms).toFixed(1)}x (round 1: ${(orig / first.ms).toFixed(1)}x); target round <= 1.2 s: ` +
    `steady ${a.ms <= 1200 ? 'met' : 'MISSED'}, first ${first.ms <= 1200 ? 'met' : 'MISSED'}; piscina ${(b.ms / 1000).toFixed(3)} s`)
  console.log(`leader loop delay p99 <= 10 ms during a round: in-process ${a.lag.p99.toFixed(1)} ms ${a.lag.p99 <= 10 ? 'met' : 'MISSED'}, ` +
    `piscina ${b.lag.p99.toFixed(1)} ms ${b.lag.p99 <= 10 ? 'met' : 'MISSED'}`)
  console.log(`total bench time ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  child.send('exit')
}

if (args.serve) serve()
else main().catch((e) => { console.error(e); process.exit(1) })
