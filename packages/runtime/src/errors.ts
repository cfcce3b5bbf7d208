/** All error codes of @checkups/runtime, documented in docs/errors.md (## @checkups/runtime). */
import { codeTable, defineErrorClass } from '@checkups/shm/errors'
export const RuntimeErrorCodes = codeTable(
  'RT_ERR_INVALID_OPTION', 'RT_ERR_CONFIG_LOAD', 'RT_ERR_CONFIG_INVALID', 'RT_ERR_ZONE',
  'RT_ERR_IPC', 'RT_ERR_WRONG_PROCESS', 'RT_ERR_RELOAD', 'RT_ERR_UNSUPPORTED_NODE',
)
export type RuntimeErrorCode = keyof typeof RuntimeErrorCodes

export class RuntimeError extends defineErrorClass<RuntimeErrorCode>('RuntimeError') {}

/** True for a code of this package (IPC replies carry codes as plain strings). */
export function isRuntimeCode(v: unknown): v is RuntimeErrorCode {
  return typeof v === 'string' && Object.hasOwn(RuntimeErrorCodes, v)
}
