/** All error codes of @checkups/shm. Documented in docs/errors.md. */
import { codeTable, defineErrorClass } from './coded-error.js'

export const ShmErrorCodes = codeTable(
  'SHM_ERR_ADDON_LOAD', 'SHM_ERR_INVALID_ARG', 'SHM_ERR_CREATE', 'SHM_ERR_MAP', 'SHM_ERR_ATTACH',
)
export type ShmErrorCode = keyof typeof ShmErrorCodes

export class ShmError extends defineErrorClass<ShmErrorCode>('ShmError') {}
