// Data integrity of config writes: a full config zone never evicts (the write is refused,
// nothing changes, the state file keeps the previous snapshot); a writer that dies holding the
// lock is freed by the primary's onWorkerExit (its pid is in the lock key); deleting an
// upstream removes its health records. Real zones (shm for the cross-process case).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createZone, zoneStdio } from '@checkups/shm'
import { SharedDict } from '@checkups/shdict'
import { describe, expect, it } from 'vitest'
import { Checkups, KEY, type StateSnapshot } from '@checkups/core'
import { makeZones } from './helpers.js'

const H = '127.0.0.1'
const servers = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ host: `host-${i}.example.internal`, port: base + i }))
const base = { ups1: { cluster: [{ servers: [{ host: H, port: 1001 }] }] } }

describe('config writes never evict', () => {
  it('the write that does not fit is CKP_ERR_NO_MEMORY; every upstream, the version and the state file stay', async () => {
    const zones = { ...makeZones(), config: SharedDict.create(64 * 1024) }
    new Checkups({ shared: zones }).init(base)
    const saved: StateSnapshot[] = []
    const errors: string[] = []
    const w = new Checkups({
      shared: zones, persistence: { save: (s) => void saved.push(s) },
      logger: { info() {}, warn() {}, error: (_fields, msg) => void errors.push(msg) },
    })
    w.prepareChecker(base)
    const other = new Checkups({ shared: zones })
    other.prepareChecker(base)
    const acked: string[] = []
    let refused: { code?: string; message?: string } | undefined
    for (let i = 0; i < 100 && !refused; i++) {
      try {
        await w.updateUpstream(`big${i}`, [{ servers: servers(60, 2000 + i * 100) }])
        acked.push(`big${i}`)
      } catch (err) {
        refused = err as { code?: string; message?: string }
      }
    }
    expect(refused?.code).toBe('CKP_ERR_NO_MEMORY')
    expect(refused?.message).toContain('nothing was changed')
    expect(acked.length).toBeGreaterThan(1)
    expect(errors).toContain('config write refused')
    for (const c of [w, other]) {
      expect(Object.keys(c.getUpstream())).toEqual(['ups1', ...acked])
      expect(c.selectPeer('ups1')).toEqual({ host: H, port: 1001 })
      expect(c.getStatus().shd_config_version).toBe(acked.length)
    }
    // the last save is the snapshot in force again (the refused one was undone on disk too)
    const last = saved.at(-1)!
    expect([last.version, Object.keys(last.upstreams)]).toEqual([acked.length, ['ups1', ...acked]])
    // deleting makes room: writes work again
    await w.deleteUpstream(acked[0]!)
    expect(await w.updateUpstream('small', [{ servers: [{ host: H, port: 1 }] }])).toBe(acked.length + 2)
  })
})

describe('a dead lock holder', () => {
  it('dies mid-write holding the lock: onWorkerExit(pid) frees it and the next write goes through at once', async () => {
    const names = ['state', 'mutex', 'locks', 'config'] as const
    const zs = names.map((n) => createZone(n, 1 << 20))
    const shared = Object.fromEntries(names.map((n, i) => [n, SharedDict.create(zs[i]!.buffer)])) as Record<(typeof names)[number], SharedDict>
    const primary = new Checkups({ shared })
    primary.init(base)
    const { stdio, env } = zoneStdio(zs)
    const child = fork(fileURLToPath(new URL('./fixtures/lock-holder.mjs', import.meta.url)), [], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio],
      env: { ...process.env, ...env, LOCK_HOLDER_CONFIG: JSON.stringify(base) },
    })
    await new Promise((r) => child.once('exit', r))
    expect(shared.locks.get(KEY.SKEYS_LOCK)).toBe(child.pid)
    const w = new Checkups({ shared, lockTimeout: 1 })
    w.prepareChecker(base)
    await expect(w.updateUpstream('ups1', [{ servers: [{ host: H, port: 1002 }] }])).rejects.toMatchObject({ code: 'CKP_ERR_LOCK_TIMEOUT' })
    primary.onWorkerExit(child.pid!)
    expect(shared.locks.get(KEY.SKEYS_LOCK)).toBeUndefined()
    expect(await w.updateUpstream('ups1', [{ servers: [{ host: H, port: 1002 }] }])).toBe(1)
    expect(w.selectPeer('ups1')).toEqual({ host: H, port: 1002 })
  }, 30_000)
})

describe('deleting an upstream or a server', () => {
  it('removes their heartbeat and passive records from the state zone', async () => {
    const zones = makeZones()
    const cfg = { ups1: { cluster: [{ servers: [{ host: H, port: 1001, max_fails: 5 }, { host: H, port: 1002, max_fails: 5 }] }] } }
    new Checkups({ shared: zones }).init(cfg)
    const c = new Checkups({ shared: zones })
    c.prepareChecker(cfg)
    c.feedbackStatus('ups1', H, 1001, true)
    zones.state.set(KEY.peerStatus('ups1', H, 1002), new Uint8Array([1, 2, 3]))
    const mine = () => zones.state.getKeys(0).filter((k) => k.includes(':ups1:')).sort()
    expect(mine()).toEqual([KEY.passive('ups1', H, 1001), KEY.peerStatus('ups1', H, 1002)].sort())
    // a write that drops a server drops its records; the kept server keeps its own
    await c.dynamic.removeServer('ups1', H, 1002)
    expect(mine()).toEqual([KEY.passive('ups1', H, 1001)])
    await c.deleteUpstream('ups1')
    expect(mine()).toEqual([])
  })
})
