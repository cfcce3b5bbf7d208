/**
 * A worker's writes when `global.cluster_store` is configured: the store first (one Lua
 * script, store.ts), then this node applies it (its primary's sync agent) before the write
 * resolves — so an acknowledged write is in the store and served here.
 *
 * Invariants
 * - The next upstream is built from the store's copy (not this node's), and written with
 *   that copy's revision as If-Match: two nodes changing one upstream at once never lose a
 *   change — the later retries on the new copy (bounded), or, when the caller gave If-Match
 *   itself, gets CKP_ERR_STORE_CONFLICT (409).
 * - Redis unreachable or unseeded: the error at once (503), nothing changed anywhere.
 * - ioredis is loaded at the first write, not before.
 */
import { resolveStored, storedForm } from '../config/resolve.js'
import type { HeartbeatFn, ResolvedClusterStore, ResolvedConfig, ResolvedUpstream } from '../config/types.js'
import type { CheckupsError } from '../errors.js'
import type { Dict, Logger } from '../zone-types.js'
import { storeOptions } from './options.js'
import { readRevision, waitApplied } from './published.js'
import { ClusterStore, type WriteResult } from './store.js'

/** how many times a write without If-Match retries on a concurrent change of the same upstream */
const RETRIES = 8

export interface RemoteWriteDeps {
  options: ResolvedClusterStore
  config: Dict
  logger: Logger
  heartbeat(skey: string): HeartbeatFn | null
  /** how long a write waits for this node to apply it (ms, default 5 000) */
  applyTimeoutMs?: number
}

/** The upstream as the store keeps it (the state file's form). */
export { storedForm } from '../config/resolve.js'

/** A write in the store; `applied` false: this node had not applied it when the wait ran out. */
export interface StoreWrite extends WriteResult { applied: boolean }

export class RemoteWrites {
  #store: ClusterStore | undefined

  constructor(private readonly d: RemoteWriteDeps) {}

  heartbeat(skey: string): HeartbeatFn | null {
    return this.d.heartbeat(skey)
  }

  /** The store revision of `skey` as this node applied it (the ETag in cluster mode). */
  revision(skey: string): number | undefined {
    return readRevision(this.d.config, skey)
  }

  /**
   * `next` gets the store's upstream (undefined: none) and returns the one to store (null:
   * delete). Resolves once this node applied the write (or the wait ran out: `applied` false,
   * logged — the write is in the store and every node applies it when it can).
   */
  async write(skey: string, ifMatch: number | undefined, next: (stored: ResolvedUpstream | undefined) => ResolvedUpstream | null): Promise<StoreWrite> {
    const store = (this.#store ??= new ClusterStore(storeOptions(this.d.options)))
    for (let attempt = 0; ; attempt++) {
      const cur = await store.get(skey)
      const stored = cur ? resolveStored(skey, cur.config, this.d.heartbeat(skey)) : undefined
      const ups = next(stored)
      const base = ifMatch ?? cur?.rev ?? 0
      let r: WriteResult
      try {
        r = ups === null ? await store.delete(skey, base) : await store.put(skey, storedForm(ups), base)
      } catch (err) {
        if (ifMatch === undefined && attempt < RETRIES && (err as CheckupsError).code === 'CKP_ERR_STORE_CONFLICT') continue
        throw err
      }
      const timeout = this.d.applyTimeoutMs ?? 5000
      const applied = await waitApplied(this.d.config, r.version, r.epoch, timeout)
      if (!applied) this.d.logger.warn({ skey, store_version: r.version, timeout_ms: timeout }, 'cluster store write not applied on this node yet')
      return { ...r, applied }
    }
  }

  async close(): Promise<void> {
    await this.#store?.close()
  }
}

/** The remote writes of a worker whose config has `global.cluster_store` (else undefined). */
export function remoteWritesFor(cfg: ResolvedConfig, config: Dict, logger: Logger, heartbeat: (skey: string) => HeartbeatFn | null): RemoteWrites | undefined {
  const options = cfg.global.cluster_store
  return options ? new RemoteWrites({ options, config, logger, heartbeat }) : undefined
}
