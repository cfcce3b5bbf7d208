#!/usr/bin/env node
// How the costs grow with the fleet: one round-robin upstream of 10 / 100 / 1 000 / 10 000 peers,
// and 1 000 upstreams of 10 peers, each case in a fresh child process (so RSS is its own).
//
//   node scripts/bench/scale.mjs [--sizes 10,100,1000,10000] [--ms 300]
//
// Per case, through the public entry points (@checkups/shdict, @checkups/core[/heartbeat]),
// with zones of the runtime's default sizes (state 10m, mutex 1m, locks 1m, config 10m):
// - selectPeer: CPU ns per op (process.cpuUsage) over a bounded loop; the 1 000-upstream case
//   cycles through all upstreams (no memo helps), the baseline is a plain loop over the peers
//   measured in the same child.
// - getStatus: CPU ms per call.
// - /metrics: CPU ms per scrape of the admin server's GET /metrics (@checkups/server's
//   createAdminServer on 127.0.0.1, client in the same process, so loopback HTTP is included)
//   and the size of the text; the baseline is a GET of an unknown route (404) in the same run.
// - heartbeat round: CPU µs per peer of one createHeartbeat().runRound(); the peers are
//   127.77.x.y:9 where nothing listens, so every probe is a real connect refused by the kernel.
// - shared memory: bytes the config zone and the state zone (heartbeat records) use per peer.
// - worker memory: heap + array buffers a second worker's views take per peer (after gc), and
//   the RSS growth that came with them; "hot ns" is selectPeer on one upstream only.
// - view refresh after one update: another worker's first selectPeer after updateUpstream of
//   ONE upstream (CPU ms): the first one (cold code) and the median of the 29 after it, and
//   how many of its upstream views were rebuilt.
// Growth factor = figure at 10x the peers over the figure before. Bounded: a few seconds a case.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const args = Object.fromEntries(process.argv.slice(2).flatMap((a, i, all) => a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : []))
const SIZES = String(args.sizes ?? '10,100,1000,10000').split(',').map(Number)
const MS = Number(args.ms ?? 300)
const MB = 1 << 20
/** updates of one upstream whose refresh is measured (after a first, cold one) */
const UPDATES = 29

function cpuNs(fn, minOps) {
  let ops = 0
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  while (ops < minOps || performance.now() - t0 < MS) {
    for (let i = 0; i < 1000; i++) fn(ops + i)
    ops += 1000
    if (ops > 50_000_000) break
  }
  const c = process.cpuUsage(c0)
  return ((c.user + c.system) * 1000) / ops
}

/** Past what the default config zone holds: the update must fail clearly and lose nothing. */
async function overflowCase(n) {
  const { SharedDict } = await import('@checkups/shdict')
  const { Checkups } = await import('@checkups/core')
  const zones = { state: SharedDict.create(10 * MB), mutex: SharedDict.create(MB), locks: SharedDict.create(MB), config: SharedDict.create(10 * MB) }
  const small = { u0: { cluster: [{ servers: [{ host: '127.0.0.1', port: 9 }] }] } }
  new Checkups({ shared: zones }).init(small)
  const w = new Checkups({ shared: zones })
  w.prepareChecker(small)
  const servers = Array.from({ length: n }, (_, i) => ({ host: `127.77.${(i >> 8) & 255}.${(i & 255) + 1}`, port: 9 + (i >> 16) }))
  let error = 'none'
  try {
    await w.updateUpstream('big', { cluster: [{ servers }] })
  } catch (e) {
    error = `${e.code ?? ''}: ${e.message}`
  }
  const kept = w.getUpstream('u0') !== undefined && w.selectPeer('u0').port === 9 && w.getUpstream('big') === undefined
  return { overflow: n, error, kept }
}

const trace = (what) => { if (process.env.SCALE_TRACE) console.error(`[scale] ${what} ${(process.cpuUsage().user / 1e6).toFixed(1)} s`) }

