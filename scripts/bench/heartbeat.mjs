#!/usr/bin/env node
// Heartbeat benchmark: rounds over 2 000 and 10 000 loopback HTTP peers, 10 % of which hang
// until the probe timeout (1 s), in-process and on the piscina thread, next to the original's
// approach measured in the same run; then the proxy's latency while rounds run.
//
//   node scripts/bench/heartbeat.mjs [--peers 2000,10000] [--upstreams 20] [--concurrency 256]
//     [--max-sockets 1024] [--proxy-peers 10000] [--proxy-requests 4000]
//
// - Peers: a child process listens on 127.0.0.1..127.0.0.<upstreams>, <peers/upstreams> ports
//   each (one address = one upstream); every 10th peer of each upstream accepts the request
//   and never answers.
//   The child raises its soft fd limit (ulimit -n) to what it needs; the leader keeps at most
//   `max-sockets` probe sockets open (the defaults of createHeartbeat; peak fds are printed).
// - Per fleet size: createHeartbeat().runRound() with `pool: false` (in-process) and
//   `pool: true` (thread): a cold round (JIT, thread start), a first round on an emptied zone
//   (no history: nobody known to hang) and a steady round (history: last round's timeouts
//   start first); and which runner
//   the default (`heartbeat_thread: 'auto'`) picks. Printed: wall time, the leader's
//   event-loop delay during the round (perf_hooks.monitorEventLoopDelay, 1 ms resolution),
//   main-thread busy time (ELU) and process CPU per round (main + thread).
// - Probe path: CPU per probe of probeHttp (the raw socket path) over the answering peers,
//   next to the same probe written on net.Socket 'data' events (the previous path) and on
//   http.request, driven by the same bounded loop in the same run.
// - "original": lua-resty-checkups spawns one light thread per upstream and probes that
//   upstream's servers one after another; we run exactly that at the first fleet size
//   (upstreams in parallel, servers sequential, same probe code and timeout).
// - Proxy under rounds: `node apps/server` (2 workers) in front of a node:http backend, with
//   the `--proxy-peers` fleet heartbeated every 2 s; an undici loop (8 connections) times
//   requests through it with the heartbeat off (baseline), in-process
//   (`heartbeat_thread: false`) and by default (`auto`: the thread), a fresh server each.
// Every process started here is stopped here, by pid. Total time ~2 min at the defaults.
import { fork, spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const args = Object.fromEntries(process.argv.slice(2).flatMap((a, i, all) => a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : []))
const SIZES = String(args.peers ?? '2000,10000').split(',').map(Number)
const PROXY_PEERS = Number(args['proxy-peers'] ?? 10000)
const PROXY_REQUESTS = Number(args['proxy-requests'] ?? 4000)
const PEERS = Math.max(...SIZES, PROXY_PEERS)
const UPSTREAMS = Number(args.upstreams ?? 20)
const CONCURRENCY = Number(args.concurrency ?? 256)
const MAX_SOCKETS = Number(args['max-sockets'] ?? 1024)
const HANG_EVERY = 10
const TIMEOUT_S = 1
const QUERY = 'GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'
const ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
const here = fileURLToPath(import.meta.url)

function fdLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  return Number(line?.split(/\s+/)[3] ?? 1024)
}

