/**
 * Request-target normalisation before routing, so that what the routes match is what the
 * peer will resolve (a `/public` route must not be a way to reach `/secret`).
 *
 * Invariants:
 * - Only origin-form targets (`/path?query`) are routed; anything else is refused.
 * - The path is normalised as nginx does before it picks a location: repeated slashes are
 *   merged, `.` and `..` segments are resolved (RFC 3986 §5.2.4), and a `.`/`..` spelled with
 *   percent-encoded dots (`%2e`) counts as one. The normalised path is what is matched AND
 *   what is forwarded, so the peer never sees a dot segment.
 * - A dot segment the proxy cannot remove without changing the meaning for some peer is
 *   refused (400): one hidden behind an encoded slash or backslash (`..%2f`, `%2e%2e%5c`) or a
 *   raw backslash, one carrying path parameters (`..;x`, servlet containers strip them), a
 *   `..` above the root, an encoded NUL, or malformed percent-encoding.
 * - Other percent-escapes are forwarded as sent (a peer may give `%2F` inside a segment a
 *   meaning of its own). The query string is never touched.
 * - The common case (no `.`, `%`, `\` or `//` in the path) costs one regex test.
 */

export type PathResult = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string }

const NEEDS_WORK = /[.%\\]|\/\//
const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/
const ENCODED_NUL = /%00/
/** separators some peers honour inside a segment */
const HIDDEN_SEPARATOR = /%2f|%5c|\\/i
const ENCODED_DOT = /%2e/gi

/** Splits `url` (origin-form) into its path and `?query` (empty when absent). */
export function splitTarget(url: string): { path: string; query: string } {
  const q = url.indexOf('?')
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q) }
}

/** Whether a decoded segment part is a dot segment (`.`/`..`), also with `;params`. */
function dotKind(part: string): 0 | 1 | 2 {
  const semi = part.indexOf(';')
  const bare = semi === -1 ? part : part.slice(0, semi)
  if (bare === '.') return 1
  if (bare === '..') return 2
  return 0
}

/**
 * Normalises a request path (no query). Returns the path to match and forward, or the reason
 * for a 400.
 *
 * @example normalizePath('/public/%2e%2e/secret') // { ok: true, path: '/secret' }
 * @example normalizePath('/public/..%2fsecret')   // { ok: false, reason: 'encoded separator in a dot segment' }
 */
export function normalizePath(path: string): PathResult {
  if (path.length === 0 || path.charCodeAt(0) !== 0x2f) return { ok: false, reason: 'request target must be an absolute path' }
  if (!NEEDS_WORK.test(path)) return { ok: true, path }
  if (BAD_ESCAPE.test(path)) return { ok: false, reason: 'malformed percent-encoding in the path' }
  if (ENCODED_NUL.test(path)) return { ok: false, reason: 'encoded NUL in the path' }
  const out: string[] = []
  const segments = path.split('/')
  const last = segments.length - 1
  let trailingSlash = segments[last] === ''
  for (let i = 1; i <= last; i++) {
    const seg = segments[i] as string
    if (seg === '') continue // merged slash (or the trailing one, kept by trailingSlash)
    const decoded = seg.includes('%') ? seg.replace(ENCODED_DOT, '.') : seg
    if (HIDDEN_SEPARATOR.test(decoded)) {
      for (const part of decoded.split(/%2f|%5c|\\/i)) {
        if (dotKind(part) !== 0) return { ok: false, reason: 'encoded separator in a dot segment' }
      }
      out.push(seg)
      continue
    }
    const kind = dotKind(decoded)
    if (kind !== 0 && decoded !== '.' && decoded !== '..') return { ok: false, reason: 'path parameters on a dot segment' }
    if (kind === 1) {
      if (i === last) trailingSlash = true
      continue
    }
    if (kind === 2) {
      if (out.length === 0) return { ok: false, reason: 'dot segment above the root' }
      out.pop()
      if (i === last) trailingSlash = true
      continue
    }
    out.push(seg)
  }
  const joined = `/${out.join('/')}`
  return { ok: true, path: trailingSlash && out.length > 0 ? `${joined}/` : joined }
}

/**
 * Whether `path` is under `prefix` on a segment boundary: `/public` matches `/public` and
 * `/public/x`, not `/publicsecret`; a prefix ending in `/` matches as a plain prefix.
 */
export function underPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false
  if (path.length === prefix.length || prefix.endsWith('/')) return true
  return path.charCodeAt(prefix.length) === 0x2f
}