async function runCase({ upstreams, peers, overflow }) {
  if (overflow) return overflowCase(overflow)
  const { SharedDict } = await import('@checkups/shdict')
  const { Checkups, SLOT, resolveConfig } = await import('@checkups/core')
  const { createHeartbeat } = await import('@checkups/core/heartbeat')
  const zones = { state: SharedDict.create(10 * MB), mutex: SharedDict.create(MB), locks: SharedDict.create(MB), config: SharedDict.create(10 * MB) }
  const used = (z) => z.capacity() - z.freeSpace()
  const config = {}
  let n = 0
  for (let u = 0; u < upstreams; u++) {
    const servers = []
    for (let i = 0; i < peers; i++, n++) servers.push({ host: `127.77.${(n >> 8) & 255}.${(n & 255) + 1}`, port: 9, weight: 1 + (i % 3) })
    config[`u${u}`] = { timeout: 1, cluster: [{ servers }] }
  }
  const out = { upstreams, peers, total: n }
  const cfg0 = used(zones.config)
  try {
    new Checkups({ shared: zones }).init(config)
  } catch (e) {
    return { ...out, error: `init: ${e.code ?? ''} ${e.message}` }
  }
  out.configBytesPerPeer = (used(zones.config) - cfg0) / n

  // heartbeat round: records into the state zone
  trace('// heartbeat round: ')
  const resolved = resolveConfig({ global: {}, ...config })
  const hb = createHeartbeat({ shared: zones, worker: { id: 0, count: 1, pid: process.pid }, pool: false, getConfig: () => resolved })
  const st0 = used(zones.state)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const rep = await hb.runRound()
  const c = process.cpuUsage(c0)
  out.roundWallMs = performance.now() - t0
  out.roundCpuUsPerPeer = (c.user + c.system) / n
  out.roundWritten = rep.written
  out.stateBytesPerPeer = (used(zones.state) - st0) / n
  out.heartbeatWriteErrors = zones.state.loadSlot(SLOT.STATE_HEARTBEAT_WRITE_ERRORS)
  await hb.stop?.()

  // a worker's view
  trace("// a worker's view")
  global.gc?.()
  const rss0 = process.memoryUsage().rss
  const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
  const w = new Checkups({ shared: zones, worker: { id: 1, count: 2, pid: process.pid } })
  w.prepareChecker(config)
  const skeys = Object.keys(config)
  w.selectPeer(skeys[0])
  for (const k of skeys) w.selectPeer(k)
  global.gc?.()
  out.viewHeapBytesPerPeer = (process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heap0) / n
  out.viewRssMB = (process.memoryUsage().rss - rss0) / MB
  out.rssMB = process.memoryUsage().rss / MB

  trace('let sink = 0')
  let sink = 0
  const list = config[skeys[0]].cluster[0].servers
  out.baselineNs = cpuNs((i) => { sink += list[i % list.length].port }, 100_000)
  out.selectNs = upstreams === 1
    ? cpuNs(() => { sink += w.selectPeer(skeys[0]).port }, 2_000)
    : cpuNs((i) => { sink += w.selectPeer(skeys[i % upstreams]).port }, 100_000)
  // one upstream among many, selected again and again: what the upstream count itself costs
  out.selectHotNs = cpuNs(() => { sink += w.selectPeer(skeys[skeys.length >> 1]).port }, 100_000)
  trace('const s0 = process.c')
  const s0 = process.cpuUsage()
  let calls = 0
  const st1 = performance.now()
  while (calls < 3 || performance.now() - st1 < MS) { sink += Object.keys(w.getStatus()).length; calls++ }
  const s = process.cpuUsage(s0)
  out.statusMs = (s.user + s.system) / 1000 / calls

  trace('// /metrics')
  Object.assign(out, await scrapeMetrics(w, resolved))

  // one update (a weight change of upstream 0) made by worker 0, seen by worker 1
  trace('// one update (a wei')
  const writer = new Checkups({ shared: zones })
  writer.prepareChecker(config)
  const others = skeys.slice(1, 50).map((k) => w['view'].get(k)) // identity check, internals
  const before = w['view'].get(skeys[0])
  // the first refresh runs cold code (JIT); then the median of UPDATES more
  const refresh = []
  for (let k = 0; k <= UPDATES; k++) {
    const ups0 = structuredClone(config[skeys[0]])
    ups0.cluster[0].servers[0].weight = 7 + k
    await writer.updateUpstream(skeys[0], ups0)
    const r0 = process.cpuUsage()
    sink += w.selectPeer(skeys[0]).port
    const r = process.cpuUsage(r0)
    refresh.push((r.user + r.system) / 1000)
  }
  out.refreshFirstMs = refresh[0]
  out.refreshMs = refresh.slice(1).sort((a, b) => a - b)[UPDATES >> 1]
  out.rebuiltTarget = w['view'].get(skeys[0]) !== before
  out.rebuiltOthers = skeys.slice(1, 50).filter((k, i) => w['view'].get(k) !== others[i]).length
  await w.stop?.()
  await writer.stop?.()
  if (sink === 0.5) console.log(sink)
  return out
}

