// The per-peer statistics' cost on the request path, on one process: readyOk with a callback
// that answers at once ({ status: 200 }), with the recorder on and off (observer.recording),
// interleaved for ROUNDS rounds in the same run. Prints calls/s and CPU per call for both, the
// ratio, and the absolute cost per attempt in ns — the figure to hold against a proxied
// request's CPU (scripts/bench/proxy.mjs prints it; ~100 us here), where the target is <= 5 %.
// Bounded: ROUNDS x 2 x BENCH_MS (~12 s).
import { SharedDict } from '@checkups/shdict'
import { Checkups } from '@checkups/core'

const MS = Number(process.env.BENCH_MS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6)
const config = { api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 10001 }, { host: '127.0.0.1', port: 10002 }] }] } }
const zones = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 20), locks: SharedDict.create(1 << 20), config: SharedDict.create(1 << 20) }
new Checkups({ shared: zones }).init(config)
const c = new Checkups({ shared: zones })
c.prepareChecker(config)
const answer = { status: 200 }
const cb = () => answer

async function run(recording) {
  c.observer.recording = recording
  let ops = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  while (performance.now() - t0 < MS) {
    for (let i = 0; i < 1000; i++) await c.readyOk('api', cb)
    ops += 1000
  }
  const cpu = process.cpuUsage(cpu0)
  return { rate: ops / ((performance.now() - t0) / 1000), cpuNs: ((cpu.user + cpu.system) * 1000) / ops }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const on = []
const off = []
await run(true) // warm-up: JIT and slot claims
await run(false)
for (let r = 0; r < ROUNDS; r++) {
  off.push(await run(false))
  on.push(await run(true))
}
const m = (xs, k) => median(xs.map((x) => x[k]))
const [onRate, offRate, onCpu, offCpu] = [m(on, 'rate'), m(off, 'rate'), m(on, 'cpuNs'), m(off, 'cpuNs')]
console.log(`readyOk, statistics off  ${offRate.toFixed(0).padStart(9)} calls/s   cpu ${offCpu.toFixed(0).padStart(5)} ns/call   (baseline)`)
console.log(`readyOk, statistics on   ${onRate.toFixed(0).padStart(9)} calls/s   cpu ${onCpu.toFixed(0).padStart(5)} ns/call`)
console.log(`on / off: cpu per call ${(onCpu / offCpu).toFixed(2)}x, +${(onCpu - offCpu).toFixed(0)} ns per attempt ` +
  `(= ${((onCpu - offCpu) / 1000).toFixed(2)} % of a 100 us proxied request; target <= 5 %)`)
const s = c.getStats('api').api
console.log(`counted: ${Object.values(s).reduce((n, p) => n + p.requests, 0)} requests`)
