// readyOk throughput on one process, through the public entry point: a synchronous callback
// that succeeds (the request path's own cost: pick, attempt context, accounting funnel), and one
// whose first attempt fails (a retry: exclusion, ew halving, the second pick), each next to a
// same-run baseline (selectPeer on the same upstream) with the ratio, and CPU per call.
// BENCH_COMPARE=<path of another build's packages/checkups/dist/index.js> measures that build in
// the same run, interleaved round by round (before/after a change). Bounded: ~15 s.
import { SharedDict } from '@checkups/shdict'
import * as current from '@checkups/core'

const MS = Number(process.env.BENCH_MS ?? 1000)
const ROUNDS = 3
const builds = [['this build', current]]
if (process.env.BENCH_COMPARE) builds.push(['compared', await import(process.env.BENCH_COMPARE)])

const peers = (n, base) => Array.from({ length: n }, (_, i) => ({ host: '127.0.0.1', port: base + i, weight: 1 + (i % 3) }))
const config = { rr2: { cluster: [{ servers: peers(2, 10000) }] }, rr4: { cluster: [{ servers: peers(4, 11000) }] } }

function worker(core) {
  const zones = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 20), locks: SharedDict.create(1 << 20), config: SharedDict.create(1 << 20) }
  new core.Checkups({ shared: zones }).init(config)
  const c = new core.Checkups({ shared: zones })
  c.prepareChecker(config)
  return c
}

/** best calls/s over ROUNDS of MS ms, and CPU µs per call in that round; `fn` returns a promise */
async function measure(fn) {
  let best = 0
  let cpu = 0
  for (let r = 0; r < ROUNDS; r++) {
    let ops = 0
    const u0 = process.cpuUsage()
    const t0 = performance.now()
    let t = t0
    while (t - t0 < MS) {
      const batch = []
      for (let i = 0; i < 1000; i++) batch.push(fn(i))
      await Promise.all(batch)
      ops += 1000
      t = performance.now()
    }
    const rate = (ops * 1000) / (t - t0)
    if (rate > best) {
      const u = process.cpuUsage(u0)
      best = rate
      cpu = (u.user + u.system) / ops
    }
  }
  return { rate: best, cpu }
}

let sink = 0
const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(11)
console.log(`readyOk, one process, best of ${ROUNDS} x ${MS} ms (node ${process.version})`)
console.log(`${'build'.padEnd(12)}${'case'.padEnd(26)}${'calls/s'.padStart(11)}${'cpu us'.padStart(8)}${'selectPeer/s'.padStart(14)}${'ratio'.padStart(8)}`)
const cases = [
  ['ok at once, 2 peers', 'rr2', () => 'ok'],
  ['1st attempt fails, 4 peers', 'rr4', (_h, _p, ctx) => (ctx?.attempt ?? 2) > 1 ? 'ok' : null],
]
for (const [name, skey, cb] of cases) {
  for (const [label, core] of builds) {
    const c = worker(core)
    const base = await measure(async () => { sink += c.selectPeer(skey).port })
    const got = await measure(() => c.readyOk(skey, cb).then((v) => { sink += v.length }))
    console.log(`${label.padEnd(12)}${name.padEnd(26)}${fmt(got.rate)}${got.cpu.toFixed(2).padStart(8)}  ${fmt(base.rate)}  ${(got.rate / base.rate).toFixed(3).padStart(7)}`)
  }
}
if (sink === 0.5) console.log(sink)
