/**
 * Custom `heartbeat(host, port, ups)` from the config module: returns (or
 * resolves to) a status number or `{ status, msg?, ...extras }`; extras are stored in the
 * record. A throw/rejection → err with the error's message. Anything else that is not a
 * valid status → err `invalid heartbeat status` (the original would store garbage).
 */
import { STATUS_ERR, STATUS_OK, STATUS_UNSTABLE, type PeerStatusCode } from '../../records.js'
import type { HeartbeatFn, ResolvedUpstream } from '../../config/types.js'
import type { ProbeResult } from '../contract.js'
import { err } from './result.js'

function isStatus(v: unknown): v is PeerStatusCode {
  return v === STATUS_OK || v === STATUS_UNSTABLE || v === STATUS_ERR
}

/** Normalises what a custom heartbeat returned (pure; exported for tests). */
export function normaliseCustom(value: unknown): ProbeResult {
  if (isStatus(value)) return { status: value, msg: null, extras: {} }
  if (value !== null && typeof value === 'object') {
    const { status, msg, ...extras } = value as Record<string, unknown>
    if (!isStatus(status)) return err('invalid heartbeat status', extras)
    return { status, msg: typeof msg === 'string' ? msg : msg == null ? null : String(msg), extras }
  }
  return err('invalid heartbeat status')
}

export async function probeCustom(fn: HeartbeatFn, host: string, port: number, ups: ResolvedUpstream): Promise<ProbeResult> {
  try {
    return normaliseCustom(await fn(host, port, ups))
  } catch (e) {
    return err(e instanceof Error ? e.message : String(e))
  }
}
