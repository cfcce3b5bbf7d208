/**
 * `general` probe: a TCP connect within `timeout`. The socket is
 * closed at once; nothing is sent.
 */
import type { ProbeResult } from '../contract.js'
import { err, ok } from './result.js'
import { exchange, type OnConnected } from './socket.js'

export async function probeGeneral(host: string, port: number, timeoutMs: number, onConnected?: OnConnected): Promise<ProbeResult> {
  try {
    await exchange(host, port, timeoutMs, null, undefined, onConnected)
    return ok()
  } catch (e) {
    return err((e as Error).message)
  }
}
