/**
 * The worker view: every upstream's UpstreamView, kept current by version slots
 * .
 *
 * Invariants
 * - `sync()` costs three plain Int32 reads when nothing changed: SLOT.CONFIG_VERSION (config
 *   zone), STATE_HEARTBEAT_VERSION and STATE_PASSIVE_VERSION (state zone), through the zones'
 *   `slotWords()` (an Atomics.load costs ~12 ns each on V8 11, a plain read ~1 ns). An aligned
 *   plain read never tears; it may lag by the time a cache line takes to travel, which only
 *   delays noticing a change. When one is noticed, the slots are re-read with Atomics (which
 *   orders them before the data reads), and those values are the ones remembered.
 * - A config change rebuilds only the upstreams whose stored bytes differ (their balancer
 *   state is reset); others keep their views. Which ones to compare: when the change log
 *   (config/changes.ts) covers every version since the last refresh, only the upstreams
 *   those versions wrote; otherwise all of them (`knownVersion` NaN: not known, e.g. after
 *   `invalidate()`, before the zone was seeded, or a whole-config write in between). A heartbeat / passive change re-reads records
 *   into the existing views (balancer state kept).
 * - Slots are read BEFORE the data they guard, so a concurrent write is seen at the latest
 *   on the next sync.
 * - When the config zone was never seeded, the local config is the source.
 * - With `global.dns` (only then), SLOT.CONFIG_DNS_VERSION is a fourth word of the check: when
 *   it moves, the views of upstreams naming hosts re-read the published addresses
 *   (dns/record.ts) and are rebuilt when those differ from what they were built from.
 */
import type { LoadBoard } from '../balancer/load.js'
import type { Clock } from '../clock.js'
import { ConfigStore, decodeUpstream, encodeUpstream } from '../config/store.js'
import type { HeartbeatFn, ResolvedConfig, ResolvedUpstream } from '../config/types.js'
import { SLOT } from '../keys.js'
import type { SharedZones } from '../zone-types.js'
import { heartbeatEnabled } from '../config/walk.js'
import { UpstreamView } from './upstream-view.js'
import { expandUpstream } from '../dns/expand.js'
import { readDns } from '../dns/record.js'

export class WorkerView {
  private cfgSlot = Number.NaN
  private hbSlot = Number.NaN
  private passiveSlot = Number.NaN
  private dnsSlot = Number.NaN
  private readonly dnsOn: boolean
  private readonly views = new Map<string, UpstreamView>()
  private readonly bytes = new Map<string, Uint8Array>()
  private lastKey: string | undefined = undefined
  private lastView: UpstreamView | undefined = undefined
  private readonly cfgWords: Int32Array | undefined
  private readonly stateWords: Int32Array | undefined
  /** `config_version` as of the last config refresh (status: shd_config_version) */
  shdConfigVersion = 0
  /** the config version whose data this view holds in full (NaN: unknown, compare all) */
  private knownVersion = Number.NaN

  constructor(
    private readonly zones: SharedZones,
    private readonly store: ConfigStore,
    private readonly clock: Clock,
    private readonly local: ResolvedConfig,
    private readonly heartbeats: ReadonlyMap<string, HeartbeatFn>,
    /** the shared load of peers (statistics zone), for least_conn / p2c / max_conns */
    private readonly board?: LoadBoard,
    /** called after each config refresh (sync or install), with this view (dynamic/inflight.ts) */
    private readonly onConfig?: (view: WorkerView) => void,
  ) {
    this.cfgWords = zones.config.slotWords?.()
    this.stateWords = zones.state.slotWords?.()
    this.dnsOn = local.global.dns !== undefined
    if (!this.dnsOn) this.dnsSlot = 0
  }

  /** The current view of `skey` (after a sync), or undefined. */
  get(skey: string): UpstreamView | undefined {
    this.sync()
    // one-entry memo: a hot loop on one upstream skips the Map lookup; cleared on rebuild
    if (skey === this.lastKey) return this.lastView
    const v = this.views.get(skey)
    this.lastKey = skey
    this.lastView = v
    return v
  }

