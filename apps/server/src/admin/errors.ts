/**
 * Admin API errors: every failure is `{ error: { code, message } }` with a 4xx/5xx status.
 * CheckupsError codes keep their code; the HTTP status comes from CHECKUPS_STATUS below.
 * Failures of the admin layer itself use ADM_ERR_* codes (AdminErrorCodes).
 */
import { CheckupsErrorStatus } from '@checkups/core'
import { codeTable, defineErrorClass } from '@checkups/shm/errors'
export const AdminErrorCodes = codeTable(
  'ADM_ERR_NOT_FOUND', 'ADM_ERR_METHOD_NOT_ALLOWED', 'ADM_ERR_UNAUTHORIZED',
  'ADM_ERR_BODY_TOO_LARGE', 'ADM_ERR_BAD_JSON', 'ADM_ERR_BAD_REQUEST', 'ADM_ERR_INTERNAL',
  // a read token (`server.admin.read_token`) on a method other than GET/HEAD
  'ADM_ERR_FORBIDDEN',
  // `POST /reload`: the reload failed (a replacement not ready, the shared config not updated)
  'ADM_ERR_RELOAD',
  // `POST /reload`: the primary refused the new config (its runtime code is in the message)
  'ADM_ERR_RELOAD_REFUSED',
)
export type AdminErrorCode = keyof typeof AdminErrorCodes

export class AdminError extends defineErrorClass<AdminErrorCode>('AdminError') {
  readonly status: number
  /** response headers that belong to this error (`Allow` on 405, `WWW-Authenticate` on 401) */
  readonly headers: Readonly<Record<string, string>> | undefined
  constructor(code: AdminErrorCode, status: number, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(code, message, options)
    this.status = status
    this.headers = options?.headers
  }
}

/** HTTP status of each CheckupsError code: core's one table (complete by type). */
export const CHECKUPS_STATUS: Readonly<Record<string, number>> = CheckupsErrorStatus

/** 503s that pass once the cluster store is back (or seeded): when to try again, in seconds */
const RETRY_AFTER: Readonly<Record<string, string>> = { CKP_ERR_STORE_UNAVAILABLE: '1', CKP_ERR_STORE_UNSEEDED: '5' }

export interface ErrorBody { error: { code: string; message: string } }

/** Maps anything thrown by a handler to a status and the error body. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (err instanceof AdminError) return { status: err.status, body: body(err.code, err.message), ...(err.headers ? { headers: { ...err.headers } } : {}) }
  const e = err as { code?: unknown; message?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : undefined
  const message = typeof e?.message === 'string' ? e.message : String(err)
  if (code !== undefined && code in CHECKUPS_STATUS) {
    const retry = RETRY_AFTER[code]
    return { status: CHECKUPS_STATUS[code]!, body: body(code, message), ...(retry ? { headers: { 'retry-after': retry } } : {}) }
  }
  if (code === 'RT_ERR_IPC') return { status: 503, body: body(code, message) }
  return { status: 500, body: body(AdminErrorCodes.ADM_ERR_INTERNAL, message) }
}

function body(code: string, message: string): ErrorBody {
  return { error: { code, message } }
}
