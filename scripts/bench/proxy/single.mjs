// A single-process proxy for profiling (`node --cpu-prof scripts/bench/proxy/single.mjs ...`):
// a real Checkups over SharedDict.create zones (as apps/server's tests build it) + startProxy,
// in front of one backend. argv: <listen port> <backend port>. Exits on SIGINT/SIGTERM (so
// --cpu-prof writes its profile).
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(fileURLToPath(new URL('../../../apps/server/package.json', import.meta.url)))
const { Checkups } = await import(require.resolve('@checkups/core'))
const { SharedDict } = await import(require.resolve('@checkups/shdict'))
const proxyModule = process.env.PROXY_MODULE ?? new URL('../../../apps/server/dist/proxy/index.js', import.meta.url).href
const { startProxy } = await import(proxyModule)

const [port, backend] = process.argv.slice(2).map(Number)
const config = {
  global: { checkup_timer_interval: 5 },
  bench: { typ: 'http', timeout: 5, cluster: [{ servers: [{ host: '127.0.0.1', port: backend, max_fails: 3 }] }] },
}
const zones = {
  state: SharedDict.create(1 << 22),
  mutex: SharedDict.create(1 << 18),
  locks: SharedDict.create(1 << 18),
  config: SharedDict.create(1 << 21),
}
new Checkups({ shared: zones }).init(config)
const checkups = new Checkups({ shared: zones })
checkups.prepareChecker(config)
const server = startProxy({ checkups, worker: { id: 0 } }, { listen: `127.0.0.1:${port}`, routes: [{ upstream: 'bench' }] })
const stop = () => {
  checkups.stop()
  server.close(() => process.exit(0))
  server.closeAllConnections()
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
