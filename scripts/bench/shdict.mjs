#!/usr/bin/env node
// Benchmark of @checkups/shdict: get / set / incr ops/s in one process and in
// 2 processes on one shared-memory zone, next to baselines measured in the same run:
// a plain JS Map get, and a child_process IPC round trip to the parent (what cluster
// workers would pay to ask the primary). Targets: get >= 2 000 000/s and >= 50x the IPC
// round trip in one process, and get >= 2 000 000/s per process with 2 processes reading
// one zone (lock-free reads). Bounded: ~20-25 s. One-process figures and the IPC baseline are
// the best of 5 windows (the box is shared); the two processes measure common windows
// (both run the same span, so the figures add up), best of 3 by the slower process.
//
// First section: get on 1 000 and 100 000 keys of a shared memory zone, next to Map.get over
// the same keys and access pattern (same run), with the CPU time per operation (user + system,
// from process.cpuUsage: less sensitive than ops/s to other jobs preempting us). Target: get
// >= 20 000 000/s per process at both sizes. SHDICT_BASELINE=/path/to/dist/index.js adds the
// same measurement of another build (e.g. the previous implementation) in the same run.
//
//   node scripts/bench/shdict.mjs           (run from the repo; packages built)
//   SHDICT_BASELINE=/tmp/old/dist/index.js node scripts/bench/shdict.mjs
//   SHDICT_BENCH_ONLY=get node scripts/bench/shdict.mjs     (the first section only)
import { fork } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { SharedDict } from '@checkups/shdict'
import { attachInheritedZones, closeZoneFd, createZone, zoneStdio } from '@checkups/shm'

const SELF = fileURLToPath(import.meta.url)
const MS = Number(process.env.BENCH_MS ?? 1000) // duration of each measurement
const WARM = Number(process.env.BENCH_WARM_MS ?? 300)
const WINDOWS = 5
const KEYS = 1000
const keys = Array.from({ length: KEYS }, (_, i) => `upstream:peer:${i}`)

function populate(dict) {
  for (let i = 0; i < KEYS; i++) dict.set(keys[i], `value-of-${i}-`.padEnd(48, 'x'))
}

/**
 * runs fn(i) in batches: ~WARM ms of warm-up (JIT tiers up), then ~ms measured in `windows`
 * windows; returns the best window's ops/s and the lowest CPU ns per op (user + system) —
 * best of several because a 2-core machine shared with other jobs preempts us at random.
 * Every result is consumed (a lookup that misses is an error), so no call is optimised away.
 */
function measureCpu(fn, ms = MS, windows = WINDOWS) {
  let misses = 0
  const run = (budget) => {
    let n = 0
    const cpu0 = process.cpuUsage()
    const start = performance.now()
    let now = start
    while (now - start < budget) {
      for (let i = 0; i < 10_000; i++) if (fn(n + i) === undefined) misses++
      n += 10_000
      now = performance.now()
    }
    const cpu = process.cpuUsage(cpu0)
    return { rate: (n / (now - start)) * 1000, cpuNs: ((cpu.user + cpu.system) * 1000) / n }
  }
  run(WARM)
  let best = { rate: 0, cpuNs: Infinity }
  for (let w = 0; w < windows; w++) {
    const r = run(ms / windows)
    if (r.rate > best.rate) best = { rate: r.rate, cpuNs: best.cpuNs }
    if (r.cpuNs < best.cpuNs) best.cpuNs = r.cpuNs
  }
  if (misses !== 0) throw new Error(`${misses} lookups missed`)
  return best
}

/** ops/s of fn (see measureCpu) */
const measure = (fn, ms = MS, windows = WINDOWS) => measureCpu(fn, ms, windows).rate

const ops = {
  get: (dict) => (i) => dict.get(keys[i % KEYS]),
  set: (dict) => (i) => dict.set(keys[i % KEYS], 'value-updated-'.padEnd(48, 'y')),
  incr: (dict) => (i) => dict.incr(`counter:${i & 7}`, 1, 0),
}


function spawn(zone) {
  const { stdio, env } = zoneStdio([zone])
  const child = fork(SELF, ['child'], { stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio], env: { ...process.env, ...env } })
  const waiters = []
  child.on('message', (m) => waiters.shift()?.(m))
  const next = () => new Promise((resolve) => waiters.push(resolve))
  return { child, next, ready: next() }
}

/** IPC round trips per second between this process and a child (send → reply) */
async function ipcRoundTrip(c) {
  const once = async () => {
    c.child.send({ op: 'ping' })
    await c.next()
  }
  for (let i = 0; i < 2000; i++) await once()
  let best = 0
  for (let w = 0; w < WINDOWS; w++) {
    let n = 0
    const start = performance.now()
    while (performance.now() - start < MS / WINDOWS) {
      for (let i = 0; i < 100; i++) await once()
      n += 100
    }
    best = Math.max(best, (n / (performance.now() - start)) * 1000)
  }
  return best
}

