/**
 * The cluster store: one Redis (a plain server or a Sentinel-managed master) shared by every
 * node of a fleet, holding the upstream configuration and the ordered log of its changes.
 *
 * Keys, all under one hash tag per namespace (`{ck:<ns>}`, one Redis Cluster slot):
 *   meta    hash    `epoch` (set once, by seed), `version` (number of the last change)
 *   ups     hash    skey → `{"rev":<version that wrote it>,"config":<upstream JSON>}`
 *   log     stream  one entry per change: v, op (put | del | seed), skey, epoch, config
 *   node:<id>       presence of a node, with a TTL (informational: the dashboard)
 *
 * Invariants
 * - A change is one Lua script: version increment, upstream write and log entry happen
 *   together or not at all; the version is the store's, so every node sees one order.
 * - An unseeded store (no epoch: new, or flushed) refuses writes (CKP_ERR_STORE_UNSEEDED):
 *   an empty Redis never becomes the truth by accident; seeding is an explicit call.
 * - `ifMatch` compares the upstream's rev inside the script: a mismatch changes nothing
 *   (CKP_ERR_STORE_CONFLICT, the current rev in the message).
 * - The config travels as the JSON text it was given; the script never re-encodes it.
 * - Redis unreachable → CKP_ERR_STORE_UNAVAILABLE at once (no offline queue): a write is
 *   either in the store or refused, never only local; a refused write is never sent again.
 * - A link ends only when its owner closes it; behind Sentinel it follows the master through
 *   a failover (UNSEEDED only ever comes from a master that answered without an epoch).
 */
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import type * as IORedis from 'ioredis'
import { CheckupsError } from '../errors.js'

export interface ClusterStoreOptions {
  /** `redis://host:port` (or `rediss://`), or Sentinel: `{ sentinels: [{ host, port }], name }` */
  redis: string | { sentinels: Array<{ host: string; port: number }>; name: string }
  namespace?: string
  tls?: boolean
  username?: string
  password?: string
  /** approximate number of log entries kept (XADD MAXLEN ~), default 10 000 */
  logMax?: number
  /** milliseconds a command may take, default 2 000 */
  commandTimeout?: number
}

export interface StoredUpstream { rev: number; config: unknown }
export interface Snapshot {
  epoch: string | null
  version: number
  upstreams: Record<string, StoredUpstream>
  /** the id of the last log entry at the time of the snapshot ('0-0' for an empty log) */
  lastId: string
}
export interface LogEntry { id: string; v: number; op: 'put' | 'del' | 'seed'; skey: string; epoch: string; config: unknown }
export interface WriteResult { version: number; epoch: string; id: string }

const WRITE = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return {'UNSEEDED'} end
local op, skey, config, ifmatch = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call('HGET', KEYS[2], skey)
local rev = 0
if cur then rev = tonumber(cjson.decode(cur).rev) end
if ifmatch ~= '' and tonumber(ifmatch) ~= rev then return {'CONFLICT', tostring(rev)} end
if op == 'del' and not cur then return {'NOTFOUND'} end
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
if op == 'put' then
  redis.call('HSET', KEYS[2], skey, '{"rev":' .. v .. ',"config":' .. config .. '}')
else
  redis.call('HDEL', KEYS[2], skey)
  config = 'null'
end
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'v', v, 'op', op, 'skey', skey, 'epoch', epoch, 'config', config)
return {'OK', tostring(v), epoch, id}
`

const SEED = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch and ARGV[3] ~= 'force' then return {'SEEDED', epoch} end
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
redis.call('DEL', KEYS[2])
for i = 4, #ARGV, 2 do
  v = v + 1
  redis.call('HSET', KEYS[2], ARGV[i], '{"rev":' .. v .. ',"config":' .. ARGV[i + 1] .. '}')
end
v = v + 1
redis.call('HSET', KEYS[1], 'version', v, 'epoch', ARGV[1])
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'v', v, 'op', 'seed', 'skey', '', 'epoch', ARGV[1], 'config', 'null')
return {'OK', tostring(v), ARGV[1], id}
`

type Redis = IORedis.Redis & {
  ckWrite(meta: string, ups: string, log: string, op: string, skey: string, config: string, ifMatch: string, max: number): Promise<string[]>
  ckSeed(meta: string, ups: string, log: string, ...args: string[]): Promise<string[]>
}

let ioredis: typeof IORedis | undefined
function load(): typeof IORedis {
  try {
    return (ioredis ??= createRequire(import.meta.url)('ioredis') as typeof IORedis)
  } catch (cause) {
    throw new CheckupsError('CKP_ERR_MISSING_PACKAGE', 'global.cluster_store needs the "ioredis" package: npm install ioredis', { cause })
  }
}

export function unavailable(err: unknown): CheckupsError {
  if (err instanceof CheckupsError) return err
  const msg = err instanceof Error ? err.message : String(err)
  return new CheckupsError('CKP_ERR_STORE_UNAVAILABLE', `cluster store unreachable: ${msg}`, { cause: err })
}

