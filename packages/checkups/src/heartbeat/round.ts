/**
 * One heartbeat round: plan → probe every distinct peer concurrently (bounded) → aggregate per
 * upstream → write the records into `state` → finish (`last_check_time`, `checkup_timer_alive`
 * with TTL overtime, STATE_HEARTBEAT_VERSION + 1 so every worker refreshes its view at once).
 *
 * Invariants
 * - Records are written only after every probe of the round has settled, in one synchronous
 *   pass, and only if `stillLeader()` holds right before it (a leader that lost its lease
 *   while probing discards its results: never two writers).
 * - With history, probes are ordered so that the ones ending last start first: peers whose
 *   last probe timed out, then other failures, then the rest (see suspects / probeAll).
 * - Probes run under limit.ts's two bounds (work slots, sockets): peers hanging until their
 *   timeout do not hold back the others.
 * - Each probe is bounded by its upstream's `timeout`; a custom heartbeat that never settles
 *   is cut off at timeout + PROBE_GRACE_MS with msg `timeout`.
 * - `probeAndWrite` depends only on a Dict, so a piscina thread runs it unchanged over the
 *   zone's SharedArrayBuffer (thread.ts).
 * - Records are stored with `safeSet`: health records never evict each other (a peer whose
 *   record was evicted would read as ok). A record that does not fit is counted
 *   (SLOT.STATE_HEARTBEAT_WRITE_ERRORS, shown in getStatus) and logged, rate-limited.
 */
import { Packr } from 'msgpackr'
import type { ResolvedUpstream } from '../config/types.js'
import { KEY, SLOT } from '../keys.js'
import { decodeRecord, encodeRecord, STATUS_NAMES, STATUS_OK, type HeartbeatRecord } from '../records.js'
import type { Dict } from '../zone-types.js'
import { localtime } from '../time.js'
import type { PeerCheck, ProbeResult, WriteResult } from './contract.js'
import { aggregateUpstream } from './aggregate.js'
import { DEFAULT_BURST, mapBounded, type Bounds } from './limit.js'
import { planRound, type PlanOptions, type PlannedProbe, type RoundPlan } from './plan.js'
import { runProbe, timeoutMs } from './probes/index.js'
import { err } from './probes/result.js'

/** Extra time a custom heartbeat gets beyond `timeout` before it is cut off. */
export const PROBE_GRACE_MS = 1000
/** Default bound on probes doing work at once (limit.ts `active`). */
export const DEFAULT_CONCURRENCY = 256
/** Default bound on probes in flight, hanging ones included (= sockets held; limit.ts `total`). */
export const DEFAULT_MAX_SOCKETS = 1024
/** A probe still pending after this long is waiting on a slow peer and frees its work slot. */
export const SLOW_AFTER_MS = 100

export function bounds(concurrency?: number, maxSockets?: number): Bounds {
  const active = Math.max(1, concurrency ?? DEFAULT_CONCURRENCY)
  return { active, total: Math.max(active, maxSockets ?? Math.max(DEFAULT_MAX_SOCKETS, active)), slowAfterMs: SLOW_AFTER_MS, burst: DEFAULT_BURST }
}

export interface ProbeWriteOptions extends PlanOptions {
  state: Dict
  limits: Bounds
  /** seconds since the epoch for lastmodified (read once when results are aggregated) */
  nowSeconds: () => number
  stillLeader: () => boolean
}

function guarded(p: PlannedProbe, release: () => void): Promise<ProbeResult> {
  const probe = runProbe(p.ups, p.custom, p.host, p.port, release)
  if (!p.custom) return probe
  let timer: NodeJS.Timeout | undefined
  const cut = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve(err('timeout')), timeoutMs(p.ups) + PROBE_GRACE_MS)
  })
  return Promise.race([probe, cut]).finally(() => clearTimeout(timer))
}

/**
 * Probes every distinct peer of `plan` (bounded concurrency); probe id → result.
 * `first` lists probe ids to start before the others, in its order: peers likely to run into
 * the timeout end last, and starting them first keeps a round close to one `timeout` long
 * instead of timeout + the time it takes to reach them.
 */
export async function probeAll(plan: RoundPlan, limits: Bounds, first: Iterable<string> = []): Promise<Map<string, ProbeResult>> {
  const head = new Set([...first].filter((id) => plan.probes.has(id)))
  const ids = [...head, ...[...plan.probes.keys()].filter((id) => !head.has(id))]
  const results = await mapBounded(ids, limits, (id, release) => guarded(plan.probes.get(id) as PlannedProbe, release),
    (_id, e) => err(e instanceof Error ? e.message : String(e)))
  return new Map(ids.map((id, i) => [id, results[i] as ProbeResult]))
}

function readRecord(state: Pick<Dict, 'get'>, key: string): HeartbeatRecord | undefined {
  const v = state.get(key)
  if (!(v instanceof Uint8Array)) return undefined
  try {
    return decodeRecord<HeartbeatRecord>(v)
  } catch {
    return undefined
  }
}

/**
 * Probe ids of peers whose stored record shows a failure, in start order: last probe timed
 * out (they hang: they end last), then any other failure (probed first, see probeAll).
 */
export function suspects(plan: RoundPlan, state: Pick<Dict, 'get'>): string[] {
  const hung = new Set<string>()
  const failed = new Set<string>()
  for (const u of plan.upstreams) {
    for (const p of u.peers) {
      const rec = readRecord(state, p.key)
      if (!rec || (rec.status === STATUS_OK && rec.fail_num === 0)) continue
      if (rec.msg === 'timeout') hung.add(p.probe)
      else failed.add(p.probe)
    }
  }
  return [...hung, ...[...failed].filter((id) => !hung.has(id))]
}

