// The undici-based Node peer: @fastify/http-proxy (Fastify + @fastify/reply-from, which
// forwards through an undici keep-alive pool) behind node:cluster with the same worker count,
// X-Forwarded-For / -Proto added like the other proxies, request logging off.
// argv: <listen port> <backend port> <workers>
import cluster from 'node:cluster'
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const [port, backend, workers] = process.argv.slice(2).map(Number)
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill()
    process.exit(0)
  })
} else {
  const app = Fastify({ logger: false })
  await app.register(proxy, {
    upstream: `http://127.0.0.1:${backend}`,
    // reply-from's own default pool options, spelled out: keep-alive, 128 connections
    undici: { connections: 128, pipelining: 1 },
    replyOptions: {
      rewriteRequestHeaders: (req, headers) => ({
        ...headers,
        'x-forwarded-for': headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${req.ip}` : req.ip,
        'x-forwarded-proto': 'http',
      }),
    },
  })
  await app.listen({ port, host: '127.0.0.1' })
}
