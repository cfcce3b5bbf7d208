/**
 * Optional peer packages of @checkups/core: the drivers and the thread pool most deployments
 * never use, so they are not installed with it.
 *
 *   ioredis  — the heartbeat of `typ: 'redis'` upstreams, and `checkups.redis()`
 *   mysql2   — the heartbeat of `typ: 'mysql'` upstreams, and `checkups.mysql()`
 *   piscina  — the heartbeat thread pool (`pool` option)
 *   undici   — `checkups.dispatcher()` / `interceptor()` (the clients load it themselves)
 *
 * Invariants
 * - Whatever needs one of them asks here first, at the boundary (config resolution, heartbeat
 *   creation), so a missing package is one clear CKP_ERR_MISSING_PACKAGE naming what to install
 *   at start or at the admin call — never a module-not-found crash in the first heartbeat round.
 * - Presence is decided by resolving the name from this package's own location (exactly where
 *   the later `import()` looks), without loading it: start-up does not pay for a driver, and a
 *   package that resolves but fails to load still reports its own error at first use.
 * - An answer is cached per name for the life of the process (installing a package takes a
 *   restart, as with any dependency).
 */
import { createRequire } from 'node:module'
import { CheckupsError } from './errors.js'

/** What each optional package is for (used in the error message). */
export const OPTIONAL_PACKAGES = {
  ioredis: "the heartbeat of typ: 'redis' upstreams",
  mysql2: "the heartbeat of typ: 'mysql' upstreams",
  piscina: 'the heartbeat thread pool',
  undici: 'checkups.dispatcher() and interceptor()',
} as const
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES

const present = new Map<string, boolean>()

/** True when `name` resolves from @checkups/core (it is installed where core can import it). */
export function isInstalled(name: string): boolean {
  let ok = present.get(name)
  if (ok === undefined) {
    try {
      createRequire(import.meta.url).resolve(name)
      ok = true
    } catch (err) {
      // found but not require()-able (an import-only `exports` map) still means installed
      ok = (err as { code?: unknown }).code !== 'MODULE_NOT_FOUND'
    }
    present.set(name, ok)
  }
  return ok
}

/**
 * Throws CKP_ERR_MISSING_PACKAGE unless `name` is installed; `who` says what asked for it.
 * @example requirePackage('ioredis', 'upstream "cache" (typ: \'redis\')')
 */
export function requirePackage(name: string, who: string): void {
  if (isInstalled(name)) return
  const why = (OPTIONAL_PACKAGES as Record<string, string>)[name] ?? 'an optional feature'
  throw new CheckupsError(
    'CKP_ERR_MISSING_PACKAGE',
    `${who} needs the package "${name}" (${why}), which is not installed: npm install ${name}`,
  )
}

/** The optional package an upstream's heartbeat needs, if any (custom heartbeats need none). */
export function packageForUpstream(ups: { typ: string; enable?: boolean | null; heartbeat?: unknown }): OptionalPackage | undefined {
  if (ups.enable === false || typeof ups.heartbeat === 'function') return undefined
  if (ups.typ === 'redis') return 'ioredis'
  if (ups.typ === 'mysql') return 'mysql2'
  return undefined
}
