/**
 * Proxy errors and their HTTP mapping.
 *
 * Invariant: every response the proxy produces itself (not relayed from a peer) goes through
 * `httpErrorOf`, so a cause maps to one status everywhere: no route → 404, nothing selectable
 * → 503, every tried peer failed → 502, a timeout (connect/send/read or try_timeout) → 504;
 * the client's own faults (CLIENT_FAULT: bad request 400, method 405, body 413, headers 431)
 * keep their status and are never reported against a peer.
 * Branching is on error codes only, never on message text.
 */
import { codeTable, defineErrorClass } from '@checkups/shm/errors'
// PRX_ERR_NO_ROUTE 404; PRX_ERR_UNSAFE_RETRY 502 (body streamed, or a non-idempotent request
// sent); PRX_ERR_CLIENT_ABORTED (the client left; never reported against the peer);
// PRX_ERR_BAD_REQUEST 400 (bad target or path, duplicate Host, a header undici refuses);
// PRX_ERR_METHOD_NOT_ALLOWED 405 (TRACE without allow_trace); PRX_ERR_BODY_TOO_LARGE 413;
// PRX_ERR_HEADERS_TOO_MANY 431; PRX_ERR_INVALID_CONFIG (the server section). See docs/errors.md.
export const ProxyErrorCodes = codeTable(
  'PRX_ERR_NO_ROUTE', 'PRX_ERR_UNSAFE_RETRY', 'PRX_ERR_CLIENT_ABORTED', 'PRX_ERR_INVALID_CONFIG',
  'PRX_ERR_BAD_REQUEST', 'PRX_ERR_METHOD_NOT_ALLOWED', 'PRX_ERR_BODY_TOO_LARGE', 'PRX_ERR_HEADERS_TOO_MANY',
)
export type ProxyErrorCode = keyof typeof ProxyErrorCodes

export class ProxyError extends defineErrorClass<ProxyErrorCode>('ProxyError') {}

export interface HttpError {
  readonly status: 400 | 404 | 405 | 413 | 431 | 502 | 503 | 504
  /** short cause, sent as the text body */
  readonly message: string
}

/** undici / socket codes meaning "the peer was too slow". */
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'CKP_ERR_TRY_TIMEOUT',
])

const TIMEOUT_TEXT: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'read timeout (no response headers)',
  UND_ERR_BODY_TIMEOUT: 'read timeout (response body stalled)',
  ETIMEDOUT: 'connect timeout',
  CKP_ERR_TRY_TIMEOUT: 'try_timeout exceeded',
}

/** The client's faults and their status (checked before a peer is picked, or met while streaming its body). */
export const CLIENT_FAULT: Readonly<Record<string, 400 | 405 | 413 | 431>> = {
  PRX_ERR_BAD_REQUEST: 400,
  PRX_ERR_METHOD_NOT_ALLOWED: 405,
  PRX_ERR_BODY_TOO_LARGE: 413,
  PRX_ERR_HEADERS_TOO_MANY: 431,
  // undici refusing the request as given (an invalid header or target) is the client's doing
  UND_ERR_INVALID_ARG: 400,
  UND_ERR_NOT_SUPPORTED: 400,
}

/** The 4xx for a client-caused error, or undefined when the error is not the client's. */
export function clientFaultOf(err: unknown): HttpError | undefined {
  const code = codeOf(err)
  const status = code === undefined ? undefined : CLIENT_FAULT[code]
  if (status === undefined) return undefined
  const msg = err instanceof Error ? err.message : 'bad request'
  return { status, message: code?.startsWith('UND_') ? `bad request: ${msg}` : msg }
}

export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

export function isTimeout(err: unknown): boolean {
  const code = codeOf(err)
  return code !== undefined && TIMEOUT_CODES.has(code)
}

/**
 * Maps the outcome of a failed proxy call to a response.
 * `lastAttemptError` is the error of the last peer actually tried (undefined when no peer was
 * tried), `callError` what readyOk rejected with (or the unsafe-retry error).
 */
export function httpErrorOf(callError: unknown, lastAttemptError: unknown): HttpError {
  const code = codeOf(callError)
  const fault = clientFaultOf(callError)
  if (fault) return fault
  if (code === 'PRX_ERR_NO_ROUTE') return { status: 404, message: (callError as Error).message }
  if (code === 'CKP_ERR_TRY_TIMEOUT') return { status: 504, message: 'gateway timeout: try_timeout exceeded' }
  if (code === 'CKP_ERR_UNKNOWN_SKEY') return { status: 503, message: `service unavailable: ${(callError as Error).message}` }
  if (code === 'CKP_ERR_MAX_CONNS') return { status: 503, message: 'service unavailable: every peer is at max_conns' }
  if (lastAttemptError === undefined) {
    // readyOk found nothing to try at all
    return { status: 503, message: 'service unavailable: no servers available' }
  }
  const last = codeOf(lastAttemptError)
  if (isTimeout(lastAttemptError)) {
    return { status: 504, message: `gateway timeout: ${TIMEOUT_TEXT[last ?? ''] ?? 'timeout'}` }
  }
  const why = last ?? (lastAttemptError instanceof Error ? lastAttemptError.message : 'failed')
  if (code === 'PRX_ERR_UNSAFE_RETRY') return { status: 502, message: `bad gateway: peer failed (${why}), request not replayable` }
  return { status: 502, message: `bad gateway: every tried peer failed (last: ${why})` }
}
