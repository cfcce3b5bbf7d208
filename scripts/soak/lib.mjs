// Shared parts of the soak scripts: a real `node apps/server` (the built public entry) over a
// config written to a temp dir, loopback backends in child processes, plain node:http admin
// and proxy requests, process stats from /proc. Every process started here is stopped by
// `stopAll()`, by pid (SIGKILL to the primary's process group for servers started detached).
// Loopback only; every wait is bounded.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ENTRY = fileURLToPath(new URL('../../apps/server/index.js', import.meta.url))
export const H = '127.0.0.1'
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
export const PAGE = Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout.trim()) || 4096
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const children = new Set()
const groups = new Set()
const dirs = new Set()

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, H, () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/** `n` backends (one child process each) answering 200 with their port. */
export async function startBackends(n) {
  const ports = []
  for (let i = 0; i < n; i++) {
    const port = await freePort()
    const c = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-length': ${String(port).length} }); s.end('${port}') }) }).listen(${port}, '${H}', () => process.stdout.write('ready\\n'))`], { stdio: ['ignore', 'pipe', 'ignore'] })
    children.add(c)
    await new Promise((r) => c.stdout.once('data', r))
    ports.push(port)
  }
  return ports
}

/** A config dir for `node apps/server`: returns { dir, config, proxyPort, adminPort, stateFile }. */
export async function writeServerConfig(upstreams, server = {}, global = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'checkups-soak-'))
  dirs.add(dir)
  const proxyPort = await freePort()
  const adminPort = await freePort()
  const config = join(dir, 'checkups.config.mjs')
  writeFileSync(config, `export default ${JSON.stringify({
    global: { checkup_timer_interval: 1, ...global },
    ...upstreams,
    server: { listen: `${H}:${proxyPort}`, admin: { listen: `${H}:${adminPort}` }, access_log: { format: 'off' }, ...server },
  })}\n`)
  return { dir, config, proxyPort, adminPort, stateFile: join(dir, '.checkups-state.json') }
}

/** Spawns the server (its own process group); returns the ChildProcess. */
export function spawnServer(cfg, workers) {
  const c = spawn(process.execPath, [ENTRY, '--config', cfg.config, '--workers', String(workers)], { detached: true, stdio: 'ignore' })
  children.add(c)
  groups.add(c.pid)
  c.once('exit', () => children.delete(c))
  return c
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 })

/** One request; resolves { status, headers, text } or rejects on a connection error. */
export function http(port, method, path, { body, fresh = false, timeout = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    if (fresh) headers.connection = 'close'
    const req = request({ host: H, port, method, path, headers, agent: fresh ? false : agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.setTimeout(timeout, () => req.destroy(new Error(`no answer to ${method} ${path}`)))
    req.on('error', reject)
    req.end(body)
  })
}

export async function json(port, method, path, value) {
  const r = await http(port, method, path, value === undefined ? { fresh: true } : { body: JSON.stringify(value), fresh: true })
  return { ...r, body: r.text ? JSON.parse(r.text) : undefined }
}

/** Until GET /workers lists `workers` ready rows (bounded); returns the rows. */
export async function waitWorkers(cfg, workers, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const r = await json(cfg.adminPort, 'GET', '/workers')
      if (r.status === 200 && r.body.length === workers && r.body.every((w) => w.state === 'ready')) return r.body
    } catch {}
    await sleep(20)
  }
  throw new Error('server not ready')
}

/** Until a proxied GET / answers 200 (bounded); returns the time it did (ms, Date.now()). */
export async function waitServing(cfg, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const r = await http(cfg.proxyPort, 'GET', '/', { fresh: true, timeout: 5_000 })
      if (r.status === 200) return Date.now()
    } catch {}
    await sleep(5)
  }
  throw new Error('server not serving')
}

export function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** RSS (bytes) and CPU seconds of one process, from /proc */
export function procStats(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return { rss: Number(f[21]) * PAGE, cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK }
}

// a soak stopped with Ctrl-C or SIGTERM still stops what it started
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    stopAll().finally(() => process.exit(130))
  })
}

/** Stops everything started here: servers (SIGKILL to their groups), backends; removes temp dirs. */
export async function stopAll() {
  agent.destroy()
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {}
  }
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r))
      try {
        process.kill(c.pid, 'SIGKILL')
      } catch {}
      await exited
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
