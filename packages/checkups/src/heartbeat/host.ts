/**
 * Where core plugs in the heartbeat: the facade hands over the zones, clock, worker
 * identity, a getter of the CURRENT upstreams as served (dynamic ones included, hostnames
 * expanded to their addresses with global.dns, custom heartbeats attached) and the custom heartbeat functions; the globals are the resolved config's.
 */
import type { Clock } from '../clock.js'
import type { HeartbeatFn, ResolvedConfig, ResolvedUpstream } from '../config/types.js'
import { levelsOf } from '../config/walk.js'
import { KEY } from '../keys.js'
import { type HeartbeatRecord, STATUS_ERR, decodeRecord } from '../records.js'
import { type Logger, type SharedZones, type WorkerInfo, asBytes } from '../zone-types.js'
import type { Heartbeat, PeerCheck } from './contract.js'
import { releaseLease } from './election.js'
import { HeartbeatRunner } from './runner.js'

export class HeartbeatHost {
  private hb: Heartbeat | undefined

  constructor(
    private readonly zones: SharedZones,
    private readonly clock: Clock,
    private readonly worker: WorkerInfo,
    private readonly logger: Logger,
    private readonly getUpstreams: () => Record<string, ResolvedUpstream>,
    private readonly customHeartbeats: () => ReadonlyMap<string, HeartbeatFn>,
    private readonly onRound?: (checks: PeerCheck[], ms: number, done: boolean) => void,
    private readonly onLeadership?: (leader: boolean) => void,
  ) {}

  start(cfg: ResolvedConfig): void {
    if (this.hb) return
    this.hb = new HeartbeatRunner({
      shared: this.zones,
      clock: this.clock,
      worker: this.worker,
      logger: this.logger,
      getConfig: () => ({ global: cfg.global, upstreams: this.getUpstreams() }),
      customHeartbeats: Object.fromEntries(this.customHeartbeats()),
      ...(this.onRound ? { onRound: this.onRound } : {}),
      ...(this.onLeadership ? { onLeadership: this.onLeadership } : {}),
    })
    this.hb.start()
  }

  /** Stops candidacy/rounds; a leader hands its lease back. */
  async stop(): Promise<void> {
    const hb = this.hb
    this.hb = undefined
    await hb?.stop()
  }

  isLeader(): boolean {
    return this.hb?.isLeader() ?? false
  }

  /** Another worker exited: a candidate tries for the lease at once. */
  contend(): void {
    this.hb?.contend()
  }

  /** On the leader: a fresh round now (after any round in flight). Elsewhere: nothing. */
  async checkNow(): Promise<boolean> {
    const hb = this.hb
    if (!hb?.isLeader()) return false
    await hb.runRound({ fresh: true })
    return true
  }

  /** Primary: removes the lease `pid` held (true when there was one). */
  releaseLease(pid: number): boolean {
    return releaseLease(this.zones.mutex, pid)
  }

  /** An nginx peer is `down` when some level fed by block `name` has its heartbeat status err. */
  peerDown(name: string, host: string, port: number): boolean {
    for (const [skey, ups] of Object.entries(this.getUpstreams())) {
      if (!levelsOf(ups).some((l) => l.upstream === name)) continue
      const rec = decodeRecord<HeartbeatRecord>(asBytes(this.zones.state.get(KEY.peerStatus(skey, host, port))))
      if (rec?.status === STATUS_ERR) return true
    }
    return false
  }
}
