/**
 * The config boundary: `resolveConfig(raw)` validates the original's format once, fills the
 * defaults, normalises (ports → numbers) and deep-freezes. Errors are CKP_ERR_INVALID_CONFIG
 * with a dotted path: `ups1.cluster[0].servers[1].port: must be an integer 1-65535`.
 *
 * Invariants: the caller's object is never mutated (zod builds new objects); an unknown key
 * inside `global`, an upstream, a level or a server is an error naming the nearest known
 * option; custom `heartbeat` functions are kept by reference; top-level keys whose value has a
 * `cluster` are upstreams, `global` is global, anything else is left to the application (the
 * server app refuses what it does not know). A level's `try`, shown in the original's README
 * but ignored by the original, is accepted and reported through `onWarning`.
 */
import { createHash } from 'node:crypto'
import type { z } from 'zod'
import { CheckupsError } from '../errors.js'
import { deepFreeze } from './freeze.js'
import { formatIssues, formatPath, type Path } from './issues.js'
import { packageForUpstream, requirePackage } from '../optional-deps.js'
import { globalSchema, levelSchema, upstreamSchema } from './schema.js'
import type { HeartbeatFn, ResolvedCluster, ResolvedConfig, ResolvedGlobal, ResolvedLevel, ResolvedUpstream } from './types.js'

export { formatIssues, formatPath }

/** Receives the `path: message` of an accepted but doubtful input (a level's `try`). */
export type ConfigWarning = (message: string) => void

function fail(code: 'CKP_ERR_INVALID_CONFIG' | 'CKP_ERR_INVALID_UPSTREAM', path: Path, msg: string): never {
  throw new CheckupsError(code, path.length ? `${formatPath(path)}: ${msg}` : msg)
}

export type ConfigErrorCode = 'CKP_ERR_INVALID_CONFIG' | 'CKP_ERR_INVALID_UPSTREAM'

