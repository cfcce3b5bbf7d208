/** All error codes of @checkups/core, documented in docs/errors.md. */
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

export class CheckupsError extends Error {
  readonly code: CheckupsErrorCode
  constructor(code: CheckupsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CheckupsError'
    this.code = code
  }
}
