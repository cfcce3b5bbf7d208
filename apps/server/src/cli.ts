/**
 * Command line of `node apps/server`, parsed with node:util parseArgs.
 * Precedence for each setting: flag > environment > the config file's `server` section >
 * default.
 */
import { parseArgs } from 'node:util'
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from '@checkups/runtime'
import { CliError } from './errors.js'

export { CliError }

export const HELP = `Usage: node apps/server [options]
       node apps/server seed-store [--config FILE] [--state FILE] [--force]

Runs the checkups reverse proxy and admin API: one primary process and N workers
(nginx's master/worker model) sharing upstream state in shared memory.

Options:
  -c, --config FILE        config module or .json file (default: $CHECKUPS_CONFIG, else the
                           bundled apps/server/checkups.config.js)
  -w, --workers N          worker processes (default: $CHECKUPS_WORKERS, server.workers,
                           else the number of CPUs)
  -l, --listen HOST:PORT   proxy listener (default: server.listen, else 127.0.0.1:8080)
  -a, --admin HOST:PORT    admin API listener (default: server.admin.listen, else 127.0.0.1:9080);
                           off loopback it needs server.admin.token
  -s, --state FILE         persist dynamic upstream changes to FILE and restore them at start
                           (default: .checkups-state.json next to the config file)
  -t, --check              check the config and exit: 0 when valid, else 1 with the reason
      --log-level LEVEL    fatal, error, warn, info, debug, trace or silent
                           (default: $CHECKUPS_LOG_LEVEL, else info)
      --log-format FORMAT  pretty or json (default: $CHECKUPS_LOG_FORMAT, else pretty on a
                           terminal and json otherwise)
  -v, --version            print the version and exit
  -h, --help               show this help

seed-store seeds global.cluster_store's Redis with this node's upstreams (see seed-store --help).

Signals to the primary: HUP reload, TERM/INT stop, QUIT graceful stop.
`

export interface CliOptions {
  help: boolean
  version: boolean
  check: boolean
  config: string | undefined
  workers: number | undefined
  listen: string | undefined
  admin: string | undefined
  state: string | undefined
  logLevel: string | undefined
  logFormat: LogFormat | undefined
}

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
        check: { type: 'boolean', short: 't' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (err) {
    throw new CliError(`${err instanceof Error ? err.message : String(err)} (see --help)`)
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  const fromEnv = (flag: string, name: string): [string | undefined, string] =>
    str(flag) !== undefined ? [str(flag), `--${flag}`] : [nonEmpty(env[name]), name]
  const workersText = str('workers') ?? nonEmpty(env['CHECKUPS_WORKERS'])
  return {
    help: values['help'] === true,
    version: values['version'] === true,
    check: values['check'] === true,
    config: str('config') ?? nonEmpty(env['CHECKUPS_CONFIG']),
    workers: workersText === undefined ? undefined : parseWorkers(workersText, str('workers') ? '--workers' : 'CHECKUPS_WORKERS'),
    listen: str('listen'),
    admin: str('admin'),
    state: str('state'),
    logLevel: oneOf(...fromEnv('log-level', 'CHECKUPS_LOG_LEVEL'), LOG_LEVELS),
    logFormat: oneOf(...fromEnv('log-format', 'CHECKUPS_LOG_FORMAT'), LOG_FORMATS),
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v
}

function oneOf<T extends string>(v: string | undefined, where: string, allowed: readonly T[]): T | undefined {
  if (v === undefined || (allowed as readonly string[]).includes(v)) return v as T | undefined
  throw new CliError(`${where}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`)
}

function parseWorkers(text: string, where: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw new CliError(`${where}: expected a number of workers 1..1024, got ${JSON.stringify(text)}`)
  }
  return n
}
