/**
 * Turning schema failures into the messages users read: one dotted path per problem
 * (`ups1.cluster[0].servers[1].port: must be an integer 1-65535`), and unknown keys reported
 * one by one with the nearest known option (`...servers[1].wieght: unknown option (did you
 * mean "weight"?)`).
 *
 * Invariants: every object schema of the config is built with `strictObject` below, so an
 * unknown key is never dropped silently; the suggestion comes from the keys of the very object
 * the key was found in, never from another level of the config.
 */
import { z } from 'zod'

export type Path = readonly (string | number)[]

/** `['ups1', 'cluster', 0, 'servers', 1, 'port']` → `ups1.cluster[0].servers[1].port` */
export function formatPath(path: Path): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else out += out === '' ? seg : `.${seg}`
  }
  return out
}

/** Edit distance counting a swap of two neighbours as one edit, bounded: `max + 1` past it. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let before: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1)
      cur.push(v)
      if (v < rowMin) rowMin = v
    }
    if (rowMin > max) return max + 1
    before = prev
    prev = cur
  }
  return prev[b.length]!
}

/** The known option closest to `key` (case-insensitive, at most ~a third of it mistyped). */
export function suggest(key: string, known: readonly string[]): string | undefined {
  const k = key.toLowerCase()
  const max = Math.max(1, Math.floor(k.length / 3))
  let best: string | undefined
  let bestD = max + 1
  for (const cand of known) {
    const d = distance(k, cand.toLowerCase(), max)
    if (d < bestD) {
      best = cand
      bestD = d
    }
  }
  return best
}

/** `unknown option (did you mean "weight"?)` for one unknown key. */
export function unknownOption(key: string, known: readonly string[]): string {
  const s = suggest(key, known)
  return s === undefined ? 'unknown option' : `unknown option (did you mean "${s}"?)`
}

const UNKNOWN = '\u0000unknown:'

/**
 * A zod object that refuses unknown keys. Its unknown-key issue carries, per key, the
 * message with the suggestion (decoded by `issueMessages`); other issues get `message`.
 */
export function strictObject<S extends z.ZodRawShape>(shape: S, message = 'must be an object') {
  const known = Object.keys(shape)
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys'
      ? UNKNOWN + JSON.stringify(iss.keys.map((k) => [k, unknownOption(k, known)]))
      : message),
  })
}

/** A zod issue, as far as the messages need it. */
export interface IssueLike {
  readonly code?: string
  readonly path: readonly PropertyKey[]
  readonly message: string
}

/** One `path: message` line per problem of a failed parse, under `base`. */
export function issueMessages(issues: readonly IssueLike[], base: Path = []): string[] {
  const out: string[] = []
  for (const i of issues) {
    const path = [...base, ...(i.path.filter((s) => typeof s !== 'symbol') as (string | number)[])]
    if (i.code === 'unrecognized_keys' && i.message.startsWith(UNKNOWN)) {
      for (const [key, msg] of JSON.parse(i.message.slice(UNKNOWN.length)) as [string, string][]) {
        out.push(`${formatPath([...path, key])}: ${msg}`)
      }
      continue
    }
    const p = formatPath(path)
    out.push(p ? `${p}: ${i.message}` : i.message)
  }
  return out
}

/**
 * The one zod issue → message formatter: `<dotted path>: <message>` per issue (the path under
 * `base`; an unknown key one line each, with its suggestion), joined by `; `.
 */
export function formatIssues(issues: readonly IssueLike[], base: Path = []): string {
  return issueMessages(issues, base).join('; ')
}