/** get on `n` keys of a fresh shm zone (this build, and SHDICT_BASELINE's if given) vs Map.get */
async function getAtScale(sizes) {
  const Baseline = process.env.SHDICT_BASELINE ? (await import(process.env.SHDICT_BASELINE)).SharedDict : null
  console.log('get, one process, shm zone      keys     ops/s   CPU ns/op   ops/CPU-s   vs Map.get (ops/s, CPU)')
  const out = {}
  for (const n of sizes) {
    const ks = Array.from({ length: n }, (_, i) => `upstream:peer:${i}`)
    const value = (i) => `value-of-${i}-`.padEnd(48, 'x')
    const map = new Map(ks.map((k, i) => [k, value(i)]))
    const rows = [['Map.get (private)', measureCpu((i) => map.get(ks[i % n]))]]
    for (const [name, Dict] of [['SharedDict.get', SharedDict], ['baseline build get', Baseline]]) {
      if (Dict === null) continue
      const zone = createZone(`scale${n}`, 64 * 1024 * 1024)
      const dict = Dict.create(zone.buffer)
      for (let i = 0; i < n; i++) if (!dict.set(ks[i], value(i)).ok) throw new Error('zone too small')
      rows.push([name, measureCpu((i) => dict.get(ks[i % n]))])
      closeZoneFd(zone)
    }
    const base = rows[0][1]
    for (const [name, r] of rows) {
      console.log(`  ${name.padEnd(20)} ${String(n).padStart(9)} ${fmt(r.rate)} ${r.cpuNs.toFixed(1).padStart(10)} ${fmt(1e9 / r.cpuNs)}` +
        `   ${(r.rate / base.rate).toFixed(2)}x, ${(base.cpuNs / r.cpuNs).toFixed(2)}x`)
    }
    out[n] = rows[1][1]
  }
  console.log('')
  return out
}

const fmt = (x) => Math.round(x).toLocaleString('en-US').padStart(12)
const ratio = (a, b) => `${(a / b).toFixed(1)}x`.padStart(8)

async function main() {
  const t0 = performance.now()
  console.log(`@checkups/shdict benchmark (node ${process.version}, ${MS} ms per figure after ${WARM} ms warm-up, ${KEYS} keys,` +
    ` load average ${loadavg()[0].toFixed(2)})\n`)

  const scale = await getAtScale([1000, 100_000])
  const scaleTargets = () => {
    for (const [n, r] of Object.entries(scale)) {
      console.log(`target get >= 20 000 000/s per process on ${n} keys: ${r.rate >= 20_000_000 ? 'MET' : 'NOT MET'}` +
        ` (${fmt(r.rate).trim()}/s, ${r.cpuNs.toFixed(1)} CPU ns/op = ${fmt(1e9 / r.cpuNs).trim()} per CPU-second)`)
    }
  }
  if (process.env.SHDICT_BENCH_ONLY === 'get') {
    scaleTargets()
    return
  }

  // baselines
  const map = new Map(keys.map((k, i) => [k, `value-of-${i}-`.padEnd(48, 'x')]))
  const mapGet = measure((i) => map.get(keys[i % KEYS]))
  const zone = createZone('bench', 16 * 1024 * 1024)
  const shared = SharedDict.create(zone.buffer)
  populate(shared)
  const kids = [spawn(zone), spawn(zone)]
  closeZoneFd(zone)
  await Promise.all(kids.map((k) => k.ready))
  const ipc = await ipcRoundTrip(kids[0])

  console.log('baselines (same run)')
  console.log(`  Map.get (private, one process)        ${fmt(mapGet)} ops/s`)
  console.log(`  child_process IPC round trip          ${fmt(ipc)} round trips/s`)
  console.log('')

  // one process: private SAB and shared memory zone
  const local = SharedDict.create(16 * 1024 * 1024)
  populate(local)
  console.log('one process                             ops/s        vs IPC    vs Map.get')
  const single = {}
  const dual = {}
  for (const op of ['get', 'set', 'incr']) {
    const r1 = measure(ops[op](local))
    const r2 = measure(ops[op](shared))
    single[op] = r2
    console.log(`  ${op.padEnd(5)} plain SAB                    ${fmt(r1)} ${ratio(r1, ipc)} ${ratio(r1, mapGet)}`)
    console.log(`  ${op.padEnd(5)} shm zone                     ${fmt(r2)} ${ratio(r2, ipc)} ${ratio(r2, mapGet)}`)
  }
  console.log('')

  // two processes on one zone, concurrently
  console.log('two processes on one shm zone           per process              aggregate   vs IPC (per proc)')
  for (const op of ['get', 'set', 'incr']) {
    let rates = [0, 0]
    for (let w = 0; w < 3; w++) {
      const replies = kids.map((k) => k.next())
      for (const k of kids) k.child.send({ op, ms: MS / 2 })
      const r = (await Promise.all(replies)).map((m) => m.rate)
      if (Math.min(...r) > Math.min(...rates)) rates = r
    }
    dual[op] = Math.min(...rates)
    const sum = rates[0] + rates[1]
    console.log(`  ${op.padEnd(5)} ${rates.map((r) => fmt(r)).join(' ')}   ${fmt(sum)}   ${ratio(Math.min(...rates), ipc)}`)
  }
  for (const k of kids) k.child.send({ op: 'exit' })

  const ok = single.get >= 2_000_000 && single.get / ipc >= 50
  console.log(`\ntarget get >= 2 000 000/s and >= 50x IPC (one process, shm): ${ok ? 'MET' : 'NOT MET'}` +
    ` (${fmt(single.get).trim()}/s, ${(single.get / ipc).toFixed(1)}x)`)
  console.log(`target get >= 2 000 000/s per process, 2 processes on one zone: ${dual.get >= 2_000_000 ? 'MET' : 'NOT MET'}` +
    ` (slower process ${fmt(dual.get).trim()}/s)`)
  scaleTargets()
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

// ---------------------------------------------------------------- entry (child or parent)
if (process.argv[2] === 'child') {
  const dict = SharedDict.attach(attachInheritedZones().get('bench'))
  process.on('message', (m) => {
    if (m.op === 'ping') return process.send({ op: 'pong' })
    if (m.op === 'exit') return process.exit(0)
    // one window: both processes measure the same span, so the figures add up (the JIT
    // warm-up before it is per process and not synchronised, hence measure's WARM)
    const rate = measure(ops[m.op](dict), m.ms, 1)
    process.send({ op: m.op, rate })
  })
  process.send({ op: 'ready' })
} else {
  await main()
}
