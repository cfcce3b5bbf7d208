/**
 * `general` probe: a TCP connect within `timeout`. The socket is
 * closed at once; nothing is sent.
 */
import type { ProbeResult } from '../contract.js'
import { err, ok } from './result.js'
import { exchange } from './socket.js'

export async function probeGeneral(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  try {
    await exchange(host, port, timeoutMs, null)
    return ok()
  } catch (e) {
    return err((e as Error).message)
  }
}
