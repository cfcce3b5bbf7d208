/**
 * When a client may try another peer: shared by the HTTP, Redis and MySQL clients.
 *
 * Invariants
 * - A connect-phase failure (nothing reached the peer) may always be retried.
 * - Otherwise only requests that are idempotent and can be sent again are retried: an HTTP
 *   method of RFC 9110 §9.2.2 with a body that is absent, a string or bytes (a stream has
 *   been consumed by the first attempt).
 */
const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
])

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** True for errors raised before the request could reach the peer. */
export function isConnectError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && CONNECT_CODES.has(code)
}

export function isReplayableBody(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
}

/** An HTTP request that may be sent again after any failure. */
export function isRetryableRequest(method: string | undefined, body: unknown, idempotent?: boolean): boolean {
  const m = (method ?? 'GET').toUpperCase()
  return (idempotent ?? IDEMPOTENT.has(m)) && isReplayableBody(body)
}
