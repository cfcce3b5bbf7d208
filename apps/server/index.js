#!/usr/bin/env node
// `node apps/server`: the CLI entry (package.json "main" and "bin"). See src/main.ts.
import { main } from './dist/main.js'

const code = await main(process.argv.slice(2))
if (code !== undefined) process.exit(code)
