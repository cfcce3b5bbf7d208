/**
 * Optional piscina pool for large fleets: the leader posts the round's
 * upstreams and the zones' SharedArrayBuffers; a thread probes and writes the
 * records straight into `state` (thread.ts). Upstreams with a custom heartbeat function stay
 * on the leader's thread (functions cannot cross threads).
 *
 * What crosses threads is kept off the leader's main thread as far as it can be:
 * - upstreams go as msgpackr bytes, encoded once per resolved upstream object (resolved
 *   upstreams are frozen and replaced, never changed, so the object is the cache key): a round
 *   over an unchanged fleet posts a few byte arrays instead of structured-cloning every server;
 * - the checks come back as msgpackr bytes in batches of CHECK_BATCH, decoded one batch per
 *   event-loop turn (round.ts deliverChecks).
 *
 * The pool is created lazily on the first pooled round and destroyed by `close()`.
 */
import type { Piscina } from 'piscina'
import type { HeartbeatFn, ResolvedUpstream } from '../config/types.js'
import { encodeRecord } from '../records.js'
import type { Dict } from '../zone-types.js'
import type { PoolOptions } from './contract.js'
import type { ThreadResult, ThreadTask } from './thread.js'

export type { PoolOptions } from './contract.js'

export interface HeartbeatPool {
  run(task: Omit<ThreadTask, 'state' | 'mutex' | 'upstreams'> & { upstreams: Upstreams }): Promise<ThreadResult>
  close(): Promise<void>
}

type Upstreams = Readonly<Record<string, ResolvedUpstream>>

const encoded = new WeakMap<ResolvedUpstream, Uint8Array>()

/** The upstream as msgpackr bytes in a buffer of its own (a view would post its whole backing buffer). */
function encodeUpstream(ups: ResolvedUpstream): Uint8Array {
  let bytes = encoded.get(ups)
  if (bytes === undefined) {
    bytes = new Uint8Array(encodeRecord(ups))
    encoded.set(ups, bytes)
  }
  return bytes
}

export function createPool(state: Pick<Dict, 'buffer'>, mutex: Pick<Dict, 'buffer'>, opts: PoolOptions = {}): HeartbeatPool {
  let piscina: Piscina | undefined
  const threads = Math.max(1, opts.threads ?? 1)
  return {
    async run(task) {
      // piscina is loaded on first use: most fleets stay below the thread threshold
      if (piscina === undefined) {
        const { Piscina: Pool } = await import('piscina')
        piscina ??= new Pool({
          filename: new URL('./thread.js', import.meta.url).href,
          minThreads: 1, maxThreads: threads, idleTimeout: 60_000,
        })
      }
      const upstreams: Record<string, Uint8Array> = {}
      for (const [skey, ups] of Object.entries(task.upstreams)) upstreams[skey] = encodeUpstream(ups)
      const full: ThreadTask = { ...task, upstreams, state: state.buffer, mutex: mutex.buffer }
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
