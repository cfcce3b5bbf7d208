/**
 * Admin request bodies: JSON only, and free of prototype-polluting keys. server.ts reads the
 * bytes (size limit → 413) and hands them here.
 *
 * Invariants
 * - A body with a content type must be JSON (`application/json`, `*+json`), else 415.
 *   A missing content type is read as JSON (curl `--data-binary` without `-H`).
 * - `__proto__`, `constructor` and `prototype` are refused as keys at any depth (400
 *   ADM_ERR_BAD_REQUEST): the reviver sees every key JSON.parse creates, including the own
 *   `__proto__` data property JSON.parse would otherwise hand to code that spreads it.
 * - Malformed JSON is 400 ADM_ERR_BAD_JSON; an empty or blank body is `undefined`.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { ForbiddenJsonKey, parseJsonRefusingKeys } from '@checkups/core'
import { AdminError } from './errors.js'

/**
 * Parses JSON text, refusing forbidden keys.
 * @example parseJsonStrict('{"cluster":[]}') // → { cluster: [] }
 */
export function parseJsonStrict(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return parseJsonRefusingKeys(text)
  } catch (err) {
    if (err instanceof ForbiddenJsonKey) {
      throw new AdminError('ADM_ERR_BAD_REQUEST', 400, `forbidden key "${err.key}" in request body`)
    }
    throw new AdminError('ADM_ERR_BAD_JSON', 400, `request body is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
}

/** Refuses a non-JSON content type with 415 (call only when there is a body). */
export function assertJsonContentType(headers: IncomingHttpHeaders): void {
  const ct = headers['content-type']
  if (ct === undefined) return
  const type = (ct.split(';')[0] ?? '').trim().toLowerCase()
  if (type === 'application/json' || type.endsWith('+json')) return
  throw new AdminError('ADM_ERR_BAD_REQUEST', 415, `content-type must be application/json, got ${JSON.stringify(type)}`)
}
