/**
 * Whether a callback's result is a success: Lua truthiness —
 * `undefined`, `null` and `false` fail, anything else (0 and '' too) succeeds. Under
 * `typ: "http"` with `http_opts.statuses`, a result with a numeric `status` (or `statusCode`,
 * or a numeric string, as the original's `tostring(res.status)` lookup) fails when
 * `statuses[String(code)] === false`.
 */
import type { ResolvedUpstream } from '../config/types.js'

export function isFailure(result: unknown, ups: ResolvedUpstream): boolean {
  if (result === undefined || result === null || result === false) return true
  const statuses = ups.typ === 'http' ? ups.http_opts?.statuses : null
  if (!statuses || typeof result !== 'object') return false
  const r = result as { status?: unknown; statusCode?: unknown }
  const code = statusCode(r.status) ?? statusCode(r.statusCode)
  return code !== undefined && statuses[code] === false
}

function statusCode(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v)
  return typeof v === 'string' && /^\d{3}$/.test(v) ? v : undefined
}
