#!/usr/bin/env node
// The `checkups` command (package.json "bin"; also `node apps/server`). See src/main.ts.
import { readFileSync } from 'node:fs'

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  // answered before the server code loads: works even where the native addon is not built
  const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))
  process.stdout.write(`checkups ${version} (node ${process.version})\n`)
} else {
  const { main } = await import('./dist/main.js')
  const code = await main(argv)
  if (code !== undefined) process.exit(code)
}
