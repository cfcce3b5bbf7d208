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
 */
import { isIP } from 'node:net'

export const MIN_SECONDS = 0.001
export const MAX_SECONDS = 2_147_483.647
export const SECONDS_MSG = `must be a number of seconds ${MIN_SECONDS}-${MAX_SECONDS}`
export const MAX_INT32 = 2_147_483_647
export const MAX_HOST_LENGTH = 253

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*))*\.?$/

/** Why `host` is not a usable host, or undefined when it is one. */
export function hostProblem(host: string): string | undefined {
  if (host === '') return 'must be a non-empty string'
  if (host.length > MAX_HOST_LENGTH) return `must be at most ${MAX_HOST_LENGTH} characters`
  if (LONE_SURROGATE.test(host)) return 'must be well-formed text (it holds a lone surrogate)'
  if (/[\u0000-\u0020\u007f-\u009f]/.test(host)) return 'must not contain spaces or control characters (CR, LF, ...)'
  if (isIP(host) !== 0) return undefined
  if (/^\[.*\]$/.test(host) && isIP(host.slice(1, -1)) === 6) return undefined
  if (/:\d+$/.test(host)) return 'must be a hostname or an IP address without a port (give the port as `port`)'
  if (!HOSTNAME.test(host)) return 'must be a hostname (letters, digits, "-", "_", ".") or an IP address'
  return undefined
}
