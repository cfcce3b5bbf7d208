/**
 * Errors of the apps/server command line and config file, documented in docs/errors.md
 * (## apps/server command line and config). main.ts prints `checkups: <message>` and exits
 * with the code's exit status.
 */
export const ServerErrorCodes = {
  /** a command line or environment mistake (exit 2) */
  SRV_ERR_CLI: 'SRV_ERR_CLI',
  /** the config file is missing, cannot be loaded or is invalid (exit 1) */
  SRV_ERR_CONFIG: 'SRV_ERR_CONFIG',
} as const
export type ServerErrorCode = keyof typeof ServerErrorCodes

/** A command line or environment mistake: printed as is, exit code 2. */
export class CliError extends Error {
  override readonly name = 'CliError'
  readonly code: ServerErrorCode = 'SRV_ERR_CLI'
}

/** A problem with the config file: printed as `checkups: <message>`, exit code 1. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError'
  readonly code: ServerErrorCode = 'SRV_ERR_CONFIG'
}
