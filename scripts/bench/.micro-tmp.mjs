// temporary: per-CPU-second get rates, orig vs new, 1 and 2 processes (deleted after use)
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { attachInheritedZones, closeZoneFd, createZone, zoneStdio } from '@checkups/shm'
const SELF = fileURLToPath(import.meta.url)
const [, , which, role] = process.argv
const { SharedDict } = await import(which)
const KEYS = 1000
const keys = Array.from({ length: KEYS }, (_, i) => `upstream:peer:${i}`)
function measure(d, ms) {
  let miss = 0, n = 0
  const c0 = process.cpuUsage(); const t = performance.now(); let now = t
  while (now - t < ms) { for (let i = 0; i < 10000; i++) if (d.get(keys[(n + i) % KEYS]) === undefined) miss++; n += 10000; now = performance.now() }
  const c = process.cpuUsage(c0)
  return { wall: n / (now - t) * 1000, cpu: n / ((c.user + c.system) / 1000) * 1000, miss }
}
if (role === 'child') {
  const d = SharedDict.attach(attachInheritedZones().get('b'))
  process.on('message', (m) => { measure(d, 300); process.send(measure(d, m.ms)); process.exit(0) })
  process.send('ready')
} else {
  const zone = createZone('b', 16 << 20)
  const d = SharedDict.create(zone.buffer)
  for (let i = 0; i < KEYS; i++) d.set(keys[i], `value-of-${i}-`.padEnd(48, 'x'))
  measure(d, 300)
  const one = measure(d, 1000)
  const kids = [0, 1].map(() => { const { stdio, env } = zoneStdio([zone]); return fork(SELF, [which, 'child'], { stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio], env: { ...process.env, ...env } }) })
  closeZoneFd(zone)
  await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))))
  const res = await Promise.all(kids.map((k) => { const p = new Promise((r) => k.once('message', r)); k.send({ ms: 1500 }); return p }))
  const f = (x) => (x / 1e6).toFixed(2) + 'M'
  console.log(`${which.includes('orig') ? 'orig' : 'new '} one: wall ${f(one.wall)} cpu ${f(one.cpu)} | two: wall ${res.map((r) => f(r.wall)).join('/')} cpu ${res.map((r) => f(r.cpu)).join('/')} miss ${one.miss + res[0].miss + res[1].miss}`)
}
