/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of the admin API (apps/server/openapi.json,
 * shipped with the package beside dist/).
 *
 * Invariants: the document is read once per process, on the first request, and served as
 * the file's bytes (no re-serialisation); a missing or unreadable file is a 500 with the path,
 * never a crash. test/openapi.test.ts keeps the document and the router's route table equal.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AdminError } from '../errors.js'
import type { Router } from '../router.js'

/** dist/admin/routes/openapi.js → the package root's openapi.json */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../openapi.json', import.meta.url))

let cached: string | undefined

export function openapiText(): string {
  if (cached !== undefined) return cached
  try {
    cached = readFileSync(OPENAPI_FILE, 'utf8')
  } catch (err) {
    throw new AdminError('ADM_ERR_INTERNAL', 500, `cannot read ${OPENAPI_FILE}: ${(err as Error).message}`, { cause: err })
  }
  return cached
}

export function register(router: Router): void {
  router.add('GET', '/openapi.json', () => ({
    status: 200,
    body: openapiText(),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  }))
}