export function redisOptions(o: ClusterStoreOptions, extra: IORedis.RedisOptions = {}): IORedis.RedisOptions {
  const commandTimeout = o.commandTimeout ?? 2000
  const common: IORedis.RedisOptions = {
    ...(o.username ? { username: o.username } : {}), ...(o.password ? { password: o.password } : {}),
    ...(o.tls ? { tls: {} } : {}), commandTimeout, connectTimeout: 2000,
    retryStrategy: (n) => Math.min(50 * n, 1000),
    // a command cut off by a lost link is failed, never resent on the next connection: a
    // write answered 503 must not land later, a stale blocking XREAD must not delay the next
    autoResendUnfulfilledCommands: false, ...extra,
  }
  if (typeof o.redis === 'string') {
    const u = new URL(o.redis)
    return { host: u.hostname, port: Number(u.port || 6379), ...(u.protocol === 'rediss:' ? { tls: {} } : {}), ...common }
  }
  // failoverDetector: ioredis subscribes to the sentinels' +switch-master and drops the link
  // to the old master, so the next connection asks for the new one. Without it a master that
  // stops answering without closing (stopped, partitioned) keeps the link: every command
  // times out, long after the sentinels promoted a replica.
  // sentinelCommandTimeout: a sentinel that accepts the connection but never answers (stopped)
  // would otherwise hold every reconnection on its lookup for ever; the next one is asked.
  // (The configured timeout, also for a connection whose `extra` lengthens its commands'.)
  return { sentinels: o.redis.sentinels, name: o.redis.name, failoverDetector: true, sentinelCommandTimeout: commandTimeout, ...common }
}

/**
 * A connection that ends only when closed by its owner. ioredis' failover detector can end it
 * by itself: a +switch-master notice that arrives while the link is reconnecting (asking a
 * sentinel for the master) abandons that attempt and sets the status to 'end' for good, and
 * every later command fails ("link end") although the new master is there. Such an end is
 * followed by a new connection.
 */
function link(options: IORedis.RedisOptions): IORedis.Redis {
  const r = new (load().Redis)(options)
  let closed = false
  const disconnect = r.disconnect.bind(r)
  r.disconnect = (reconnect = false) => { if (!reconnect) closed = true; disconnect(reconnect) }
  r.on('end', () => {
    if (!closed) setTimeout(() => { if (!closed && r.status === 'end') r.connect().catch(() => {}) }, 100).unref()
  })
  return r
}

export class ClusterStore {
  readonly keys: { meta: string; ups: string; log: string; node(id: string): string }
  readonly #redis: Redis
  readonly #logMax: number

  constructor(readonly options: ClusterStoreOptions) {
    const tag = `{ck:${options.namespace ?? 'default'}}`
    this.keys = { meta: `${tag}:meta`, ups: `${tag}:ups`, log: `${tag}:log`, node: (id) => `${tag}:node:${id}` }
    this.#logMax = options.logMax ?? 10_000
    // writes fail at once while the link is down: never queued, never silently local. A
    // command that timed out was already answered UNAVAILABLE: ioredis must not send it again
    // on the next connection (autoResendUnfulfilledCommands, off in redisOptions for every
    // connection), or a refused write would land later — after a failover, on the new master.
    this.#redis = link(redisOptions(options, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })) as Redis
    this.#redis.on('error', () => { /* surfaced by the call that needed the link */ })
    this.#redis.defineCommand('ckWrite', { numberOfKeys: 3, lua: WRITE })
    this.#redis.defineCommand('ckSeed', { numberOfKeys: 3, lua: SEED })
  }

  /** A second connection with the same settings, `extra` on top (the follower blocks on XREAD with it). */
  duplicate(extra: IORedis.RedisOptions = {}): IORedis.Redis {
    const r = link(redisOptions(this.options, { maxRetriesPerRequest: null, enableOfflineQueue: false, connectionName: `checkups-sync:${this.options.namespace ?? 'default'}`, ...extra }))
    r.on('error', () => {})
    return r
  }

  async put(skey: string, config: unknown, ifMatch?: number): Promise<WriteResult> {
    return this.#write('put', skey, JSON.stringify(config), ifMatch)
  }

  async delete(skey: string, ifMatch?: number): Promise<WriteResult> {
    return this.#write('del', skey, 'null', ifMatch)
  }

