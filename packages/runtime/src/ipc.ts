/**
 * The primary ⇄ worker protocol (over node:cluster's IPC channel).
 *
 * Every runtime message carries `rt`, so user messages on the same channel are left alone.
 * Worker → primary: `ready` once initWorker resolved and its servers listen; `request`
 * (answered by exactly one `reply` with the same `rid`; a failed one carries the error's
 * `code` and message, and the worker rejects with that code).
 * `listen_failed` when a server could not listen before ready (the worker exits 1 right
 * after; at start the primary stops all).
 * Primary → worker: `reply`; `shutdown` (graceful: close servers, finish in-flight, exit 0);
 * `peer-exit` to every live worker once another worker's exit was reaped (its heartbeat lease
 * is gone: a candidate tries for it at once rather than at its next poll).
 *
 * Exit handshake of a graceful stop: the worker closes its servers (node:cluster tells the
 * primary on this same channel), sends `closed`, and exits only after the primary's `bye`.
 * The channel is ordered both ways, so by then the primary has taken the worker out of its
 * round-robin handles, and every connection it handed over before that has been answered
 * (refused and given to another worker) — none is lost with the exiting process.
 */
import type { ReloadResult, WorkerInfo } from './types.js'

export type RequestKind = 'workers' | 'config' | 'reload'

export type WorkerMessage =
  | { rt: 'ready' }
  | { rt: 'closed' }
  | { rt: 'request'; rid: number; what: RequestKind }
  /** a server could not listen before ready (port in use, ...): the primary decides */
  | { rt: 'listen_failed'; code: string; address: string; error: string }

export type PrimaryMessage =
  | { rt: 'reply'; rid: number; ok: true; value: unknown }
  | { rt: 'reply'; rid: number; ok: false; error: string; code: string }
  | { rt: 'shutdown' }
  | { rt: 'bye' }
  /** another worker exited and was reaped (its zone locks and heartbeat lease released) */
  | { rt: 'peer-exit'; pid: number }

export interface ReplyValues {
  workers: WorkerInfo[]
  /** the object config as JSON, or null for a module config */
  config: string | null
  /** the reload's outcome, once it ran */
  reload: ReloadResult
}

export function isRuntimeMessage<T extends { rt: string }>(msg: unknown): msg is T {
  return typeof msg === 'object' && msg !== null && typeof (msg as { rt?: unknown }).rt === 'string'
}

/** Env names the primary sets for each fork. */
export const ENV = {
  WORKER_ID: 'CHECKUPS_WORKER_ID',
  WORKER_COUNT: 'CHECKUPS_WORKER_COUNT',
} as const
