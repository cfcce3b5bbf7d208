/**
 * Admin API errors: every failure is `{ error: { code, message } }` with a 4xx/5xx status.
 * CheckupsError codes keep their code; the HTTP status comes from CHECKUPS_STATUS below.
 * Failures of the admin layer itself use ADM_ERR_* codes (AdminErrorCodes).
 */
export const AdminErrorCodes = {
  ADM_ERR_NOT_FOUND: 'ADM_ERR_NOT_FOUND',
  ADM_ERR_METHOD_NOT_ALLOWED: 'ADM_ERR_METHOD_NOT_ALLOWED',
  ADM_ERR_UNAUTHORIZED: 'ADM_ERR_UNAUTHORIZED',
  /** the token's role does not allow the method (a `read` token on a write) */
  ADM_ERR_FORBIDDEN: 'ADM_ERR_FORBIDDEN',
  /** `POST /reload`: the reload failed (a replacement not ready, the shared config not updated) */
  ADM_ERR_RELOAD: 'ADM_ERR_RELOAD',
  ADM_ERR_BODY_TOO_LARGE: 'ADM_ERR_BODY_TOO_LARGE',
  ADM_ERR_BAD_JSON: 'ADM_ERR_BAD_JSON',
  ADM_ERR_BAD_REQUEST: 'ADM_ERR_BAD_REQUEST',
  ADM_ERR_INTERNAL: 'ADM_ERR_INTERNAL',
} as const
export type AdminErrorCode = keyof typeof AdminErrorCodes

export class AdminError extends Error {
  readonly code: AdminErrorCode
  readonly status: number
  /** response headers that belong to this error (`Allow` on 405, `WWW-Authenticate` on 401) */
  readonly headers: Readonly<Record<string, string>> | undefined
  constructor(code: AdminErrorCode, status: number, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options)
    this.name = 'AdminError'
    this.code = code
    this.status = status
    this.headers = options?.headers
  }
}

/** HTTP status of each CheckupsError code (docs/internals.md §Admin router). */
export const CHECKUPS_STATUS: Readonly<Record<string, number>> = {
  CKP_ERR_UNKNOWN_SKEY: 404,
  CKP_ERR_UPSTREAM_NOT_FOUND: 404,
  CKP_ERR_UNKNOWN_PEER: 404,
  CKP_ERR_INVALID_UPSTREAM: 400,
  CKP_ERR_INVALID_CONFIG: 400,
  CKP_ERR_NO_SERVERS: 503,
  CKP_ERR_LOCK_TIMEOUT: 503,
  CKP_ERR_VERSION_MISMATCH: 412,
  CKP_ERR_SERVER_EXISTS: 409,
  CKP_ERR_TRY_TIMEOUT: 504,
  CKP_ERR_TRY_LIMIT: 502,
  CKP_ERR_STATE_FILE: 500,
  CKP_ERR_NO_MEMORY: 507,
  CKP_ERR_SETUP: 500,
}

export interface ErrorBody { error: { code: string; message: string } }

/** Maps anything thrown by a handler to a status and the error body. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (err instanceof AdminError) return { status: err.status, body: body(err.code, err.message), ...(err.headers ? { headers: { ...err.headers } } : {}) }
  const e = err as { code?: unknown; message?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : undefined
  const message = typeof e?.message === 'string' ? e.message : String(err)
  if (code !== undefined && code in CHECKUPS_STATUS) return { status: CHECKUPS_STATUS[code]!, body: body(code, message) }
  if (code === 'RT_ERR_IPC') return { status: 503, body: body(code, message) }
  if (code === 'RT_ERR_CONFIG_INVALID' || code === 'RT_ERR_CONFIG_LOAD') return { status: 400, body: body(code, message) }
  return { status: 500, body: body(AdminErrorCodes.ADM_ERR_INTERNAL, message) }
}

function body(code: string, message: string): ErrorBody {
  return { error: { code, message } }
}
