// Reverse proxy throughput (issue 7): requests/s and p99 latency with wrk on loopback for
//   checkups    `node apps/server` (2 workers, undici keep-alive pool per peer, readyOk path)
//   nginx       proxy_pass with a keep-alive upstream (2 workers)          — the reference
//   http-proxy-3 the maintained Node proxy library behind node:cluster (2 workers)
// all in front of the same backend (nginx `return 200`, 1 worker), one after another in one
// run, printed with ratios. Targets: checkups >= 0.5x nginx, and ahead of the Node peer.
// Installs Debian's wrk and nginx when missing (apt-get). Every process started here is
// stopped here, by pid. Bounded: ~3 x (warm-up + BENCH_SECONDS) s, default ~40 s.
//
// env: BENCH_SECONDS (8), BENCH_CONNECTIONS (64), BENCH_WORKERS (2)
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const WARMUP = 2
const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const serverEntry = here('../../apps/server/index.js')

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
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`)
      await r.arrayBuffer()
      if (r.status === 200) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} did not answer 200 on port ${port}`)
}

const started = []
function start(cmd, args, name) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
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

/** wrk → { rps, p99ms, errors } */
function wrk(port, seconds) {
  const out = execFileSync('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`], { encoding: 'utf8' })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  const m = /99%\s+([\d.]+)(us|ms|s)\b/.exec(out)
  const p99ms = m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const sock = /Socket errors:.*/.exec(out)?.[0] ?? ''
  return { rps, p99ms, non2xx, sock }
}

async function measure(name, port) {
  await waitHttp(port, name)
  wrk(port, WARMUP)
  const r = wrk(port, SECONDS)
  console.log(`${name.padEnd(13)} ${r.rps.toFixed(0).padStart(8)} req/s   p99 ${r.p99ms.toFixed(2).padStart(7)} ms${r.non2xx ? `   non-2xx ${r.non2xx}` : ''}${r.sock ? `   ${r.sock}` : ''}`)
  return r
}

async function main() {
  ensureTools()
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-proxy-'))
  for (const d of ['b_body', 'p_body']) mkdirSync(join(dir, d))
  const results = {}
  try {
    const backendPort = await freePort()
    const backend = start(nginxBin(), ['-e', 'stderr', '-p', dir, '-c', nginxConf(dir, 'nginx-backend.conf', { port: backendPort })], 'backend')
    await waitHttp(backendPort, 'backend')
    console.log(`backend: nginx return 200 on :${backendPort}; wrk -t2 -c${CONNECTIONS} -d${SECONDS}s; ${WORKERS} proxy workers each\n`)

    // checkups
    const [cp, ca] = [await freePort(), await freePort()]
    const cfg = join(dir, 'checkups.config.mjs')
    writeFileSync(cfg, `export default ${JSON.stringify({
      global: { checkup_timer_interval: 5 },
      bench: { typ: 'http', timeout: 5, cluster: [{ servers: [{ host: '127.0.0.1', port: backendPort, max_fails: 3 }] }] },
      server: { listen: `127.0.0.1:${cp}`, admin: { listen: `127.0.0.1:${ca}` }, routes: [{ upstream: 'bench' }] },
    })}\n`)
    const ck = start(process.execPath, [serverEntry, '--config', cfg, '--workers', String(WORKERS)], 'checkups')
    results.checkups = await measure('checkups', cp)
    await stop(ck)

    // nginx proxy_pass
    const np = await freePort()
    const ng = start(nginxBin(), ['-e', 'stderr', '-p', dir, '-c', nginxConf(dir, 'nginx-proxy.conf', { port: np, backend: backendPort, workers: WORKERS })], 'nginx')
    results.nginx = await measure('nginx', np)
    await stop(ng)

    // http-proxy-3
    const hp = await freePort()
    const peer = start(process.execPath, [here('./proxy/http-proxy-3.mjs'), String(hp), String(backendPort), String(WORKERS)], 'http-proxy-3')
    results['http-proxy-3'] = await measure('http-proxy-3', hp)
    await stop(peer)

    await stop(backend)
  } finally {
    for (const c of started) await stop(c).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  const c = results.checkups
  const ratio = (a, b) => (a / b).toFixed(2)
  console.log(`\ncheckups / nginx         throughput ${ratio(c.rps, results.nginx.rps)}x   p99 ${ratio(c.p99ms, results.nginx.p99ms)}x   (target >= 0.5x throughput)`)
  console.log(`checkups / http-proxy-3  throughput ${ratio(c.rps, results['http-proxy-3'].rps)}x   p99 ${ratio(c.p99ms, results['http-proxy-3'].p99ms)}x   (target > 1x throughput)`)
}

await main()
