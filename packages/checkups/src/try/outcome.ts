/**
 * What happened in one attempt, and whether a callback's result is a success.
 *
 * Invariants
 * - An outcome is a fact about the exchange, not a verdict: `countsAgainstPeer` is the one
 *   place that says which outcomes are failures of the peer (everything but 'ok' and
 *   'client_abort'). Statistics and detectors read the outcome itself.
 * - 'client_abort' = the client, not the peer, broke the exchange: it never counts against
 *   the peer (no balancer penalty, no passive failure) and never as a success either.
 * - Success of a result is Lua truthiness: `undefined`, `null` and `false` fail, anything else
 *   (0 and '' too) succeeds. Under `typ: "http"` with `http_opts.statuses`, a result with a
 *   numeric `status` (or `statusCode`, or a numeric string, as the original's
 *   `tostring(res.status)` lookup) fails when `statuses[String(code)] === false`.
 */
import type { ResolvedUpstream } from '../config/types.js'

export type AttemptOutcome =
  | 'ok' | 'connect_error' | 'timeout' | 'reset' | 'http_status' | 'body_error' | 'client_abort' | 'error'

/** Every outcome, in a fixed order (metrics label sets, tables). */
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = Object.freeze([
  'ok', 'connect_error', 'timeout', 'reset', 'http_status', 'body_error', 'client_abort', 'error',
])

/** What a report may carry beside the outcome. */
export interface AttemptInfo {
  status?: number
  latencyMs?: number
  bytesIn?: number
  bytesOut?: number
}

/** True for the outcomes that are the peer's failure. */
export function countsAgainstPeer(outcome: AttemptOutcome): boolean {
  return outcome !== 'ok' && outcome !== 'client_abort'
}

/** The status code that makes `result` fail under `http_opts.statuses`, if any. */
export function failingStatus(result: unknown, ups: ResolvedUpstream): number | undefined {
  const statuses = ups.typ === 'http' ? ups.http_opts?.statuses : null
  if (!statuses || result === null || typeof result !== 'object') return undefined
  const r = result as { status?: unknown; statusCode?: unknown }
  const code = statusCode(r.status) ?? statusCode(r.statusCode)
  return code !== undefined && statuses[code] === false ? Number(code) : undefined
}

function statusCode(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v)
  return typeof v === 'string' && /^\d{3}$/.test(v) ? v : undefined
}

// socket / undici error codes by what they say about the exchange
const CONNECT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'])
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** The outcome a thrown/rejected error stands for (its code, else its cause's code). */
export function outcomeOfError(err: unknown): AttemptOutcome {
  for (let e = err, depth = 0; e != null && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = codeOf(e)
    if (code === undefined) continue
    if (CONNECT.has(code)) return 'connect_error'
    if (TIMEOUT.has(code)) return 'timeout'
    if (RESET.has(code)) return 'reset'
  }
  return 'error'
}

/** The outcome of a callback that returned `result` (judged as readyOk judges it). */
export function outcomeOfResult(result: unknown, ups: ResolvedUpstream): { outcome: AttemptOutcome; status?: number } {
  if (result === undefined || result === null || result === false) return { outcome: 'error' }
  const status = failingStatus(result, ups)
  return status === undefined ? { outcome: 'ok' } : { outcome: 'http_status', status }
}
