/**
 * All error codes of @checkups/shdict, documented in docs/errors.md (## @checkups/shdict).
 *
 * Invariant: input errors (INVALID_*) are thrown before the zone is touched, so a failed
 * call leaves the zone byte-for-byte unchanged. Nothing branches on message text; the
 * messages that mirror ngx.shared.DICT / resty.lock strings ('value not a list', 'timeout',
 * 'locked', 'unlocked', 'no memory') are kept verbatim for users coming from OpenResty.
 */
import { defineErrorClass } from '@checkups/shm/errors'
export const SharedDictErrorCodes = {
  /** key is not a non-empty string, or longer than 65535 UTF-8 bytes */
  SHD_ERR_INVALID_KEY: 'SHD_ERR_INVALID_KEY',
  /** value has an unsupported type, or cannot fit the zone even when empty */
  SHD_ERR_INVALID_VALUE: 'SHD_ERR_INVALID_VALUE',
  /** exptime, flags, counts, sizes, slot indexes or options out of range */
  SHD_ERR_INVALID_ARG: 'SHD_ERR_INVALID_ARG',
  /** attach() on a buffer that holds no zone of this format/version */
  SHD_ERR_NOT_FORMATTED: 'SHD_ERR_NOT_FORMATTED',
  /** lpop/rpop/llen on a key whose value is not a list ('value not a list') */
  SHD_ERR_NOT_A_LIST: 'SHD_ERR_NOT_A_LIST',
  /** get/getWithFlags/getStale on a key whose value is a list ('value is a list') */
  SHD_ERR_IS_A_LIST: 'SHD_ERR_IS_A_LIST',
  /** the zone lock stayed held by a live process past the lock timeout */
  SHD_ERR_LOCK_BUSY: 'SHD_ERR_LOCK_BUSY',
  /** Lock.lock(): not acquired within `timeout` ('timeout') */
  SHD_ERR_LOCK_TIMEOUT: 'SHD_ERR_LOCK_TIMEOUT',
  /** Lock.lock(): this Lock object already holds a key ('locked') */
  SHD_ERR_LOCKED: 'SHD_ERR_LOCKED',
  /** Lock.unlock()/expire(): this Lock object holds no key ('unlocked') */
  SHD_ERR_NOT_LOCKED: 'SHD_ERR_NOT_LOCKED',
  /** Lock.lock(): the lock key could not be stored ('no memory') */
  SHD_ERR_NO_MEMORY: 'SHD_ERR_NO_MEMORY',
} as const
export type SharedDictErrorCode = keyof typeof SharedDictErrorCodes

export class SharedDictError extends defineErrorClass<SharedDictErrorCode>('SharedDictError') {}
