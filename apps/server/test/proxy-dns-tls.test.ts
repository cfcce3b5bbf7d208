/**
 * An https upstream whose server is a hostname resolved by global.dns (a DNS server on
 * loopback): the proxy and the http heartbeat connect to the address but send the hostname as
 * SNI and verify the certificate against it. The peer listens on 127.0.0.2, which the
 * certificate does not name (it holds DNS:localhost, DNS:secure.test, IP:127.0.0.1), so
 * verification against the address would fail.
 */
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCerts, type Certs } from './fixtures/certs.js'
import { startTestProxy } from './fixtures/ctx.js'
import { type TestDns, testDns } from '../../../test/fixtures/dns-server.js'

let certs: Certs
let dns: TestDns
beforeAll(async () => {
  certs = makeCerts(['secure.test'])
  dns = await testDns()
})
afterAll(async () => {
  certs?.remove()
  await dns?.stop()
})

describe('https upstream by hostname (global.dns)', () => {
  it('the resolved peer is verified against the hostname, by requests and by the heartbeat', async () => {
    const sni: string[] = []
    const server = createHttpsServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (_req, res) => res.end('secure'))
    server.on('secureConnection', (s) => sni.push(String((s as { servername?: unknown }).servername)))
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r))
    const port = (server.address() as { port: number }).port
    dns.set('secure.test', ['127.0.0.2'], 60)
    const hb = { typ: 'http', protected: false, http_opts: { query: 'GET / HTTP/1.0\r\nHost: secure.test\r\n\r\n', statuses: { 200: true } } }
    const p = await startTestProxy({
      global: { checkup_timer_interval: 0.2, dns: { resolver: dns.resolver, min_ttl: 0.2 } },
      api: { scheme: 'https', tls: { ca: certs.ca }, timeout: 2, ...hb, cluster: [{ servers: [{ host: 'secure.test', port }] }] },
    }, [{ upstream: 'api' }], { heartbeat: true })
    try {
      const peer = () => (p.checkups.getStatus()['cls:api'] as Array<Array<{ server: string; status: string; msg?: string | null }>>)[0]![0]!
      for (let i = 0; i < 200 && peer().server !== `api:127.0.0.2:${port}`; i++) await new Promise((r) => setTimeout(r, 25))
      expect(peer().server).toBe(`api:127.0.0.2:${port}`)
      const r = await fetch(`${p.url}/`)
      expect([r.status, await r.text()]).toEqual([200, 'secure'])
      for (let i = 0; i < 200 && p.checkups.getStatus().last_check_time === null; i++) await new Promise((r) => setTimeout(r, 25))
      await p.checkups.checkNow()
      expect(peer()).toMatchObject({ status: 'ok' })
      expect(new Set(sni)).toEqual(new Set(['secure.test']))
    } finally {
      await p.close()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })
})