// ---- peer server (child process) -------------------------------------------------------------
async function serve() {
  const per = Math.ceil(PEERS / UPSTREAMS)
  const peers = []
  const held = new Set()
  // peers are listed address-major so that the first n of them are n/UPSTREAMS per upstream
  for (let i = 0; i < per; i++) {
    for (let u = 0; u < UPSTREAMS && peers.length < PEERS; u++) {
      const host = `127.0.0.${u + 1}`
      // every 10th peer of each upstream hangs (offset by upstream: spread over the fleet)
      const hang = (i + u) % HANG_EVERY === HANG_EVERY - 1
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
  process.on('disconnect', () => process.exit(0)) // the bench died: do not outlive it
}

// ---- leader side -----------------------------------------------------------------------------
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return { p50: s[Math.floor(s.length * 0.5)] ?? 0, p99: s[Math.floor(s.length * 0.99)] ?? 0, max: s.at(-1) ?? 0 }
}

function upstreamsOf(peers) {
  const upstreams = {}
  for (const p of peers) {
    const skey = `ups${p.upstream}`
    upstreams[skey] ??= { typ: 'http', timeout: TIMEOUT_S, http_opts: { query: QUERY, statuses: { 200: true } }, cluster: [{ servers: [] }] }
    upstreams[skey].cluster[0].servers.push({ host: p.host, port: p.port })
  }
  return upstreams
}

async function measuredRound(hb, label) {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  let fds = 0
  // fds sampled 4x a second: listing 1 000 fds is itself a few ms of this thread's loop
  const sampler = setInterval(() => { fds = Math.max(fds, readdirSync('/proc/self/fd').length) }, 250)
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
  const cpuMs = (cpu.user + cpu.system) / 1000
  console.log(`  ${label.padEnd(30)} ${(ms / 1000).toFixed(3)} s  [${rep.runner}, ${rep.peers} peers, ${rep.written} written]` +
    `  loop delay p50 ${lag.p50.toFixed(1)} / p99 ${lag.p99.toFixed(1)} / max ${lag.max.toFixed(1)} ms,` +
    ` main busy ${(elu.active).toFixed(0)} ms, CPU ${cpuMs.toFixed(0)} ms/round (${(cpuMs * 1000 / rep.peers).toFixed(0)} us/peer), peak fds ${fds}`)
  return { ms, rep, lag, elu, cpuMs }
}

/** Loop delay of this thread doing nothing for `ms`: the machine's own scheduling noise. */
async function idleDelay(ms) {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  await new Promise((r) => setTimeout(r, ms))
  h.disable()
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6 }
}

function checkRecords(state, peers, decodeRecord) {
  let ok = 0, err = 0
  const other = {}
  for (const p of peers) {
    const r = decodeRecord(state.get(`checkups:peer_status:ups${p.upstream}:${p.host}:${p.port}`))
    if (r?.status === 0 && !p.hang) ok++
    else if (r?.status === 2 && p.hang && r.msg === 'timeout') err++
    else { const k = `${p.hang ? 'hanging' : 'answering'} peer: ${r?.msg ?? r?.status}`; other[k] = (other[k] ?? 0) + 1 }
  }
  const odd = Object.entries(other).map(([k, n]) => `${n} × ${k}`).join(', ')
  return `${ok} ok + ${err} err('timeout') as expected of ${peers.length}${odd ? `; otherwise: ${odd}` : ''}`
}

