/**
 * `GET /events`: Server-Sent Events of health transitions and config changes, read from the
 * shared event ring, so every worker streams the same numbered events.
 *
 * - `id:` is the event's sequence number; `Last-Event-ID` (or `?since=N`) resumes after it,
 *   `?since=0` replays what the ring still holds; without either the stream starts now.
 * - `event:` is the event's type (`transition`, `config`); `lost` tells how many events the
 *   ring overwrote before this client read them.
 * - The ring is polled every POLL_MS (one atomic load when nothing is new); a comment line
 *   every KEEPALIVE_MS keeps proxies from closing an idle stream. Both timers end with the
 *   client's connection.
 * - A stream never holds up a graceful stop or reload: once its server stops listening (the
 *   drain has begun) the stream is ended at the next poll, and the client reconnects with
 *   `Last-Event-ID` to a worker that still serves.
 */
import type { ServerResponse } from 'node:http'
import type { EventRing } from '@checkups/core'
import type { Router } from '../router.js'

export const POLL_MS = 200
export const KEEPALIVE_MS = 15_000

function startAfter(header: string | string[] | undefined, query: string | null, ring: EventRing): number {
  for (const raw of [Array.isArray(header) ? header[0] : header, query]) {
    if (raw === undefined || raw === null || raw.trim() === '') continue
    const n = Number(raw)
    if (Number.isSafeInteger(n) && n >= 0) return n
  }
  return ring.head() - 1
}

/** The server the connection was accepted by (net sets `socket.server`), if known. */
function serverOf(res: ServerResponse): { listening: boolean } | undefined {
  return (res.socket as unknown as { server?: { listening: boolean } } | null)?.server
}

function pump(res: ServerResponse, ring: EventRing, since: number): void {
  let next = since
  const server = serverOf(res)
  const flush = (): void => {
    if (res.writableEnded) return
    if (server && !server.listening) {
      res.end()
      return
    }
    for (;;) {
      const got = ring.read(next)
      if (got.lost > 0) res.write(`event: lost\ndata: ${JSON.stringify({ lost: got.lost })}\n\n`)
      for (const e of got.events) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
      next = got.next
      if (got.events.length === 0) return
    }
  }
  res.write('retry: 2000\n\n')
  flush()
  const poll = setInterval(flush, POLL_MS)
  const keepalive = setInterval(() => res.writableEnded || res.write(': keepalive\n\n'), KEEPALIVE_MS)
  res.on('close', () => {
    clearInterval(poll)
    clearInterval(keepalive)
  })
}

export function register(router: Router): void {
  router.add('GET', '/events', (req, ctx) => {
    const ring = ctx.checkups.observer.events
    const since = startAfter(req.headers['last-event-id'], req.query.get('since'), ring)
    return {
      status: 200,
      body: '',
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' },
      stream: (res) => {
        res.flushHeaders()
        pump(res, ring, since)
      },
    }
  })
}