  /**
   * Seeds an empty store with these upstreams (refused when it has an epoch already, unless
   * `force`: then the upstreams are replaced under a new epoch and every node resyncs).
   */
  async seed(upstreams: Record<string, unknown>, opts: { force?: boolean } = {}): Promise<WriteResult> {
    const args = [randomUUID(), String(this.#logMax), opts.force ? 'force' : '']
    for (const [skey, cfg] of Object.entries(upstreams)) args.push(skey, JSON.stringify(cfg))
    let r: string[]
    await this.#ready()
    try {
      r = await this.#redis.ckSeed(this.keys.meta, this.keys.ups, this.keys.log, ...args)
    } catch (err) {
      throw unavailable(err)
    }
    if (r[0] === 'SEEDED') throw new CheckupsError('CKP_ERR_STORE_SEEDED', `cluster store already seeded (epoch ${r[1]})`)
    return { version: Number(r[1]), epoch: r[2]!, id: r[3]! }
  }

  /** meta, upstreams and the last log id, read in one MULTI (one consistent point). */
  async snapshot(redis?: IORedis.Redis): Promise<Snapshot> {
    if (redis === undefined) await this.#ready()
    redis ??= this.#redis
    let res: Array<[Error | null, unknown]> | null
    try {
      res = await redis.multi().hgetall(this.keys.meta).hgetall(this.keys.ups).xrevrange(this.keys.log, '+', '-', 'COUNT', 1).exec()
    } catch (err) {
      throw unavailable(err)
    }
    if (res === null) throw unavailable(new Error('snapshot transaction aborted'))
    for (const [e] of res) if (e) throw unavailable(e)
    const meta = res[0]![1] as Record<string, string>
    const raw = res[1]![1] as Record<string, string>
    const last = res[2]![1] as Array<[string, string[]]>
    const upstreams: Record<string, StoredUpstream> = {}
    for (const [skey, json] of Object.entries(raw)) upstreams[skey] = JSON.parse(json) as StoredUpstream
    return { epoch: meta.epoch ?? null, version: Number(meta.version ?? 0), upstreams, lastId: last[0]?.[0] ?? '0-0' }
  }

  /** One stored upstream (undefined when the store has none under `skey`). */
  async get(skey: string): Promise<StoredUpstream | undefined> {
    await this.#ready()
    let raw: string | null
    try {
      raw = await this.#redis.hget(this.keys.ups, skey)
    } catch (err) {
      throw unavailable(err)
    }
    return raw === null ? undefined : (JSON.parse(raw) as StoredUpstream)
  }

  /** epoch and version only (cheap; the follower's idle check). */
  async head(redis?: IORedis.Redis): Promise<{ epoch: string | null; version: number }> {
    if (redis === undefined) await this.#ready()
    redis ??= this.#redis
    try {
      const [epoch, version] = await redis.hmget(this.keys.meta, 'epoch', 'version')
      return { epoch: epoch ?? null, version: Number(version ?? 0) }
    } catch (err) {
      throw unavailable(err)
    }
  }

  /** Marks a node present for `ttl` seconds. */
  async touch(nodeId: string, info: unknown, ttl: number): Promise<void> {
    await this.#redis.set(this.keys.node(nodeId), JSON.stringify(info), 'EX', ttl).catch(() => undefined)
  }

  /** Waits (bounded by the command timeout) for the link to be ready; refuses when it is down. */
  async #ready(): Promise<void> {
    const r = this.#redis
    if (r.status === 'ready') return
    if (r.status === 'end' || r.status === 'close') throw unavailable(new Error(`link ${r.status}`))
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => finish(new Error('not connected')), this.options.commandTimeout ?? 2000)
      const onReady = () => finish()
      const finish = (err?: Error) => { clearTimeout(t); r.off('ready', onReady); err ? reject(unavailable(err)) : resolve() }
      r.once('ready', onReady)
    })
  }

  /** host:port of the server this link is connected to (with Sentinel: the master it found). */
  #server(): string {
    const st = (this.#redis as { stream?: { remoteAddress?: string; remotePort?: number } }).stream
    return st?.remoteAddress ? `${st.remoteAddress}:${st.remotePort}` : 'unknown'
  }

  async close(): Promise<void> {
    this.#redis.disconnect()
  }

  async #write(op: 'put' | 'del', skey: string, config: string, ifMatch: number | undefined): Promise<WriteResult> {
    let r: string[]
    await this.#ready()
    try {
      r = await this.#redis.ckWrite(this.keys.meta, this.keys.ups, this.keys.log, op, skey, config, ifMatch === undefined ? '' : String(ifMatch), this.#logMax)
    } catch (err) {
      throw unavailable(err)
    }
    switch (r[0]) {
      // names the server that answered: behind Sentinel, an unseeded master right after a
      // failover means the promoted replica never received the data (asynchronous replication)
      case 'UNSEEDED': throw new CheckupsError('CKP_ERR_STORE_UNSEEDED', `cluster store is not seeded (server ${this.#server()}): seed it from a node first (node apps/server seed-store)`)
      case 'CONFLICT': throw new CheckupsError('CKP_ERR_STORE_CONFLICT', `upstream ${skey} is at revision ${r[1]}, not ${ifMatch}`)
      case 'NOTFOUND': throw new CheckupsError('CKP_ERR_UPSTREAM_NOT_FOUND', `upstream ${skey} not found`)
      default: return { version: Number(r[1]), epoch: r[2]!, id: r[3]! }
    }
  }
}

/** One XREAD / XRANGE entry as a LogEntry. */
export function parseEntry(id: string, fields: string[]): LogEntry {
  const f: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!
  return { id, v: Number(f.v), op: f.op as LogEntry['op'], skey: f.skey ?? '', epoch: f.epoch ?? '', config: JSON.parse(f.config ?? 'null') }
}