async function fleet(all, n, lib, withOriginal) {
  let idle
  const { SharedDict, createHeartbeat, probeHttp, decodeRecord, resolveConfig } = lib
  const peers = all.slice(0, n)
  const upstreams = upstreamsOf(peers)
  console.log(`${n} HTTP peers in ${Object.keys(upstreams).length} upstreams, ${peers.filter((p) => p.hang).length} hang past timeout = ${TIMEOUT_S} s`)
  const zones = () => ({ state: SharedDict.create(64 << 20), mutex: SharedDict.create(1 << 16) })
  const view = resolveConfig({ global: {}, ...upstreams })
  const mk = (shared, pool) => createHeartbeat({ shared, worker: { id: 0, count: 1, pid: process.pid },
    concurrency: CONCURRENCY, maxSockets: MAX_SOCKETS, ...(pool === undefined ? {} : { pool }), getConfig: () => view })
  const out = {}
  for (const [name, pool] of [['in-process', false], ['thread', true]]) {
    // one instance (one thread): a new leader's very first round also pays JIT and the
    // thread's start, printed as 'cold'; then the zone is emptied for a first round without
    // history on warm code, then a steady round (history: last round's timeouts start first)
    const shared = zones()
    const hb = mk(shared, pool)
    await measuredRound(hb, `${name} cold (JIT, thread start)`)
    shared.state.flushAll()
    const first = await measuredRound(hb, `${name} round 1, no history`)
    const steady = await measuredRound(hb, `${name} round 2, steady`)
    await hb.stop()
    console.log(`  records: ${checkRecords(shared.state, peers, decodeRecord)}`)
    out[name] = { first, steady }
  }
  idle = await idleDelay(2000)
  console.log(`  idle leader (no round, 2 s)    loop delay p99 ${idle.p99.toFixed(1)} / max ${idle.max.toFixed(1)} ms: the machine's scheduling noise, the baseline of the delays above`)
  const auto = mk(zones(), undefined)
  const def = await measuredRound(auto, 'default (heartbeat_thread auto)')
  await auto.stop()
  const [a, t] = [out['in-process'], out.thread]
  let orig
  if (withOriginal) {
    const o0 = performance.now()
    await Promise.all(Object.values(upstreams).map(async (ups) => {
      for (const s of ups.cluster[0].servers) await probeHttp(s.host, s.port, TIMEOUT_S * 1000, ups.http_opts)
    }))
    orig = performance.now() - o0
    console.log(`  original (per-upstream sequential, measured)   ${(orig / 1000).toFixed(3)} s; thread steady ${(orig / t.steady.ms).toFixed(1)}x faster, first ${(orig / t.first.ms).toFixed(1)}x`)
  }
  const met = (x, lim) => x <= lim ? 'met' : 'MISSED'
  console.log(`  => ${n} peers: default runner ${def.rep.runner}; first round in-process ${(a.first.ms / 1000).toFixed(3)} s / thread ${(t.first.ms / 1000).toFixed(3)} s` +
    ` (<= 1.2 s: ${met(Math.min(a.first.ms, t.first.ms), 1200)}); steady ${(a.steady.ms / 1000).toFixed(3)} / ${(t.steady.ms / 1000).toFixed(3)} s;` +
    ` leader loop p99 in-process ${a.steady.lag.p99.toFixed(1)} ms vs thread ${t.steady.lag.p99.toFixed(1)} ms (${(t.steady.lag.p99 / a.steady.lag.p99).toFixed(2)}x; <= 10 ms: ${met(t.steady.lag.p99, 10)}) vs idle ${idle.p99.toFixed(1)} ms;` +
    ` main busy thread/in-process ${(t.steady.elu.active / a.steady.elu.active).toFixed(2)}x; CPU/round thread/in-process ${(t.steady.cpuMs / a.steady.cpuMs).toFixed(2)}x`)
}

// ---- probe path ------------------------------------------------------------------------------
/** The previous probe path: net.Socket stream events, the answer accumulated as a string. */
function streamProbe(host, port, timeoutMs, query) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port })
    let buf = ''
    let done = false
    const finish = (v) => { if (!done) { done = true; clearTimeout(timer); sock.destroy(); resolve(v) } }
    const timer = setTimeout(() => finish('timeout'), timeoutMs)
    sock.on('error', () => finish('error'))
    sock.on('close', () => finish('closed'))
    sock.on('connect', () => { sock.setNoDelay(true); sock.write(query, 'latin1') })
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1')
      const i = buf.indexOf('\r\n')
      if (i >= 0) finish(/^HTTP\/\d+\.\d+\s+200/.test(buf.slice(0, i)) ? 'ok' : 'bad')
    })
  })
}

/** The same probe on http.request (no agent: one connection per probe, like the others). */
function httpRequestProbe(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.request({ host, port, path: '/health', agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      resolve(res.statusCode === 200 ? 'ok' : 'bad')
      res.destroy()
    })
    req.on('timeout', () => { req.destroy(); resolve('timeout') })
    req.on('error', () => resolve('error'))
    req.end()
  })
}