/** CPU ms per GET /metrics (and per 404, the same-run baseline) through the admin server */
async function scrapeMetrics(checkups, config) {
  const { createAdminServer } = await import('@checkups/server')
  const admin = createAdminServer({ worker: { id: 1, count: 2, pid: process.pid }, checkups, config, workers: async () => [] }, { bodyLimit: 1 << 20 })
  await new Promise((r) => admin.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${admin.address().port}`
  const get = async (path) => { const res = await fetch(base + path); const text = await res.text(); return { status: res.status, bytes: text.length } }
  const per = async (path) => {
    let calls = 0
    let last
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    while (calls < 3 || (performance.now() - t0 < MS && calls < 200)) { last = await get(path); calls++ }
    const c = process.cpuUsage(c0)
    return { ms: (c.user + c.system) / 1000 / calls, ...last }
  }
  await get('/metrics') // first render builds the registries
  const m = await per('/metrics')
  const b = await per('/no-such-route')
  admin.close()
  if (m.status !== 200 || b.status !== 404) throw new Error(`metrics ${m.status}, baseline ${b.status}`)
  return { metricsMs: m.ms, metricsKB: m.bytes / 1024, metricsBaseMs: b.ms }
}

const fmt = (v, d = 1) => (v === undefined ? '-' : typeof v === 'number' ? v.toFixed(d) : String(v))

async function main() {
  const here = fileURLToPath(import.meta.url)
  const cases = [...SIZES.map((p) => ({ upstreams: 1, peers: p })), { upstreams: 1000, peers: 10 }, { upstreams: 1, peers: 10, overflow: 200_000 }]
  const results = []
  for (const cs of cases) {
    const child = fork(here, ['--case', JSON.stringify(cs)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const res = await new Promise((resolve) => {
      child.once('message', resolve)
      child.once('exit', (code) => resolve({ ...cs, error: `child exited ${code}` }))
    })
    results.push(res)
  }
  console.log(`scale bench (node ${process.version}); CPU figures from process.cpuUsage; growth = value / value of the row above (10x peers)`)
  const cols = [
    ['case', (r) => `${r.upstreams} x ${r.peers}`, 14],
    ['select ns', (r) => fmt(r.selectNs), 11],
    ['x', (r, p) => (p ? fmt(r.selectNs / p.selectNs, 2) : ''), 7],
    ['plain ns', (r) => fmt(r.baselineNs), 10],
    ['status ms', (r) => fmt(r.statusMs, 2), 11],
    ['x', (r, p) => (p ? fmt(r.statusMs / p.statusMs, 1) : ''), 7],
    ['metrics ms', (r) => fmt(r.metricsMs, 2), 12],
    ['x', (r, p) => (p ? fmt(r.metricsMs / p.metricsMs, 1) : ''), 7],
    ['404 ms', (r) => fmt(r.metricsBaseMs, 2), 8],
    ['metrics KB', (r) => fmt(r.metricsKB, 0), 12],
    ['hb µs/peer', (r) => fmt(r.roundCpuUsPerPeer), 12],
    ['hb wall ms', (r) => fmt(r.roundWallMs, 0), 12],
    ['cfg B/peer', (r) => fmt(r.configBytesPerPeer, 0), 12],
    ['state B/peer', (r) => fmt(r.stateBytesPerPeer, 0), 13],
    ['hot ns', (r) => fmt(r.selectHotNs), 9],
    ['view heap B/peer', (r) => fmt(r.viewHeapBytesPerPeer, 0), 17],
    ['view RSS MB', (r) => fmt(r.viewRssMB, 1), 12],
    ['RSS MB', (r) => fmt(r.rssMB, 0), 8],
    ['refresh 1st', (r) => fmt(r.refreshFirstMs, 2), 12],
    ['refresh ms', (r) => fmt(r.refreshMs, 2), 12],
    ['x', (r, p) => (p ? fmt(r.refreshMs / p.refreshMs, 1) : ''), 7],
    ['rebuilt', (r) => (r.rebuiltTarget === undefined ? '-' : `${r.rebuiltTarget ? 1 : 0}+${r.rebuiltOthers}`), 9],
  ]
  console.log(cols.map(([h, , w]) => h.padStart(w)).join(''))
  results.forEach((r) => { if (r.heartbeatWriteErrors) console.log(`${r.upstreams} x ${r.peers}: ${r.heartbeatWriteErrors} heartbeat records did not fit the state zone (state_write_errors.heartbeat)`) })
  for (const r of results.filter((x) => x.overflow)) {
    console.log(`one upstream of ${r.overflow} peers added to the default 10m config zone: ${r.error}; the stored config kept intact: ${r.kept}`)
  }
  results.filter((r) => !r.overflow).forEach((r, i, all) => {
    const results = all
    const prev = i > 0 && r.upstreams === 1 && results[i - 1].upstreams === 1 ? results[i - 1] : undefined
    if (r.error) console.log(`${`${r.upstreams} x ${r.peers}`.padStart(14)}  ERROR ${r.error}`)
    else console.log(cols.map(([, f, w]) => String(f(r, prev)).padStart(w)).join(''))
  })
  const one = results.find((r) => r.upstreams === 1 && r.peers === 10)
  const many = results.find((r) => r.upstreams === 1000)
  if (one && many && !many.error) {
    console.log(`1000 upstreams of 10 vs 1 of 10: selectPeer ${fmt(many.selectNs / one.selectNs, 2)}x, refresh after one update ${fmt(many.refreshMs / one.refreshMs, 1)}x, rebuilt ${many.rebuiltTarget ? 1 : 0} + ${many.rebuiltOthers} others of the 49 checked`)
  }
}

if (args.case) runCase(JSON.parse(args.case)).then((r) => { process.send(r); process.exit(0) }, (e) => { process.send({ ...JSON.parse(args.case), error: String(e?.stack ?? e) }); process.exit(0) })
else main().catch((e) => { console.error(e); process.exit(1) })
