/**
 * `checkups.redis(skey, options)`: an ioredis-style client over an upstream's peers. Each
 * command goes through readyOk, so levels are tried in order, heartbeat and passive state
 * decide which peers are usable, and every attempt is counted by passive accounting.
 *
 * Invariants
 * - One ioredis connection per peer, opened on first use and never reconnected in the
 *   background (retryStrategy off, no offline queue): a command first makes sure its peer's
 *   connection is ready, so a connect failure means nothing was sent — it moves on to the
 *   next peer whatever the command.
 * - After a command was sent, a connection failure is retried on the next peer only for
 *   commands that are safe to repeat: Redis's read-only commands (their `readonly` flag) and
 *   the idempotent writes of IDEMPOTENT_WRITES. Any other command fails with
 *   CKP_ERR_PEER_LOST (it may or may not have run).
 * - A Redis error reply (WRONGTYPE, …) is the peer answering: a success for the peer, the
 *   reply error for the caller.
 * - ioredis is loaded on first use (an optional peer dependency).
 */
import { createRequire } from 'node:module'
import type * as IORedis from 'ioredis'
import { CheckupsError } from '../errors.js'
import type { ClientCheckups } from './dispatcher.js'
import { STOP } from './exchange.js'
import { UpstreamClient } from './base.js'
import type { ReadyOkOptions } from '../try/ready-ok.js'

export const IDEMPOTENT_WRITES: ReadonlySet<string> = new Set([
  'set', 'setex', 'psetex', 'mset', 'del', 'unlink', 'hset', 'hmset', 'hdel', 'sadd', 'srem',
  'zrem', 'expire', 'pexpire', 'expireat', 'pexpireat', 'persist', 'ping', 'echo',
])

interface Commands { exists(name: string): boolean; hasFlag(name: string, flag: string): boolean }
interface Loaded { Redis: typeof IORedis.Redis; ReplyError: new (...a: never[]) => Error; commands: Commands }
let loaded: Loaded | undefined

function load(): Loaded {
  if (loaded === undefined) {
    const req = createRequire(import.meta.url)
    try {
      const mod = req('ioredis') as typeof IORedis & { ReplyError: Loaded['ReplyError'] }
      const commands = createRequire(req.resolve('ioredis'))('@ioredis/commands') as Commands
      loaded = { Redis: mod.Redis, ReplyError: mod.ReplyError, commands }
    } catch (cause) {
      throw new CheckupsError('CKP_ERR_MISSING_PACKAGE', 'checkups.redis() needs the "ioredis" package: npm install ioredis', { cause })
    }
  }
  return loaded
}

/** Whether `command` may be sent again after its connection broke. */
export function isRetryableCommand(command: string): boolean {
  const name = command.toLowerCase()
  return IDEMPOTENT_WRITES.has(name) || load().commands.hasFlag(name, 'readonly')
}

export interface RedisClientOptions {
  /** ioredis options for every peer (password, db, username, tls, …); host/port come from checkups */
  redis?: Omit<IORedis.RedisOptions, 'host' | 'port' | 'lazyConnect' | 'retryStrategy' | 'enableOfflineQueue'>
  readyOk?: ReadyOkOptions
}

type Reply = { value: unknown } | { reply: Error }

export class CheckupsRedis extends UpstreamClient<RedisClientOptions> {
  readonly #peers = new Map<string, IORedis.Redis>()

  constructor(c: ClientCheckups, skey: string, opts: RedisClientOptions = {}) {
    super(c, skey, opts)
    load()
  }

  /** Sends one command (any name ioredis knows, e.g. `call('hget', 'h', 'f')`). */
  async call(command: string, ...args: unknown[]): Promise<unknown> {
    this.checkOpen('redis')
    const name = command.toLowerCase()
    const retryable = isRetryableCommand(name)
    let lost: Error | undefined
    const r = await this.c.readyOk<Reply | typeof STOP>(this.skey, async (host, port) => {
      if (lost !== undefined) return STOP
      const peer = await this.#ready(host, port)
      try {
        return { value: await peer.call(name, ...(args as (string | Buffer | number)[])) }
      } catch (err) {
        if (err instanceof load().ReplyError) return { reply: err as Error }
        if (!retryable) lost = new CheckupsError('CKP_ERR_PEER_LOST', `redis ${host}:${port} was lost while "${name}" was in flight; it may or may not have run`, { cause: err })
        throw err
      }
    }, this.opts.readyOk)
    if (r === STOP) throw lost
    if ('reply' in r) throw r.reply
    return r.value
  }

  /** Closes every peer connection. */
  async quit(): Promise<void> {
    this.closed = true
    await Promise.all([...this.#peers.values()].map((p) => p.quit().catch(() => p.disconnect())))
    this.#peers.clear()
  }

  disconnect(): void {
    this.closed = true
    for (const p of this.#peers.values()) p.disconnect()
    this.#peers.clear()
  }

  async #ready(host: string, port: number): Promise<IORedis.Redis> {
    const key = `${host}:${port}`
    let peer = this.#peers.get(key)
    if (peer === undefined) {
      const [connect, , read] = this.c.getUpsTimeout(this.skey) ?? [60, 60, 60]
      peer = new (load().Redis)({
        connectTimeout: connect * 1000, commandTimeout: read * 1000, ...this.opts.redis,
        host, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null,
      })
      peer.on('error', () => { /* surfaced through the command that needed the peer */ })
      this.#peers.set(key, peer)
    }
    if (peer.status === 'ready') return peer
    if (peer.status === 'wait' || peer.status === 'end' || peer.status === 'close') {
      await peer.connect()
      return peer
    }
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => { peer!.off('ready', onReady); peer!.off('end', onEnd); err ? reject(err) : resolve() }
      const onReady = () => done()
      const onEnd = () => done(Object.assign(new Error(`redis ${key}: connection closed`), { code: 'ECONNREFUSED' }))
      peer!.once('ready', onReady)
      peer!.once('end', onEnd)
    })
    return peer
  }
}

/** Every Redis command as a method: `client.get('k')` is `client.call('get', 'k')`. */
export type RedisClient = CheckupsRedis & Omit<IORedis.RedisCommander<{ type: 'default' }>, 'call'>

export function createRedisClient(c: ClientCheckups, skey: string, opts: RedisClientOptions = {}): RedisClient {
  const target = new CheckupsRedis(c, skey, opts)
  const { commands } = load()
  return new Proxy(target, {
    get(t, prop, recv) {
      if (typeof prop === 'string' && !(prop in t) && commands.exists(prop.toLowerCase())) {
        return (...args: unknown[]) => t.call(prop, ...args)
      }
      const v = Reflect.get(t, prop, recv)
      return typeof v === 'function' ? v.bind(t) : v
    },
  }) as RedisClient
}