async function probePaths(all, probeHttp) {
  const peers = all.filter((p) => !p.hang).slice(0, 1800)
  const opts = { query: QUERY, statuses: { 200: true } }
  const paths = [
    ['raw socket (probeHttp)', (p) => probeHttp(p.host, p.port, 5000, opts).then((r) => (r.status === 0 ? 'ok' : r.msg))],
    ['net.Socket data events', (p) => streamProbe(p.host, p.port, 5000, QUERY)],
    ['http.request', (p) => httpRequestProbe(p.host, p.port, 5000)],
  ]
  const run = async (fn) => {
    let next = 0, ok = 0
    const c0 = process.cpuUsage()
    await Promise.all(Array.from({ length: 64 }, async () => { while (next < peers.length) if (await fn(peers[next++]) === 'ok') ok++ }))
    const c = process.cpuUsage(c0)
    return { us: (c.user + c.system) / peers.length, ok }
  }
  const out = new Map(paths.map(([name]) => [name, []]))
  for (let rep = 0; rep < 3; rep++) for (const [name, fn] of paths) out.get(name).push(await run(fn)) // interleaved; rep 0 warms up
  const best = (name) => Math.min(...out.get(name).slice(1).map((r) => r.us))
  const raw = best(paths[0][0])
  console.log(`probe path: CPU per probe over ${peers.length} answering peers, 64 at once (best of 2 after a warm-up, interleaved)`)
  for (const [name] of paths) {
    const oks = out.get(name).map((r) => r.ok).join('/')
    console.log(`  ${name.padEnd(24)} ${best(name).toFixed(0).padStart(4)} us/probe  (${(best(name) / raw).toFixed(2)}x the raw path's CPU; ok ${oks})`)
  }
}

// ---- proxy under rounds ----------------------------------------------------------------------
const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
})

async function getJson(port, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let b = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { b += d })
      res.on('end', () => { try { resolve(JSON.parse(b)) } catch { resolve(undefined) } })
    })
    req.on('error', () => resolve(undefined))
    req.on('timeout', () => req.destroy())
  })
}

