/**
 * Command line of `node apps/server`, parsed with node:util parseArgs.
 * Precedence for each setting: flag > environment > the config file's `server` section >
 * default.
 */
import { parseArgs } from 'node:util'

export const HELP = `Usage: node apps/server [options]

Runs the checkups reverse proxy and admin API: one primary process and N workers
(nginx's master/worker model) sharing upstream state in shared memory.

Options:
  -c, --config FILE        config module (default: $CHECKUPS_CONFIG, else the bundled
                           apps/server/checkups.config.js)
  -w, --workers N          worker processes (default: $CHECKUPS_WORKERS, server.workers,
                           else the number of CPUs)
  -l, --listen HOST:PORT   proxy listener (default: server.listen, else 127.0.0.1:8080)
  -a, --admin HOST:PORT    admin API listener (default: server.admin.listen, else 127.0.0.1:9080)
  -s, --state FILE         persist dynamic upstream changes to FILE and restore them at start
                           (default: .checkups-state.json next to the config file)
  -h, --help               show this help

Signals to the primary: HUP reload, TERM/INT stop, QUIT graceful stop.
`

export interface CliOptions {
  help: boolean
  config: string | undefined
  workers: number | undefined
  listen: string | undefined
  admin: string | undefined
  state: string | undefined
}

import { CliError } from './errors.js'

export { CliError }

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        workers: { type: 'string', short: 'w' },
        listen: { type: 'string', short: 'l' },
        admin: { type: 'string', short: 'a' },
        state: { type: 'string', short: 's' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (err) {
    throw new CliError(`${err instanceof Error ? err.message : String(err)} (see --help)`)
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  const workersText = str('workers') ?? nonEmpty(env['CHECKUPS_WORKERS'])
  return {
    help: values['help'] === true,
    config: str('config') ?? nonEmpty(env['CHECKUPS_CONFIG']),
    workers: workersText === undefined ? undefined : parseWorkers(workersText, str('workers') ? '--workers' : 'CHECKUPS_WORKERS'),
    listen: str('listen'),
    admin: str('admin'),
    state: str('state'),
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v
}

function parseWorkers(text: string, where: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw new CliError(`${where}: expected a number of workers 1..1024, got ${JSON.stringify(text)}`)
  }
  return n
}
