/**
 * Per-server operations on one upstream (admin `/upstreams/:skey/servers`): pure functions
 * from the stored upstream to the raw upstream to validate and store.
 *
 * Invariants
 * - A server is named by `host:port`; it is unique within an upstream (an add of an existing
 *   one is CKP_ERR_SERVER_EXISTS), and an operation on an unknown one is CKP_ERR_UNKNOWN_PEER.
 * - `down: true` takes the server out of rotation until undone; `drain: true` sends it no new
 *   request while the requests in flight finish. `false` removes the flag (the stored form of
 *   a server without flags never changes).
 * - Removing the last server of a level is refused (`can not update empty level`), as a PUT.
 */
import type { ResolvedLevel, ResolvedServer, ResolvedUpstream } from '../config/types.js'
import { CheckupsError } from '../errors.js'

export interface ServerPatch {
  weight?: number
  max_fails?: number
  fail_timeout?: number
  down?: boolean
  drain?: boolean
}

/** Where an added server goes: a level number (1-based) or a named cluster; default the first. */
export type ServerPlace = { level?: number; cluster?: string }

type RawLevel = Omit<ResolvedLevel, 'servers'> & { servers: Array<Record<string, unknown>> }

function levelsOf(ups: ResolvedUpstream): Array<[string | number, RawLevel]> {
  const entries: Array<[string | number, ResolvedLevel]> = Array.isArray(ups.cluster)
    ? (ups.cluster as ResolvedLevel[]).map((l, i) => [i + 1, l])
    : Object.entries(ups.cluster as Record<string, ResolvedLevel>)
  return entries.map(([k, l]) => [k, { ...l, servers: l.servers.map((s) => ({ ...s })) }])
}

function rebuild(ups: ResolvedUpstream, levels: Array<[string | number, RawLevel]>): Record<string, unknown> {
  const cluster = Array.isArray(ups.cluster) ? levels.map(([, l]) => l) : Object.fromEntries(levels)
  return { ...ups, heartbeat: ups.heartbeat, cluster }
}

function find(levels: Array<[string | number, RawLevel]>, host: string, port: number): { level: RawLevel; index: number } | undefined {
  for (const [, level] of levels) {
    const index = level.servers.findIndex((s) => s['host'] === host && s['port'] === port)
    if (index !== -1) return { level, index }
  }
  return undefined
}

const unknown = (skey: string, host: string, port: number) =>
  new CheckupsError('CKP_ERR_UNKNOWN_PEER', `unknown server ${host}:${port} in upstream ${skey}`)

export function addServer(skey: string, ups: ResolvedUpstream, server: Record<string, unknown>, place: ServerPlace): Record<string, unknown> {
  const levels = levelsOf(ups)
  const host = server['host']
  const port = server['port']
  if (typeof host === 'string' && typeof port === 'number' && find(levels, host, port)) {
    throw new CheckupsError('CKP_ERR_SERVER_EXISTS', `server ${host}:${port} already in upstream ${skey}`)
  }
  let target: RawLevel | undefined
  if (place.cluster !== undefined) {
    if (Array.isArray(ups.cluster)) throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', `cluster: upstream ${skey} has levels, not named clusters`)
    target = levels.find(([k]) => k === place.cluster)?.[1]
    if (!target) throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', `cluster: no cluster "${place.cluster}" in upstream ${skey}`)
  } else if (place.level !== undefined) {
    if (!Array.isArray(ups.cluster)) throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', `level: upstream ${skey} has named clusters, not levels`)
    target = levels[place.level - 1]?.[1]
    if (!target) throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', `level: upstream ${skey} has no level ${place.level}`)
  } else {
    target = levels[0]?.[1]
  }
  target!.servers.push(server)
  return rebuild(ups, levels)
}

export function patchServer(skey: string, ups: ResolvedUpstream, host: string, port: number, patch: ServerPatch): Record<string, unknown> {
  const levels = levelsOf(ups)
  const hit = find(levels, host, port)
  if (!hit) throw unknown(skey, host, port)
  const s = hit.level.servers[hit.index]!
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue
    if ((k === 'down' || k === 'drain') && v === false) delete s[k]
    else s[k] = v
  }
  return rebuild(ups, levels)
}

export function removeServer(skey: string, ups: ResolvedUpstream, host: string, port: number): Record<string, unknown> {
  const levels = levelsOf(ups)
  const hit = find(levels, host, port)
  if (!hit) throw unknown(skey, host, port)
  if (hit.level.servers.length === 1) throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', 'can not update empty level')
  hit.level.servers.splice(hit.index, 1)
  return rebuild(ups, levels)
}

/** `host:port` of a server (the id of the per-server endpoints). */
export function serverId(s: Pick<ResolvedServer, 'host' | 'port'>): string {
  return `${s.host}:${s.port}`
}