async function proxyPhase(label, mode, peers, backendPort, dir) {
  const { Pool } = await import('undici')
  const [proxyPort, adminPort] = [await freePort(), await freePort()]
  const global = mode === 'off' ? { default_heartbeat_enable: false } : { checkup_timer_interval: 2, heartbeat_thread: mode }
  const cfg = join(dir, `checkups.${label}.config.mjs`)
  writeFileSync(cfg, `export default ${JSON.stringify({
    global, ...upstreamsOf(peers),
    bench: { enable: false, timeout: 5, cluster: [{ servers: [{ host: '127.0.0.1', port: backendPort }] }] },
    server: { listen: `127.0.0.1:${proxyPort}`, admin: { listen: `127.0.0.1:${adminPort}` }, routes: [{ upstream: 'bench' }], access_log: { format: 'off' } },
  })}\n`)
  const entry = fileURLToPath(new URL('../../apps/server/index.js', import.meta.url))
  const need = 4096
  const proxy = spawn('/bin/sh', ['-c', `ulimit -n ${need} 2>/dev/null; exec "${process.execPath}" "${entry}" --config "${cfg}" --workers 2`], { stdio: 'ignore' })
  const pool = new Pool(`http://127.0.0.1:${proxyPort}`, { connections: 8 })
  try {
    let st
    for (let i = 0; i < 600; i++) {
      st = await getJson(adminPort, '/status')
      if (st && (mode === 'off' || st.heartbeat_round)) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const timed = async () => {
      const t = performance.now()
      const r = await pool.request({ path: '/x', method: 'GET' })
      await r.body.dump()
      if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`)
      return performance.now() - t
    }
    for (let i = 0; i < 500; i++) await timed() // warm-up
    const times = []
    let next = 0
    const t0 = performance.now()
    await Promise.all(Array.from({ length: 8 }, async () => { while (next++ < PROXY_REQUESTS) times.push(await timed()) }))
    const wall = performance.now() - t0
    st = await getJson(adminPort, '/status')
    const r = st?.heartbeat_round
    const s = stats(times)
    console.log(`  ${label.padEnd(28)} p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  max ${s.max.toFixed(1)} ms  (${times.length} requests in ${(wall / 1000).toFixed(1)} s` +
      `${r ? `; last round ${r.runner}, ${r.peers} peers, ${(r.ms / 1000).toFixed(2)} s` : ''})`)
    return s
  } finally {
    await pool.close()
    const exited = new Promise((r) => proxy.once('exit', r))
    process.kill(proxy.pid, 'SIGTERM')
    await exited
  }
}

async function proxyUnderRounds(all) {
  const peers = all.slice(0, PROXY_PEERS)
  console.log(`proxy under rounds: node apps/server, 2 workers, ${peers.length} peers heartbeated every 2 s (when on); undici, 8 connections, ${PROXY_REQUESTS} requests a phase`)
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-hb-proxy-'))
  const backendPort = await freePort()
  const backend = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-length': 2 }); s.end('ok') }).listen(${backendPort}, '127.0.0.1')`], { stdio: 'ignore' })
  try {
    // the baseline runs before and after the rounds (the machine is shared: both are printed,
    // the ratios use the lower one)
    const off1 = await proxyPhase('heartbeat off (baseline 1)', 'off', peers, backendPort, dir)
    const inproc = await proxyPhase('rounds in-process', false, peers, backendPort, dir)
    const auto = await proxyPhase('rounds by default (auto)', 'auto', peers, backendPort, dir)
    const off2 = await proxyPhase('heartbeat off (baseline 2)', 'off', peers, backendPort, dir)
    const off = off1.p99 <= off2.p99 ? off1 : off2
    console.log(`  => proxy p99 during rounds: in-process ${inproc.p99.toFixed(2)} ms = ${(inproc.p99 / off.p99).toFixed(2)}x the baseline (${off.p99.toFixed(2)} ms),` +
      ` default ${auto.p99.toFixed(2)} ms = ${(auto.p99 / off.p99).toFixed(2)}x`)
  } finally {
    const exited = new Promise((r) => backend.once('exit', r))
    process.kill(backend.pid, 'SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main() {
  const t0 = Date.now()
  const need = PEERS * 2 + 1200
  const child = fork(here, ['--serve', '1', ...process.argv.slice(2)], {
    // raise the child's soft fd limit to what 2 fds per peer need (bounded by the hard limit)
    execPath: '/bin/sh',
    execArgv: ['-c', `ulimit -n ${need} 2>/dev/null || ulimit -n $(ulimit -H -n); exec "${process.execPath}" "$0" "$@"`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  try {
    const { peers, fdLimit: childFds } = await new Promise((resolve) => child.once('message', resolve))
    const { SharedDict } = await import('@checkups/shdict')
    const { createHeartbeat, probeHttp } = await import('@checkups/core/heartbeat')
    const { decodeRecord, resolveConfig } = await import('@checkups/core')
    console.log(`heartbeat bench: concurrency ${CONCURRENCY}, max sockets ${MAX_SOCKETS}; fd limit leader ${fdLimit()}, peer server ${childFds};` +
      ` node ${process.version}, ${(await import('node:os')).availableParallelism()} cores`)
    const lib = { SharedDict, createHeartbeat, probeHttp, decodeRecord, resolveConfig }
    await probePaths(peers, probeHttp)
    for (const [i, n] of SIZES.entries()) await fleet(peers, n, lib, i === 0)
    if (PROXY_PEERS > 0) await proxyUnderRounds(peers)
  } finally {
    child.send('exit')
  }
  console.log(`total bench time ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

if (args.serve) serve()
else main().catch((e) => { console.error(e); process.exit(1) })
