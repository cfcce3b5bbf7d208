/**
 * Cross-process executor: one zone in real shared memory (@checkups/shm), this process
 * plus `n` forked children attached to it; call i runs in process i mod (n + 1), so a value
 * written by one process is read by another.
 */
import { SharedDict } from '@checkups/shdict'
import { createZone, closeZoneFd } from '@checkups/shm'
import { fixture, forkChild, type Child } from './children.js'
import type { Executor } from './executor.js'

export async function rotatingExecutor(size: number, n = 2): Promise<Executor> {
  const zone = createZone('dict', size)
  let clock = 0
  let dict = SharedDict.create(zone.buffer, { now: () => clock })
  const children: Child[] = []
  try {
    for (let i = 0; i < n; i++) children.push(await forkChild(fixture('shdict-rpc.mjs'), [zone]))
  } finally {
    closeZoneFd(zone)
  }
  let turn = 0
  const runLocal = async (op: string, args: unknown[]): Promise<unknown> => {
    const fn = (dict as unknown as Record<string, (...a: unknown[]) => unknown>)[op]
    if (typeof fn !== 'function') throw new Error(`no such op ${op}`)
    return fn.apply(dict, args)
  }
  return {
    processes: n + 1,
    async run<T>(op: string, ...args: unknown[]): Promise<T> {
      const who = turn++ % (n + 1)
      if (who === 0) return (await runLocal(op, args)) as T
      return children[who - 1]!.call<T>(op, ...args)
    },
    async setClock(ms) {
      clock = ms
      await Promise.all(children.map((c) => c.call('setClock', ms)))
    },
    async reset() {
      dict = SharedDict.create(zone.buffer, { now: () => clock })
    },
    async close() {
      await Promise.all(children.map((c) => c.stop()))
    },
  }
}