  /** All current upstreams as served: hostnames expanded to their addresses (global.dns). */
  served(): Record<string, ResolvedUpstream> {
    this.sync()
    const out: Record<string, ResolvedUpstream> = {}
    for (const [skey, v] of this.views) out[skey] = v.served
    return out
  }

  /** All current upstreams, resolved (custom heartbeats attached). */
  upstreams(): Record<string, ResolvedUpstream> {
    this.sync()
    const out: Record<string, ResolvedUpstream> = {}
    for (const [skey, v] of this.views) out[skey] = v.ups
    return out
  }

  sync(): void {
    const cw = this.cfgWords
    const sw = this.stateWords
    if (
      cw !== undefined && sw !== undefined &&
      cw[SLOT.CONFIG_VERSION] === this.cfgSlot &&
      sw[SLOT.STATE_HEARTBEAT_VERSION] === this.hbSlot &&
      sw[SLOT.STATE_PASSIVE_VERSION] === this.passiveSlot &&
      (!this.dnsOn || cw[SLOT.CONFIG_DNS_VERSION] === this.dnsSlot)
    ) return
    this.syncSlow()
  }

  private syncSlow(): void {
    const c = this.zones.config.loadSlot(SLOT.CONFIG_VERSION)
    const h = this.zones.state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION)
    const p = this.zones.state.loadSlot(SLOT.STATE_PASSIVE_VERSION)
    const d = this.dnsOn ? this.zones.config.loadSlot(SLOT.CONFIG_DNS_VERSION) : 0
    if (c === this.cfgSlot && h === this.hbSlot && p === this.passiveSlot && d === this.dnsSlot) return
    const rebuilt = c !== this.cfgSlot ? this.refreshConfig() : []
    const readdressed = d !== this.dnsSlot && this.refreshDns(rebuilt)
    this.dnsSlot = d
    const state = this.zones.state
    const all = h !== this.hbSlot || p !== this.passiveSlot
    for (const v of all ? this.views.values() : rebuilt) {
      if (h !== this.hbSlot || rebuilt.includes(v)) v.refreshHeartbeat(state)
      if (p !== this.passiveSlot || rebuilt.includes(v)) v.refreshPassive(state)
      v.computeAvail(this.clock.now())
    }
    const configChanged = c !== this.cfgSlot
    this.cfgSlot = c
    this.hbSlot = h
    this.passiveSlot = p
    if (configChanged || readdressed) this.onConfig?.(this)
  }

  /**
   * The writer's own change (dynamic/writer.ts), under the `checkups:skeys` lock and right
   * after a sync: installs the upstream it just committed (null = removed) without decoding
   * its own bytes, and takes the new config slot as seen.
   */
  install(skey: string, ups: ResolvedUpstream | null, bytes: Uint8Array | null, version: number): void {
    if (ups === null || bytes === null) {
      this.views.delete(skey)
      this.bytes.delete(skey)
    } else {
      const view = this.build(skey, ups)
      view.refreshHeartbeat(this.zones.state)
      view.refreshPassive(this.zones.state)
      view.computeAvail(this.clock.now())
      this.views.set(skey, view)
      this.bytes.set(skey, bytes)
    }
    this.shdConfigVersion = version
    // under the lock, right after a sync: this view held `version - 1` in full
    this.knownVersion = this.knownVersion === version - 1 ? version : Number.NaN
    this.lastKey = undefined
    this.lastView = undefined
    this.cfgSlot = this.zones.config.loadSlot(SLOT.CONFIG_VERSION)
    this.onConfig?.(this)
  }

  /** The current upstreams without syncing (for `onConfig`). */
  current(): IterableIterator<[string, UpstreamView]> {
    return this.views.entries()
  }

  /** Forces a full re-read on the next sync (tests, the backstop timer). */
  invalidate(): void {
    this.knownVersion = Number.NaN
    this.cfgSlot = Number.NaN
    this.hbSlot = Number.NaN
    this.passiveSlot = Number.NaN
    if (this.dnsOn) this.dnsSlot = Number.NaN
  }

  private refreshConfig(): UpstreamView[] {
    // the version before the data: everything it covers is in what is read after
    const cur = this.store.version()
    const changed = this.store.changedSince(this.knownVersion, cur)
    this.lastKey = undefined
    this.lastView = undefined
    const rebuilt: UpstreamView[] = []
    if (changed !== undefined) {
      // only the upstreams the versions since the last refresh wrote
      for (const skey of changed) {
        const b = this.store.readBytes(skey)
        if (b === undefined) this.drop(skey)
        else this.rebuildIfChanged(skey, b, rebuilt)
      }
      this.knownVersion = cur
    } else {
      // not seeded yet (local config): the next refresh compares everything again
      this.knownVersion = this.refreshAll(rebuilt) ? cur : Number.NaN
    }
    this.shdConfigVersion = cur
    return rebuilt
  }

  /** Reads and compares every stored upstream (the change log did not cover the gap). */
  private refreshAll(rebuilt: UpstreamView[]): boolean {
    const skeys = this.store.readSkeys()
    const next = new Map<string, Uint8Array>()
    if (skeys === undefined) {
      for (const [skey, ups] of Object.entries(this.local.upstreams)) next.set(skey, encodeUpstream(ups))
    } else {
      for (const skey of skeys) {
        const b = this.store.readBytes(skey)
        if (b !== undefined) next.set(skey, b)
      }
    }
    for (const skey of [...this.views.keys()]) if (!next.has(skey)) this.drop(skey)
    for (const [skey, b] of next) this.rebuildIfChanged(skey, b, rebuilt)
    return skeys !== undefined
  }

  private drop(skey: string): void {
    this.views.delete(skey)
    this.bytes.delete(skey)
  }

  /** A new view of `skey` when its stored bytes differ from the ones its view was built from. */
  private rebuildIfChanged(skey: string, b: Uint8Array, rebuilt: UpstreamView[]): void {
    const old = this.bytes.get(skey)
    if (old !== undefined && Buffer.compare(old, b) === 0) return
    const ups = decodeUpstream(skey, b, this.heartbeats.get(skey) ?? null)
    const view = this.build(skey, ups)
    this.views.set(skey, view)
    this.bytes.set(skey, b)
    rebuilt.push(view)
  }

  /** A view of `ups`, its hostnames expanded to the published addresses (global.dns). */
  private build(skey: string, ups: ResolvedUpstream, dns = this.dnsOn ? this.expand(ups) : undefined): UpstreamView {
    return new UpstreamView(skey, ups, heartbeatEnabled(ups, this.local.global.default_heartbeat_enable), this.board,
      { view: this.views.get(skey), now: this.clock.now() }, dns)
  }

  /** `ups` with its hostnames expanded to the addresses published in the config zone */
  private expand(ups: ResolvedUpstream): ReturnType<typeof expandUpstream> {
    const config = this.zones.config
    return expandUpstream(ups, (name) => readDns(config, name)?.addresses ?? [])
  }

  /** The published addresses moved: rebuilds (into `rebuilt`) the views built from other ones. */
  private refreshDns(rebuilt: UpstreamView[]): boolean {
    const before = rebuilt.length
    for (const [skey, v] of this.views) {
      if (v.dnsFingerprint === undefined || rebuilt.includes(v)) continue
      const next = this.expand(v.ups)
      if (next === undefined || next.fingerprint === v.dnsFingerprint) continue
      const view = this.build(skey, v.ups, next)
      this.views.set(skey, view)
      rebuilt.push(view)
    }
    this.lastKey = undefined
    this.lastView = undefined
    return rebuilt.length > before
  }
}
