/** Many nodes, one upstream configuration: the Redis cluster store and the per-node sync agent. */
export { ClusterStore, parseEntry, type ClusterStoreOptions, type LogEntry, type Snapshot, type StoredUpstream, type WriteResult } from './store.js'
export { SyncAgent, type LinkState, type SyncAgentOptions, type SyncStatus, type SyncTarget } from './agent.js'
export { startClusterSync, type ClusterSync, type ClusterSyncDeps } from './node.js'
export { RemoteWrites, storedForm, type StoreWrite } from './remote.js'
export { readClusterStatus, type ClusterStoreStatus } from './published.js'
export { storeOptions } from './options.js'
