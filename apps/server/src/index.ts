/** @checkups/server as a library: the CLI entry and the admin building blocks. */
export { main, version } from './main.js'
export { HELP, parseCli, CliError, type CliOptions } from './cli.js'
export {
  BUNDLED_CONFIG, ConfigFileError, DEFAULT_ADMIN_LISTEN, DEFAULT_LISTEN, checkConfig, defineConfig, parseListen, serverConfig,
  type CheckedConfig, type ListenAddress, type ServerConfig, type ServerConfigInput, type ServerOverrides,
} from './config-file.js'
export { ServerErrorCodes, type ServerErrorCode } from './errors.js'
export type { RouteInput, ServerSectionInput } from './server-schema.js'
export { createAdminServer, WORKER_HEADER } from './admin/server.js'
export { Router, type AdminContext, type AdminRequest, type AdminResponse, type Handler } from './admin/router.js'
export { AdminError, AdminErrorCodes, CHECKUPS_STATUS, errorResponse, type AdminErrorCode } from './admin/errors.js'
export { listenAdmin, type AdminListenOptions } from './admin/library.js'
