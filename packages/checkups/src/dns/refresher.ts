/**
 * The heartbeat leader's DNS loop: looks every server hostname up when its record is due and
 * publishes the answer in the config zone (dns/record.ts), so every worker serves the same
 * addresses. Runs only while this worker holds the heartbeat lease (start/stop by the host).
 *
 * Invariants
 * - One pass at a time (`running`); the next pass is armed after the current one settled, at
 *   the earliest `next_at` of the names, and at most POLL_MS later (names added by a config
 *   change are looked up within POLL_MS).
 * - The schedule lives in the records (`next_at`): a new leader continues it instead of
 *   looking every name up again at once.
 * - A success stores the addresses with `ttl` = the records' smallest TTL bounded by
 *   [min_ttl, max_ttl]; a failure keeps the last addresses, sets `stale` and retries after
 *   min_ttl × 2^(failures-1), at most max_ttl. Failures are logged (rate-limited per name).
 * - CONFIG_DNS_VERSION is bumped after a write whose addresses differ from the stored ones,
 *   never otherwise (views compare addresses, not ages).
 * - Records of names no upstream uses any more are removed at the end of a pass.
 * - Lookups run at most CONCURRENCY at a time; the pass awaits them all.
 * - A record the config zone has no room for is logged and its `next_at` kept here: the name
 *   is looked up again then, not at once (no back-to-back lookups while the zone is full).
 */
import type { Clock } from '../clock.js'
import type { ResolvedDns } from '../config/types.js'
import { KEY, SLOT } from '../keys.js'
import { LogLimiter } from '../log-limit.js'
import type { Dict, Logger } from '../zone-types.js'
import { type LookupFn, createLookup } from './lookup.js'
import { type DnsRecord, readDns, readDnsNames, writeDns, writeDnsNames } from './record.js'

/** Longest wait (ms) between two passes: how soon a newly configured name is looked up. */
export const POLL_MS = 1000
/** Lookups in flight at once. */
export const CONCURRENCY = 8

export interface DnsRefresherOptions {
  config: Dict
  clock: Clock
  logger: Logger
  settings: ResolvedDns
  /** the names (key form) the current upstreams use */
  names: () => string[]
  /** default: node:dns over `settings.resolver` */
  lookup?: LookupFn
  /** told after each lookup (metrics) */
  onLookup?: (name: string, ok: boolean) => void
}

export class DnsRefresher {
  private timer: unknown
  private running: Promise<void> | undefined
  private active = false
  /** set by stop(): a pass still in flight then writes nothing more */
  private halted = false
  /** `next_at` of the records that could not be stored (a full config zone) */
  private readonly unstored = new Map<string, number>()
  private readonly lookup: LookupFn
  private readonly limiter: LogLimiter

  constructor(private readonly o: DnsRefresherOptions) {
    this.lookup = o.lookup ?? createLookup(o.settings.resolver)
    this.limiter = new LogLimiter(o.clock)
  }

  /** Becomes the publisher: a first pass at once. */
  start(): void {
    if (this.active) return
    this.active = true
    this.halted = false
    this.arm(0)
  }

  /** No longer the leader: no further pass (one in flight finishes its writes). */
  stop(): Promise<void> {
    this.active = false
    this.halted = true
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer)
    this.timer = undefined
    return this.running ?? Promise.resolve()
  }

  isActive(): boolean { return this.active }

  /** One pass now (after the one in flight): looks up the due names, or all with `force`. */
  async refresh(force = false): Promise<void> {
    await this.running
    this.running = this.pass(force).finally(() => { this.running = undefined })
    return this.running
  }

  private arm(ms: number): void {
    if (!this.active) return
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer)
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined
      void this.refresh().catch((e: unknown) => this.o.logger.error({ err: String(e) }, 'dns: pass failed')).then(() => this.arm(this.delay()))
    }, ms)
  }

  private delay(): number {
    const now = this.o.clock.now()
    let next = now + POLL_MS
    for (const n of this.o.names()) next = Math.min(next, this.nextAt(n) ?? now)
    return Math.max(0, next - now)
  }

  /** when `name` is due: its stored record's `next_at`, or that of the one the zone had no room for */
  private nextAt(name: string): number | undefined {
    return this.unstored.get(name) ?? readDns(this.o.config, name)?.next_at
  }

  private async pass(force: boolean): Promise<void> {
    const names = this.o.names()
    const now = this.o.clock.now()
    const due = names.filter((n) => force || (this.nextAt(n) ?? 0) <= now)
    for (let i = 0; i < due.length; i += CONCURRENCY) {
      await Promise.all(due.slice(i, i + CONCURRENCY).map((n) => this.resolveOne(n)))
    }
    this.prune(names)
  }

  private async resolveOne(name: string): Promise<void> {
    const { min_ttl, max_ttl } = this.o.settings
    const prev = readDns(this.o.config, name)
    let rec: DnsRecord
    try {
      const a = await this.lookup(name)
      const now = this.o.clock.now()
      const ttl = Math.min(max_ttl, Math.max(min_ttl, a.ttl))
      rec = { name, addresses: a.addresses, ttl, resolved_at: now, checked_at: now, next_at: now + ttl * 1000,
        stale: false, error: null, failures: 0, failures_total: prev?.failures_total ?? 0 }
      this.o.onLookup?.(name, true)
    } catch (e) {
      const now = this.o.clock.now()
      const failures = (prev?.failures ?? 0) + 1
      const wait = Math.min(max_ttl, min_ttl * 2 ** Math.min(failures - 1, 30))
      const error = e instanceof Error ? e.message : String(e)
      rec = { name, addresses: prev?.addresses ?? [], ttl: prev?.ttl ?? 0, resolved_at: prev?.resolved_at ?? 0, checked_at: now,
        next_at: now + wait * 1000, stale: true, error, failures, failures_total: (prev?.failures_total ?? 0) + 1 }
      this.limiter.error(this.o.logger, `dns: lookup of ${name} failed, last addresses kept`, { name, error, addresses: rec.addresses, failures })
      this.o.onLookup?.(name, false)
    }
    if (this.halted) return
    if (!writeDns(this.o.config, rec)) {
      this.unstored.set(name, rec.next_at)
      this.limiter.error(this.o.logger, 'dns: no room in the config zone for a record', { name, zone: 'config' })
      return
    }
    this.unstored.delete(name)
    if (prev === undefined || prev.addresses.join(',') !== rec.addresses.join(',')) {
      if (prev !== undefined && rec.addresses.length > 0) this.o.logger.info({ name, addresses: rec.addresses, was: prev.addresses }, 'dns: addresses changed')
      this.o.config.addSlot(SLOT.CONFIG_DNS_VERSION, 1)
    }
  }

  private prune(names: readonly string[]): void {
    if (this.halted) return
    const keep = new Set(names)
    for (const n of this.unstored.keys()) if (!keep.has(n)) this.unstored.delete(n)
    const published = readDnsNames(this.o.config)
    for (const n of published) if (!keep.has(n)) this.o.config.delete(KEY.dns(n))
    if (published.length !== keep.size || published.some((n) => !keep.has(n))) writeDnsNames(this.o.config, [...keep].sort())
  }
}
