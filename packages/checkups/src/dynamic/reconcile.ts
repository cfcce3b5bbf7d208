/**
 * The reload rule: which upstreams a new config file replaces and which runtime changes stay.
 *
 * Given the upstreams in force (`current`, from the zone or a state file), the meta saying which
 * carry a runtime change (dynamic/meta.ts) and the new file's upstreams:
 * - a runtime-changed upstream whose file configuration did not change keeps its runtime
 *   version; one whose file configuration changed (or was removed) takes the file's version
 *   (or goes), and is listed in `dropped`;
 * - an upstream created at runtime stays, unless the file now defines that skey (then the
 *   file's version wins, listed in `dropped`);
 * - a file upstream deleted at runtime stays deleted while its file configuration is unchanged;
 * - every other upstream is the file's. Order: the file's skeys, then runtime-created ones.
 * Pure: nothing is read or written here.
 */
import type { ResolvedUpstream } from '../config/types.js'
import { type DynamicMeta, fileHashes } from './meta.js'

export interface Dropped {
  skey: string
  reason: string
}

export interface Reconciled {
  upstreams: Record<string, ResolvedUpstream>
  meta: DynamicMeta
  dropped: Dropped[]
}

export function reconcile(
  file: Readonly<Record<string, ResolvedUpstream>>,
  current: Readonly<Record<string, ResolvedUpstream>>,
  meta: DynamicMeta,
): Reconciled {
  const files = fileHashes(file)
  const out: Reconciled = { upstreams: {}, meta: { files, origin: {}, deleted: {} }, dropped: [] }
  for (const [skey, ups] of Object.entries(file)) {
    const hash = files[skey]!
    if (Object.hasOwn(meta.deleted, skey)) {
      if (meta.deleted[skey] === hash) {
        out.meta.deleted[skey] = hash
        continue
      }
      out.dropped.push({ skey, reason: 'its file configuration changed; the runtime deletion is dropped' })
    } else if (Object.hasOwn(meta.origin, skey) && Object.hasOwn(current, skey)) {
      if (meta.origin[skey] === hash) {
        out.upstreams[skey] = current[skey]!
        out.meta.origin[skey] = hash
        continue
      }
      const why = meta.origin[skey] === null ? 'the file now defines it' : 'its file configuration changed'
      out.dropped.push({ skey, reason: `${why}; the runtime change is dropped` })
    }
    out.upstreams[skey] = ups
  }
  for (const [skey, ups] of Object.entries(current)) {
    if (Object.hasOwn(file, skey) || !Object.hasOwn(meta.origin, skey)) continue
    if (meta.origin[skey] === null) {
      out.upstreams[skey] = ups
      out.meta.origin[skey] = null
    } else {
      out.dropped.push({ skey, reason: 'the file no longer defines it; the runtime change is dropped' })
    }
  }
  return out
}

/**
 * The meta of a snapshot written before meta existed, for the same file (same conf_hash):
 * whatever differs from the file is a runtime change.
 */
export function inferMeta(file: Readonly<Record<string, ResolvedUpstream>>, current: Readonly<Record<string, ResolvedUpstream>>): DynamicMeta {
  const files = fileHashes(file)
  const cur = fileHashes(current)
  const meta: DynamicMeta = { files, origin: {}, deleted: {} }
  for (const skey of Object.keys(current)) {
    if (!Object.hasOwn(files, skey)) meta.origin[skey] = null
    else if (files[skey] !== cur[skey]) meta.origin[skey] = files[skey]!
  }
  for (const skey of Object.keys(file)) if (!Object.hasOwn(current, skey)) meta.deleted[skey] = files[skey]!
  return meta
}
