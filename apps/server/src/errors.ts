/**
 * Error codes of the server program itself (its command line and its config file),
 * documented in docs/errors.md. The proxy and the admin API keep their own (proxy/errors.ts,
 * admin/errors.ts).
 */
import { codeTable, defineErrorClass, type CodedErrorOptions } from '@checkups/shm/errors'

export const ServerErrorCodes = codeTable(
  'SRV_ERR_CLI', 'SRV_ERR_CONFIG_FILE', 'SRV_ERR_LISTEN',
)
export type ServerErrorCode = keyof typeof ServerErrorCodes

export class ServerError extends defineErrorClass<ServerErrorCode>('ServerError') {}

/** A command line or environment mistake: printed as is, exit code 2. */
export class CliError extends defineErrorClass<'SRV_ERR_CLI'>('CliError') {
  constructor(message: string, options?: CodedErrorOptions) {
    super('SRV_ERR_CLI', message, options)
  }
}

/** A problem with the config file: printed as `checkups: <message>`, exit code 1. */
export class ConfigFileError extends defineErrorClass<'SRV_ERR_CONFIG_FILE'>('ConfigFileError') {
  constructor(message: string, options?: CodedErrorOptions) {
    super('SRV_ERR_CONFIG_FILE', message, options)
  }
}

/** A listener that cannot be opened at start (port in use, ...): one line, exit code 1. */
export class ListenError extends defineErrorClass<'SRV_ERR_LISTEN'>('ListenError') {
  constructor(message: string, options?: CodedErrorOptions) {
    super('SRV_ERR_LISTEN', message, options)
  }
}
