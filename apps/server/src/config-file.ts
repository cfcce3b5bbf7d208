/**
 * The config boundary of apps/server, in one place: the config file (a JS module or JSON
 * whose default export / document is a checkups config, plus the app's `server` section) is
 * checked here whole — core's upstreams and `global`, the top-level keys, the `server`
 * section, every route (its upstream must exist) — with the command line's overrides applied.
 * The primary runs `checkConfig` at start (before any worker is forked), at every reload
 * (a refused reload changes nothing) and for `--check`; workers re-read the same file.
 *
 * Invariants: unknown keys anywhere are errors naming the nearest known option; the admin API
 * never listens off loopback without a token; every message starts with a dotted path.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { formatIssues, resolveConfig, suggest, unknownOption, type GlobalInput, type ResolvedConfig, type UpstreamInput } from '@checkups/core'
import { importConfig, zoneSizes } from '@checkups/runtime'
import { ConfigFileError } from './errors.js'
import { parseAccessLog, type AccessLogConfig } from './access-log/index.js'
import { isLoopback, parseListen, type ListenAddress } from './listen.js'
import { compileRoutes } from './proxy/route.js'
import { parseLimits } from './proxy/options.js'
import { parseStreams } from './proxy/streams.js'
import type { RouteConfig } from './proxy/types.js'
import { PROXY_SECTION_KEYS, serverSectionSchema, type ServerSectionInput } from './server-schema.js'

export { ConfigFileError } from './errors.js'
export { parseListen, type ListenAddress } from './listen.js'

export const DEFAULT_LISTEN = '127.0.0.1:8080'
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:9080'
/** admin request bodies larger than this get 413 */
export const DEFAULT_ADMIN_BODY_LIMIT = 1024 * 1024

/** The example config shipped with the app, used when no config is given. */
export const BUNDLED_CONFIG = fileURLToPath(new URL('../checkups.config.js', import.meta.url))

export interface ServerConfig {
  /** from the file; the command line/env may override it (see main.ts) */
  readonly workers: number | undefined
  readonly listen: ListenAddress
  readonly admin: {
    readonly listen: ListenAddress; readonly token: string | undefined; readonly bodyLimit: number
    /** a GET/HEAD-only token (admin/security.ts) */
    readonly readToken?: string | undefined
    /** HTTPS for the admin listener: PEM contents read from `server.admin.tls.{cert,key}` */
    readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined
  }
  readonly shared_dicts: Readonly<Record<string, number | string>>
  readonly routes: readonly RouteConfig[]
  /** demo backends the workers serve themselves (`server.demo.backends`), [] when off */
  readonly demo: readonly ListenAddress[]
  /** the proxy's keys of the section as written (PROXY_SECTION_KEYS), checked by its parsers */
  readonly proxy: Readonly<Record<string, unknown>>
  readonly access_log: AccessLogConfig
}

export interface ServerOverrides { listen?: string | undefined; admin?: string | undefined }

/** A whole config file for apps/server, for `defineConfig` (tsc checks the option names). */
export interface ServerConfigInput {
  global?: GlobalInput
  server?: ServerSectionInput
  [skey: string]: UpstreamInput | GlobalInput | ServerSectionInput | undefined
}

/**
 * Returns `config` unchanged; typed so that tsc refuses misspelt options.
 * @example export default defineConfig({ api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 8081 }] }] }, server: { routes: [{ upstream: 'api' }] } })
 */
export function defineConfig(config: ServerConfigInput): ServerConfigInput {
  return config
}

/** The config file to use: explicit path, else the bundled example. Must exist. */
export function configPath(given: string | undefined): string {
  const file = given === undefined ? BUNDLED_CONFIG : given.startsWith('file:') ? fileURLToPath(given) : resolve(given)
  if (!existsSync(file)) throw new ConfigFileError(`config file not found: ${file}`)
  return file
}

/** Imports the config module's default export, or parses a `.json` file (errors name the file). */
export async function importConfigFile(file: string): Promise<Record<string, unknown>> {
  try {
    return await importConfig(pathToFileURL(file))
  } catch (err) {
    throw new ConfigFileError(err instanceof Error ? err.message : String(err), { cause: err })
  }
}

export interface CheckedConfig {
  readonly config: ResolvedConfig
  readonly server: ServerConfig
  /** accepted but doubtful input (`path: message`), for the log */
  readonly warnings: readonly string[]
}

/** The whole check of a loaded config file (see the module comment). */
export function checkConfig(raw: Readonly<Record<string, unknown>>, overrides: ServerOverrides = {}): CheckedConfig {
  const warnings: string[] = []
  const config = resolveConfig(raw, { onWarning: (m) => warnings.push(m) })
  return { config, server: serverConfig(raw, overrides, Object.keys(config.upstreams)), warnings }
}

/**
 * Validates the `server` section (and the config's top-level keys), fills defaults, applies
 * overrides. With `upstreams`, every route must name one of them.
 */