function parse<T extends z.ZodType>(schema: T, raw: unknown, path: Path, code: ConfigErrorCode): z.output<T> {
  const r = schema.safeParse(raw)
  if (r.success) return r.data
  throw new CheckupsError(code, formatIssues(r.error.issues, path))
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

export interface ResolveUpstreamOptions {
  /** the error code to throw (config at start vs a dynamic update) */
  code?: ConfigErrorCode
  /** told about accepted but ignored input (default: nothing) */
  onWarning?: ConfigWarning | undefined
}

/** The original's README shows `try` and `try_timeout` on a level; the original never reads them there. */
const LEVEL_IGNORED = ['try', 'try_timeout'] as const

function resolveLevel(raw: unknown, path: Path, code: ConfigErrorCode, warn: ConfigWarning | undefined): ResolvedLevel {
  if (isPlainObject(raw) && LEVEL_IGNORED.some((k) => Object.hasOwn(raw as object, k))) {
    const rest: Record<string, unknown> = { ...raw }
    for (const k of LEVEL_IGNORED) {
      if (!Object.hasOwn(rest, k)) continue
      warn?.(`${formatPath([...path, k])}: ignored (lua-resty-checkups ignores a level's ${k} too; set ${k} on the upstream)`)
      delete rest[k]
    }
    raw = rest
  }
  return parse(levelSchema, raw, path, code) as ResolvedLevel
}

function resolveCluster(raw: unknown, path: Path, code: ConfigErrorCode, warn: ConfigWarning | undefined): ResolvedCluster {
  if (Array.isArray(raw)) {
    if (raw.length === 0) fail(code, path, 'must not be empty')
    return raw.map((lvl, i) => resolveLevel(lvl, [...path, i], code, warn))
  }
  if (!isPlainObject(raw)) fail(code, path, 'must be an array of levels or an object of named clusters')
  const names = Object.keys(raw)
  if (names.length === 0) fail(code, path, 'must not be empty')
  const out: Record<string, ResolvedLevel> = {}
  for (const name of names) out[name] = resolveLevel(raw[name], [...path, name], code, warn)
  return out
}

/** Validates one upstream (`raw` must have `cluster`); the result is deep-frozen. */
export function resolveUpstream(skey: string, raw: unknown, opts: ResolveUpstreamOptions = {}): ResolvedUpstream {
  const code = opts.code ?? 'CKP_ERR_INVALID_CONFIG'
  if (!isPlainObject(raw)) fail(code, [skey], 'must be an object')
  const { fall, ...base } = parse(upstreamSchema, raw, [skey], code)
  // `fall` is the other proxies' name for `sensibility`; both given must agree
  if (fall !== undefined) {
    if (raw.sensibility !== undefined && base.sensibility !== fall) fail(code, [skey, 'fall'], 'must equal sensibility when both are given')
    base.sensibility = fall
  }
  // a driver the heartbeat will need is an optional peer: refuse here, not at the first round
  const driver = packageForUpstream(base)
  if (driver) requirePackage(driver, `upstream "${skey}" (typ: '${base.typ}')`)
  const cluster = resolveCluster(raw.cluster, [skey, 'cluster'], code, opts.onWarning)
  return deepFreeze({ ...base, cluster } as ResolvedUpstream)
}

export function resolveGlobal(raw: unknown): ResolvedGlobal {
  const g = parse(globalSchema, raw ?? {}, ['global'], 'CKP_ERR_INVALID_CONFIG')
  if (g.heartbeat_thread === true) requirePackage('piscina', 'global.heartbeat_thread: true')
  return deepFreeze({
    ...g,
    shd_config_timer_interval: g.shd_config_timer_interval ?? g.checkup_timer_interval,
  })
}

/** True for a top-level config value that declares an upstream. */
export function isUpstreamEntry(key: string, value: unknown): boolean {
  return key !== 'global' && isPlainObject(value) && value.cluster !== undefined
}

/** Stable JSON (sorted keys, functions by source) for hashing. */
export function stableStringify(v: unknown): string {
  if (typeof v === 'function') return JSON.stringify(`[function ${v.toString()}]`)
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

/** A stable hash of the upstream configs: 16 hex chars of sha256. */
export function hashUpstreams(upstreams: Readonly<Record<string, ResolvedUpstream>>): string {
  return createHash('sha256').update(stableStringify(upstreams)).digest('hex').slice(0, 16)
}

const resolved = new WeakSet<object>()

/** Brands a config built from resolved parts (so it is not validated twice). */
export function markResolved(cfg: ResolvedConfig): ResolvedConfig {
  resolved.add(cfg)
  return cfg
}

/** True for the output of `resolveConfig` (or `markResolved`). */
export function isResolvedConfig(v: unknown): v is ResolvedConfig {
  return typeof v === 'object' && v !== null && resolved.has(v)
}

/**
 * Validates a whole config module's default export.
 * @example resolveConfig({ global: { checkup_timer_interval: 2 }, ups1: { cluster: [{ servers: [] }] } })
 */
export function resolveConfig(raw: unknown, opts: { onWarning?: ConfigWarning | undefined } = {}): ResolvedConfig {
  if (isResolvedConfig(raw)) return raw
  if (!isPlainObject(raw)) fail('CKP_ERR_INVALID_CONFIG', [], 'config must be an object')
  const global = resolveGlobal(raw.global)
  const upstreams: Record<string, ResolvedUpstream> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (isUpstreamEntry(key, value)) upstreams[key] = resolveUpstream(key, value, { onWarning: opts.onWarning })
  }
  const conf_hash = global.conf_hash ?? hashUpstreams(upstreams)
  return markResolved(deepFreeze({ global, upstreams, conf_hash }))
}

/**
 * An upstream kept outside this process as plain data (config zone, state file, cluster store)
 * made current again: validated, with this process's custom heartbeat for `skey` attached.
 */
export function resolveStored(skey: string, raw: unknown, heartbeat: HeartbeatFn | null): ResolvedUpstream {
  return resolveUpstream(skey, { ...(raw as object), heartbeat })
}

/** The upstream as the state file and the cluster store keep it: plain JSON, no heartbeat function. */
export function storedForm(ups: ResolvedUpstream): unknown {
  return JSON.parse(JSON.stringify({ ...ups, heartbeat: undefined }))
}
