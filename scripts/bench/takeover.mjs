#!/usr/bin/env node
// Heartbeat takeover: kill -9 the leader worker, time until the NEW leader's first probe
// reaches a real TCP backend (checkup_timer_interval 60 s, so only a takeover probes).
//
//   node scripts/bench/takeover.mjs [--kills 5] [--workers 3]
//
// Real processes: a primary + workers through @checkups/runtime (test/fixtures/runtime-app.mjs).
// Baseline, same run: kill → the primary's log line for that exit (the time the primary needs
// to learn of the death at all; the takeover cannot be faster). Target: takeover <= 100 ms.
// Bounded: each kill waits at most 20 s; the primary is stopped by pid at the end.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const args = Object.fromEntries(process.argv.slice(2).flatMap((a, i, all) => a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : []))
const KILLS = Number(args.kills ?? 5)
const WORKERS = Number(args.workers ?? 3)
const APP = fileURLToPath(new URL('../../test/fixtures/runtime-app.mjs', import.meta.url))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function freePort() {
  const s = net.createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 2000 }, (res) => {
      let b = ''
      res.on('data', (d) => (b += d))
      res.on('end', () => { try { resolve(JSON.parse(b)) } catch (e) { reject(e) } })
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
  })
}

async function waitFor(what, fn, ms = 20_000) {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

async function main() {
  const probes = []
  const sockets = new Set()
  const backend = net.createServer((s) => { probes.push(performance.timeOrigin + performance.now()); sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}) })
  await new Promise((r) => backend.listen(0, '127.0.0.1', r))
  const dir = mkdtempSync(join(tmpdir(), 'checkups-takeover-bench-'))
  const config = join(dir, 'config.mjs')
  writeFileSync(config, `export default ${JSON.stringify({
    global: { checkup_timer_interval: 60, checkup_timer_overtime: 120, default_heartbeat_enable: true },
    api: { typ: 'general', timeout: 1, cluster: [{ servers: [{ host: '127.0.0.1', port: backend.address().port }] }] },
  })}\n`)
  const port = await freePort()
  const primary = spawn(process.execPath, [APP], { env: { ...process.env, FIXTURE_PORT: String(port), FIXTURE_WORKERS: String(WORKERS), FIXTURE_CONFIG: config }, stdio: ['ignore', 'ignore', 'pipe'] })
  const exits = new Map() // dead pid → time the primary logged the exit
  let partial = ''
  let ready = false
  let readyLines = 0 // 'worker ready' lines: a respawned worker is ready (not booting) when counted
  primary.stderr.on('data', (d) => {
    const lines = (partial + d).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      try {
        const l = JSON.parse(line)
        if (l.msg === 'all workers ready') ready = true
        if (l.msg === 'worker ready') readyLines++
        if (typeof l.workerPid === 'number' && (l.signal || l.code !== undefined) && /exit|crash/i.test(l.msg)) exits.set(l.workerPid, l.time)
      } catch { /* not a log line */ }
    }
  })
  const rows = []
  try {
    await waitFor('all workers ready', async () => ready, 30_000)
    for (let k = 0; k < KILLS; k++) {
      const leader = await waitFor('a leader', async () => {
        for (let i = 0; i < WORKERS * 4; i++) {
          const l = await get(port, '/leader')
          if (l.leader) return l
        }
        return undefined
      })
      await waitFor('a first probe', async () => probes.length > 0)
      await sleep(300) // the leader's round is over; the next is 60 s away
      const before = probes.length
      const killedAt = performance.timeOrigin + performance.now()
      process.kill(leader.pid, 'SIGKILL')
      await waitFor('the new leader\'s probe', async () => probes.length > before)
      await waitFor('the primary\'s exit log', async () => exits.has(leader.pid), 5000).catch(() => undefined)
      rows.push({ takeover: probes[before] - killedAt, seen: (exits.get(leader.pid) ?? NaN) - killedAt })
      // the respawned worker must have booted: a booting one that takes the lease probes late
      await waitFor('the respawned worker ready', async () => readyLines >= WORKERS + k + 1)
      await sleep(500)
    }
  } finally {
    primary.kill('SIGTERM')
    await new Promise((r) => { const t = setTimeout(() => { primary.kill('SIGKILL'); r() }, 15_000); primary.once('exit', () => { clearTimeout(t); r() }) })
    for (const s of sockets) s.destroy()
    backend.close()
    rmSync(dir, { recursive: true, force: true })
  }
  console.log(`heartbeat takeover after kill -9 of the leader (${WORKERS} workers, node ${process.version}), ms`)
  console.log(`${'kill'.padEnd(6)}${'takeover (new leader probes)'.padStart(30)}${'baseline: primary saw the exit'.padStart(32)}`)
  rows.forEach((r, i) => console.log(`${String(i + 1).padEnd(6)}${r.takeover.toFixed(1).padStart(30)}${r.seen.toFixed(1).padStart(32)}`))
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const m = med(rows.map((r) => r.takeover))
  console.log(`median takeover ${m.toFixed(1)} ms (max ${Math.max(...rows.map((r) => r.takeover)).toFixed(1)}), median exit-seen ${med(rows.map((r) => r.seen)).toFixed(1)} ms; target <= 100 ms: ${m <= 100 ? 'met' : 'MISSED'} (median)`)
}

main().catch((e) => { console.error(e); process.exit(1) })
