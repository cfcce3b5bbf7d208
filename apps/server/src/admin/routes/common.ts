/**
 * Shared pieces of the dynamic-upstream route modules (upstreams, peer, feedback, timeout,
 * metrics): boundary checks and small answer helpers.
 *
 * Invariants: handlers validate everything they read from the request before calling core,
 * and call core at most once — a refused request changes nothing. Errors are thrown as
 * CheckupsError (core's codes) or AdminError; admin/errors.ts maps both to an HTTP status
 * and the `{ error: { code, message } }` shape.
 */
import { CheckupsError } from '@checkups/core'
import { AdminError } from '../errors.js'
import type { AdminContext, AdminRequest, AdminResponse } from '../router.js'

/** An skey a PUT may create: what is safe in shared-dict keys, URLs and metric labels. */
const SKEY_RE = /^[A-Za-z0-9_.~-]{1,128}$/
/** Top-level config keys that are not upstreams (core: `global`; apps/server: `server`). */
const RESERVED_SKEYS = new Set(['global', 'server'])

export function skeyParam(req: AdminRequest): string {
  const skey = req.params['skey']
  if (skey === undefined || skey === '') throw new AdminError('ADM_ERR_BAD_REQUEST', 400, 'skey: missing')
  return skey
}

/** For writes: the skey must be a plain name, not a reserved config section. */
export function writableSkey(req: AdminRequest): string {
  const skey = skeyParam(req)
  if (!SKEY_RE.test(skey)) {
    throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', 'skey: must be 1-128 characters of A-Z a-z 0-9 _ . ~ -')
  }
  if (RESERVED_SKEYS.has(skey)) throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', `skey: "${skey}" is reserved`)
  return skey
}

/** The stored upstream of `skey`, or CKP_ERR_UPSTREAM_NOT_FOUND (404). */
export function storedUpstream(ctx: AdminContext, skey: string): unknown {
  const ups = ctx.checkups.getUpstream(skey)
  if (ups === undefined || ups === null) {
    throw new CheckupsError('CKP_ERR_UPSTREAM_NOT_FOUND', `upstream ${skey} not found`)
  }
  return ups
}

export function ok(body: unknown, status = 200): AdminResponse {
  return { status, body }
}

/** A write's answer: the new config version in the body and as the ETag. */
export function written(version: number, extra: Record<string, unknown> = {}, status = 200): AdminResponse {
  return { status, body: { ok: true, version, ...extra }, headers: { etag: `"${version}"` } }
}

/**
 * A dynamic write's options and answer. Alone, `If-Match` is the config version; with
 * `global.cluster_store` it is the upstream's store revision, and the answer adds
 * `store_version` (the new revision, also the ETag).
 */
export function writeOptions(req: AdminRequest): { ifMatch: number | undefined; onStore(r: { version: number; applied: boolean }): void; answer(version: number, extra?: Record<string, unknown>, status?: number): AdminResponse } {
  let store: { version: number; applied: boolean } | undefined
  return {
    ifMatch: ifMatch(req),
    onStore: (r) => void (store = { version: r.version, applied: r.applied }),
    answer(version, extra = {}, status = 200) {
      if (store === undefined) return written(version, extra, status)
      const body = { ok: true, version, store_version: store.version, applied: store.applied, ...extra }
      return { status, body, headers: { etag: `"${store.version}"` } }
    },
  }
}

/** The ETag of an upstream: the config version, or with a cluster store the upstream's store revision. */
export function upstreamEtag(ctx: AdminContext, skey: string): string {
  const d = ctx.checkups.dynamic
  return `"${d.clustered ? (d.storeRevision(skey) ?? 0) : d.version()}"`
}

/**
 * `If-Match: <version>` (optionally quoted, `W/` ignored; `*` = any) → the version the write
 * is based on, or undefined without the header. Anything else is 400.
 */
export function ifMatch(req: AdminRequest): number | undefined {
  const raw = req.headers['if-match']
  if (raw === undefined) return undefined
  const v = (Array.isArray(raw) ? raw.join(',') : raw).trim()
  if (v === '*') return undefined
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(v)
  if (!m) throw new AdminError('ADM_ERR_BAD_REQUEST', 400, 'If-Match: must be a config version (with a cluster store: the upstream\'s store revision), an integer as answered by a write or GET')
  return Number(m[1])
}

/** `host:port` (IPv6 as `[addr]:port`) of the per-server endpoints. */
export function serverParam(req: AdminRequest): { host: string; port: number } {
  const id = req.params['server'] ?? ''
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(id)
  const port = m ? Number(m[3]) : 0
  if (!m || port < 1 || port > 65535) {
    throw new AdminError('ADM_ERR_BAD_REQUEST', 400, `server: "${id}" is not host:port (IPv6 as [addr]:port)`)
  }
  return { host: (m[1] ?? m[2])!, port }
}

const SECRET_KEY = /^(pass|password|passwd|secret|token|auth|requirepass)$/i
export const REDACTED = '[redacted]'

/**
 * A copy of an upstream (or a map of them) with secrets replaced by `[redacted]`: `pass` and
 * other password-like keys at any depth, and `Authorization:` header values inside
 * `http_opts.query` (the raw request the http heartbeat sends).
 */
export function redact(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return REDACTED
    if (key === 'query') return value.replace(/^(\s*(?:proxy-)?authorization\s*:[ \t]*)[^\r\n]*/gim, `$1${REDACTED}`)
    return value
  }
  if (Array.isArray(value)) return value.map((v) => redact(v))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = v === null || v === undefined ? v : redact(v, k)
    return out
  }
  return value
}
