/**
 * Whether a callback's result is a success (BEHAVIOR.md §readyOk rule 1): Lua truthiness —
 * `undefined`, `null` and `false` fail, anything else (0 and '' too) succeeds. Under
 * `typ: "http"` with `http_opts.statuses`, a result with a numeric `status` (or `statusCode`)
 * fails when `statuses[String(code)] === false`.
 */
import type { ResolvedUpstream } from '../config/types.js'

export function isFailure(result: unknown, ups: ResolvedUpstream): boolean {
  if (result === undefined || result === null || result === false) return true
  const statuses = ups.typ === 'http' ? ups.http_opts?.statuses : null
  if (!statuses || typeof result !== 'object') return false
  const r = result as { status?: unknown; statusCode?: unknown }
  const code = typeof r.status === 'number' ? r.status : typeof r.statusCode === 'number' ? r.statusCode : undefined
  return code !== undefined && statuses[String(code)] === false
}
