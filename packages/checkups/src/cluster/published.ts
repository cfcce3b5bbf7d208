/**
 * A node's cluster-store link as its workers see it: the primary's sync agent publishes it in
 * the config zone (KEY.CLUSTER_STATUS, a msgpackr record, and the SLOT.CONFIG_CLUSTER_APPLIED
 * counter); workers read it for `/status`, for the ETag of an upstream (its store revision)
 * and to wait until a write they made in the store is applied on this node.
 *
 * Invariants
 * - Written by the primary only, outside the writers' lock (it describes the link, it is not
 *   configuration); a worker never writes it.
 * - The applied slot moves only after the config zone holds that store version (the agent
 *   reports a version once its target applied it), and after the record that names it.
 */
import { KEY, SLOT } from '../keys.js'
import { decodeRecord, encodeRecord } from '../records.js'
import type { Dict } from '../zone-types.js'
import type { LinkState, SyncStatus } from './agent.js'

/** What `/status` shows under `cluster_store`. */
export interface ClusterStoreStatus {
  link: LinkState
  /** the store version this node has applied */
  applied: number
  /** the store's version when last seen */
  store_version: number
  lag: number
  epoch: string | null
  /** ms since the epoch of the last link state change */
  since: number
  last_error: string | null
  resyncs: number
}

interface Published extends ClusterStoreStatus {
  /** skey → the store version that last wrote it (the upstream's revision, its ETag) */
  revs: Record<string, number>
}

export function publishStatus(config: Dict, s: SyncStatus, revs: ReadonlyMap<string, number>): void {
  const rec: Published = {
    link: s.link, applied: s.applied, store_version: s.storeVersion, lag: s.lag, epoch: s.epoch,
    since: s.since, last_error: s.lastError, resyncs: s.resyncs, revs: Object.fromEntries(revs),
  }
  config.set(KEY.CLUSTER_STATUS, encodeRecord(rec))
  config.storeSlot(SLOT.CONFIG_CLUSTER_APPLIED, s.applied)
}

function read(config: Dict): Published | undefined {
  const v = config.get(KEY.CLUSTER_STATUS)
  return v instanceof Uint8Array ? decodeRecord<Published>(v) : undefined
}

/** The link as published (undefined: no cluster store configured, or the agent not started yet). */
export function readClusterStatus(config: Dict): ClusterStoreStatus | undefined {
  const p = read(config)
  if (!p) return undefined
  const { revs: _revs, ...status } = p
  return status
}

/** The store revision of `skey` as this node applied it. */
export function readRevision(config: Dict, skey: string): number | undefined {
  return read(config)?.revs[skey]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** True once this node applied store version `v` of `epoch`; false after `timeoutMs`. */
export async function waitApplied(config: Dict, v: number, epoch: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (let i = 0; ; i++) {
    if (config.loadSlot(SLOT.CONFIG_CLUSTER_APPLIED) >= v && read(config)?.epoch === epoch) return true
    if (Date.now() >= deadline) return false
    await sleep(i < 50 ? 1 : 5)
  }
}
