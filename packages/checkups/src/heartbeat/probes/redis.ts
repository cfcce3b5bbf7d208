/**
 * `redis` probe with ioredis (the original's `heartbeat.redis`):
 * connect + PING (failure → err, `replication: null`); then INFO replication and INFO server,
 * recording `replication { role, master_host, master_port, master_link_status,
 * master_link_down_since_seconds, master_last_io_seconds_ago }` (values as strings, as INFO
 * prints them) and `redis_version`. `master_link_status: down` → unstable,
 * msg `master link status: down`. When INFO fails the probe stays ok with `replication.err`.
 *
 * One short-lived connection per probe: no retries, no offline queue, every step bounded by
 * what is left of `timeout`. ioredis is loaded on first use (worker start-up pays for imports).
 */
import type { Redis as RedisClient } from 'ioredis'
import { STATUS_OK, STATUS_UNSTABLE } from '../../records.js'
import type { ProbeResult } from '../contract.js'
import { errFrom } from './result.js'
import { ProbeTimeout } from './socket.js'

const REPLICATION_FIELDS = new Set([
  'role', 'master_host', 'master_port', 'master_link_status',
  'master_link_down_since_seconds', 'master_last_io_seconds_ago',
])

/** Picks the recorded fields out of INFO text (pure; exported for tests). */
export function parseInfo(text: string): { replication: Record<string, string>; redis_version?: string } {
  const replication: Record<string, string> = {}
  let redisVersion: string | undefined
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const field = line.slice(0, i)
    const value = line.slice(i + 1)
    if (value === '') continue
    const lower = field.toLowerCase()
    if (REPLICATION_FIELDS.has(lower)) replication[field] = value
    else if (lower === 'redis_version') redisVersion = value
  }
  return redisVersion === undefined ? { replication } : { replication, redis_version: redisVersion }
}

function within<T>(p: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout()), Math.max(0, deadline - Date.now()))
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

let driver: Promise<typeof RedisClient> | undefined

export async function probeRedis(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const deadline = Date.now() + timeoutMs
  const Redis = await (driver ??= import('ioredis').then((m) => m.Redis))
  const client = new Redis({
    host, port, lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false,
    enableReadyCheck: false, autoResubscribe: false,
  })
  // ioredis rejects connect() with "Connection is closed."; the cause arrives as an event
  let lastError: unknown
  client.on('error', (e) => { lastError = e })
  try {
    try {
      await within(client.connect(), deadline)
      await within(client.ping(), deadline)
    } catch (e) {
      return errFrom(lastError ?? e, { replication: null })
    }
    return await readInfo(client, deadline)
  } finally {
    client.disconnect()
  }
}

async function readInfo(client: RedisClient, deadline: number): Promise<ProbeResult> {
  let text: string
  try {
    text = await within(client.info('replication'), deadline)
    try {
      text += await within(client.info('server'), deadline)
    } catch { /* the original keeps what INFO replication gave */ }
  } catch (e) {
    // the original retries a plain INFO before recording the error
    try {
      text = await within(client.info(), deadline)
    } catch {
      return { status: STATUS_OK, msg: null, extras: { replication: { err: errFrom(e).msg } } }
    }
  }
  const info = parseInfo(text)
  const extras: Record<string, unknown> = { ...info }
  if (info.replication.master_link_status === 'down') {
    return { status: STATUS_UNSTABLE, msg: 'master link status: down', extras }
  }
  return { status: STATUS_OK, msg: null, extras }
}
