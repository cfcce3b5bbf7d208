/**
 * What the runtime changes were based on, so a reload keeps what it should.
 *
 * Invariants
 * - `files[skey]` is the hash of the upstream as the current config file defines it (set by
 *   the primary at start and at each reload).
 * - `origin[skey]` exists for every upstream that carries a runtime change (PUT, per-server
 *   operation): the hash of the file upstream it was based on, or null for an upstream the
 *   file does not define (created at runtime).
 * - `deleted[skey]` exists for a file upstream deleted at runtime: the hash of the file
 *   upstream that was deleted.
 * - Hashes cover the resolved upstream without its custom heartbeat function: 16 hex chars
 *   of sha256 over stable JSON.
 */
import { createHash } from 'node:crypto'
import { stableStringify } from '../config/resolve.js'
import type { ResolvedUpstream } from '../config/types.js'
import { decodeRecord, encodeRecord } from '../records.js'

export interface DynamicMeta {
  files: Record<string, string>
  origin: Record<string, string | null>
  deleted: Record<string, string>
}

export function upstreamHash(ups: ResolvedUpstream): string {
  return createHash('sha256').update(stableStringify({ ...ups, heartbeat: null })).digest('hex').slice(0, 16)
}

export function fileHashes(upstreams: Readonly<Record<string, ResolvedUpstream>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [skey, ups] of Object.entries(upstreams)) out[skey] = upstreamHash(ups)
  return out
}

export function emptyMeta(files: Record<string, string> = {}): DynamicMeta {
  return { files, origin: {}, deleted: {} }
}

export function decodeMeta(bytes: Uint8Array | undefined): DynamicMeta {
  const m = decodeRecord<Partial<DynamicMeta>>(bytes)
  return { files: { ...(m?.files ?? {}) }, origin: { ...(m?.origin ?? {}) }, deleted: { ...(m?.deleted ?? {}) } }
}

export function encodeMeta(m: DynamicMeta): Uint8Array {
  return encodeRecord(m)
}

/** The meta after a runtime write of `skey` (update: true, delete: false). */
export function metaAfterWrite(m: DynamicMeta, skey: string, exists: boolean): DynamicMeta {
  const next: DynamicMeta = { files: m.files, origin: { ...m.origin }, deleted: { ...m.deleted } }
  const file = Object.hasOwn(m.files, skey) ? m.files[skey]! : null
  if (exists) {
    next.origin[skey] = file
    delete next.deleted[skey]
  } else {
    delete next.origin[skey]
    if (file !== null) next.deleted[skey] = file
  }
  return next
}
