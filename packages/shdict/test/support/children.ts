/**
 * Real child processes for cross-process tests: forked with the zones' fds in their stdio
 * (as the runtime does), IPC with advanced serialization, and a tiny request/response RPC
 * (see test/fixtures/shdict-rpc.mjs). Every child is stopped by pid in `stop()`.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { zoneStdio, type Zone } from '@checkups/shm'

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../../test/fixtures/${name}`, import.meta.url))

export interface Child {
  readonly proc: ChildProcess
  readonly pid: number
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>
  /** resolves with the exit code/signal */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stop(): Promise<void>
}

interface Reply { id?: number; ready?: boolean; value?: unknown; error?: { name: string; code: string; message: string } }

export function remoteError(e: { name: string; code: string; message: string }): Error {
  return Object.assign(new Error(e.message), { name: e.name, code: e.code })
}

export async function forkChild(file: string, zones: readonly Zone[], args: string[] = [], readyMs = 30_000): Promise<Child> {
  const { stdio, env } = zoneStdio(zones)
  const proc = fork(file, args, {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio],
    env: { ...process.env, ...env },
    serialization: 'advanced',
  })
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 1
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      for (const p of pending.values()) p.reject(new Error(`child ${proc.pid} exited (${code ?? signal})`))
      pending.clear()
      resolve({ code, signal })
    })
  })
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child ${file} not ready after ${readyMs} ms`)), readyMs)
    proc.on('message', (m: Reply) => {
      if (m.ready) {
        clearTimeout(timer)
        resolve()
        return
      }
      const p = m.id === undefined ? undefined : pending.get(m.id)
      if (!p) return
      pending.delete(m.id!)
      if (m.error) p.reject(remoteError(m.error))
      else p.resolve(m.value)
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`child ${file} exited before ready`))
    })
  })
  const child: Child = {
    proc,
    pid: proc.pid!,
    exited,
    call<T>(op: string, ...a: unknown[]): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        proc.send({ id, op, args: a })
      })
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGTERM')
      await exited
    },
  }
  try {
    await ready
  } catch (err) {
    await child.stop()
    throw err
  }
  return child
}

/** Forks `file` (no RPC) and resolves once it has exited, with its pid and exit status. */
export function runToExit(file: string, zones: readonly Zone[], args: string[] = []): Promise<{ pid: number; code: number | null; signal: NodeJS.Signals | null }> {
  const { stdio, env } = zoneStdio(zones)
  const proc = fork(file, args, { stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio], env: { ...process.env, ...env } })
  return new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ pid: proc.pid!, code, signal })))
}

/** Resolves with the next message from `child` matching `pred`, or rejects after `ms`. */
export function nextMessage<T>(child: Child, pred: (m: T) => boolean, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.proc.off('message', on)
      reject(new Error(`no matching message from ${child.pid} within ${ms} ms`))
    }, ms)
    const on = (m: T): void => {
      if (!pred(m)) return
      clearTimeout(timer)
      child.proc.off('message', on)
      resolve(m)
    }
    child.proc.on('message', on)
  })
}