export function serverConfig(raw: Readonly<Record<string, unknown>>, overrides: ServerOverrides = {}, upstreams?: readonly string[]): ServerConfig {
  checkTopLevel(raw, upstreams)
  const parsed = serverSectionSchema.safeParse(raw['server'] ?? {})
  if (!parsed.success) throw new ConfigFileError(formatIssues(parsed.error.issues, ['server']))
  const s = parsed.data
  const listen = parseListen(overrides.listen ?? s.listen ?? DEFAULT_LISTEN, overrides.listen ? '--listen' : 'server.listen')
  const adminWhere = overrides.admin ? '--admin' : 'server.admin.listen'
  const adminListen = parseListen(overrides.admin ?? s.admin?.listen ?? DEFAULT_ADMIN_LISTEN, adminWhere)
  const token = s.admin?.token
  if (token === undefined && !isLoopback(adminListen.host)) {
    throw new ConfigFileError(
      `${adminWhere}: the admin API on ${adminListen.host} is reachable from other machines and can change every upstream; ` +
        'set server.admin.token (requests then need Authorization: Bearer <token>) or listen on 127.0.0.1',
    )
  }
  try {
    zoneSizes(s.shared_dicts) // names and sizes, as the runtime will read them
  } catch (err) {
    throw new ConfigFileError(`server.${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  const routes = (s.routes ?? []) as RouteConfig[]
  checkRoutes(routes, upstreams)
  const proxy = proxyKeys(s as Record<string, unknown>)
  return {
    workers: s.workers,
    listen,
    admin: {
      listen: adminListen, token, bodyLimit: s.admin?.body_limit ?? DEFAULT_ADMIN_BODY_LIMIT,
      ...(s.admin?.read_token !== undefined ? { readToken: s.admin.read_token } : {}),
      ...(s.admin?.tls ? { tls: adminTls(s.admin.tls) } : {}),
    },
    shared_dicts: s.shared_dicts ?? {},
    routes,
    demo: (s.demo?.backends ?? []).map((b, i) => parseListen(b, `server.demo.backends[${i}]`)),
    proxy,
    access_log: accessLogOf(s.access_log),
  }
}

function accessLogOf(raw: unknown): AccessLogConfig {
  try {
    return parseAccessLog(raw)
  } catch (err) {
    throw new ConfigFileError((err as Error).message, { cause: err })
  }
}

/** The proxy's keys of the section, checked here by the proxy's own parsers (one owner per option). */
function proxyKeys(s: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of PROXY_SECTION_KEYS) if (s[k] !== undefined) out[k] = s[k]
  try {
    parseLimits(out)
    parseStreams(out['streams']).forEach((st, i) => parseListen(st.listen, `server.streams[${i}].listen`))
  } catch (err) {
    if (err instanceof ConfigFileError) throw err
    throw new ConfigFileError(err instanceof Error ? err.message : String(err), { cause: err })
  }
  return out
}

/** `server.admin.tls: { cert, key }` (PEM file paths, relative to the working directory) → contents. */
function adminTls(paths: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  const read = (name: 'cert' | 'key'): Buffer => {
    try {
      return readFileSync(resolve(paths[name]))
    } catch (err) {
      throw new ConfigFileError(`server.admin.tls.${name}: cannot read ${paths[name]}: ${(err as Error).message}`)
    }
  }
  const tls = { cert: read('cert'), key: read('key') }
  try {
    createSecureContext(tls)
  } catch (err) {
    throw new ConfigFileError(`server.admin.tls: certificate and key refused: ${(err as Error).message}`)
  }
  return tls
}

/** Top level: `global`, `server`, and upstreams (objects with a `cluster`); nothing else. */
function checkTopLevel(raw: Readonly<Record<string, unknown>>, upstreams: readonly string[] | undefined): void {
  if (upstreams === undefined) return
  const problems: string[] = []
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'global' || key === 'server' || upstreams.includes(key)) continue
    const isObj = typeof value === 'object' && value !== null && !Array.isArray(value)
    const near = suggest(key, ['global', 'server'])
    problems.push(near !== undefined || !isObj
      ? `${key}: ${unknownOption(key, ['global', 'server'])}`
      : `${key}: unknown option (an upstream needs a cluster)`)
  }
  if (problems.length) throw new ConfigFileError(problems.join('; '))
}

function checkRoutes(routes: readonly RouteConfig[], upstreams: readonly string[] | undefined): void {
  try {
    compileRoutes(routes)
  } catch (err) {
    throw new ConfigFileError(err instanceof Error ? err.message : String(err), { cause: err })
  }
  if (upstreams === undefined) return
  routes.forEach((r, i) => {
    if (upstreams.includes(r.upstream)) return
    const near = suggest(r.upstream, upstreams)
    throw new ConfigFileError(`server.routes[${i}].upstream: no upstream "${r.upstream}" in the config${near ? ` (did you mean "${near}"?)` : ''}`)
  })
}
