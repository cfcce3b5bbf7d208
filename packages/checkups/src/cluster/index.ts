/** Many nodes, one upstream configuration: the Redis cluster store and the per-node sync agent. */
export { ClusterStore, parseEntry, type ClusterStoreOptions, type LogEntry, type Snapshot, type StoredUpstream, type WriteResult } from './store.js'
export { SyncAgent, type LinkState, type SyncAgentOptions, type SyncStatus, type SyncTarget } from './agent.js'
