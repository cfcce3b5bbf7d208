/**
 * Aggregation of one upstream's probe results into heartbeat records — a pure function,
 * exactly the original's `cluster_heartbeat` + `update_peer_status`:
 *
 * - Results are walked in server order over all levels. Non-ok results are held until the
 *   first ok server; at that ok server, held `unstable` become `err` and all held are written.
 *   After an ok server, `err` is written at once and `unstable` is written as `err`.
 * - Left-over held results (no ok server after them): when every server is `err` and
 *   `protected !== false`, the first held one is written as `unstable` (so something stays
 *   selectable). Net: `unstable` survives only when nothing in the upstream is ok.
 * - Per record: a non-ok result increments `fail_num`, and the status flips to it once
 *   `fail_num >= sensibility`; an ok result resets `fail_num` and flips back at once — or,
 *   with `rise` > 1, once `ok_num` (consecutive ok results of a peer not ok, kept in its
 *   record only while it counts) reaches `rise`; a non-ok result drops `ok_num`.
 *   `lastmodified` changes only on flips (a new record starts ok, `fail_num` 0, lastmodified
 *   now); `msg` is overwritten every probe; extras are merged over the old record's fields.
 * - `up_since` (seconds) is set only by a real flip from err/unstable back to ok and dropped by
 *   a flip away from ok: a new record that starts ok has none (its peer was never down, so
 *   slow_start does not ramp it — its `lastmodified` is only when it was first checked).
 *
 * Invariant: the input lists each peer key once (the planner drops repeats of a host:port
 * within one upstream, so a peer's `fail_num` grows by one per round).
 */
import { STATUS_ERR, STATUS_OK, STATUS_UNSTABLE, type HeartbeatRecord, type PeerStatusCode } from '../records.js'
import type { ProbeResult } from './contract.js'

export interface PeerOutcome {
  /** the record key, `checkups:peer_status:<skey>:<host>:<port>` */
  key: string
  result: ProbeResult
}

export interface AggregateOptions {
  /** `ups.protected !== false` */
  protected: boolean
  /** `ups.sensibility ?? 1` */
  sensibility: number
  /** `ups.rise ?? 1`: consecutive ok results before a peer not ok flips back (absent = 1) */
  rise?: number
  /** seconds since the epoch (float): lastmodified of flips and new records */
  now: number
}

/** The original's `update_peer_status`: the next record of one peer. */
export function updatePeer(old: HeartbeatRecord | undefined, status: PeerStatusCode, result: ProbeResult,
  sensibility: number, now: number, rise = 1): HeartbeatRecord {
  const rec: HeartbeatRecord = old
    ? { ...old }
    : { status: STATUS_OK, fail_num: 0, lastmodified: now, msg: null }
  if (status === STATUS_OK) {
    if (rec.status !== STATUS_OK) {
      const oks = (typeof rec['ok_num'] === 'number' ? rec['ok_num'] : 0) + 1
      if (oks >= rise) {
        rec.status = STATUS_OK
        rec.lastmodified = now
        rec.up_since = now
        delete rec['ok_num']
      } else {
        rec['ok_num'] = oks
      }
    }
    rec.fail_num = 0
  } else {
    delete rec['ok_num']
    rec.fail_num += 1
    if (rec.status !== status && rec.fail_num >= sensibility) {
      rec.status = status
      rec.lastmodified = now
      delete rec.up_since
    }
  }
  Object.assign(rec, result.extras)
  rec.msg = result.msg
  return rec
}

interface Held { outcome: PeerOutcome; status: PeerStatusCode }

/**
 * Returns the records to write, in the order the original writes them.
 * `previous(key)` gives the stored record (or undefined).
 */
export function aggregateUpstream(outcomes: readonly PeerOutcome[],
  previous: (key: string) => HeartbeatRecord | undefined, opts: AggregateOptions): Map<string, HeartbeatRecord> {
  const writes = new Map<string, HeartbeatRecord>()
  const write = (o: PeerOutcome, status: PeerStatusCode): void => {
    const prev = writes.get(o.key) ?? previous(o.key)
    writes.set(o.key, updatePeer(prev, status, o.result, opts.sensibility, opts.now, opts.rise))
  }
  let held: Held[] = []
  let available = false
  let errors = 0
  for (const o of outcomes) {
    const s = o.result.status
    if (s === STATUS_OK) {
      write(o, STATUS_OK)
      available = true
      for (const h of held) write(h.outcome, h.status === STATUS_UNSTABLE ? STATUS_ERR : h.status)
      held = []
      continue
    }
    if (s === STATUS_ERR) errors += 1
    if (available) write(o, STATUS_ERR)
    else held.push({ outcome: o, status: s })
  }
  const first = held[0]
  if (first && errors === outcomes.length && opts.protected) first.status = STATUS_UNSTABLE
  for (const h of held) write(h.outcome, h.status)
  return writes
}
