// A strict TypeScript consumer of every package, compiled with `tsc --noEmit` against the
// packed install: the published .d.ts files must be complete and resolvable (exports + types).
import { createZone, type Zone } from '@checkups/shm'
import { SharedDict, Lock } from '@checkups/shdict'
import { Checkups, CheckupsError, STATUS_OK, resolveConfig, requirePackage, type Status } from '@checkups/core'
import { run, SUPPORTED_NODE, type RunOptions, type WorkerContext } from '@checkups/runtime'
import { main, parseCli, type CliOptions } from '@checkups/server'
import { createHeartbeat, DEFAULT_POLL_MS, type Heartbeat } from '@checkups/core/heartbeat'
import { isCodedError } from '@checkups/shm/errors'
import serverManifest from '@checkups/server/package.json' with { type: 'json' }

const dict: SharedDict = SharedDict.create(64 * 1024)
const set: { ok: boolean } = dict.set('k', 'v', 1)
const lock = new Lock(dict, { timeout: 1 })
const zone: (name: string, size: number) => Zone = createZone
const cfg = resolveConfig({ api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] } })
const status: (c: Checkups) => Status = (c) => c.getStatus()
const isCoded = (e: unknown): string | undefined => (e instanceof CheckupsError ? e.code : undefined)
const options: RunOptions = {
  config: { api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] } },
  workers: 2,
  async initWorker(ctx: WorkerContext) {
    const peer: { host: string; port: number } = ctx.checkups.selectPeer('api')
    await ctx.checkups.readyOk('api', async (host: string, port: number) => `${host}:${port}:${peer.port}`)
  },
}
const cli: CliOptions = parseCli(['--workers', '2'])
const start: (argv: readonly string[]) => Promise<number | undefined> = main
const version: string = serverManifest.version
const heartbeat: typeof createHeartbeat = createHeartbeat
const poll: number = DEFAULT_POLL_MS
const leader = (h: Heartbeat): boolean => h.isLeader()
const coded = (e: unknown): boolean => isCodedError(e)

export { set, lock, zone, cfg, status, isCoded, options, cli, start, version, heartbeat, poll, leader, coded, run, requirePackage, STATUS_OK, SUPPORTED_NODE }
