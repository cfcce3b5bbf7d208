/**
 * When a failed attempt may be retried on the next peer (nginx `proxy_next_upstream` with
 * `non_idempotent` off, minus request buffering).
 *
 * Invariants:
 * - A request body is streamed, never buffered: once any of it was read for an attempt
 *   (`bodyTouched`), no other peer can receive it, whatever the method.
 * - A request that reached a peer (a response came back, or the failure happened after the
 *   connection was made) is replayed only for idempotent methods (RFC 9110 §9.2.2).
 * - A request that never left (connect refused / timed out / unreachable) is always safe.
 */

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** Error codes meaning no byte of the request reached the peer. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
])

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method)
}

/** Whether the failed attempt's request may have reached the peer. */
export function maybeSent(failure: { error?: unknown; responded: boolean }): boolean {
  if (failure.responded) return true
  const code = (failure.error as { code?: unknown } | undefined)?.code
  return !(typeof code === 'string' && NOT_SENT.has(code))
}

export interface RetryFacts {
  readonly method: string
  readonly bodyTouched: boolean
  readonly sent: boolean
}

export function canRetry(f: RetryFacts): boolean {
  if (f.bodyTouched) return false
  return !f.sent || isIdempotent(f.method)
}
