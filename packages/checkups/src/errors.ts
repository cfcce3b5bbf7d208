/** All error codes of @checkups/core, documented in docs/errors.md. */
import { codeTable, defineErrorClass } from '@checkups/shm/errors'
export const CheckupsErrorCodes = codeTable(
  'CKP_ERR_UNKNOWN_SKEY', 'CKP_ERR_NO_SERVERS', 'CKP_ERR_TRY_TIMEOUT', 'CKP_ERR_TRY_LIMIT',
  'CKP_ERR_INVALID_UPSTREAM', 'CKP_ERR_UPSTREAM_NOT_FOUND', 'CKP_ERR_UNKNOWN_PEER',
  'CKP_ERR_LOCK_TIMEOUT', 'CKP_ERR_INVALID_CONFIG', 'CKP_ERR_STATE_FILE', 'CKP_ERR_NO_MEMORY',
  'CKP_ERR_INVALID_OUTCOME', 'CKP_ERR_SETUP', 'CKP_ERR_MISSING_PACKAGE', 'CKP_ERR_CLOSED',
  'CKP_ERR_PEER_LOST', 'CKP_ERR_MAX_CONNS', 'CKP_ERR_RETRY_BUDGET',
  'CKP_ERR_STORE_UNAVAILABLE', 'CKP_ERR_STORE_UNSEEDED', 'CKP_ERR_STORE_SEEDED', 'CKP_ERR_STORE_CONFLICT',
)
export type CheckupsErrorCode = keyof typeof CheckupsErrorCodes

export class CheckupsError extends defineErrorClass<CheckupsErrorCode>('CheckupsError') {}

/**
 * The HTTP status an API answers each code with — one table, complete by type: a new code
 * without its status does not compile.
 */
export const CheckupsErrorStatus = {
  CKP_ERR_UNKNOWN_SKEY: 404,
  CKP_ERR_UPSTREAM_NOT_FOUND: 404,
  CKP_ERR_UNKNOWN_PEER: 404,
  CKP_ERR_INVALID_UPSTREAM: 400,
  CKP_ERR_INVALID_CONFIG: 400,
  CKP_ERR_INVALID_OUTCOME: 500,
  CKP_ERR_NO_SERVERS: 503,
  CKP_ERR_LOCK_TIMEOUT: 503,
  CKP_ERR_TRY_TIMEOUT: 504,
  CKP_ERR_TRY_LIMIT: 502,
  CKP_ERR_STATE_FILE: 500,
  CKP_ERR_NO_MEMORY: 507,
  CKP_ERR_SETUP: 500,
  CKP_ERR_MISSING_PACKAGE: 500,
  CKP_ERR_CLOSED: 500,
  CKP_ERR_PEER_LOST: 502,
  CKP_ERR_MAX_CONNS: 503,
  CKP_ERR_RETRY_BUDGET: 502,
  CKP_ERR_STORE_UNAVAILABLE: 503,
  CKP_ERR_STORE_UNSEEDED: 503,
  CKP_ERR_STORE_SEEDED: 409,
  CKP_ERR_STORE_CONFLICT: 409,
} as const satisfies Record<CheckupsErrorCode, number>
