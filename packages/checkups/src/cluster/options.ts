/** `global.cluster_store` (validated by config/schema.ts) as the ClusterStore's options. */
import type { ResolvedClusterStore } from '../config/types.js'
import type { ClusterStoreOptions } from './store.js'

export function storeOptions(cs: ResolvedClusterStore): ClusterStoreOptions {
  const redis = typeof cs.redis === 'string' ? cs.redis : { sentinels: cs.redis.sentinels.map((s) => ({ host: s.host, port: s.port })), name: cs.redis.name }
  return {
    redis, namespace: cs.namespace, tls: cs.tls,
    ...(cs.username !== null ? { username: cs.username } : {}),
    ...(cs.password !== null ? { password: cs.password } : {}),
  }
}
