/**
 * Where a hash balancer's key comes from:
 * `hash` → opts.hash_key (else the request path, as the original's `ngx.var.uri`);
 * `url_hash` → the request path; `ip_hash` → the client address; `header_hash` → the
 * `x-hash-key` header, else the path. An explicit `opts.hash_key` always wins.
 * The path excludes the query string (like `ngx.var.uri`). A missing key hashes ''.
 */
import type { Mode } from '../config/types.js'

/** What is read from a request: a node IncomingMessage fits. */
export interface RequestLike {
  url?: string
  path?: string
  headers?: Record<string, string | string[] | undefined>
  remoteAddress?: string
  socket?: { remoteAddress?: string | undefined } | null
}

export interface HashKeyOptions {
  hash_key?: string | number | null
  request?: RequestLike | null
}

function pathOf(req: RequestLike | null | undefined): string | undefined {
  const raw = req?.path ?? req?.url
  if (raw === undefined) return undefined
  const q = raw.indexOf('?')
  return q === -1 ? raw : raw.slice(0, q)
}

function headerOf(req: RequestLike | null | undefined, name: string): string | undefined {
  const v = req?.headers?.[name]
  return Array.isArray(v) ? v[0] : v
}

/** True for the modes that pick by a request key (consistent hash); the others need no key. */
export function isHashMode(mode: Mode): boolean {
  return mode === 'hash' || mode === 'url_hash' || mode === 'ip_hash' || mode === 'header_hash'
}

export function hashKeyOf(mode: Mode, opts: HashKeyOptions | undefined): string {
  if (opts?.hash_key !== undefined && opts.hash_key !== null) return String(opts.hash_key)
  const req = opts?.request
  switch (mode) {
    case 'ip_hash':
      return req?.remoteAddress ?? req?.socket?.remoteAddress ?? ''
    case 'header_hash':
      return headerOf(req, 'x-hash-key') ?? pathOf(req) ?? ''
    default:
      return pathOf(req) ?? ''
  }
}
