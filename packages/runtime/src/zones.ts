/**
 * Shared memory zones (nginx's lua_shared_dict).
 *
 * The primary creates every zone once (shm createZone), formats it (SharedDict.create) and
 * keeps its fd open for the primary's whole life, because every fork — first start, respawn,
 * reload — inherits the same fds (zoneStdio). Workers attach what they inherit. Zones are
 * never re-created: they outlive worker crashes and reloads, and die with the primary.
 * Besides the dicts, one raw zone (STATS_ZONE: per-peer statistics, events, process metrics)
 * is created and inherited the same way, but never formatted as a dict.
 */
import { attachInheritedZones, createZone, parseSize, type Zone } from '@checkups/shm'
import { attachDict, formatDict, STATS_ZONE, STATS_ZONE_BYTES, type Dict } from './deps.js'
import { RuntimeError } from './errors.js'
import type { SharedZones } from './types.js'

/** The original's defaults. */
export const DEFAULT_SHARED_DICTS: Readonly<Record<string, string>> = { state: '10m', mutex: '1m', locks: '1m', config: '10m' }

const ZONE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Merges `shared_dicts` over the defaults and parses every size. */
export function zoneSizes(opt: Record<string, number | string> | undefined): Map<string, number> {
  const out = new Map<string, number>()
  for (const [name, size] of Object.entries({ ...DEFAULT_SHARED_DICTS, ...opt })) {
    if (name === STATS_ZONE) throw new RuntimeError('RT_ERR_INVALID_OPTION', `shared_dicts: zone name ${name} is reserved`)
    if (!ZONE_NAME.test(name)) throw new RuntimeError('RT_ERR_INVALID_OPTION', `shared_dicts: invalid zone name ${JSON.stringify(name)}`)
    try {
      out.set(name, parseSize(size))
    } catch (cause) {
      throw new RuntimeError('RT_ERR_INVALID_OPTION', `shared_dicts.${name}: invalid size ${JSON.stringify(size)}`, { cause })
    }
  }
  return out
}

export interface PrimaryZones {
  readonly zones: readonly Zone[]
  readonly shared: SharedZones
  /** the statistics zone's memory */
  readonly stats: SharedArrayBuffer
}

/** Primary: creates and formats every zone. */
export function createZones(sizes: Map<string, number>): PrimaryZones {
  const zones: Zone[] = []
  const shared: Record<string, Dict> = {}
  for (const [name, size] of sizes) {
    try {
      const zone = createZone(name, size)
      zones.push(zone)
      shared[name] = formatDict(zone.buffer)
    } catch (cause) {
      throw new RuntimeError('RT_ERR_ZONE', `zone ${name}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    }
  }
  let stats: Zone
  try {
    stats = createZone(STATS_ZONE, STATS_ZONE_BYTES)
  } catch (cause) {
    throw new RuntimeError('RT_ERR_ZONE', `zone ${STATS_ZONE}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  zones.push(stats)
  return { zones, shared: shared as SharedZones, stats: stats.buffer }
}

/** Worker: attaches every inherited zone. */
export function attachZones(): { shared: SharedZones; stats: SharedArrayBuffer | undefined } {
  const shared: Record<string, Dict> = {}
  let stats: SharedArrayBuffer | undefined
  try {
    for (const [name, sab] of attachInheritedZones()) {
      if (name === STATS_ZONE) stats = sab
      else shared[name] = attachDict(sab)
    }
  } catch (cause) {
    throw new RuntimeError('RT_ERR_ZONE', `attaching zones: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  for (const name of Object.keys(DEFAULT_SHARED_DICTS)) {
    if (!shared[name]) throw new RuntimeError('RT_ERR_ZONE', `zone ${name} was not inherited (is this process a runtime worker?)`)
  }
  return { shared: shared as SharedZones, stats }
}
