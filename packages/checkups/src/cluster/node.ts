/**
 * The primary's side of a node in a fleet: one sync agent (agent.ts) that applies the cluster
 * store's snapshots and changes through the dynamic writer (the same lock, version bump and
 * state file as a local write), publishes the link for the workers (published.ts) and keeps
 * a presence key with a TTL (informational).
 *
 * Invariants
 * - Started only when `global.cluster_store` is configured; ioredis is loaded then, not before.
 * - The node's own configuration (the file and its state file, restored before this starts)
 *   serves until the store gives a snapshot: a store that is down or unseeded changes nothing.
 * - A revision is recorded only for what was applied (revs follow the zone, never the store).
 */
import { hostname } from 'node:os'
import type { ResolvedConfig } from '../config/types.js'
import type { DynamicApi } from '../dynamic/api.js'
import type { Dict, Logger } from '../zone-types.js'
import { SyncAgent, type SyncStatus } from './agent.js'
import { storeOptions } from './options.js'
import { publishStatus } from './published.js'
import { ClusterStore } from './store.js'

export interface ClusterSync {
  readonly agent: SyncAgent
  readonly store: ClusterStore
  stop(): Promise<void>
}

export interface ClusterSyncDeps {
  dynamic: Pick<DynamicApi, 'applyRemote'>
  config: Dict
  logger: Logger
  /** XREAD BLOCK / idle check period in ms (default 2 000) */
  blockMs?: number
  /** presence key TTL in seconds (default 15; refreshed every third of it) */
  presenceTtl?: number
}

/** Starts this node's sync agent (undefined when `global.cluster_store` is not configured). */
export function startClusterSync(cfg: ResolvedConfig, deps: ClusterSyncDeps): ClusterSync | undefined {
  const cs = cfg.global.cluster_store
  if (!cs) return undefined
  const store = new ClusterStore(storeOptions(cs))
  const revs = new Map<string, number>()
  const log = deps.logger
  const agent = new SyncAgent(store, {
    async applySnapshot(s) {
      const changes: Record<string, unknown> = {}
      for (const [skey, u] of Object.entries(s.upstreams)) changes[skey] = u.config
      await deps.dynamic.applyRemote(changes, true)
      revs.clear()
      for (const [skey, u] of Object.entries(s.upstreams)) revs.set(skey, u.rev)
    },
    async applyChange(e) {
      if (e.op === 'seed') return // the agent resyncs on a seed entry, never applies it as a change
      await deps.dynamic.applyRemote({ [e.skey]: e.op === 'put' ? e.config : null }, false)
      if (e.op === 'put') revs.set(e.skey, e.v)
      else revs.delete(e.skey)
    },
  }, {
    ...(deps.blockMs !== undefined ? { blockMs: deps.blockMs } : {}),
    logger: { info: (o, m) => log.info(o as Record<string, unknown>, m), warn: (o, m) => log.warn(o as Record<string, unknown>, m) },
    onStatus: (s: SyncStatus) => publishStatus(deps.config, s, revs),
  })
  publishStatus(deps.config, agent.status(), revs)
  agent.start()
  const ttl = deps.presenceTtl ?? 15
  const nodeId = `${hostname()}:${process.pid}`
  const touch = () => void store.touch(nodeId, { pid: process.pid, host: hostname(), ...agent.status() }, ttl)
  touch()
  const timer = setInterval(touch, Math.max(1000, (ttl * 1000) / 3))
  timer.unref()
  return {
    agent, store,
    async stop() {
      clearInterval(timer)
      await agent.stop()
      await store.close()
    },
  }
}
