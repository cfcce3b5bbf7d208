// The upstreams of the example service: an HTTP API with two peers, a redis cache and a MySQL
// database, each health-checked by the elected worker. Ports come from the environment so the
// example runs against whatever servers you have (defaults: the usual local ports).
const env = process.env
const servers = (list) => list.split(',').map((hp) => {
  const [host, port] = hp.includes(':') ? hp.split(':') : ['127.0.0.1', hp]
  return { host, port: Number(port) }
})

export default {
  global: { checkup_timer_interval: 2, default_heartbeat_enable: true },
  api: {
    typ: 'http', timeout: 2,
    http_opts: { query: 'GET /health HTTP/1.0\r\n\r\n', statuses: { 500: false, 502: false, 503: false } },
    cluster: [{ servers: servers(env.API_SERVERS ?? '127.0.0.1:8001,127.0.0.1:8002') }],
  },
  cache: { typ: 'redis', timeout: 1, cluster: [{ servers: servers(env.REDIS_SERVERS ?? '127.0.0.1:6379') }] },
  db: {
    typ: 'mysql', timeout: 2,
    user: env.MYSQL_USER ?? 'root', pass: env.MYSQL_PASSWORD ?? '', name: env.MYSQL_DATABASE ?? 'mysql',
    cluster: [{ servers: servers(env.MYSQL_SERVERS ?? '127.0.0.1:3306') }],
  },
}
