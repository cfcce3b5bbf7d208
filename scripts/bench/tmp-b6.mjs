import { SharedDict } from '@checkups/shdict'
const KEYS = 1000
const keys = Array.from({ length: KEYS }, (_, i) => `upstream:peer:${i}`)
function measure(fn, N = 4e6) {
  for (let i = 0; i < 1e6; i++) fn(i)
  const c0 = process.cpuUsage()
  for (let i = 0; i < N; i++) fn(i)
  const c = process.cpuUsage(c0)
  return Math.round(N / ((c.user + c.system) / 1e6))
}
const d = SharedDict.create(16 << 20)
for (let i = 0; i < KEYS; i++) d.set(keys[i], `value-of-${i}-`.padEnd(48, 'x'))
const r = []
for (let k = 0; k < 5; k++) r.push(measure((i) => d.get(keys[i % KEYS])))
console.log('get cpu-rate', r.join(' '))
