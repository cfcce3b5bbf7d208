/**
 * `GET /upstreams/:skey/peer?hash_key=&cluster_key=a,b` → `{ host, port }`:
 * one selection as readyOk would make it (unknown skey 404, no servers 503).
 * `cluster_key` is a comma list of cluster names or level numbers (as the original reads it).
 */
import type { SelectOptions } from '@checkups/core'
import { ok, skeyParam } from './common.js'
import { AdminError } from '../errors.js'
import type { Router } from '../router.js'

const MAX_QUERY_VALUE = 4096

function queryValue(q: URLSearchParams, name: string): string | undefined {
  const all = q.getAll(name)
  if (all.length > 1) throw new AdminError('ADM_ERR_BAD_REQUEST', 400, `${name}: given more than once`)
  const v = all[0]
  if (v !== undefined && v.length > MAX_QUERY_VALUE) {
    throw new AdminError('ADM_ERR_BAD_REQUEST', 400, `${name}: longer than ${MAX_QUERY_VALUE} characters`)
  }
  return v
}

/** `a,2,b` → `['a', 2, 'b']`: all-digit items are level numbers. */
export function parseClusterKey(v: string): Array<string | number> {
  const items = v.split(',').map((s) => s.trim())
  if (items.some((s) => s === '')) throw new AdminError('ADM_ERR_BAD_REQUEST', 400, 'cluster_key: empty item')
  return items.map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

/**
 * Every item must name a level (1-based, numbered clusters) or a cluster of this upstream: a
 * key naming nothing is the caller's mistake (400), not a lack of servers (503).
 */
function knownClusterKeys(ups: unknown, keys: Array<string | number>): Array<string | number> {
  const cluster = (ups as { cluster?: unknown } | undefined)?.cluster
  if (cluster === undefined) return keys // unknown skey: selectPeer answers 404
  const names = Array.isArray(cluster) ? cluster.map((_, i) => i + 1) : Object.keys(cluster as object)
  for (const k of keys) {
    if (!names.some((n) => String(n) === String(k))) {
      const known = names.join(', ')
      throw new AdminError('ADM_ERR_BAD_REQUEST', 400, `cluster_key: ${JSON.stringify(String(k).slice(0, 64))} names no ${Array.isArray(cluster) ? 'level' : 'cluster'} of this upstream (it has ${known})`)
    }
  }
  return keys
}

export function register(router: Router): void {
  router.add('GET', '/upstreams/:skey/peer', (req, ctx) => {
    const skey = skeyParam(req)
    const opts: SelectOptions = {}
    const hashKey = queryValue(req.query, 'hash_key')
    if (hashKey !== undefined) opts.hash_key = hashKey
    const clusterKey = queryValue(req.query, 'cluster_key')
    if (clusterKey !== undefined) opts.cluster_key = knownClusterKeys(ctx.checkups.getUpstream(skey), parseClusterKey(clusterKey))
    const peer = ctx.checkups.selectPeer(skey, opts)
    return ok({ host: peer.host, port: peer.port })
  })
}
