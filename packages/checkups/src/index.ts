export { CheckupsError, CheckupsErrorCodes, CheckupsErrorStatus, type CheckupsErrorCode } from './errors.js'
export { STATUS_OK, STATUS_UNSTABLE, STATUS_ERR, STATUS_NAMES, encodeRecord, decodeRecord, type HeartbeatRecord, type PassiveRecord, type PeerStatusCode } from './records.js'
export { KEY, SLOT } from './keys.js'
export { systemClock, type Clock } from './clock.js'

export { Checkups, type CheckupsOptions, type InitOptions } from './checkups.js'
export { resolveConfig, resolveUpstream, isResolvedConfig, formatPath, formatIssues, hashUpstreams, type ConfigWarning } from './config/resolve.js'
export { issueMessages, strictObject, suggest, unknownOption } from './config/issues.js'
export { hostProblem, MAX_INT32, MAX_SECONDS, MIN_SECONDS } from './config/bounds.js'
export {
  defineConfig, type ConfigInput, type GlobalInput, type HttpOptsInput, type LevelInput, type ServerInput, type UpstreamInput,
} from './config/input.js'
export type {
  Mode, UpstreamTyp, HeartbeatFn, ResolvedServer, ResolvedLevel, ResolvedCluster, ResolvedHttpOpts,
  ResolvedUpstream, ResolvedGlobal, ResolvedConfig, ResolvedDns, ResolvedClusterStore,
} from './config/types.js'
export type { DnsStatus } from './dns/host.js'
export type { DnsView } from './dns/record.js'
export { levelEntries, forEachServer, findServer } from './config/walk.js'
export { ConfigStore, encodeUpstream, decodeUpstream, type LockLike, type LockFactory } from './config/store.js'
export type { Dict, DictValue, SharedZones, WorkerInfo, Logger } from './zone-types.js'
export { silentLogger, ZONE_NAMES } from './zone-types.js'
export {
  RoundRobin, ConsistentHash, createRoundRobin, createConsistentHash, balancerFor, hash32, hashKeyOf, MIN_POINTS, POINTS_PER_WEIGHT,
  type Balancer, type BalancerFactory, type BalancerPeer, type RequestLike, type HashKeyOptions,
} from './balancer/index.js'
export { PassiveAccounting, readPassive } from './passive/accounting.js'
export type { ReadyOkOptions, ReadyOkCallback, AttemptContext } from './try/ready-ok.js'
export { ATTEMPT_OUTCOMES, countsAgainstPeer, outcomeOfError, type AttemptOutcome, type AttemptInfo } from './try/outcome.js'
export type { AttemptReport, AttemptRecorder } from './try/report.js'
export type { SelectOptions } from './try/select.js'
export type { ClusterKey } from './try/pick.js'
export type { PeerResult, Timeouts } from './view/upstream-view.js'
export type { Status, PeerStatus, PeerStatusName } from './status.js'
export { parseNginxUpstreams, type NginxPeer } from './nginx/parse.js'
export type { Peer, NginxPeers } from './nginx/upstreams.js'
export { localtime } from './time.js'
export { parseJsonRefusingKeys, ForbiddenJsonKey, FORBIDDEN_JSON_KEYS } from './json.js'
export * from './persist/index.js'
export * from './stats/index.js'
export type { PeerCheck } from './heartbeat/index.js'
export { upstreamTlsOptions, type UpstreamTlsInput } from './tls.js'
export { OPTIONAL_PACKAGES, isInstalled, requirePackage, type OptionalPackage } from './optional-deps.js'
export * from './clients/index.js'
export * from './cluster/index.js'
