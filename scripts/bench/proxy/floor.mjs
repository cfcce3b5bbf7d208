// The floor: what forwarding costs on Node with nothing else — a bare node:http server whose
// handler dispatches each request to one undici keep-alive Pool (the same dispatcher and
// handler style apps/server uses) and streams the answer back. No routing, no header
// rewriting beyond the latin1 conversion writeHead needs, no retries, no statistics.
// Behind node:cluster with the same worker count; 0 workers serves in this process (for
// `node --cpu-prof`). argv: <listen port> <backend port> <workers>
// env: FLOOR_PIPELINING (1): undici `pipelining` per upstream connection.
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import { Pool } from 'undici'

const [port, backend, workers] = process.argv.slice(2).map(Number)
if (cluster.isPrimary && workers > 0) {
  for (let i = 0; i < workers; i++) cluster.fork()
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill()
    process.exit(0)
  })
} else {
  const pool = new Pool(`http://127.0.0.1:${backend}`, { pipelining: Number(process.env.FLOOR_PIPELINING ?? 1), keepAliveTimeout: 4000 })
  class Forward {
    constructor(res) {
      this.res = res
    }
    onConnect(abort) {
      this.abort = abort
    }
    onHeaders(status, raw, resume) {
      if (status < 200) return true
      this.resume = resume
      const headers = new Array(raw.length)
      for (let i = 0; i < raw.length; i++) headers[i] = raw[i].toString('latin1')
      this.res.writeHead(status, headers)
      return true
    }
    onData(chunk) {
      if (this.res.write(chunk)) return true
      this.res.once('drain', this.resume)
      return false
    }
    onComplete() {
      this.res.end()
    }
    onError() {
      if (!this.res.headersSent) this.res.writeHead(502)
      this.res.end()
    }
  }
  const pipelined = Number(process.env.FLOOR_PIPELINING ?? 1) > 1
  createServer((req, res) => {
    const body = req.method === 'GET' || req.method === 'HEAD' ? null : req
    // undici pipelines only behind responses whose head is in unless the request is non-blocking
    const fwd = new Forward(res)
    // a client gone mid-answer: cut the exchange (else its paused connection stalls forever,
    // and with pipelining every request queued behind it)
    res.once('close', () => res.writableFinished || fwd.abort?.(new Error('client gone')))
    pool.dispatch({ method: req.method, path: req.url, headers: req.rawHeaders, body, blocking: !pipelined || body !== null }, fwd)
  }).listen(port, '127.0.0.1')
  // exit normally on a signal, so --cpu-prof writes its profile
  if (workers === 0) for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0))
}
