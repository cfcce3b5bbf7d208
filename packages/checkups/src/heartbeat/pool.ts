/**
 * Optional piscina pool for large fleets: the leader posts the round's
 * upstreams (plain data) and the zones' SharedArrayBuffers; a thread probes and writes the
 * records straight into `state` (thread.ts). Upstreams with a custom heartbeat function stay
 * on the leader's thread (functions cannot cross threads).
 *
 * The pool is created lazily on the first pooled round and destroyed by `close()`.
 */
import type { Piscina } from 'piscina'
import type { HeartbeatFn, ResolvedUpstream } from '../config/types.js'
import type { Dict } from '../zone-types.js'
import type { PoolOptions } from './contract.js'
import type { ThreadResult, ThreadTask } from './thread.js'

export type { PoolOptions } from './contract.js'

export interface HeartbeatPool {
  run(task: Omit<ThreadTask, 'state' | 'mutex'>): Promise<ThreadResult>
  close(): Promise<void>
}

type Upstreams = Readonly<Record<string, ResolvedUpstream>>

export function createPool(state: Pick<Dict, 'buffer'>, mutex: Pick<Dict, 'buffer'>, opts: PoolOptions = {}): HeartbeatPool {
  let piscina: Piscina | undefined
  const threads = Math.max(1, opts.threads ?? 1)
  return {
    async run(task) {
      // piscina is loaded on first use: the pool is opt-in (large fleets)
      if (piscina === undefined) {
        const { Piscina: Pool } = await import('piscina')
        piscina ??= new Pool({
          filename: new URL('./thread.js', import.meta.url).href,
          minThreads: 1, maxThreads: threads, idleTimeout: 60_000,
        })
      }
      const full: ThreadTask = { ...task, state: state.buffer, mutex: mutex.buffer }
      return piscina.run(full) as Promise<ThreadResult>
    },
    async close() {
      const p = piscina
      piscina = undefined
      await p?.destroy()
    },
  }
}

/** Splits upstreams into those a thread can probe and those needing a function here. */
export function splitForPool(upstreams: Upstreams, custom: Readonly<Record<string, HeartbeatFn>> | undefined): {
  pooled: Record<string, ResolvedUpstream>; local: Record<string, ResolvedUpstream>
} {
  const pooled: Record<string, ResolvedUpstream> = {}
  const local: Record<string, ResolvedUpstream> = {}
  for (const [skey, ups] of Object.entries(upstreams)) {
    if (ups.heartbeat || custom?.[skey]) local[skey] = ups
    else pooled[skey] = ups
  }
  return { pooled, local }
}
