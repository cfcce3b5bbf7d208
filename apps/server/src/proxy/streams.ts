/**
 * TCP streams (nginx's `stream {}`): `server.streams: [{ listen, upstream, ... }]`, each a
 * plain TCP listener whose connections are spliced to a peer of `upstream`.
 *
 * Invariants:
 * - The peer is chosen by readyOk: each attempt is one connect (connect timeout = the
 *   stream's `connect_timeout`, else the upstream's); a failed connect is an attempt failure
 *   (passive accounting, the next peer within `try` / `try_timeout`). The upstream's
 *   heartbeat checks its peers as for any upstream.
 * - The client socket is paused until a peer is connected: its first bytes wait in the kernel
 *   and go to the chosen peer first. A client that leaves during the attempts ends the call
 *   with no failure reported against the peer.
 * - No peer → the client connection is closed (there is no protocol to answer in).
 * - Once connected, the sockets are spliced (tunnel.ts): backpressure both ways, a close on
 *   one side closes the other, `idle_timeout` without a byte either way closes both.
 * - `scheme: 'https'` upstreams are reached over TLS (TLS origination for a plain client).
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { AttemptContext } from '@checkups/core'
import { z } from 'zod'
import { codeOf, ProxyError } from './errors.js'
import { fail, MAX_SECONDS, seconds } from './options.js'
import type { ProxyContext } from './types.js'
import { connectPeer, splice } from './tunnel.js'
import type { PeerTlsResolver } from './upstream-tls.js'

export const streamSchema = z
  .object({
    listen: z.union([z.string(), z.number()], { error: 'must be HOST:PORT' }),
    upstream: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
    connect_timeout: seconds(MAX_SECONDS).optional(),
    idle_timeout: seconds(MAX_SECONDS).default(600),
    try: z.number().int().min(1).max(1000).optional(),
    try_timeout: seconds(MAX_SECONDS).optional(),
  }, { error: 'must be an object { listen, upstream, ... }' })
  .strict()
export type StreamOptions = z.output<typeof streamSchema>

export function parseStreams(raw: unknown): StreamOptions[] {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw)) throw new ProxyError('PRX_ERR_INVALID_CONFIG', 'server.streams: must be an array')
  return raw.map((s, i) => {
    const r = streamSchema.safeParse(s)
    if (!r.success) fail(`server.streams[${i}]`, r.error)
    return r.data
  })
}

const STOP = Symbol('stop')

async function onConnection(ctx: ProxyContext, opts: StreamOptions, tlsOf: PeerTlsResolver, client: Socket): Promise<void> {
  client.pause()
  let gone = false
  client.once('close', () => (gone = true))
  client.on('error', () => client.destroy())
  const attempt = (host: string, port: number, at: AttemptContext): Promise<Socket | typeof STOP> | typeof STOP => {
    if (gone) {
      at.report('client_abort')
      return STOP
    }
    const connectMs = Math.round(opts.connect_timeout === undefined ? at.timeouts.connect : opts.connect_timeout * 1000)
    return connectPeer({ host, port, tls: tlsOf(opts.upstream, host) }, connectMs).then((peer) => {
      if (gone) {
        peer.destroy()
        at.report('client_abort')
        return STOP
      }
      return peer
    })
  }
  const o: { try?: number; try_timeout?: number } = {}
  if (opts.try !== undefined) o.try = opts.try
  if (opts.try_timeout !== undefined) o.try_timeout = opts.try_timeout
  try {
    const peer = await ctx.checkups.readyOk(opts.upstream, attempt, o)
    if (peer === STOP) return void client.destroy()
    splice(client, peer, opts.idle_timeout * 1000)
    client.resume()
  } catch (err) {
    ctx.logger?.warn({ event: 'stream_error', upstream: opts.upstream, code: codeOf(err) }, `stream: no peer for ${opts.upstream}: ${(err as Error).message}`)
    client.destroy()
  }
}

/** Starts one TCP listener per stream (registered with the runtime for graceful close). */
export function startStreams(ctx: ProxyContext, streams: readonly StreamOptions[], tlsOf: PeerTlsResolver, parseListen: (l: string) => { host: string; port: number }): Server[] {
  return streams.map((opts) => {
    const { host, port } = parseListen(typeof opts.listen === 'number' ? `:${opts.listen}` : opts.listen)
    const server = createServer({ pauseOnConnect: true }, (client) => void onConnection(ctx, opts, tlsOf, client))
    if (ctx.serve) ctx.serve(server)
    server.once('listening', () => ctx.logger?.info({ event: 'stream_listening', listen: `${host}:${port}`, upstream: opts.upstream }, 'stream listening'))
    server.listen(port, host)
    return server
  })
}
