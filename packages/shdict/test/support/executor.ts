/**
 * Executors for the conformance suite: run one dict operation somewhere and resolve to its
 * result (or reject with the SharedDictError's code). `local` runs in this process over a
 * plain SharedArrayBuffer; `rotating` (children.ts) runs each call in the next process of
 * a ring (this one, child 1, child 2, …) over one shared-memory zone.
 */
import { SharedDict } from '@checkups/shdict'

export interface Executor {
  /** how many processes take part */
  readonly processes: number
  run<T = unknown>(op: string, ...args: unknown[]): Promise<T>
  /** sets the injected clock (ms) of every process */
  setClock(ms: number): Promise<void>
  /** formats a fresh zone (every process sees it) */
  reset(): Promise<void>
  close(): Promise<void>
}

export function localExecutor(size: number): Executor {
  let clock = 0
  const sab = new SharedArrayBuffer(size)
  let dict = SharedDict.create(sab, { now: () => clock })
  return {
    processes: 1,
    async run<T>(op: string, ...args: unknown[]): Promise<T> {
      const fn = (dict as unknown as Record<string, (...a: unknown[]) => unknown>)[op]
      if (typeof fn !== 'function') throw new Error(`no such op ${op}`)
      return (await fn.apply(dict, args)) as T
    },
    async setClock(ms) {
      clock = ms
    },
    async reset() {
      dict = SharedDict.create(sab, { now: () => clock })
    },
    async close() {},
  }
}
