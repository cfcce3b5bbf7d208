/**
 * @checkups/shdict — ngx.shared.DICT semantics over a SharedArrayBuffer, plus resty.lock.
 * See docs/shdict.md for the design (layout, locking, crash safety).
 */
export { SharedDict } from './dict.js'
export type { SharedDictOptions, ValueWithFlags, StaleValue, Value, SetResult, IncrResult, PushResult } from './dict.js'
export { Lock } from './lock.js'
export type { LockOptions } from './lock.js'
export { SharedDictError, SharedDictErrorCodes } from './errors.js'
export type { SharedDictErrorCode } from './errors.js'
