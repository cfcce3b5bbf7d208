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
