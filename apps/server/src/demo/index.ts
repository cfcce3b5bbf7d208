/**
 * The out-of-the-box demo: when the config's `server.demo` is `{ backends: ['host:port', ...] }`,
 * every worker also serves those demo backends (node:cluster shares the ports, so they
 * survive a worker crash like any listener) and worker 0 prints the URLs to try.
 *
 * Invariants: a demo port that cannot be bound is logged and skipped, never fatal; demo
 * servers close when the worker stops gracefully.
 */
import type { Server } from 'node:http'
import { createDemoBackend } from './backend.js'

interface Address { readonly host: string; readonly port: number }

interface DemoCtx {
  readonly worker?: { readonly id: number } | undefined
  readonly rawConfig?: Readonly<Record<string, unknown>> | undefined
  readonly logger?: { warn(obj: object, msg?: string): void } | undefined
  onClose?(fn: () => void | Promise<void>): void
  /** the heartbeat leader re-checks once the demo backends listen (they start with the workers) */
  readonly checkups?: { checkNow?(): Promise<boolean> } | undefined
}

interface DemoServerConfig {
  readonly admin?: { readonly listen?: Address | string } | undefined
  /** the checked `server.demo.backends` (config-file.ts); else read from ctx.rawConfig */
  readonly demo?: readonly Address[] | undefined
}

/** `server.demo.backends` as addresses, or [] when the demo is off. */
export function demoBackends(rawConfig: Readonly<Record<string, unknown>> | undefined): Address[] {
  const server = rawConfig?.['server'] as { demo?: { backends?: unknown } } | undefined
  const list = server?.demo?.backends
  if (!Array.isArray(list)) return []
  const out: Address[] = []
  for (const item of list) {
    const m = typeof item === 'string' ? /^(.+):(\d+)$/.exec(item) : null
    if (m) out.push({ host: m[1] as string, port: Number(m[2]) })
  }
  return out
}

function fmt(a: Address | string | undefined, fallback: string): string {
  if (a === undefined) return fallback
  return typeof a === 'string' ? a : `${a.host}:${a.port}`
}

export function startDemoIfConfigured(ctx: DemoCtx, server: DemoServerConfig, proxy: Address): Server[] {
  const backends = server.demo ?? demoBackends(ctx.rawConfig)
  if (backends.length === 0) return []
  const servers = backends.map((b, i) => {
    const s = createDemoBackend(`demo-${i + 1} (${b.host}:${b.port})`)
    s.on('error', (err) => ctx.logger?.warn({ event: 'demo_backend_error', backend: `${b.host}:${b.port}`, err: String(err) }, 'demo backend not started'))
    s.listen(b.port, b.host)
    return s
  })
  ctx.onClose?.(() => {
    for (const s of servers) s.close()
  })
  // The first heartbeat round ran when the workers started, before these listened: without a
  // fresh round the demo peers would show `err` for a whole checkup_timer_interval.
  void Promise.all(servers.map((s) => new Promise((resolve) => { s.once('listening', resolve); s.once('error', resolve) })))
    .then(() => ctx.checkups?.checkNow?.())
    .catch(() => undefined)
  if ((ctx.worker?.id ?? 0) === 0) {
    const admin = fmt(server.admin?.listen, '127.0.0.1:9080')
    const p = `${proxy.host}:${proxy.port}`
    process.stdout.write(
      `checkups demo: backends ${backends.map((b) => `${b.host}:${b.port}`).join(', ')} behind the proxy\n` +
        `  try:  curl -i http://${p}/            (round-robin over the demo backends)\n` +
        `        curl -i http://${p}/slow?ms=200 \n` +
        `        curl -s http://${admin}/status   (heartbeats and passive state)\n` +
        `        curl -s http://${admin}/upstreams\n`,
    )
  }
  return servers
}
