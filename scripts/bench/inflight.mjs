// The cost of counting requests in flight (what `drain` waits for): readyOk on one process with
// counting on (the default) next to the same calls with `countInflight: false` measured in the
// same run (the baseline), with the ratio and the CPU time per call, for
//   - sequential calls with an immediate callback;
//   - 64 calls in flight at once with an async callback.
// Counting is in process memory; only drained servers are published to shared memory.
// Bounded: ~2 cases x 2 x (ROUNDS + 1) x BENCH_MS.
import { SharedDict } from '@checkups/shdict'
import { Checkups } from '@checkups/core'

const MS = Number(process.env.BENCH_MS ?? 1000)
const ROUNDS = 3
const config = { api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 10001 }, { host: '127.0.0.1', port: 10002 }] }] } }
const zones = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 20), locks: SharedDict.create(1 << 20), config: SharedDict.create(1 << 20) }
new Checkups({ shared: zones }).init(config)
const make = (countInflight) => {
  const c = new Checkups({ shared: zones, countInflight, worker: { id: countInflight ? 0 : 1, count: 2, pid: process.pid } })
  c.prepareChecker(config)
  return c
}
const counted = make(true)
const plain = make(false)
const now = (host, port) => port
const later = async (host, port) => { await null; return port }

const sequential = async (c) => { for (let i = 0; i < 2_000; i++) await c.readyOk('api', now); return 2_000 }
const concurrent = async (c) => {
  const lane = async () => { for (let i = 0; i < 50; i++) await c.readyOk('api', later) }
  await Promise.all(Array.from({ length: 64 }, lane))
  return 64 * 50
}

async function round(c, batch) {
  let ops = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let t = t0
  while (t - t0 < MS) {
    ops += await batch(c)
    t = performance.now()
  }
  const cpu = process.cpuUsage(cpu0)
  return { rate: (ops * 1000) / (t - t0), cpuNs: ((cpu.user + cpu.system) * 1000) / ops }
}

/** Rounds interleaved (base, counted, base, ...) so both see the same machine; best of each. */
async function measure(batch) {
  const best = { base: { rate: 0, cpuNs: Infinity }, counted: { rate: 0, cpuNs: Infinity } }
  await round(plain, batch) // warm-up of both paths
  await round(counted, batch)
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, c] of [['base', plain], ['counted', counted]]) {
      const got = await round(c, batch)
      if (got.rate > best[name].rate) best[name] = got
    }
  }
  return best
}

const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(12)
console.log(`readyOk, one process, best of ${ROUNDS} x ${MS} ms (node ${process.version})`)
console.log(`${'case'.padEnd(34)}${'base/s'.padStart(12)}${'counted/s'.padStart(12)}${'ratio'.padStart(8)}${'CPU ns base'.padStart(13)}${'counted'.padStart(9)}`)
for (const [name, batch] of [['sequential, immediate callback', sequential], ['64 in flight, async callback', concurrent]]) {
  const { base, counted: got } = await measure(batch)
  console.log(`${name.padEnd(34)}${fmt(base.rate)}${fmt(got.rate)}${(got.rate / base.rate).toFixed(3).padStart(8)}${fmt(base.cpuNs)}${fmt(got.cpuNs).slice(3)}`)
}
