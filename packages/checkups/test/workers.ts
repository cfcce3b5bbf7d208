/**
 * Test helpers for suites that fork real worker processes sharing memfd zones.
 *
 * Invariants: each child is pushed into `into` as soon as it is forked (so a suite's cleanup
 * reaches it even when a later fork fails) and counts as started once it sends its first
 * message; `stopWorkers` asks each to exit and waits for its exit event.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { zoneStdio } from '@checkups/shm'

type Zones = Parameters<typeof zoneStdio>[0]

/** Forks `fixture` once per id (WORKER_ID), the zones passed as extra stdio descriptors. */
export async function forkWorkers(into: ChildProcess[], fixture: string, config: unknown, zones: Zones, ids: readonly number[]): Promise<void> {
  const { stdio, env } = zoneStdio(zones)
  for (const id of ids) {
    const child = fork(fixture, [JSON.stringify(config)], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio],
      env: { ...process.env, ...env, WORKER_ID: String(id) },
    })
    into.push(child)
    await new Promise((r) => child.once('message', r))
  }
}

/** Sends `{ op: 'exit' }` to each child and waits until it is gone. */
export async function stopWorkers(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) {
    const gone = new Promise((r) => c.once('exit', r))
    c.send({ op: 'exit' })
    await gone
  }
}
