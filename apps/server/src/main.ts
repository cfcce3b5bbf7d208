/**
 * `node apps/server`: parses the command line, checks the whole config in the primary
 * (config-file.ts: a bad config never forks a worker), and starts the runtime
 * (packages/runtime) whose workers serve the admin API, the proxy and the demo (./worker.ts).
 * The same code runs in the primary and in each worker (node:cluster re-runs this script
 * with the same argv and environment).
 *
 * `node apps/server seed-store ...` seeds the cluster store instead (seed-store.ts).
 * Exit codes: 0 after --help, --version, a passed --check or a stop signal; 1 for a missing
 * or invalid config (or a failed --check), or a port that cannot be bound at start (probed
 * before forking: probe.ts); 2 for a
 * command line mistake.
 */
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { DEFAULT_STATE_FILE_NAME } from '@checkups/core'
import { run, RuntimeError, type PrimaryHandle } from '@checkups/runtime'
import { HELP, parseCli, type CliOptions } from './cli.js'
import { checkConfig, configPath, importConfigFile, serverConfig, type ServerConfig, type ServerOverrides } from './config-file.js'
import { CliError, ConfigFileError, ListenError } from './errors.js'
import { probeListeners } from './probe.js'
import { seedStore } from './seed-store.js'
import { formatListen } from './listen.js'
import { initServerWorker } from './worker.js'
import { startProcessMetrics } from './admin/process-metrics.js'

/** `name version` of this app, from its package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }
  return `checkups ${pkg.version ?? '0.0.0'} (node ${process.version})`
}

/** Starts the server; resolves to an exit code when it must exit now, else undefined. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  let cli: CliOptions | undefined
  try {
    if (argv[0] === 'seed-store') return await seedStore(argv.slice(1), env)
    cli = parseCli(argv, env)
    if (cli.help) {
      process.stdout.write(HELP)
      return 0
    }
    if (cli.version) {
      process.stdout.write(`${version()}\n`)
      return 0
    }
    const file = configPath(cli.config)
    const overrides: ServerOverrides = { listen: cli.listen, admin: cli.admin }
    // the primary checks everything once before forking; workers take the checked file
    const raw = await importConfigFile(file)
    const server = cluster.isPrimary ? checkConfig(raw, overrides) : { server: serverConfig(raw, overrides), warnings: [] }
    if (cli.check) return reportCheck(file, server.warnings)
    if (cluster.isPrimary) await probeListeners([server.server.listen, server.server.admin.listen])
    const handle = await run({
      config: file,
      workers: cli.workers ?? server.server.workers,
      shared_dicts: server.server.shared_dicts,
      // dynamic upstream changes persist next to the config unless --state moves them
      state: cli.state ?? join(dirname(file), DEFAULT_STATE_FILE_NAME),
      validate: (next, config) => void serverConfig(next, overrides, Object.keys(config.upstreams)),
      initWorker: (ctx) => initServerWorker(ctx, overrides),
      logger: { ...(cli.logLevel ? { level: cli.logLevel } : {}), ...(cli.logFormat ? { format: cli.logFormat } : {}) },
      // the primary's own process metrics, so any worker's /metrics shows it too
      init: (ctx) => void startProcessMetrics({ procs: ctx.checkups.observer.procs, worker: 'primary' }),
    })
    if (handle.role === 'primary') logServing(handle, server.server)
    return undefined
  } catch (err) {
    const code = reportStartError(err)
    if (cli?.check && code === 1) process.stderr.write(`checkups: configuration file test failed\n`)
    return code
  }
}

function reportCheck(file: string, warnings: readonly string[]): number {
  for (const w of warnings) process.stderr.write(`checkups: warning: ${w}\n`)
  process.stderr.write(`checkups: the configuration file ${file} syntax is ok\ncheckups: configuration file ${file} test is successful\n`)
  return 0
}

/** One line once every worker serves: where to send traffic and admin requests. */
function logServing(handle: PrimaryHandle, server: ServerConfig): void {
  void handle.ready.then(() => {
    handle.ctx.logger.info({ proxy: `http://${formatListen(server.listen)}`, admin: `http://${formatListen(server.admin.listen)}` }, 'serving')
  })
}

function reportStartError(err: unknown): number {
  const where = cluster.isPrimary ? '' : ' (worker)'
  if (err instanceof CliError) {
    process.stderr.write(`checkups: ${err.message}\n`)
    return 2
  }
  const coded = typeof (err as { code?: unknown } | null)?.code === 'string' // RuntimeError, CheckupsError (state file)
  if (err instanceof ConfigFileError || err instanceof ListenError || err instanceof RuntimeError || coded) {
    process.stderr.write(`checkups${where}: ${(err as Error).message}\n`)
    return 1
  }
  process.stderr.write(`checkups${where}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  return 1
}
