/** All error codes of @checkups/runtime, documented in docs/errors.md (## @checkups/runtime). */
export const RuntimeErrorCodes = {
  /** a `run()` option is invalid (workers, shared_dicts, config kind) */
  RT_ERR_INVALID_OPTION: 'RT_ERR_INVALID_OPTION',
  /** the config module could not be found or imported */
  RT_ERR_CONFIG_LOAD: 'RT_ERR_CONFIG_LOAD',
  /** the config was loaded but failed validation (cause: the validator's error) */
  RT_ERR_CONFIG_INVALID: 'RT_ERR_CONFIG_INVALID',
  /** a shared memory zone could not be created, formatted or attached */
  RT_ERR_ZONE: 'RT_ERR_ZONE',
  /** a worker's request to the primary got no answer in time, or the channel is gone */
  RT_ERR_IPC: 'RT_ERR_IPC',
  /** a worker-only or primary-only facility was used in the other kind of process */
  RT_ERR_WRONG_PROCESS: 'RT_ERR_WRONG_PROCESS',
  /** a replacement worker did not become ready during a reload */
  RT_ERR_RELOAD: 'RT_ERR_RELOAD',
  /** run() on a Node.js older than the supported minimum (see node-version.ts) */
  RT_ERR_UNSUPPORTED_NODE: 'RT_ERR_UNSUPPORTED_NODE',
} as const
export type RuntimeErrorCode = keyof typeof RuntimeErrorCodes

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode
  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RuntimeError'
    this.code = code
  }
}
