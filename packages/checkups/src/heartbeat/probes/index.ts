/**
 * Probe dispatch: which probe an upstream's peers get, and the identity under which a probe
 * is shared within a round (a peer listed in several clusters/upstreams with the same probe
 * parameters is probed once).
 *
 * Identity: typ + host + port + timeout + every parameter the probe sends (http query and
 * statuses; mysql name/user/pass/charset). A custom heartbeat receives the upstream itself,
 * so its identity also includes the skey.
 */
import type { HeartbeatFn, ResolvedUpstream, UpstreamTyp } from '../../config/types.js'
import type { ProbeResult } from '../contract.js'
import { probeCustom } from './custom.js'
import { probeGeneral } from './general.js'
import { probeHttp } from './http.js'
import { dnsNameOf } from '../../dns/expand.js'
import { probeMysql } from './mysql.js'
import { probeRedis } from './redis.js'
import type { OnConnected } from './socket.js'

export { probeCustom, normaliseCustom } from './custom.js'
export { probeGeneral } from './general.js'
export { probeHttp, judgeStatusLine } from './http.js'
export { probeMysql } from './mysql.js'
export { probeRedis, parseInfo } from './redis.js'

export type ProbeKind = 'general' | 'http' | 'redis' | 'mysql'

export function probeKind(typ: UpstreamTyp): ProbeKind {
  return typ === 'http' || typ === 'redis' || typ === 'mysql' ? typ : 'general'
}

/** The probe timeout: the upstream's resolved `timeout` (s), in ms. */
export function timeoutMs(ups: ResolvedUpstream): number {
  return ups.timeout * 1000
}

/**
 * The part of a probe's identity that every server of `ups` shares (see the header): computed
 * once per upstream and round, so a 10 000-peer plan does not serialise the same parameters
 * 10 000 times.
 */
export function probeParams(skey: string, ups: ResolvedUpstream, custom: HeartbeatFn | undefined): string {
  const t = timeoutMs(ups)
  if (custom) return JSON.stringify(['custom', skey, t])
  const kind = probeKind(ups.typ)
  switch (kind) {
    case 'http': return JSON.stringify([kind, t, ups.http_opts?.query ?? null, ups.http_opts?.statuses ?? null, ups.scheme, ups.tls])
    case 'mysql': return JSON.stringify([kind, t, ups.name, ups.user, ups.pass, ups.charset])
    default: return JSON.stringify([kind, t])
  }
}

/** The dedupe identity of probing host:port with `params` (probeParams of its upstream). */
export function probeId(params: string, host: string, port: number): string {
  return `${host} ${port} ${params}`
}

/**
 * Runs the probe `ups` calls for (custom heartbeat first, else by `typ`). `onConnected` is
 * called by the socket probes (general, http) once connected and the request sent: the round
 * then frees the probe's work slot at once instead of after SLOW_AFTER_MS.
 */
export function runProbe(ups: ResolvedUpstream, custom: HeartbeatFn | undefined, host: string, port: number,
  onConnected?: OnConnected): Promise<ProbeResult> {
  const ms = timeoutMs(ups)
  if (custom) return probeCustom(custom, host, port, ups)
  switch (probeKind(ups.typ)) {
    case 'http': return probeHttp(host, port, ms, ups.http_opts,
      { scheme: ups.scheme, tls: ups.tls, resolvedFrom: ups.scheme === 'https' && !ups.tls?.servername ? dnsNameOf(ups, host) : undefined }, onConnected)
    case 'redis': return probeRedis(host, port, ms)
    case 'mysql': return probeMysql(host, port, ms, ups)
    default: return probeGeneral(host, port, ms, onConnected)
  }
}
