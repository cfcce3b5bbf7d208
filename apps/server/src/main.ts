/**
 * `node apps/server`: parses the command line, checks the config file, and starts the
 * runtime (packages/runtime) whose workers serve the admin API and the proxy (./worker.ts).
 * The same code runs in the primary and in each worker (node:cluster re-runs this script
 * with the same argv and environment).
 *
 * Exit codes: 0 after --help or a stop signal, 1 for a missing or invalid config, 2 for a
 * command line mistake.
 */
import cluster from 'node:cluster'
import { dirname, join } from 'node:path'
import { DEFAULT_STATE_FILE_NAME } from '@checkups/core'
import { run, RuntimeError } from '@checkups/runtime'
import { CliError, HELP, parseCli } from './cli.js'
import { ConfigFileError, configPath, importConfigFile, serverConfig } from './config-file.js'
import { initServerWorker } from './worker.js'
import { startProcessMetrics } from './admin/process-metrics.js'

/** Starts the server; resolves to an exit code when it must exit now, else undefined. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  try {
    const cli = parseCli(argv, env)
    if (cli.help) {
      process.stdout.write(HELP)
      return 0
    }
    const file = configPath(cli.config)
    const overrides = { listen: cli.listen, admin: cli.admin }
    const server = serverConfig(await importConfigFile(file), overrides)
    await run({
      config: file,
      workers: cli.workers ?? server.workers,
      shared_dicts: server.shared_dicts,
      // dynamic upstream changes persist next to the config unless --state moves them
      state: cli.state ?? join(dirname(file), DEFAULT_STATE_FILE_NAME),
      validate: (raw) => void serverConfig(raw, overrides),
      initWorker: (ctx) => initServerWorker(ctx, overrides),
      // the primary's own process metrics, so any worker's /metrics shows it too
      init: (ctx) => void startProcessMetrics({ procs: ctx.checkups.observer.procs, worker: 'primary' }),
    })
    return undefined
  } catch (err) {
    return reportStartError(err)
  }
}

function reportStartError(err: unknown): number {
  const where = cluster.isPrimary ? '' : ' (worker)'
  if (err instanceof CliError) {
    process.stderr.write(`checkups: ${err.message}\n`)
    return 2
  }
  const coded = typeof (err as { code?: unknown } | null)?.code === 'string' // RuntimeError, CheckupsError (state file)
  if (err instanceof ConfigFileError || err instanceof RuntimeError || coded) {
    process.stderr.write(`checkups${where}: ${(err as Error).message}\n`)
    return 1
  }
  process.stderr.write(`checkups${where}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  return 1
}
