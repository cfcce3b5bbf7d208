/**
 * Passive accounting: max_fails / fail_timeout, shared by all workers
 * through the `state` zone (improvement 1).
 *
 * Invariants
 * - Record `KEY.passive(skey, host, port)` = PassiveRecord `{ status, count, since(ms) }`;
 *   written by any worker, always as a read-modify-write under the skey's spin lock
 *   (`passiveLockKey(skey)` in `locks`, taken with `add`, held for microseconds), so
 *   concurrent failures in two processes are both counted.
 * - max_fails 0 disables accounting: no record is ever written for that server.
 * - Any report creates `{ ok, 0, now }` if absent and resets a record whose
 *   `since + fail_timeout < now`. A failure increments count; at count >= max_fails the
 *   server becomes err unless it is the last ok server of the skey (another server of any
 *   cluster with no record, or a STORED ok status — read as is, even if expired, like the
 *   original). A success never clears count or status.
 * - A record reads err only while `since + fail_timeout > now` (see `errUntil`).
 * - SLOT.STATE_PASSIVE_VERSION is bumped whenever a record starts or ends an err window.
 * - Records are stored with `safeSet` (never evicting another health record); one that does
 *   not fit adds 1 to SLOT.STATE_PASSIVE_WRITE_ERRORS (getStatus shows it) and is logged,
 *   rate-limited. The err window it would have opened is then not shared.
 */
import type { Clock } from '../clock.js'
import type { ResolvedServer, ResolvedUpstream } from '../config/types.js'
import { KEY, SLOT, passiveLockKey } from '../keys.js'
import { type PassiveRecord, STATUS_ERR, STATUS_OK, decodeRecord, encodeRecord } from '../records.js'
import { type Dict, type Logger, asBytes } from '../zone-types.js'
import { forEachServer } from '../config/walk.js'
import { LogLimiter } from '../log-limit.js'

/** how long a report spins for the skey lock before going ahead without it */
const SPIN_MS = 5
/** the spin lock key's TTL: a holder killed mid-update frees it after this (s) */
const LOCK_TTL = 1

export function readPassive(state: Dict, skey: string, host: string, port: number): PassiveRecord | undefined {
  return decodeRecord<PassiveRecord>(asBytes(state.get(KEY.passive(skey, host, port))))
}

/** When the record's err window ends (ms), or 0 when it does not read err. */
export function errUntil(rec: PassiveRecord | undefined, srv: ResolvedServer): number {
  if (rec === undefined || rec.status !== STATUS_ERR) return 0
  return rec.since + srv.fail_timeout * 1000
}

export class PassiveAccounting {
  private readonly limiter: LogLimiter

  constructor(
    private readonly state: Dict,
    private readonly locks: Dict,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** called once per err window start (`err`) and end seen by a report (`ok`), with the report's cause */
    private readonly onWindow?: (skey: string, srv: ResolvedServer, to: 'ok' | 'err', cause: 'passive' | 'admin') => void,
  ) {
    this.limiter = new LogLimiter(clock)
  }

  /**
   * Accounts one attempt on `srv` of `skey`. Returns the record's `since` (ms) after the
   * report, or -1 when accounting is disabled for the server.
   */
  report(skey: string, ups: ResolvedUpstream, srv: ResolvedServer, failed: boolean, cause: 'passive' | 'admin' = 'passive'): number {
    if (srv.max_fails === 0) return -1
    const lockKey = passiveLockKey(skey)
    const locked = this.spinLock(lockKey)
    try {
      return this.update(skey, ups, srv, failed, cause)
    } finally {
      if (locked) this.locks.delete(lockKey)
    }
  }

  private update(skey: string, ups: ResolvedUpstream, srv: ResolvedServer, failed: boolean, cause: 'passive' | 'admin'): number {
    const now = this.clock.now()
    const key = KEY.passive(skey, srv.host, srv.port)
    const old = readPassive(this.state, skey, srv.host, srv.port)
    let rec: PassiveRecord
    let dirty = false
    let windowMoved = false
    if (old === undefined) {
      rec = { status: STATUS_OK, count: 0, since: now }
      dirty = true
    } else if (old.since + srv.fail_timeout * 1000 < now) {
      rec = { status: STATUS_OK, count: 0, since: now }
      dirty = true
      windowMoved = old.status === STATUS_ERR
    } else {
      rec = { ...old }
    }
    if (failed) {
      rec.count += 1
      dirty = true
      if (rec.count >= srv.max_fails && rec.status !== STATUS_ERR && this.hasAlternative(skey, ups, srv)) {
        rec.status = STATUS_ERR
        windowMoved = true
      }
    }
    if (dirty) {
      const r = this.state.safeSet(key, encodeRecord(rec))
      if (!r.ok) {
        const total = this.state.addSlot(SLOT.STATE_PASSIVE_WRITE_ERRORS, 1)
        this.limiter.error(this.logger, 'passive: failed to set peer status', { key, err: r.err, zone: 'state', total })
        return old?.since ?? -1
      }
    }
    if (windowMoved) {
      this.state.addSlot(SLOT.STATE_PASSIVE_VERSION, 1)
      this.onWindow?.(skey, srv, rec.status === STATUS_ERR ? 'err' : 'ok', cause)
    }
    return rec.since
  }

  /** Another server of the skey with no record or a stored ok status (the original's check). */
  private hasAlternative(skey: string, ups: ResolvedUpstream, self: ResolvedServer): boolean {
    let found = false
    forEachServer(ups, (s) => {
      // self never counts: the original has just created its record when it checks
      if (found || (s.host === self.host && s.port === self.port)) return
      const st = readPassive(this.state, skey, s.host, s.port)
      if (st === undefined || st.status === STATUS_OK) found = true
    })
    return found
  }

  private spinLock(key: string): boolean {
    const t0 = Date.now()
    for (;;) {
      if (this.locks.add(key, 1, LOCK_TTL).ok) return true
      if (Date.now() - t0 >= SPIN_MS) {
        this.logger.warn({ key }, 'passive lock busy, updating without it')
        return false
      }
    }
  }
}
