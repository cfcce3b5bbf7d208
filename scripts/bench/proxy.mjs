// Reverse proxy throughput: requests/s and p99 latency with wrk on loopback for
//   checkups    `node apps/server` (2 workers, undici keep-alive pool per peer, readyOk path)
//   nginx       proxy_pass with a keep-alive upstream (2 workers)          — the reference
//   http-proxy-3 the maintained Node proxy library behind node:cluster (2 workers)
//   fastify-http-proxy @fastify/http-proxy, the undici-based Node peer, behind node:cluster
//   floor       a bare node:http server forwarding with undici `dispatch` and nothing else
//               (proxy/floor.mjs): what forwarding itself costs on Node
// all in front of the same backend (nginx `return 200`, 1 worker), in one run: the three run
// side by side (idle when not measured) and are measured in turn for BENCH_ROUNDS rounds, so
// a noisy machine hits all of them alike; medians are printed with ratios.
//   checkups-nostats the same server with per-peer statistics off (CHECKUPS_STATS=off): the
//                baseline for what statistics cost on the request path
// Targets: checkups >= 1.5x the best Node peer's throughput, CPU per request <= 1.25x the
// floor's; nginx's ratio printed as the physical reference; statistics <= 5 % more CPU per
// request than without (access logs off everywhere, as in the nginx config).
// BENCH_LEVERS=1 adds Node's levers, each a checkups (or floor) variant measured in the same
// rounds and printed against its base (before/after in one run):
//   checkups-sched-none   NODE_CLUSTER_SCHED_POLICY=none (the kernel hands connections to the
//                         workers' shared socket) instead of node:cluster's round-robin
//   checkups-reuseport    server.reuse_port (one SO_REUSEPORT socket per worker; Node >= 22.12)
//   checkups-pipeline8    server.upstream_pipelining: 8 (undici pipelining to the backend)
//   floor-pipeline8       the floor with pipelining 8 (the lever without checkups around it)
// Installs Debian's wrk and nginx when missing (apt-get). Every process started here is
// stopped here, by pid. Bounded: rounds x contenders x (1 s warm-up, 3 s in round 1, +
// BENCH_SECONDS), default ~2 min with the six contenders; BENCH_LEVERS adds four contenders,
// BENCH_PAIRED=N adds N x (1 + BENCH_SECONDS) s per comparison (5 to 10 comparisons).
//
// env: BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (64), BENCH_WORKERS (2),
//      BENCH_SERVER_ENTRY (apps/server/index.js), BENCH_BASELINE_ENTRY (unset: no before/after),
//      BENCH_LEVERS (unset: no lever variants), BENCH_PAIRED (0: no paired rounds),
//      BENCH_ONLY (unset: every contender; else a comma list, for a quick look — no summary)
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP = 1
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
const here = (p) => fileURLToPath(new URL(p, import.meta.url))
// BENCH_SERVER_ENTRY: another build of apps/server to measure (e.g. a saved copy, for before/after)
const serverEntry = process.env.BENCH_SERVER_ENTRY ?? here('../../apps/server/index.js')
// BENCH_BASELINE_ENTRY: a saved earlier build, measured in the same run as `checkups-before`
// (interleaved with the others) so a change is judged by a same-run ratio
const baselineEntry = process.env.BENCH_BASELINE_ENTRY
/** BENCH_PAIRED=N: after the interleaved rounds, N paired rounds per comparison (see paired()) */
const PAIRED = Number(process.env.BENCH_PAIRED ?? 0)
/** BENCH_ONLY=a,b: only these contenders (a quick look at one lever; the summary needs them all) */
const ONLY = process.env.BENCH_ONLY?.split(',')
const LEVERS = Boolean(process.env.BENCH_LEVERS) && process.env.BENCH_LEVERS !== '0'
const [nodeMajor, nodeMinor] = process.versions.node.split('.').map(Number)
/** node:net's listen({ reusePort }) exists from 22.12 / 23.1 */
const HAS_REUSE_PORT = nodeMajor > 23 || (nodeMajor === 23 && nodeMinor >= 1) || (nodeMajor === 22 && nodeMinor >= 12)

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

function ensureTools() {
  const missing = ['wrk', 'nginx'].filter((c) => !has(c) && !(c === 'nginx' && has('/usr/sbin/nginx')))
  if (missing.length === 0) return
  console.log(`installing ${missing.join(', ')} (apt-get) ...`)
  const apt = (args) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  apt(['update', '-qq'])
  apt(['install', '-y', '-qq', 'wrk', 'nginx'])
}

