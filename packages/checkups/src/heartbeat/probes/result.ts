/** Constructors of probe results (the shape aggregation consumes). */
import { STATUS_ERR, STATUS_OK } from '../../records.js'
import type { ProbeResult } from '../contract.js'
import { socketErrorMessage } from './socket.js'

export function ok(extras: Record<string, unknown> = {}): ProbeResult {
  return { status: STATUS_OK, msg: null, extras }
}

export function err(msg: string, extras: Record<string, unknown> = {}): ProbeResult {
  return { status: STATUS_ERR, msg, extras }
}

/** An error result from anything thrown (socket errors get nginx's wording). */
export function errFrom(e: unknown, extras: Record<string, unknown> = {}): ProbeResult {
  return err(socketErrorMessage(e), extras)
}
