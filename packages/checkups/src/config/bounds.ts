/**
 * The ranges every number and name of the config must fall in, with the reasons.
 *
 * Invariants
 * - Durations are seconds, converted to ms timers inside; 1 ms is the smallest a Node timer
 *   honours (1e-9 s would round to 0 = "no timeout") and 2^31-1 ms the largest (a larger
 *   delay overflows to a 1 ms timer). So every duration is 0.001..2147483.647 s.
 * - Weights are positive int32, as the original accepts them (its own tests mix 3 000 and
 *   3 200 000): WRR arithmetic stays exact in float64 for any number of such peers below 2^22.
 * - Hosts are a hostname (letters, digits, `-`, `_`, dots) or an IP address, without a port,
 *   spaces, control characters (CR/LF would split a request line) or lone surrogates.
 *   A hostname's labels are 1-63 characters and do not begin or end with `-` (RFC 1123; `_`
 *   is kept, as service names use it), and its last label is not all digits (`10.0.0.300` is
 *   a mistyped address, not a name to look up) — `global.dns` resolves exactly these names.
 * - A DNS resolver is an IP address with an optional port (`127.0.0.1:5353`, `[::1]:53`):
 *   node:dns `setServers` takes no names.
 */
import { isIP } from 'node:net'

export const MIN_SECONDS = 0.001
export const MAX_SECONDS = 2_147_483.647
export const SECONDS_MSG = `must be a number of seconds ${MIN_SECONDS}-${MAX_SECONDS}`
export const MAX_INT32 = 2_147_483_647
export const MAX_HOST_LENGTH = 253

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*))*\.?$/
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
const RFC1123 = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`)

/** Why `host` is not a usable host, or undefined when it is one. */
export function hostProblem(host: string): string | undefined {
  if (host === '') return 'must be a non-empty string'
  if (host.length > MAX_HOST_LENGTH) return `must be at most ${MAX_HOST_LENGTH} characters`
  if (LONE_SURROGATE.test(host)) return 'must be well-formed text (it holds a lone surrogate)'
  if (/[\u0000-\u0020\u007f-\u009f]/.test(host)) return 'must not contain spaces or control characters (CR, LF, ...)'
  if (isAddress(host)) return undefined
  if (/:\d+$/.test(host)) return 'must be a hostname or an IP address without a port (give the port as `port`)'
  if (!HOSTNAME.test(host)) return 'must be a hostname (letters, digits, "-", "_", ".") or an IP address'
  if (!RFC1123.test(host)) return 'must be a hostname whose labels are 1-63 characters, not beginning or ending with "-" (RFC 1123)'
  if (/(?:^|\.)\d+\.?$/.test(host)) return 'must be a valid IP address or a hostname whose last label is not all digits'
  return undefined
}

/** A host that is an IP address (bracketed IPv6 included): never looked up in DNS. */
export function isAddress(host: string): boolean {
  return isIP(host) !== 0 || (host.startsWith('[') && host.endsWith(']') && isIP(host.slice(1, -1)) === 6)
}

/** Why `r` is not a usable `global.dns.resolver` (`ip`, `ip:port`, `[ipv6]:port`), or undefined. */
export function resolverProblem(r: string): string | undefined {
  const msg = 'must be an IP address with an optional port ("127.0.0.1:53", "[::1]:53")'
  let port = '53'
  if (isIP(r) !== 6) {
    const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(r) ?? /^([^:\[\]]+)(?::(\d{1,5}))?$/.exec(r)
    if (m === null || isIP(m[1]!) !== (r.startsWith('[') ? 6 : 4)) return msg
    port = m[2] ?? port
  }
  if (Number(port) < 1 || Number(port) > 65535) return 'must have a port 1-65535'
  return undefined
}
