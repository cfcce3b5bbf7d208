/** Iteration helpers over a resolved upstream's clusters (levels in order, or names in order). */
import type { ResolvedLevel, ResolvedServer, ResolvedUpstream } from './types.js'

/** `[key, level]` pairs: level numbers 1..n for an array, names in definition order otherwise. */
export function levelEntries(ups: Pick<ResolvedUpstream, 'cluster'>): [string | number, ResolvedLevel][] {
  const c = ups.cluster
  if (Array.isArray(c)) return (c as readonly ResolvedLevel[]).map((l, i) => [i + 1, l])
  return Object.entries(c as Readonly<Record<string, ResolvedLevel>>)
}

/** The levels in order: an array's, or named clusters in definition order. */
export function levelsOf(ups: Pick<ResolvedUpstream, 'cluster'>): readonly ResolvedLevel[] {
  const c = ups.cluster
  return Array.isArray(c) ? (c as readonly ResolvedLevel[]) : Object.values(c as Readonly<Record<string, ResolvedLevel>>)
}

/** The heartbeat probes this upstream: its `enable`, or when unset `default_heartbeat_enable`. */
export function heartbeatEnabled(ups: Pick<ResolvedUpstream, 'enable'>, defaultEnable: boolean): boolean {
  return ups.enable ?? defaultEnable
}

export function forEachServer(ups: Pick<ResolvedUpstream, 'cluster'>, fn: (s: ResolvedServer, key: string | number) => void): void {
  for (const [key, level] of levelEntries(ups)) for (const s of level.servers) fn(s, key)
}

/** The first server `host:port` of any cluster, or undefined. */
export function findServer(ups: Pick<ResolvedUpstream, 'cluster'>, host: string, port: number): ResolvedServer | undefined {
  // the original's feedback loop keeps the LAST matching entry (its `break` leaves only the inner loop)
  let found: ResolvedServer | undefined
  for (const [, level] of levelEntries(ups)) {
    for (const s of level.servers) if (s.host === host && s.port === port) found = s
  }
  return found
}