const nginxBin = () => (has('nginx') ? 'nginx' : '/usr/sbin/nginx')

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitHttp(port, what) {
  // up to 60 s: ten servers starting at once on a loaded 2-core machine can take a while
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) })
      await r.arrayBuffer()
      if (r.status === 200) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} did not answer 200 on port ${port}`)
}

const started = []
function start(cmd, args, name, env = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } })
  let err = ''
  child.stderr.on('data', (c) => (err = (err + c).slice(-4000)))
  child.on('exit', (code) => code && code !== 0 && process.stderr.write(`[${name}] exited ${code}\n${err}`))
  started.push(child)
  return child
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  process.kill(child.pid, 'SIGTERM')
  const t = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000)
  await exited
  clearTimeout(t)
}

function nginxConf(dir, template, vars) {
  let text = readFileSync(here(`./proxy/${template}`), 'utf8')
  const all = { ...vars, dir, user: process.getuid?.() === 0 ? 'user root;' : '' }
  for (const [k, v] of Object.entries(all)) text = text.replaceAll(`{{${k}}}`, String(v))
  const file = join(dir, template)
  writeFileSync(file, text)
  return file
}

const wrkArgs = (port, seconds, threads = 2) => [`-t${threads}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`]

/** wrk → { rps, p99ms, errors } */
function wrk(port, seconds) {
  return parseWrk(execFileSync('wrk', wrkArgs(port, seconds), { encoding: 'utf8' }))
}

/** wrk in the background (one thread: two of them side by side use as many as one alone) */
function wrkAsync(port, seconds) {
  return new Promise((resolve, reject) =>
    execFile('wrk', wrkArgs(port, seconds, 1), { encoding: 'utf8' }, (err, out) => (err ? reject(err) : resolve(parseWrk(out)))),
  )
}

function parseWrk(out) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  const m = /99%\s+([\d.]+)(us|ms|s)\b/.exec(out)
  const p99ms = m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const sock = /Socket errors:.*/.exec(out)?.[0] ?? ''
  return { rps, p99ms, non2xx, sock }
}

/** Descendants of `pid` (itself included), from /proc. */
function tree(pid) {
  const out = [pid]
  for (let i = 0; i < out.length; i++) {
    try {
      for (const t of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim()
        if (kids) out.push(...kids.split(/\s+/).map(Number))
      }
    } catch {}
  }
  return out
}

/** CPU seconds (user + system) used so far by `pid` and its descendants. */
function cpuSeconds(pid) {
  let ticks = 0
  for (const p of tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(f[11]) + Number(f[12])
    } catch {}
  }
  return ticks / CLK_TCK
}

// The proxy's CPU time per request is printed beside the rates: on a busy machine it is
// the steadier measure of the proxy's own cost (rates also depend on what else runs).
async function measure(name, port, pid, warmup = WARMUP) {
  await waitHttp(port, name)
  wrk(port, warmup)
  const c0 = cpuSeconds(pid)
  const r = wrk(port, SECONDS)
  r.cpuUs = ((cpuSeconds(pid) - c0) * 1e6) / (r.rps * SECONDS)
  console.log(`${name.padEnd(20)} ${r.rps.toFixed(0).padStart(8)} req/s   p99 ${r.p99ms.toFixed(2).padStart(7)} ms   proxy cpu ${r.cpuUs.toFixed(1).padStart(6)} us/req${r.non2xx ? `   non-2xx ${r.non2xx}` : ''}${r.sock ? `   ${r.sock}` : ''}`)
  return r
}

/**
 * Paired rounds: `a` and `b` loaded at the same time for SECONDS, each by its own wrk, and each
 * one's CPU read over that same window — the machine's noise (other engineers' jobs) hits both
 * alike, so the ratios are steadier than those of rounds taken one after the other. Returns the
 * per-round ratios a / b.
 */
async function paired(a, b, rounds) {
  const out = []
  for (let round = 1; round <= rounds; round++) {
    await Promise.all([wrkAsync(a.port, WARMUP), wrkAsync(b.port, WARMUP)])
    const [ca, cb] = [cpuSeconds(a.pid), cpuSeconds(b.pid)]
    const [ra, rb] = await Promise.all([wrkAsync(a.port, SECONDS), wrkAsync(b.port, SECONDS)])
    const cpuA = ((cpuSeconds(a.pid) - ca) * 1e6) / (ra.rps * SECONDS)
    const cpuB = ((cpuSeconds(b.pid) - cb) * 1e6) / (rb.rps * SECONDS)
    out.push({ rps: ra.rps / rb.rps, p99: ra.p99ms / rb.p99ms, cpu: cpuA / cpuB, cpuA, cpuB })
  }
  return out
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Starts the proxies in front of `backendPort`; resolves to [{ name, port, pid }]. */
async function startProxies(dir, backendPort) {
  const config = (name, listen, admin, extra = {}) => {
    const file = join(dir, `${name}.config.mjs`)
    writeFileSync(file, `export default ${JSON.stringify({
      global: { checkup_timer_interval: 5 },
      bench: { typ: 'http', timeout: 5, cluster: [{ servers: [{ host: '127.0.0.1', port: backendPort, max_fails: 3 }] }] },
      server: { listen: `127.0.0.1:${listen}`, admin: { listen: `127.0.0.1:${admin}` }, routes: [{ upstream: 'bench' }], access_log: { format: 'off' }, ...extra },
    })}\n`)
    return file
  }
  const list = []
  const wanted = (name) => ONLY === undefined || ONLY.includes(name)
  /** a checkups server (`entry`) with `extra` server options and `env` */
  const checkups = async (name, { entry = serverEntry, extra, env } = {}) => {
    if (!wanted(name)) return
    const [port, admin] = [await freePort(), await freePort()]
    const child = start(process.execPath, [entry, '--config', config(name, port, admin, extra), '--workers', String(WORKERS)], name, env)
    list.push({ name, port, pid: child.pid })
  }
  /** a Node proxy script of ./proxy/ taking <port> <backend> <workers> */
  const script = async (name, file, env) => {
    if (!wanted(name)) return
    const port = await freePort()
    const child = start(process.execPath, [here(`./proxy/${file}`), String(port), String(backendPort), String(WORKERS)], name, env)
    list.push({ name, port, pid: child.pid })
  }
  await checkups('checkups')
  if (baselineEntry) await checkups('checkups-before', { entry: baselineEntry }) // same config: only the build differs
  await checkups('checkups-nostats', { env: { CHECKUPS_STATS: 'off' } })
  if (wanted('nginx')) {
    const np = await freePort()
    const ng = start(nginxBin(), ['-e', 'stderr', '-p', dir, '-c', nginxConf(dir, 'nginx-proxy.conf', { port: np, backend: backendPort, workers: WORKERS })], 'nginx')
    list.push({ name: 'nginx', port: np, pid: ng.pid })
  }
  await script('http-proxy-3', 'http-proxy-3.mjs')
  await script('fastify-http-proxy', 'fastify-http-proxy.mjs')
  await script('floor', 'floor.mjs')
  if (LEVERS) {
    await checkups('checkups-sched-none', { env: { NODE_CLUSTER_SCHED_POLICY: 'none' } })
    if (HAS_REUSE_PORT) await checkups('checkups-reuseport', { extra: { reuse_port: true } })
    else console.log(`checkups-reuseport: skipped, node ${process.version} has no listen({ reusePort }) (22.12+)`)
    await checkups('checkups-pipeline8', { extra: { upstream_pipelining: 8 } })
    await script('floor-pipeline8', 'floor.mjs', { FLOOR_PIPELINING: '8' })
  }
  for (const p of list) await waitHttp(p.port, p.name)
  return list
}

async function main() {
  ensureTools()
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-proxy-'))
  for (const d of ['b_body', 'p_body']) mkdirSync(join(dir, d))
  const runs = {}
  try {
    const backendPort = await freePort()
    start(nginxBin(), ['-e', 'stderr', '-p', dir, '-c', nginxConf(dir, 'nginx-backend.conf', { port: backendPort })], 'backend')
    await waitHttp(backendPort, 'backend')
    console.log(
      `backend: nginx return 200 on :${backendPort}; wrk -t2 -c${CONNECTIONS} -d${SECONDS}s x ${ROUNDS} rounds (contenders interleaved); ` +
        `${WORKERS} proxy workers each; ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}\n`,
    )
    const proxies = await startProxies(dir, backendPort)
    for (let round = 1; round <= ROUNDS; round++) {
      // every other round in reverse order: no contender always runs right after the same one
      const order = round % 2 === 1 ? proxies : [...proxies].reverse()
      for (const p of order) (runs[p.name] ??= []).push(await measure(`${p.name} #${round}`, p.port, p.pid, round === 1 ? 3 : WARMUP))
    }
    if (PAIRED > 0) {
      const by = Object.fromEntries(proxies.map((p) => [p.name, p]))
      const pairs = [['checkups', 'floor'], ['checkups', 'fastify-http-proxy'], ['checkups', 'http-proxy-3'], ['checkups', 'nginx'], ['checkups', 'checkups-nostats']]
      if (by['checkups-before']) pairs.push(['checkups', 'checkups-before'])
      for (const v of ['checkups-sched-none', 'checkups-reuseport', 'checkups-pipeline8']) if (by[v]) pairs.push([v, 'checkups'])
      if (by['floor-pipeline8']) pairs.push(['floor-pipeline8', 'floor'])
      console.log(`\npaired rounds (both loaded at once, ${PAIRED} rounds of ${SECONDS} s, one wrk thread each; median of the per-round ratios):`)
      for (const [a, b] of pairs) {
        if (!by[a] || !by[b]) continue
        const rs = await paired(by[a], by[b], PAIRED)
        const m = (k) => median(rs.map((r) => r[k]))
        console.log(
          `${a.padEnd(19)} / ${b.padEnd(18)} throughput ${m('rps').toFixed(2)}x   p99 ${m('p99').toFixed(2)}x   cpu per request ${m('cpu').toFixed(2)}x ` +
            `(${m('cpuA').toFixed(1)} / ${m('cpuB').toFixed(1)} us)   per round cpu ${rs.map((r) => r.cpu.toFixed(2)).join(' ')}`,
        )
      }
    }
  } finally {
    for (const c of started) await stop(c).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  const results = {}
  console.log('\nmedian of rounds:')
  for (const [name, rs] of Object.entries(runs)) {
    results[name] = { rps: median(rs.map((r) => r.rps)), p99ms: median(rs.map((r) => r.p99ms)), cpuUs: median(rs.map((r) => r.cpuUs)) }
    const r = results[name]
    console.log(`${name.padEnd(20)} ${r.rps.toFixed(0).padStart(8)} req/s   p99 ${r.p99ms.toFixed(2).padStart(7)} ms   proxy cpu ${r.cpuUs.toFixed(1).padStart(6)} us/req`)
  }
  if (ONLY !== undefined) return
  const c = results.checkups
  const ratio = (a, b) => (a / b).toFixed(2)
  const line = (a, b, target) => {
    const x = results[a]
    const o = results[b]
    console.log(
      `${a.padEnd(19)} / ${b.padEnd(18)} throughput ${ratio(x.rps, o.rps)}x${target ? ` (target ${target})` : ''}   p99 ${ratio(x.p99ms, o.p99ms)}x   ` +
        `cpu per request ${ratio(x.cpuUs, o.cpuUs)}x`,
    )
  }
  console.log('')
  const ns = results['checkups-nostats']
  console.log(`statistics on / off: cpu per request ${ratio(c.cpuUs, ns.cpuUs)}x (target <= 1.05)   throughput ${ratio(c.rps, ns.rps)}x`)
  const best = ['http-proxy-3', 'fastify-http-proxy'].reduce((a, b) => (results[b].rps > results[a].rps ? b : a))
  console.log(`best Node peer: ${best}`)
  line('checkups', best, '>= 1.5x')
  for (const peer of ['http-proxy-3', 'fastify-http-proxy']) if (peer !== best) line('checkups', peer)
  console.log(`checkups / floor              cpu per request ${ratio(c.cpuUs, results.floor.cpuUs)}x (target <= 1.25x)   throughput ${ratio(c.rps, results.floor.rps)}x`)
  line('checkups', 'nginx', 'the physical reference')
  line('floor', 'nginx')
  if (results['checkups-before']) line('checkups', 'checkups-before', '>= 0.95x, no regression')
  if (LEVERS) {
    console.log('\nlevers (variant / its base, same run):')
    for (const v of ['checkups-sched-none', 'checkups-reuseport', 'checkups-pipeline8']) if (results[v]) line(v, 'checkups')
    line('floor-pipeline8', 'floor')
  }
}

await main()
