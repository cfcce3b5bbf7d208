import { SharedDict } from '@checkups/shdict'
const KEYS = 1000
const keys = Array.from({ length: KEYS }, (_, i) => `upstream:peer:${i}`)
function measure(fn, N = 3e6) {
  for (let i = 0; i < 20_000; i++) fn(i)
  const c0 = process.cpuUsage()
  for (let i = 0; i < N; i++) fn(i)
  const c = process.cpuUsage(c0)
  return Math.round(N / ((c.user + c.system) / 1e6))
}
const d = SharedDict.create(16 << 20)
for (let i = 0; i < KEYS; i++) d.set(keys[i], `value-of-${i}-`.padEnd(48, 'x'))
const m = new Map(keys.map((k) => [k, 1]))
for (let r = 0; r < 4; r++) console.log('get', measure((i) => d.get(keys[i % KEYS])), 'set', measure((i) => d.set(keys[i % KEYS], 'value-updated-'.padEnd(48, 'y')), 1e6), 'incr', measure((i) => d.incr(`c${i & 7}`, 1, 0), 1e6))
