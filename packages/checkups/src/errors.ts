/** All error codes of @checkups/core, documented in docs/errors.md. */
import { defineErrorClass } from '@checkups/shm/errors'
export const CheckupsErrorCodes = {
  CKP_ERR_UNKNOWN_SKEY: 'CKP_ERR_UNKNOWN_SKEY',
  CKP_ERR_NO_SERVERS: 'CKP_ERR_NO_SERVERS',
  CKP_ERR_TRY_TIMEOUT: 'CKP_ERR_TRY_TIMEOUT',
  CKP_ERR_TRY_LIMIT: 'CKP_ERR_TRY_LIMIT',
  CKP_ERR_INVALID_UPSTREAM: 'CKP_ERR_INVALID_UPSTREAM',
  CKP_ERR_UPSTREAM_NOT_FOUND: 'CKP_ERR_UPSTREAM_NOT_FOUND',
  CKP_ERR_UNKNOWN_PEER: 'CKP_ERR_UNKNOWN_PEER',
  CKP_ERR_LOCK_TIMEOUT: 'CKP_ERR_LOCK_TIMEOUT',
  /** the config given at start/reload is invalid (dotted-path message) */
  CKP_ERR_INVALID_CONFIG: 'CKP_ERR_INVALID_CONFIG',
  /** a persisted state file is corrupt or belongs to another config */
  CKP_ERR_STATE_FILE: 'CKP_ERR_STATE_FILE',
  /** a shared zone is full: a config could not be stored (`no memory`) */
  CKP_ERR_NO_MEMORY: 'CKP_ERR_NO_MEMORY',
  /** `ctx.report(outcome)` with an outcome that is not one of ATTEMPT_OUTCOMES */
  CKP_ERR_INVALID_OUTCOME: 'CKP_ERR_INVALID_OUTCOME',
  /** `new Checkups()` without one of the zones state/mutex/locks/config, or a call out of order */
  CKP_ERR_SETUP: 'CKP_ERR_SETUP',
  /** an optional package a feature needs is not installed (the message names it) */
  CKP_ERR_MISSING_PACKAGE: 'CKP_ERR_MISSING_PACKAGE',
  /** a client (dispatcher, redis, mysql) was used after close() / quit() / end() */
  CKP_ERR_CLOSED: 'CKP_ERR_CLOSED',
  /** a peer's connection died while a request that must not be repeated was in flight */
  CKP_ERR_PEER_LOST: 'CKP_ERR_PEER_LOST',
} as const
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
} as const satisfies Record<CheckupsErrorCode, number>
