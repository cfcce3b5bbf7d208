// The Node peer: http-proxy-3 (the maintained successor of http-proxy, used by Vite) behind
// node:cluster with the same worker count, a keep-alive agent to the backend, and
// X-Forwarded-* headers (xfwd) like the other proxies.
// argv: <listen port> <backend port> <workers>
import cluster from 'node:cluster'
import { Agent, createServer } from 'node:http'
import { createProxyServer } from 'http-proxy-3'

const [port, backend, workers] = process.argv.slice(2).map(Number)
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
  let ready = 0
  cluster.on('listening', () => ++ready === workers && process.stdout.write('ready\n'))
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill()
    process.exit(0)
  })
} else {
  const agent = new Agent({ keepAlive: true, maxSockets: 128 })
  const proxy = createProxyServer({ target: `http://127.0.0.1:${backend}`, agent, xfwd: true })
  proxy.on('error', (_err, _req, res) => {
    if ('writeHead' in res && !res.headersSent) res.writeHead(502)
    res.end()
  })
  createServer((req, res) => proxy.web(req, res)).listen(port, '127.0.0.1')
}
