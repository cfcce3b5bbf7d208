// The bundled example config of `node apps/server` (used when no --config is given).
// Upstream sections follow lua-resty-checkups' format; `server` is the
// app's own section.
export default {
  global: {
    checkup_timer_interval: 5,
    checkup_timer_overtime: 60,
    default_heartbeat_enable: true,
  },

  demo: {
    // HTTP heartbeats: the raw request below, the status line judged by `statuses`
    typ: 'http',
    timeout: 2,
    http_opts: { query: 'GET /health HTTP/1.0\r\nHost: demo\r\n\r\n', statuses: { 500: false, 502: false, 503: false, 504: false } },
    cluster: [
      {
        servers: [
          { host: '127.0.0.1', port: 8081, weight: 1, max_fails: 3, fail_timeout: 10 },
          { host: '127.0.0.1', port: 8082, weight: 1, max_fails: 3, fail_timeout: 10 },
        ],
      },
    ],
  },

  server: {
    listen: '127.0.0.1:8080',
    admin: { listen: '127.0.0.1:9080' },
    routes: [{ path_prefix: '/', upstream: 'demo' }],
    // two demo backends on loopback (apps/server/src/demo), served by the workers themselves,
    // so the proxy has something to balance on a fresh machine; remove with your own upstreams
    demo: { backends: ['127.0.0.1:8081', '127.0.0.1:8082'] },
  },
}
