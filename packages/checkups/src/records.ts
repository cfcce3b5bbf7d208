/**
 * Shapes of the records kept in the `state` zone (msgpackr-encoded binary values).
 * Heartbeat (written by the leader) and passive accounting (written by any worker) are
 * separate signals; the worker view derives "available" from both.
 */
import { Packr } from 'msgpackr'

export const STATUS_OK = 0
export const STATUS_UNSTABLE = 1
export const STATUS_ERR = 2
export type PeerStatusCode = typeof STATUS_OK | typeof STATUS_UNSTABLE | typeof STATUS_ERR
export const STATUS_NAMES = ['ok', 'unstable', 'err'] as const

/** Heartbeat record: `checkups:peer_status:<skey>:<host>:<port>`. */
export interface HeartbeatRecord {
  status: PeerStatusCode
  fail_num: number
  /** seconds since the epoch (float) of the last status flip */
  lastmodified: number
  msg: string | null
  /**
   * seconds since the epoch of the last flip from err/unstable back to ok (what slow_start
   * ramps from); absent while not ok and for a peer that was never down
   */
  up_since?: number
  /** probe extras: redis `replication`, `redis_version`, custom heartbeat fields */
  [extra: string]: unknown
}

/** Passive record: `checkups:passive:<skey>:<host>:<port>` (max_fails / fail_timeout). */
export interface PassiveRecord {
  status: typeof STATUS_OK | typeof STATUS_ERR
  count: number
  /** ms since the epoch when this window started */
  since: number
}

const packr = new Packr({ useRecords: false, moreTypes: false })

export function encodeRecord(value: unknown): Uint8Array {
  return packr.pack(value)
}

export function decodeRecord<T>(bytes: Uint8Array | undefined): T | undefined {
  if (bytes === undefined) return undefined
  return packr.unpack(bytes) as T
}
