/**
 * The seed README's synopsis: ups1 starts with an empty server list; two
 * real loopback servers answer "12350" and "12351" like the README's nginx servers; the
 * `/t` handler's lines are collected and must be exactly the documented output.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Checkups } from '@checkups/core'
import { makeZones } from './helpers.js'

const servers: Server[] = []
const port: Record<string, number> = {}

async function answering(body: string): Promise<number> {
  const s = createServer((_req, res) => res.end(body))
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  servers.push(s)
  return (s.address() as AddressInfo).port
}

beforeAll(async () => {
  port['12350'] = await answering('12350')
  port['12351'] = await answering('12351')
})
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()))
})

it('prints exactly the documented lines', async () => {
  const config = {
    global: { checkup_timer_interval: 15, checkup_shd_sync_enable: true, shd_config_timer_interval: 1 },
    ups1: { cluster: [{ servers: [] }] },
  }
  const zones = makeZones()
  new Checkups({ shared: zones }).init(config) // init_by_lua
  const checkups = new Checkups({ shared: zones }) // init_worker_by_lua
  checkups.prepareChecker(config)

  const out: string[] = []
  const say = (s: string) => out.push(s)
  const callback = async (host: string, p: number) => {
    const res = await fetch(`http://${host}:${p}/`)
    say(await res.text())
    return 1
  }
  const ready = (skey: string) => checkups.readyOk(skey, callback).catch((e: Error) => say(e.message))
  const A = { host: '127.0.0.1', port: port['12350']!, weight: 10, max_fails: 3, fail_timeout: 10 }
  const B = { host: '127.0.0.1', port: port['12351']!, weight: 10, max_fails: 3, fail_timeout: 10 }

  await ready('ups1')
  await checkups.updateUpstream('ups1', [{ servers: [A] }]).catch((e: Error) => say(e.message))
  await ready('ups1')
  await ready('ups1')
  await checkups.updateUpstream('ups2', [{ servers: [{ host: '127.0.0.1', port: port['12351']! }] }]).catch((e: Error) => say(e.message))
  await ready('ups2')
  await checkups.updateUpstream('ups2', [{ servers: [A, B] }]).catch((e: Error) => say(e.message))
  await ready('ups2')
  await ready('ups2')

  expect(out.join('\n')).toBe(['no servers available', '12350', '12350', '12351', '12350', '12351'].join('\n'))
})
