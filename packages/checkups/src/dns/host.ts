/**
 * Where core plugs in DNS (`global.dns`): a refresher that follows the heartbeat lease, and
 * the read side status and metrics use. Without `global.dns` nothing is created and every
 * call is a no-op (`status()` gives `undefined`).
 *
 * Invariants: only the lease holder's refresher publishes (dns/refresher.ts); any worker reads
 * the published records; the names are those of the upstreams as stored (dynamic ones
 * included), so an upstream added by `PUT /upstreams/:skey` is resolved within POLL_MS.
 */
import type { Clock } from '../clock.js'
import type { ResolvedConfig, ResolvedUpstream } from '../config/types.js'
import type { Dict, Logger } from '../zone-types.js'
import { dnsNames } from './expand.js'
import { dnsView, readDns, type DnsView } from './record.js'
import { DnsRefresher } from './refresher.js'

/** What `getStatus().dns` shows per name. */
export interface DnsStatus extends DnsView {
  /** seconds the addresses are trusted for (the records' TTL within the bounds) */
  ttl: number
  /** the last lookup's error while stale */
  error: string | null
  /** failed lookups so far */
  failures: number
}

export class DnsHost {
  private refresher: DnsRefresher | undefined

  constructor(
    private readonly config: Dict,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly upstreams: () => Record<string, ResolvedUpstream>,
  ) {}

  /** Worker: prepares the refresher (it runs only while leading). */
  start(cfg: ResolvedConfig): void {
    const settings = cfg.global.dns
    if (settings === undefined || this.refresher !== undefined) return
    this.refresher = new DnsRefresher({ config: this.config, clock: this.clock, logger: this.logger, settings, names: () => this.names() })
  }

  /** The heartbeat lease was won (true) or lost (false). */
  onLeadership(leader: boolean): void {
    if (leader) this.refresher?.start()
    else void this.refresher?.stop()
  }

  stop(): Promise<void> {
    return this.refresher?.stop() ?? Promise.resolve()
  }

  /** On the leader: looks every name up now (true once published); elsewhere false. */
  async checkNow(): Promise<boolean> {
    if (this.refresher?.isActive() !== true) return false
    await this.refresher.refresh(true)
    return true
  }

  /** The names the stored upstreams use (key form, sorted). */
  names(): string[] {
    const out = new Set<string>()
    for (const ups of Object.values(this.upstreams())) for (const n of dnsNames(ups)) out.add(n)
    return [...out].sort()
  }

  /** The published view of `name` (status per peer). */
  view(name: string, now: number): DnsView {
    return dnsView(readDns(this.config, name), name, now)
  }

  /** Every name with its addresses, age and errors; undefined without global.dns. */
  status(now: number): Record<string, DnsStatus> | undefined {
    if (this.refresher === undefined) return undefined
    const out: Record<string, DnsStatus> = {}
    for (const name of this.names()) {
      const rec = readDns(this.config, name)
      out[name] = { ...dnsView(rec, name, now), ttl: rec?.ttl ?? 0, error: rec?.error ?? null, failures: rec?.failures_total ?? 0 }
    }
    return out
  }
}
