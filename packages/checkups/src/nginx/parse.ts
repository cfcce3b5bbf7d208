/**
 * A small parser for the `upstream NAME { server ...; }` blocks of an nginx.conf
 * (nginx upstream blocks). Other directives and blocks are skipped.
 * `server host[:port] [weight=N] [max_fails=N] [fail_timeout=T] [backup] [down];` with
 * nginx's defaults: port 80, weight 1, max_fails 1, fail_timeout 10 (s; `ms`/`s`/`m`/`h`
 * suffixes understood).
 */
export interface NginxPeer {
  name: string
  host: string
  port: number
  weight: number
  max_fails: number
  fail_timeout: number
  backup: boolean
  down: boolean
}

export type NginxUpstreamBlocks = Map<string, NginxPeer[]>

/** Splits into tokens: words, `{`, `}`, `;` — comments and quotes handled. */
function tokenize(text: string): string[] {
  const out: string[] = []
  const re = /#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};#"']+)/g
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].startsWith('#')) continue
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '')
  }
  return out
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }

function seconds(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v)
  if (!m) return Number.NaN
  return Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1)
}

function parseServer(args: string[]): NginxPeer | undefined {
  const addr = args[0]
  if (addr === undefined || addr.startsWith('unix:')) return undefined
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr)
  const colon = addr.lastIndexOf(':')
  const host = v6 ? v6[1]! : colon === -1 ? addr : addr.slice(0, colon)
  const port = Number(v6 ? (v6[2] ?? 80) : colon === -1 ? 80 : addr.slice(colon + 1))
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined
  const peer: NginxPeer = { name: `${host}:${port}`, host, port, weight: 1, max_fails: 1, fail_timeout: 10, backup: false, down: false }
  for (const a of args.slice(1)) {
    const [k, v = ''] = a.split('=', 2) as [string, string?]
    if (k === 'weight') peer.weight = Number(v) || 1
    else if (k === 'max_fails') peer.max_fails = Number.isFinite(Number(v)) ? Number(v) : 1
    else if (k === 'fail_timeout') peer.fail_timeout = Number.isFinite(seconds(v)) ? seconds(v) : 10
    else if (k === 'backup') peer.backup = true
    else if (k === 'down') peer.down = true
  }
  return peer
}

/** Parses every `upstream` block (at any nesting) of an nginx.conf text. */
export function parseNginxUpstreams(text: string): NginxUpstreamBlocks {
  const toks = tokenize(text)
  const out: NginxUpstreamBlocks = new Map()
  for (let i = 0; i < toks.length; i++) {
    if (toks[i] !== 'upstream' || toks[i + 2] !== '{') continue
    const name = toks[i + 1]!
    const peers: NginxPeer[] = []
    let j = i + 3
    let depth = 1
    let stmt: string[] = []
    for (; j < toks.length && depth > 0; j++) {
      const t = toks[j]!
      if (t === '{') depth++
      else if (t === '}') depth--
      else if (t === ';') {
        if (depth === 1 && stmt[0] === 'server') {
          const p = parseServer(stmt.slice(1))
          if (p) peers.push(p)
        }
        stmt = []
      } else stmt.push(t)
    }
    out.set(name, peers)
    i = j - 1
  }
  return out
}
