/**
 * All error codes of @checkups/shdict, documented in docs/errors.md (## @checkups/shdict).
 *
 * Invariant: input errors (INVALID_*) are thrown before the zone is touched, so a failed
 * call leaves the zone byte-for-byte unchanged. Nothing branches on message text; the
 * messages that mirror ngx.shared.DICT / resty.lock strings ('value not a list', 'timeout',
 * 'locked', 'unlocked', 'no memory') are kept verbatim for users coming from OpenResty.
 */
import { codeTable, defineErrorClass } from '@checkups/shm/errors'
export const SharedDictErrorCodes = codeTable(
  'SHD_ERR_INVALID_KEY', 'SHD_ERR_INVALID_VALUE', 'SHD_ERR_INVALID_ARG', 'SHD_ERR_NOT_FORMATTED',
  'SHD_ERR_NOT_A_LIST', 'SHD_ERR_IS_A_LIST', 'SHD_ERR_LOCK_BUSY', 'SHD_ERR_LOCK_TIMEOUT',
  'SHD_ERR_LOCKED', 'SHD_ERR_NOT_LOCKED', 'SHD_ERR_NO_MEMORY',
)
export type SharedDictErrorCode = keyof typeof SharedDictErrorCodes

export class SharedDictError extends defineErrorClass<SharedDictErrorCode>('SharedDictError') {}
