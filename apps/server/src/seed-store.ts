/**
 * `node apps/server seed-store [--config FILE] [--state FILE] [--force]`: seeds the cluster
 * store (`global.cluster_store`) with this node's upstreams — its state file's (what it
 * serves, when the file matches the config) or else the config file's.
 *
 * Invariants: an already seeded store is refused (CKP_ERR_STORE_SEEDED, exit 1) unless
 * `--force` (a new epoch: every node resyncs to these upstreams); nothing is written when
 * the config does not check or names no cluster store. Exit codes as the server's: 0 seeded,
 * 1 refused (the code and reason on stderr), 2 a command line mistake.
 */
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { ClusterStore, DEFAULT_STATE_FILE_NAME, loadStateFile, storeOptions, storedForm } from '@checkups/core'
import { checkConfig, configPath, importConfigFile } from './config-file.js'
import { CliError, ConfigFileError } from './errors.js'

export const SEED_HELP = `Usage: node apps/server seed-store [options]

Seeds the cluster store of the config's global.cluster_store with this node's upstreams
(its state file's when it matches the config, else the config file's). Refuses a store
that is already seeded (CKP_ERR_STORE_SEEDED) unless --force.

Options:
  -c, --config FILE   config module or .json file (default: $CHECKUPS_CONFIG, else the bundled one)
  -s, --state FILE    the state file to seed from (default: .checkups-state.json next to the config)
      --force         replace a seeded store's upstreams (a new epoch: every node resyncs)
  -h, --help          show this help
`

export async function seedStore(argv: readonly string[], env: NodeJS.ProcessEnv, out = process.stdout): Promise<number> {
  let values: { config?: string; state?: string; force?: boolean; help?: boolean }
  try {
    ;({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: { config: { type: 'string', short: 'c' }, state: { type: 'string', short: 's' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }))
  } catch (err) {
    throw new CliError(`seed-store: ${err instanceof Error ? err.message : String(err)} (see seed-store --help)`)
  }
  if (values.help) {
    out.write(SEED_HELP)
    return 0
  }
  const file = configPath(values.config ?? (env['CHECKUPS_CONFIG'] || undefined))
  const { config } = checkConfig(await importConfigFile(file))
  const cs = config.global.cluster_store
  if (!cs) throw new ConfigFileError(`seed-store: ${file} has no global.cluster_store`)
  const restore = loadStateFile(values.state ?? join(dirname(file), DEFAULT_STATE_FILE_NAME), config.conf_hash)
  const upstreams: Record<string, unknown> = {}
  if (restore) Object.assign(upstreams, restore.upstreams)
  else for (const [skey, ups] of Object.entries(config.upstreams)) upstreams[skey] = storedForm(ups)
  const store = new ClusterStore(storeOptions(cs))
  try {
    const r = await store.seed(upstreams, { force: values.force === true })
    out.write(`checkups: cluster store ${cs.namespace} seeded with ${Object.keys(upstreams).length} upstream(s) from ${restore ? 'the state file' : file}: version ${r.version}, epoch ${r.epoch}\n`)
    return 0
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown }
    if (typeof e.code !== 'string') throw err
    process.stderr.write(`checkups: seed-store: ${e.code}: ${String(e.message)}${e.code === 'CKP_ERR_STORE_SEEDED' ? ' (--force replaces it)' : ''}\n`)
    return 1
  } finally {
    await store.close()
  }
}
