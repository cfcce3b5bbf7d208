export { CheckupsError, CheckupsErrorCodes, type CheckupsErrorCode } from './errors.js'
export { STATUS_OK, STATUS_UNSTABLE, STATUS_ERR } from './records.js'
export { KEY, SLOT } from './keys.js'
export { systemClock, type Clock } from './clock.js'
