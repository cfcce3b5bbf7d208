// Shared by the propagation benchmarks: a free loopback port, and one keep-alive admin
// connection (maxSockets 1) whose `send` resolves to { status, worker, text }.
import http from 'node:http'
import net from 'node:net'

export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/** One keep-alive connection (maxSockets 1); `send` resolves to { status, worker, text }. */
export function connection(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const send = (method, path, body) =>
    new Promise((resolve, reject) => {
      const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
      const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, worker: Number(res.headers['x-checkups-worker']), text: Buffer.concat(chunks).toString() }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  return { agent, send, worker: -1 }
}
