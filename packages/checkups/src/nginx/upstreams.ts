/**
 * nginx upstream blocks as a server source: a level with `upstream = "NAME"` takes its
 * servers from that block of `global.nginx_conf` (primary peers, or the backup peers with
 * `upstream_only_backup`; `down` peers skipped with `upstream_skip_down`), appended to the
 * level's own servers as the original's `extract_servers_from_upstream`.
 * `peers(name)` answers getUpstreamPeers, with `down` overlaid from checkups' status.
 */
import { readFileSync, statSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import { deepFreeze } from '../config/freeze.js'
import { markResolved } from '../config/resolve.js'
import { levelsOf } from '../config/walk.js'
import type { ResolvedConfig, ResolvedLevel, ResolvedServer, ResolvedUpstream } from '../config/types.js'
import { type NginxPeer, type NginxUpstreamBlocks, parseNginxUpstreams } from './parse.js'

export interface Peer {
  name: string
  weight: number
  max_fails: number
  fail_timeout: number
  down?: boolean
}

export interface NginxPeers {
  primary: Peer[]
  backup: Peer[]
}

export class NginxUpstreams {
  private cache: { file: string; mtimeMs: number; blocks: NginxUpstreamBlocks } | undefined

  constructor(private readonly baseDir: string) {}

  /** The blocks of `file` (relative to the config dir), re-read when its mtime changes. */
  blocks(file: string | null): NginxUpstreamBlocks | undefined {
    if (file === null) return undefined
    const abs = resolvePath(this.baseDir, file)
    const mtimeMs = statSync(abs).mtimeMs
    if (this.cache?.file !== abs || this.cache.mtimeMs !== mtimeMs) {
      this.cache = { file: abs, mtimeMs, blocks: parseNginxUpstreams(readFileSync(abs, 'utf8')) }
    }
    return this.cache.blocks
  }

  /** The config with the servers of nginx upstream blocks filled into their levels. */
  expand(cfg: ResolvedConfig): ResolvedConfig {
    const uses = Object.values(cfg.upstreams).some((u) => levelsOf(u).some((l) => l.upstream !== null))
    if (!uses || cfg.global.nginx_conf === null) return cfg
    const blocks = this.blocks(cfg.global.nginx_conf)!
    const upstreams: Record<string, ResolvedUpstream> = {}
    for (const [skey, ups] of Object.entries(cfg.upstreams)) upstreams[skey] = expandUpstream(ups, blocks)
    return markResolved(deepFreeze({ ...cfg, upstreams }))
  }

  peers(file: string | null, name: string, down: (name: string, host: string, port: number) => boolean | undefined): NginxPeers | undefined {
    const peers = this.blocks(file)?.get(name)
    if (!peers) return undefined
    const view = (p: NginxPeer): Peer => {
      const d = down(name, p.host, p.port) ?? p.down
      return { name: p.name, weight: p.weight, max_fails: p.max_fails, fail_timeout: p.fail_timeout, ...(d ? { down: true } : {}) }
    }
    return { primary: peers.filter((p) => !p.backup).map(view), backup: peers.filter((p) => p.backup).map(view) }
  }
}


function expandLevel(l: ResolvedLevel, blocks: NginxUpstreamBlocks): ResolvedLevel {
  if (l.upstream === null) return l
  const extra: ResolvedServer[] = (blocks.get(l.upstream) ?? [])
    .filter((p) => p.backup === l.upstream_only_backup && !(l.upstream_skip_down && p.down))
    .map((p) => ({ host: p.host, port: p.port, weight: p.weight, max_fails: p.max_fails, fail_timeout: p.fail_timeout }))
  return { ...l, servers: [...l.servers, ...extra] }
}

function expandUpstream(u: ResolvedUpstream, blocks: NginxUpstreamBlocks): ResolvedUpstream {
  const c = u.cluster
  const cluster = Array.isArray(c)
    ? (c as readonly ResolvedLevel[]).map((l) => expandLevel(l, blocks))
    : Object.fromEntries(Object.entries(c as Record<string, ResolvedLevel>).map(([k, l]) => [k, expandLevel(l, blocks)]))
  return { ...u, cluster }
}
