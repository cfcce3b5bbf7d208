/**
 * The config file of apps/server: a checkups config module that may carry a
 * `server` section `{ workers, listen, admin: { listen, token }, shared_dicts, routes }`.
 * Core ignores `server`; this module validates it once and fills the defaults, with the
 * command line's overrides applied on top.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const DEFAULT_LISTEN = '127.0.0.1:8080'
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:9080'
/** admin request bodies larger than this get 413 */
export const DEFAULT_ADMIN_BODY_LIMIT = 1024 * 1024

/** The example config shipped with the app, used when no config is given. */
export const BUNDLED_CONFIG = fileURLToPath(new URL('../checkups.config.js', import.meta.url))

export interface ListenAddress { readonly host: string; readonly port: number }

export interface ServerConfig {
  /** from the file; the command line/env may override it (see main.ts) */
  readonly workers: number | undefined
  readonly listen: ListenAddress
  readonly admin: { readonly listen: ListenAddress; readonly token: string | undefined; readonly bodyLimit: number }
  readonly shared_dicts: Readonly<Record<string, number | string>>
  /** validated by the proxy (src/proxy) */
  readonly routes: readonly unknown[]
}

export interface ServerOverrides { listen?: string | undefined; admin?: string | undefined }

import { ConfigFileError } from './errors.js'

export { ConfigFileError }

/** The config file to use: explicit path, else the bundled example. Must exist. */
export function configPath(given: string | undefined): string {
  const file = given === undefined ? BUNDLED_CONFIG : given.startsWith('file:') ? fileURLToPath(given) : resolve(given)
  if (!existsSync(file)) throw new ConfigFileError(`config file not found: ${file}`)
  return file
}

/** Imports the config module's default export (errors name the file). */
export async function importConfigFile(file: string): Promise<Record<string, unknown>> {
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (err) {
    throw new ConfigFileError(`cannot load config ${file}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!isObject(mod.default)) throw new ConfigFileError(`config ${file}: the default export must be the config object`)
  return mod.default
}

/** Validates the `server` section, fills defaults, applies overrides. */
export function serverConfig(raw: Readonly<Record<string, unknown>>, overrides: ServerOverrides = {}): ServerConfig {
  const s = raw['server'] ?? {}
  if (!isObject(s)) throw new ConfigFileError('server: must be an object')
  const admin = s['admin'] ?? {}
  if (!isObject(admin)) throw new ConfigFileError('server.admin: must be an object')
  const workers = s['workers']
  if (workers !== undefined && (!Number.isInteger(workers) || (workers as number) < 1)) {
    throw new ConfigFileError('server.workers: must be an integer >= 1')
  }
  const token = admin['token']
  if (token !== undefined && (typeof token !== 'string' || token === '')) throw new ConfigFileError('server.admin.token: must be a non-empty string')
  const bodyLimit = admin['body_limit'] ?? DEFAULT_ADMIN_BODY_LIMIT
  if (!Number.isInteger(bodyLimit) || (bodyLimit as number) < 1) throw new ConfigFileError('server.admin.body_limit: must be an integer >= 1')
  const dicts = s['shared_dicts'] ?? {}
  if (!isObject(dicts)) throw new ConfigFileError('server.shared_dicts: must be an object of sizes')
  const routes = s['routes'] ?? []
  if (!Array.isArray(routes)) throw new ConfigFileError('server.routes: must be an array')
  return {
    workers: workers as number | undefined,
    listen: parseListen(overrides.listen ?? s['listen'] ?? DEFAULT_LISTEN, overrides.listen ? '--listen' : 'server.listen'),
    admin: {
      listen: parseListen(overrides.admin ?? admin['listen'] ?? DEFAULT_ADMIN_LISTEN, overrides.admin ? '--admin' : 'server.admin.listen'),
      token: token as string | undefined,
      bodyLimit: bodyLimit as number,
    },
    shared_dicts: dicts as Record<string, number | string>,
    routes,
  }
}

/** `host:port`, `[v6]:port`, `:port` or `port` (host 127.0.0.1). */
export function parseListen(value: unknown, where: string): ListenAddress {
  const bad = (): ConfigFileError => new ConfigFileError(`${where}: expected HOST:PORT, got ${JSON.stringify(value)}`)
  if (typeof value === 'number') value = String(value)
  if (typeof value !== 'string') throw bad()
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value)
  if (!m) throw bad()
  const port = Number(m[3])
  if (!Number.isInteger(port) || port > 65535) throw bad()
  return { host: m[1] || m[2] || '127.0.0.1', port }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
