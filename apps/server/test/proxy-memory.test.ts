/**
 * 50 MB bodies both ways are streamed: the proxy (its own process, so its RSS is its own)
 * grows by far less than the body size while relaying them, and the body bytes it holds at
 * any moment (live ArrayBuffers) stay a few socket buffers. Samples are taken every ~20 ms
 * during the transfer, each after full collections in the child (fixtures/proxy-child.mjs).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from './fixtures/backend.js'

const SIZE = 50 * 1024 * 1024
const MAX_GROWTH = 25 * 1024 * 1024
/** body bytes the proxy may hold at once (socket and stream buffers): far below the body */
const MAX_HELD = 4 * 1024 * 1024

let backend: Backend
let child: ChildProcess
let port = 0

interface Usage {
  rss: number
  arrayBuffers: number
}

/** The proxy's memory after a full collection (see fixtures/proxy-child.mjs). */
function usage(): Promise<Usage> {
  return new Promise((resolve) => {
    const on = (m: Partial<Usage>): void => {
      if (typeof m.rss !== 'number') return
      child.off('message', on)
      resolve(m as Usage)
    }
    child.on('message', on)
    child.send('rss')
  })
}

/** Runs `transfer` while sampling the proxy's memory; resolves to [result, growth over the start]. */
async function measured<T>(transfer: () => Promise<T>): Promise<[T, Usage]> {
  const base = await usage()
  const peak = { ...base }
  let done = false
  const sampler = (async () => {
    while (!done) {
      const u = await usage()
      peak.rss = Math.max(peak.rss, u.rss)
      peak.arrayBuffers = Math.max(peak.arrayBuffers, u.arrayBuffers)
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  const out = await transfer().finally(() => (done = true))
  await sampler
  return [out, { rss: peak.rss - base.rss, arrayBuffers: peak.arrayBuffers - base.arrayBuffers }]
}

beforeAll(async () => {
  backend = await startBackend('big')
  const config = { global: { default_heartbeat_enable: false }, big: { cluster: [{ servers: [{ host: '127.0.0.1', port: backend.port }] }] } }
  const script = fileURLToPath(new URL('./fixtures/proxy-child.mjs', import.meta.url))
  child = fork(script, [JSON.stringify(config), JSON.stringify([{ upstream: 'big', max_body_size: 1 << 30 }])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--expose-gc'],
    // glibc: blocks of 64 KiB and more (socket reads) are mmap'd and unmapped when freed, so RSS
    // follows what the proxy holds instead of the allocator's high-water mark
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' },
  })
  port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)))
})

afterAll(async () => {
  if (child.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r))
    process.kill(child.pid, 'SIGTERM')
    await exited
  }
  await backend.close()
})

function download(size: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    request({ port, path: `/big/${size}` }, (res) => {
      let n = 0
      res.on('data', (c: Buffer) => (n += c.length))
      res.on('end', () => resolve(n))
      res.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

function upload(size: number): Promise<{ received: number }> {
  const chunk = Buffer.alloc(64 * 1024, 'u')
  const body = Readable.from((function* () {
    for (let sent = 0; sent < size; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, size - sent))
  })())
  return new Promise<{ received: number }>((resolve, reject) => {
    const req = request({ port, path: '/echo-count', method: 'PUT', headers: { 'content-length': String(size) } }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c))
      res.on('end', () => resolve(JSON.parse(text) as { received: number }))
    })
    req.on('error', reject)
    body.pipe(req)
  })
}

describe('proxy: streaming', () => {
  beforeAll(async () => {
    // warm-up: the first transfer of a fresh process grows the allocator's arenas and
    // compiles the path; the steady state is what must stay flat
    await download(16 * 1024 * 1024)
    await upload(16 * 1024 * 1024)
  })

  it('a 50 MB response is streamed: proxy RSS grows < 25 MB', async () => {
    const [bytes, growth] = await measured(() => download(SIZE))
    expect(bytes).toBe(SIZE)
    expect(growth.rss).toBeLessThan(MAX_GROWTH)
    expect(growth.arrayBuffers).toBeLessThan(MAX_HELD)
  })

  it('a 50 MB request body is streamed: proxy RSS grows < 25 MB', async () => {
    const [reply, growth] = await measured(() => upload(SIZE))
    expect(reply.received).toBe(SIZE)
    expect(growth.rss).toBeLessThan(MAX_GROWTH)
    expect(growth.arrayBuffers).toBeLessThan(MAX_HELD)
  })
})
