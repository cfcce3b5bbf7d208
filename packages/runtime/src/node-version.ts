/**
 * Which Node.js releases checkups supports, checked once when `run()` starts in the primary.
 *
 * Supported = what every package.json's `engines.node` says: 20.18 or later on the 20 line,
 * 22, 24, and 26 onwards (the LTS lines CI and the maintainers test; the native addon is built
 * for each). Below the minimum the process model and the addon are known not to work, so
 * run() refuses with RT_ERR_UNSUPPORTED_NODE; an odd (short-lived, non-LTS) release line in
 * between gets one warning line on stderr and runs anyway.
 *
 * Invariants: pure over the version string (tests pass any version); the warning is written at
 * most once per process, and only by the primary (workers run the same binary).
 */
import { RuntimeError } from './errors.js'

/** Mirrors `engines.node` in the package.json files: keep the two in step. */
export const SUPPORTED_NODE = '^20.18.0 || ^22.0.0 || ^24.0.0 || >=26.0.0'
const MIN: readonly [number, number] = [20, 18]
const NEWEST_LINE = 26

export type NodeSupport =
  | { readonly kind: 'supported' }
  | { readonly kind: 'untested'; readonly line: string }
  | { readonly kind: 'too_old'; readonly line: string }

/** Classifies a Node.js version (`process.versions.node` form, `v` prefix allowed). */
export function nodeSupport(version: string): NodeSupport {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version)
  if (!m) return { kind: 'untested', line: `checkups: cannot read the Node.js version "${version}"; supported: ${SUPPORTED_NODE}` }
  const major = Number(m[1])
  const minor = Number(m[2])
  if (major < MIN[0] || (major === MIN[0] && minor < MIN[1])) {
    return { kind: 'too_old', line: `checkups: Node.js v${m[1]}.${m[2]}.${m[3]} is not supported (supported: ${SUPPORTED_NODE}); please upgrade Node.js` }
  }
  if (major >= NEWEST_LINE || major % 2 === 0) return { kind: 'supported' }
  return { kind: 'untested', line: `checkups: Node.js v${m[1]}.${m[2]}.${m[3]} is not a supported release line (supported: ${SUPPORTED_NODE}); continuing` }
}

let warned = false

/** Throws RT_ERR_UNSUPPORTED_NODE below the minimum; writes one warning line for an odd line. */
export function checkNode(version: string = process.versions.node, write: (line: string) => void = (l) => void process.stderr.write(l + '\n')): void {
  const s = nodeSupport(version)
  if (s.kind === 'too_old') throw new RuntimeError('RT_ERR_UNSUPPORTED_NODE', s.line.replace(/^checkups: /, ''))
  if (s.kind === 'untested' && !warned) {
    warned = true
    write(s.line)
  }
}
