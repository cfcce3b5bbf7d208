/**
 * The config change log: which upstream each recent config version changed, so a worker
 * view a few versions behind refreshes only those upstreams instead of reading and
 * comparing every stored one.
 *
 * Invariants
 * - `checkups:config_changes` (config zone, msgpackr) = `[[version, skey], ...]`, ascending
 *   by version, at most CHANGE_LOG_SIZE entries: one per single-upstream write (update,
 *   delete, per-server change), written in the same transaction as the upstream and before
 *   `config_version`, so a reader that read version v finds v's entry (or a newer log).
 * - A write of the whole config (init, seed, reload) deletes the log: the versions it
 *   covers have no entry, and readers behind it fall back to the full compare.
 * - `changedSince(log, have, cur)` answers only when every version in (have, cur] has an
 *   entry; otherwise undefined (full compare). It may also name skeys of versions newer than
 *   `cur` (a write landed meanwhile): re-reading those is harmless. With nothing new
 *   (have = cur) it answers "none" only when cur itself has an entry (a whole-config write
 *   at an explicit version could otherwise reuse it).
 */
import { decodeRecord, encodeRecord } from '../records.js'

/** versions remembered (a view further behind than this compares everything) */
export const CHANGE_LOG_SIZE = 32

export type ChangeLog = ReadonlyArray<readonly [version: number, skey: string]>

export function decodeChangeLog(bytes: Uint8Array | undefined): ChangeLog {
  let log: unknown
  try {
    log = decodeRecord<unknown>(bytes)
  } catch {
    return [] // unreadable: no version has an entry, readers compare everything
  }
  if (!Array.isArray(log)) return []
  return log.filter((e): e is [number, string] => Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'string')
}

/** The log with `version → skey` appended (oldest entries dropped beyond the size). */
export function appendChange(log: ChangeLog, version: number, skey: string): Uint8Array {
  const next = log.filter(([v]) => v < version)
  next.push([version, skey])
  return encodeRecord(next.slice(-CHANGE_LOG_SIZE))
}

/** The skeys changed by versions have+1 … cur (and any newer), or undefined when unknown. */
export function changedSince(log: ChangeLog, have: number, cur: number): string[] | undefined {
  if (!Number.isInteger(have) || cur < have) return undefined
  // no new version (the slot moved for a write already seen): fine if cur was a logged write
  if (cur === have) return log.some(([v]) => v === cur) ? [] : undefined
  const skeys = new Set<string>()
  let expect = have + 1
  for (const [v, skey] of log) {
    if (v <= have) continue
    if (v !== expect) return undefined // a gap: some version in between has no entry
    skeys.add(skey)
    expect++
  }
  return expect > cur ? [...skeys] : undefined
}
