/**
 * The statistics zone's layout: one raw shared-memory zone (not a shared dict) laid out as
 *
 *   [header 4 KiB][peer slots PEER_SLOTS × 1 KiB][event ring EVENT_SLOTS × 512 B][process blocks PROC_SLOTS × 32 KiB]
 *
 * Invariants
 * - Every counter is a 64-bit signed word updated with Atomics (add/store) on a BigInt64Array
 *   view, so any process reads whole, exact numbers without a lock.
 * - A peer slot is claimed once (state word 0 → 1 with compareExchange, key written, then
 *   state 2) and never freed: an index handed out stays valid for the zone's life.
 * - Offsets are fixed by the constants below; a zone is recognised by MAGIC + LAYOUT_VERSION.
 */

export const MAGIC = 0x636b7374 // 'ckst'
export const LAYOUT_VERSION = 1

export const HEADER_BYTES = 4096
/** header Int32 words */
export const H = { MAGIC: 0, VERSION: 1, PEER_SLOTS: 2, EVENT_SLOTS: 3, PROC_SLOTS: 4, PEERS_USED: 5 } as const
/** header BigInt64 words (byte offset = index × 8) */
export const H64 = { EVENT_HEAD: 8, HB_ROUNDS: 9, HB_ROUND_SUM_US: 10, HB_ROUND_BUCKETS: 11 } as const

/** distinct peers (skey + host + port) the zone can count */
export const PEER_SLOTS = 4096
export const PEER_BYTES = 1024
/** bytes reserved for the peer key `skey \n host \n port` (longer keys are not counted) */
export const KEY_BYTES = 240
/** byte offset of the key inside a slot; the Int32 words before it: state, key length, hash */
export const KEY_OFFSET = 16
/** BigInt64 index (inside a slot) of the first counter */
export const COUNTER_BASE = (KEY_OFFSET + KEY_BYTES) / 8

/** Latency bucket upper bounds, seconds (Prometheus' `le`); the last bucket is +Inf. */
export const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const
/** Heartbeat round duration bucket bounds, seconds. */
export const ROUND_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const

/** Counter offsets (BigInt64 words after COUNTER_BASE). */
export const C = {
  /** attempts that ended (their first report) */
  REQUESTS: 0,
  SELECTED: 1,
  /** reserved (in flight = SELECTED - requests) */
  INFLIGHT: 2,
  BYTES_IN: 3,
  BYTES_OUT: 4,
  /** responses by class: RESP + 0 = 1xx … RESP + 4 = 5xx */
  RESP: 5,
  /** attempt outcomes, in OUTCOMES order */
  OUTCOME: 10,
  LAT_SUM_US: 18,
  /** reserved (the count is the sum of LAT_BUCKETS) */
  LAT_COUNT: 19,
  /** LATENCY_BOUNDS.length + 1 buckets (not cumulative; the last is +Inf) */
  LAT_BUCKETS: 20,
  HB_CHECKS: 36,
  HB_FAILURES: 37,
  /** 0 unknown, 1 up, 2 down (last transition recorded) */
  HEALTH: 38,
  LAST_CHANGE_MS: 39,
  /** ms since the epoch the peer went down, 0 while up */
  DOWN_SINCE_MS: 40,
  DOWNTIME_MS: 41,
  /** health transitions by cause: + 0 heartbeat, + 1 passive, + 2 admin */
  TRANSITIONS: 42,
  /** passive state: 0/1 ok, 2 err (last passive transition recorded) */
  PASSIVE: 45,
  /** balancer (balancer/load.ts): latency cost (load.ts), µs, and when it was last updated, ms */
  EWMA_US: 46,
  EWMA_MS: 47,
  /** retry budget (balancer/retry-budget.ts), in an upstream's pseudo-peer slot: retries in flight */
  RETRIES: 48,
  /** outlier detection (balancer/outlier.ts): consecutive 5xx / gateway / local-origin failures, ejections, ejected until (ms) */
  OD_5XX: 49,
  OD_GW: 50,
  OD_LOCAL: 51,
  OD_EJECTIONS: 52,
  OD_UNTIL_MS: 53,
} as const

/** Transition causes in TRANSITIONS order. */
export const CAUSES = ['heartbeat', 'passive', 'admin'] as const

/** What one attempt ended as (the try engine's outcome names). */
export const OUTCOMES = ['ok', 'connect_error', 'timeout', 'reset', 'http_status', 'body_error', 'client_abort', 'error'] as const
export type StatsOutcome = (typeof OUTCOMES)[number]

export const EVENT_SLOTS = 1024
export const EVENT_BYTES = 512
/** event slot: BigInt64 seq at 0, Int32 length at 8, UTF-8 JSON from 16 */
export const EVENT_DATA = 16

/** process blocks: 0 = the primary, 1 + id = worker id */
export const PROC_SLOTS = 65
export const PROC_BYTES = 32 * 1024
/** process block: Int32 seqlock at 0, Int32 length at 4, Int32 pid at 8, Float64 time at 16, text from 24 */
export const PROC_DATA = 24

export const PEERS_OFFSET = HEADER_BYTES
export const EVENTS_OFFSET = PEERS_OFFSET + PEER_SLOTS * PEER_BYTES
export const PROCS_OFFSET = EVENTS_OFFSET + EVENT_SLOTS * EVENT_BYTES
/** The zone's size in bytes (a multiple of the page size). */
export const STATS_ZONE_BYTES = PROCS_OFFSET + PROC_SLOTS * PROC_BYTES
/** The runtime's name for the zone (not a shared dict: never in `shared_dicts`). */
export const STATS_ZONE = 'checkups_stats'
