/**
 * The dashboard in a real browser: Debian's chromium (installed by scripts/chromium.sh)
 * driven by playwright-core against a real `node apps/server` with an admin token and real
 * backends. The page lists the peers; a killed backend's row shows it down within two
 * heartbeat rounds; a restarted one shows its slow-start share and a peer killed under
 * traffic shows its outlier ejection (in the page and in /metrics); a screenshot is written to
 * tmp/dashboard.png (a test artifact). With global.dns (a DNS server on loopback), an upstream
 * added by hostname shows the name and the age of its addresses on its peer's row, and
 * `stale` once the DNS server is gone.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AdminServer } from './fixtures/admin-server.js'
import { Backend, obsServer, traffic, writeObsConfig } from './fixtures/obs.js'
import { type TestDns, testDns } from './fixtures/dns-server.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ARTIFACTS = join(ROOT, 'tmp')
const INTERVAL_S = 2
const TOKEN = 'dash-secret'
const backends = [new Backend(), new Backend(), new Backend()]
let srv: AdminServer
let context: BrowserContext
let page: Page
let profile: string
let dns: TestDns

beforeAll(async () => {
  const executablePath = execFileSync('bash', [join(ROOT, 'scripts/chromium.sh')], { encoding: 'utf8', timeout: 600_000 }).trim()
  for (const b of backends) await b.start()
  dns = await testDns()
  const servers = backends.map((b) => ({ host: '127.0.0.1', port: b.port }))
  const balancing = { slow_start: 60, outlier_detection: { consecutive_local_origin_failure: 1, base_ejection_time: 60, max_ejection_percent: 50 } }
  srv = obsServer(backends, { token: TOKEN, global: { checkup_timer_interval: INTERVAL_S, dns: { resolver: dns.resolver, min_ttl: 0.2, max_ttl: 2 } },
    upstreams: { api: { timeout: 1, ...balancing, cluster: [{ servers }] } } })
  await writeObsConfig(srv)
  await srv.start()
  profile = mkdtempSync(join(tmpdir(), 'ckp-chromium-'))
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  })
  page = context.pages()[0] ?? await context.newPage()
}, 900_000)

afterAll(async () => {
  await context?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
  await srv?.kill()
  for (const b of backends) await b.stop()
  await dns?.stop()
})

const row = (port: number, health?: string): string =>
  `tr.peer[data-upstream="api"][data-peer="127.0.0.1:${port}"]${health ? `[data-health="${health}"]` : ''}`

describe('dashboard', () => {
  it('lists every peer with the token, shows a killed backend down within two heartbeat rounds', async () => {
    await traffic(srv.proxyPort, 300, 8)
    await page.goto(`http://127.0.0.1:${srv.adminPort}/#token=${TOKEN}`)
    for (const b of backends) await page.waitForSelector(row(b.port, 'ok'), { timeout: 20_000 })
    expect(await page.locator('tr.peer').count()).toBe(backends.length)
    await page.waitForSelector('#live[data-state="live"]', { timeout: 10_000 })
    // the request counts shown add up to the traffic sent
    const counts = await page.locator('tr.peer td:nth-child(10)').allTextContents()
    expect(counts.reduce((n, t) => n + Number(t), 0)).toBe(300)

    const victim = backends[1]!
    const killedAt = Date.now()
    await victim.stop()
    await page.waitForSelector(row(victim.port, 'err'), { timeout: 2 * INTERVAL_S * 1000 + 1000 })
    const tookMs = Date.now() - killedAt
    expect(tookMs).toBeLessThanOrEqual(2 * INTERVAL_S * 1000 + 1000)
    await page.waitForSelector('#events li[data-event="transition"]', { timeout: 5_000 })
    await traffic(srv.proxyPort, 100, 4)
    await page.waitForTimeout(2500) // one refresh, so rates show
    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true })
    expect(await page.locator(row(backends[0]!.port, 'ok')).count()).toBe(1)
  }, 120_000)

  it('shows a recovered peer\'s slow-start share and an ejected peer\'s ejection, as /metrics does', async () => {
    const victim = backends[1]! // stopped by the test above
    await victim.start(victim.port)
    // back ok by its heartbeat: it ramps from 10 % of its weight over slow_start (60 s)
    await page.waitForSelector(row(victim.port, 'ok'), { timeout: 3 * INTERVAL_S * 1000 + 1000 })
    await page.waitForFunction((sel) => {
      const f = Number(document.querySelector(sel)?.getAttribute('data-slow-start'))
      return f > 0 && f < 1
    }, row(victim.port, 'ok'), { timeout: 10_000 })
    expect(await page.locator(`${row(victim.port)} td.balance`).textContent()).toMatch(/slow start \d+ %/)
    // a peer that was never down is at full weight: no ramp since the server started
    const factor = async (port: number): Promise<number> => Number(await page.locator(row(port)).getAttribute('data-slow-start'))
    expect(await factor(backends[0]!.port)).toBe(1)
    expect(await page.locator(`${row(backends[0]!.port)} td.balance`).textContent()).not.toMatch(/slow start/)
    // another peer killed and sent traffic before the heartbeat notices: its first connect
    // error ejects it (consecutive_local_origin_failure 1), shown with until when
    const ejected = backends[2]!
    await ejected.stop()
    await traffic(srv.proxyPort, 30, 4)
    await page.waitForSelector(`${row(ejected.port)}[data-ejected="1"][data-ejections="1"]`, { timeout: 10_000 })
    expect(await page.locator(`${row(ejected.port)} td.balance`).textContent()).toMatch(/ejected until \d\d:\d\d:\d\d/)
    const metrics = (await srv.get('/metrics')).text
    const sample = (family: string, port: number): number => {
      const m = new RegExp(`^${family}\\{upstream="api",peer="127\\.0\\.0\\.1:${port}"\\} (\\S+)$`, 'm').exec(metrics)
      return m ? Number(m[1]) : NaN
    }
    expect(sample('checkups_peer_ejections_total', ejected.port)).toBe(1)
    expect(sample('checkups_peer_ejected_until_seconds', ejected.port)).toBeGreaterThan(Date.now() / 1000 + 30)
    expect(sample('checkups_peer_ejected_until_seconds', backends[0]!.port)).toBe(0)
    expect(sample('checkups_peer_slow_start_factor', victim.port)).toBeGreaterThan(0)
    expect(sample('checkups_peer_slow_start_factor', victim.port)).toBeLessThan(1)
    expect(sample('checkups_peer_slow_start_factor', backends[0]!.port)).toBe(1)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-balancing.png'), fullPage: true })
  }, 90_000)

  it('asks for the token when it has none, and the API refuses the page without it', async () => {
    const fresh = await context.newPage()
    await fresh.goto(`http://127.0.0.1:${srv.adminPort}/`)
    await fresh.evaluate(() => sessionStorage.clear())
    await fresh.reload()
    await fresh.waitForSelector('#token-form:not([hidden])', { timeout: 10_000 })
    expect(await fresh.locator('tr.peer').count()).toBe(0)
    await fresh.fill('#token-input', TOKEN)
    await fresh.click('#token-form button')
    await fresh.waitForSelector(row(backends[0]!.port), { timeout: 10_000 })
    await fresh.close()
  }, 60_000)

  it('a peer resolved from a hostname shows the name and the age of its addresses, then stale', async () => {
    dns.set('dash.internal', ['127.0.0.1'], 1)
    const b = backends[0]!
    const put = await srv.send('PUT', '/upstreams/named', { body: JSON.stringify({ cluster: [{ servers: [{ host: 'dash.internal', port: b.port }] }] }),
      headers: { 'content-type': 'application/json' } })
    expect(put.status).toBeLessThan(300)
    const tag = `tr.peer[data-upstream="named"][data-peer="127.0.0.1:${b.port}"] .dns[data-dns="dash.internal"]`
    await page.waitForSelector(`${tag}[data-stale="false"]`, { timeout: 20_000 })
    expect(await page.locator(tag).textContent()).toMatch(/dash\.internal · \d+s ago/)
    await dns.stop()
    await page.waitForSelector(`${tag}[data-stale="true"]`, { timeout: 20_000 })
    expect(await page.locator(tag).textContent()).toContain('stale')
  }, 60_000)
})