/** Each written peer's status before and after the round (the transitions are the changes). */
function collectChecks(u: RoundPlan['upstreams'][number], before: Map<string, number>, records: Map<string, HeartbeatRecord>,
  results: Map<string, ProbeResult>, checks: PeerCheck[]): void {
  const name = (s: number): string => STATUS_NAMES[s] ?? 'ok'
  for (const p of u.peers) {
    const rec = records.get(p.key)
    if (rec === undefined) continue
    checks.push({ skey: u.skey, host: p.host, port: p.port, from: name(before.get(p.key) ?? STATUS_OK), to: name(rec.status),
      failed: results.get(p.probe)?.status !== STATUS_OK, msg: rec.msg ?? null })
  }
}

export function writeRecords(plan: RoundPlan, results: Map<string, ProbeResult>, state: Dict,
  now: number, checks: PeerCheck[] = []): { written: number; failed: number } {
  let written = 0
  let failed = 0
  const previous = (key: string): HeartbeatRecord | undefined => readRecord(state, key)
  for (const u of plan.upstreams) {
    const outcomes = u.peers.map((p) => ({ key: p.key, result: results.get(p.probe) as ProbeResult }))
    const before = new Map(u.peers.map((p) => [p.key, previous(p.key)?.status ?? STATUS_OK]))
    const records = aggregateUpstream(outcomes, previous, { protected: u.protected, sensibility: u.sensibility, now, ...(u.rise ? { rise: u.rise } : {}) })
    for (const [key, rec] of records) {
      const r = state.safeSet(key, encodeRecord(rec))
      if (r.ok) written += 1
      else failed += 1
    }
    collectChecks(u, before, records, results, checks)
  }
  if (failed > 0) state.addSlot(SLOT.STATE_HEARTBEAT_WRITE_ERRORS, failed)
  return { written, failed }
}

/** Plans, probes and writes the records of `upstreams` (no finishing keys). */
export async function probeAndWrite(upstreams: Readonly<Record<string, ResolvedUpstream>>, opts: ProbeWriteOptions): Promise<WriteResult> {
  const plan = planRound(upstreams, opts)
  const results = await probeAll(plan, opts.limits, suspects(plan, opts.state))
  const peers = plan.upstreams.reduce((n, u) => n + u.peers.length, 0)
  const base = { upstreams: plan.upstreams.length, peers, probes: plan.probes.size }
  if (!opts.stillLeader()) return { ...base, written: 0, failed: 0, committed: false, checks: [] }
  const checks: PeerCheck[] = []
  const w = writeRecords(plan, results, opts.state, opts.nowSeconds(), checks)
  return { ...base, ...w, committed: true, checks }
}

/**
 * The end of a committed round: liveness keys (never evicting a record either; a key that
 * does not fit is counted like a record), then the version bump workers watch.
 */
export function finishRound(state: Dict, nowMs: number, overtimeS: number, info?: RoundInfo): { version: number; failed: number } {
  const a = state.safeSet(KEY.LAST_CHECK_TIME, localtime(nowMs))
  const b = state.safeSet(KEY.TIMER_ALIVE, true, overtimeS)
  const c = info ? state.safeSet(KEY.HEARTBEAT_ROUND, encodeRecord(info)) : { ok: true }
  const failed = (a.ok ? 0 : 1) + (b.ok ? 0 : 1) + (c.ok ? 0 : 1)
  if (failed > 0) state.addSlot(SLOT.STATE_HEARTBEAT_WRITE_ERRORS, failed)
  return { version: state.addSlot(SLOT.STATE_HEARTBEAT_VERSION, 1), failed }
}

/** The last committed round as getStatus shows it (KEY.HEARTBEAT_ROUND). */
export interface RoundInfo {
  runner: 'thread' | 'in-process'
  peers: number
  ms: number
}

/**
 * Check batches cross from the thread as msgpack with records (each message defines its one
 * shape inline): a 512-check batch decodes 2–4× faster than as plain maps and is half the size.
 */
const checkPackr = new Packr({ useRecords: true, moreTypes: false })

/** A batch of checks as bytes in a buffer of its own (thread.ts → deliverChecks). */
export function encodeChecks(checks: readonly PeerCheck[]): Uint8Array {
  return new Uint8Array(checkPackr.pack(checks))
}

/** Checks handed to `onRound` per call (the loop yields between calls). */
export const CHECK_BATCH = 512

/**
 * Hands a round's checks to `fn` in batches of at most CHECK_BATCH, a turn of the event loop
 * apart: first `local` (probed on this thread), then the thread's msgpackr-encoded batches,
 * each decoded only when its turn comes. Resolves with every check, in that order.
 */
export async function deliverChecks(local: readonly PeerCheck[], encoded: readonly Uint8Array[],
  fn?: (batch: PeerCheck[], done: boolean) => void): Promise<PeerCheck[]> {
  const slices: Array<() => PeerCheck[]> = []
  for (let i = 0; i < local.length; i += CHECK_BATCH) slices.push(() => local.slice(i, i + CHECK_BATCH))
  for (const bytes of encoded) slices.push(() => checkPackr.unpack(bytes) as PeerCheck[])
  const all: PeerCheck[] = []
  if (slices.length === 0) fn?.([], true)
  for (const [i, slice] of slices.entries()) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve))
    const batch = slice()
    for (const c of batch) all.push(c)
    fn?.(batch, i === slices.length - 1)
  }
  return all
}
