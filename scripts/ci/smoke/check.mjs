// Smoke checks run inside the packed install (cwd = that directory, outside the workspace).
// Every process started here is stopped here, by pid; every wait is bounded.
import { spawn, execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import assert from 'node:assert/strict'

const children = new Set()
process.on('exit', () => { for (const c of children) c.kill('SIGKILL') })

function step(name) { process.stderr.write(`[smoke] ${name}\n`) }

/** Runs node with args; resolves { code, stdout, stderr } or rejects after ms. */
function runNode(args, { env = {}, ms = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${args.join(' ')}: no exit in ${ms} ms\n${stdout}\n${stderr}`)) }, ms)
    child.on('exit', (code, signal) => { clearTimeout(timer); children.delete(child); resolve({ code, signal, stdout, stderr, child }) })
  })
}

async function freePort() {
  const srv = net.createServer()
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address()
  await new Promise((r) => srv.close(r))
  return port
}

async function get(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  return { status: res.status, body: await res.text() }
}

async function until(what, fn, ms = 30_000) {
  const end = Date.now() + ms
  let last
  while (Date.now() < end) {
    try { const v = await fn(); if (v) return v } catch (err) { last = err }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${what}: not within ${ms} ms (${last?.message ?? 'no answer'})`)
}

// a loopback backend: answers every request with who asked
const hits = []
const backend = http.createServer((req, res) => { hits.push(req.url); res.end(`hello ${req.url}`) })
await new Promise((r) => backend.listen(0, '127.0.0.1', r))
const backendPort = backend.address().port

try {
  step('run() with 2 workers, readyOk against a loopback backend')
  {
    const r = await runNode(['app.mjs'], { env: { SMOKE_BACKEND_PORT: String(backendPort) } })
    assert.equal(r.code, 0, `app.mjs exited ${r.code}\n${r.stderr}`)
    const line = r.stdout.trim().split('\n').pop()
    assert.deepEqual(JSON.parse(line), {
      'worker-0': 'hello /hello?worker=0',
      'worker-1': 'hello /hello?worker=1',
    })
    assert.deepEqual(hits.filter((u) => u.startsWith('/hello')).sort(), ['/hello?worker=0', '/hello?worker=1'])
  }

  step('npx checkups --version')
  {
    const { version } = JSON.parse(execFileSync('npm', ['ls', '@checkups/server', '--json'], { encoding: 'utf8' })).dependencies['@checkups/server']
    const out = execFileSync('npx', ['--no-install', 'checkups', '--version'], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(out, `checkups ${version} (node ${process.version})\n`)
  }

  step('checkups --config my.config.js serves the proxy and the admin API')
  {
    const [listen, admin] = [await freePort(), await freePort()]
    writeFileSync('my.config.js', `export default {
  api: { timeout: 2, cluster: [{ servers: [{ host: '127.0.0.1', port: ${backendPort} }] }] },
  server: { workers: 2, routes: [{ path_prefix: '/', upstream: 'api' }] },
}
`)
    const bin = 'node_modules/@checkups/server/index.js' // what npx checkups runs; spawned directly to own the pid
    const exited = runNode([bin, '--config', 'my.config.js', '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`], { ms: 90_000 })
    const proxied = await until('proxy answers', async () => {
      const r = await get(`http://127.0.0.1:${listen}/via-proxy`)
      return r.status === 200 ? r : undefined
    })
    assert.equal(proxied.body, 'hello /via-proxy')
    const status = JSON.parse((await get(`http://127.0.0.1:${admin}/status`)).body)
    assert.ok(status['cls:api'], `status has cls:api: ${JSON.stringify(status)}`)
    const [child] = [...children]
    child.kill('SIGTERM')
    const r = await exited
    assert.equal(r.code, 0, `checkups exited ${r.code} ${r.signal}\n${r.stderr}`)
  }

  step("an upstream with typ: 'redis' without ioredis installed: one clear line at start")
  {
    writeFileSync('redis.config.js', `export default {
  cache: { typ: 'redis', cluster: [{ servers: [{ host: '127.0.0.1', port: ${backendPort} }] }] },
  server: { workers: 1 },
}
`)
    const [listen, admin] = [await freePort(), await freePort()]
    const r = await runNode(['node_modules/@checkups/server/index.js', '--config', 'redis.config.js', '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`])
    assert.equal(r.code, 1, `exit code\n${r.stderr}`)
    const lines = r.stderr.trim().split('\n')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], /upstream "cache" \(typ: 'redis'\) needs the package "ioredis".*npm install ioredis$/)
  }

  step('a strict TypeScript consumer: tsc --noEmit')
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit', timeout: 120_000 })

  // The same with every .d.ts checked (skipLibCheck: false): our declarations may only lack
  // the optional peers' own types (the clients' options name ioredis / mysql2 / undici types).
  step('the same with skipLibCheck: false: only the optional peers\' types may be missing')
  {
    let out = ''
    try {
      execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.libcheck.json'], { encoding: 'utf8', timeout: 120_000 })
    } catch (err) {
      out = String(err.stdout)
    }
    const errors = out.split('\n').filter((l) => /error TS\d+/.test(l))
    const other = errors.filter((l) => !/error TS2307: Cannot find module '(ioredis|mysql2(\/promise)?|piscina|undici)'/.test(l))
    assert.deepEqual(other, [], out)
    if (errors.length) process.stderr.write(`[smoke]   (${errors.length} declarations name an optional peer's types: ${[...new Set(errors.map((l) => /'([^']+)'/.exec(l)[1]))].join(', ')})\n`)
  }

  step('ok')
} finally {
  backend.close()
}
