/**
 * updateUpstream's input rules, the original's `gen_upstream`:
 * - not an object / no keys → `can not set empty upstream`
 * - `up.cluster` present → full replacement; it must be an object (`cluster invalid`)
 * - `up.servers` present → a one-level cluster; the other keys of `up` are merged into the
 *   stored upstream (as the original)
 * - otherwise `up` IS the cluster (levels array or named clusters), merged into the stored
 *   upstream, which keeps its mode/typ/try/http_opts; an unknown skey makes a new upstream
 * - every level non-empty (`can not update empty level`), `servers` a non-empty array
 *   (`servers invalid`), each server with host and port (`no server.host nor server.port found`)
 * - then the config schema (dotted-path messages), all as CKP_ERR_INVALID_UPSTREAM.
 * Unlike the boot config, a dynamic update can never store an empty level.
 */
import { resolveUpstream } from '../config/resolve.js'
import type { HeartbeatFn, ResolvedUpstream } from '../config/types.js'
import { CheckupsError } from '../errors.js'

const invalid = (msg: string) => new CheckupsError('CKP_ERR_INVALID_UPSTREAM', msg)
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object'

function isEmpty(v: unknown): boolean {
  return !isObj(v) || Object.keys(v).length === 0
}

/** The input checks that need no stored state (run before taking the lock). */
export function checkUpstreamInput(up: unknown): asserts up is Record<string, unknown> {
  if (isEmpty(up)) throw invalid('can not set empty upstream')
  const u = up as Record<string, unknown>
  if (u.cluster !== undefined && !isObj(u.cluster)) throw invalid('cluster invalid')
}

function mergeInto(stored: ResolvedUpstream | undefined, up: Record<string, unknown>): Record<string, unknown> {
  const base: Record<string, unknown> = stored ? { ...stored } : {}
  if (up.cluster !== undefined) return { ...up }
  if (up.servers !== undefined) {
    for (const [k, v] of Object.entries(up)) if (k !== 'servers') base[k] = v
    base.cluster = [{ servers: up.servers }]
    return base
  }
  base.cluster = up
  return base
}

function checkLevels(cluster: unknown): void {
  const levels = Array.isArray(cluster) ? cluster : Object.values(cluster as Record<string, unknown>)
  if (levels.length === 0) throw invalid('can not update empty level')
  for (const cls of levels) {
    if (isEmpty(cls)) throw invalid('can not update empty level')
    const servers = (cls as Record<string, unknown>).servers
    if (!Array.isArray(servers) || servers.length === 0) throw invalid('servers invalid')
    for (const s of servers) {
      if (!isObj(s)) throw invalid('server must be a table')
      if (s.host === undefined || s.host === null || s.port === undefined || s.port === null) {
        throw invalid('no server.host nor server.port found')
      }
    }
  }
}

/** Builds and validates the upstream to store for `updateUpstream(skey, up)`. */
export function buildUpstream(
  skey: string, up: Record<string, unknown>, stored: ResolvedUpstream | undefined, heartbeat: HeartbeatFn | null,
): ResolvedUpstream {
  const merged = mergeInto(stored, up)
  checkLevels(merged.cluster)
  merged.heartbeat = heartbeat // functions never travel through shm: always the local config's
  return resolveUpstream(skey, merged, { code: 'CKP_ERR_INVALID_UPSTREAM' })
}

/** What a write makes of the stored upstream (undefined: none stored): its next form, or null to delete it. */
export type NextUpstream = (stored: ResolvedUpstream | undefined) => ResolvedUpstream | null

/** `updateUpstream(skey, up)`: the input checked now (before any lock), built against what is stored. */
export function updateNext(skey: string, up: unknown, heartbeat: HeartbeatFn | null): NextUpstream {
  checkUpstreamInput(up)
  return (stored) => buildUpstream(skey, up, stored, heartbeat)
}

/** `deleteUpstream(skey)`: CKP_ERR_UPSTREAM_NOT_FOUND when nothing is stored. */
export function deleteNext(skey: string): NextUpstream {
  return (stored) => (storedOrThrow(skey, stored), null)
}

/** A change of one stored upstream: `fn` returns its raw next form, validated here. */
export function modifyNext(skey: string, fn: (stored: ResolvedUpstream) => Record<string, unknown>): NextUpstream {
  return (stored) => resolveUpstream(skey, fn(storedOrThrow(skey, stored)), { code: 'CKP_ERR_INVALID_UPSTREAM' })
}

function storedOrThrow(skey: string, stored: ResolvedUpstream | undefined): ResolvedUpstream {
  if (stored === undefined) throw new CheckupsError('CKP_ERR_UPSTREAM_NOT_FOUND', `upstream ${skey} not found`)
  return stored
}
