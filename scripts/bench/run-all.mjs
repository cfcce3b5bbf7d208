// Runs every benchmark of scripts/bench/ one after another (`npx -y pnpm@10 bench`), or the
// ones named on the command line (`node scripts/bench/run-all.mjs shdict select`). Each prints
// its own figures next to a baseline measured in the same run; this only sequences them so
// they don't compete for the machine's cores.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))
const all = readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'run-all.mjs').map((f) => f.slice(0, -4)).sort()
const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !all.includes(w))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; have: ${all.join(', ')}`)
  process.exit(2)
}
let failed = 0
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n=== ${name} ===`)
  const r = spawnSync(process.execPath, [dir + name + '.mjs'], { stdio: 'inherit', timeout: 180_000 })
  if (r.status !== 0) {
    failed++
    console.error(`${name}: exited ${r.status ?? r.signal}`)
  }
}
process.exit(failed > 0 ? 1 : 0)
