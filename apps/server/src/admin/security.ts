/**
 * Who may call the admin API.
 *
 * Invariants
 * - Tokens carry a role: `write` (everything; `server.admin.token`) or `read` (GET and HEAD
 *   only: upstreams, status, `/metrics`, `/events`, the dashboard; `server.admin.read_token`).
 *   With no token configured every request is allowed (loopback only, see below).
 * - A request without a valid `Authorization: Bearer <token>` gets 401 with
 *   `WWW-Authenticate: Bearer realm="checkups-admin"` before routing (no endpoint leaks its
 *   existence); a valid read token on another method gets 403 ADM_ERR_FORBIDDEN.
 * - Tokens are compared as fixed-length digests (the time taken does not depend on them).
 * - The admin listener never binds a non-loopback address without a write token: a clear
 *   error at start (config-file.ts, in the primary; listenAdmin for library mode).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { AdminError } from './errors.js'

export type Role = 'read' | 'write'
export interface AdminToken { readonly token: string; readonly role: Role }

const READ_METHODS = new Set(['GET', 'HEAD'])
export const WWW_AUTHENTICATE = 'Bearer realm="checkups-admin"'

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/** The tokens of `{ token, read_token }` (write first). */
export function adminTokens(token: string | undefined, readToken?: string | undefined): AdminToken[] {
  const out: AdminToken[] = []
  if (token !== undefined) out.push({ token, role: 'write' })
  if (readToken !== undefined) out.push({ token: readToken, role: 'read' })
  return out
}

/** Throws 401/403 unless the request's token allows its method. */
export function authorize(req: IncomingMessage, tokens: readonly AdminToken[]): void {
  if (tokens.length === 0) return
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')
  const given = digest(m?.[1] ?? '')
  let role: Role | undefined
  for (const t of tokens) if (timingSafeEqual(given, digest(t.token)) && role !== 'write') role = t.role
  if (role === undefined) {
    throw new AdminError('ADM_ERR_UNAUTHORIZED', 401, 'missing or invalid bearer token', { headers: { 'www-authenticate': WWW_AUTHENTICATE } })
  }
  if (role === 'read' && !READ_METHODS.has(req.method ?? 'GET')) {
    throw new AdminError('ADM_ERR_FORBIDDEN', 403, `a read token may not ${req.method}: use a write token`)
  }
}
