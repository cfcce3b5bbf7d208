/** Per-peer statistics, events and process snapshots in shared memory (see layout.ts). */
export { Observer, type HeartbeatCheck, type TransitionInput } from './observer.js'
export { StatsZone, peerKey } from './zone.js'
export { PeerRecorder, statusOf, latencyBucket, type AttemptStats } from './recorder.js'
export { EventRing, type EventBody, type StoredEvent, type TransitionEvent, type ConfigEvent, type HealthCause } from './events.js'
export { ProcessBlocks, type ProcessSnapshot } from './procs.js'
export { peerStatsOf, quantileMs, type PeerStats } from './view.js'
export { STATS_ZONE, STATS_ZONE_BYTES, LATENCY_BOUNDS, ROUND_BOUNDS, OUTCOMES, CAUSES, type StatsOutcome } from './layout.js'
