/**
 * The observability pieces of apps/server on their own: the access-log config boundary and
 * line formats, the batching writer (a real file), the Prometheus text of shared families
 * and merged process snapshots, and the balancing gauges of a real Checkups.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { combinedLine, createAccessLog, jsonLine, parseAccessLog, type AccessEntry } from '../dist/access-log/index.js'
import { histogramSamples, mergeSnapshots, renderFamilies } from '../dist/admin/prom-text.js'
import { peerFamilies, upByPeer } from '../dist/admin/metrics-peers.js'
import { SharedDict } from '@checkups/shdict'
import { Checkups } from '@checkups/core'

const entry: AccessEntry = {
  time: Date.UTC(2026, 0, 2, 3, 4, 5), client: '127.0.0.1', method: 'GET', path: '/a?"b"', status: 200, bytes: 123,
  duration_ms: 4.6, upstream: 'api', peer: '127.0.0.1:8001', attempts: 2, request_id: 'rid-1', worker: 1,
  user_agent: 'curl/8', http_version: '1.1',
}

describe('access log', () => {
  it.each<[unknown, unknown]>([
    [undefined, { format: 'json', path: null }],
    [{}, { format: 'json', path: null }],
    [{ format: 'off' }, { format: 'off', path: null }],
    [{ format: 'combined', path: '/var/log/x' }, { format: 'combined', path: '/var/log/x' }],
  ])('accepts %j', (raw, want) => {
    expect(parseAccessLog(raw)).toEqual(want)
  })

  it.each<[unknown, RegExp]>([
    ['json', /server\.access_log: must be an object/],
    [{ format: 'xml' }, /server\.access_log\.format: must be one of json, combined, off/],
    [{ format: 'json', path: '' }, /server\.access_log\.path: must be a non-empty string/],
    [{ format: 'json', file: 'x' }, /server\.access_log\.file: unknown key/],
  ])('refuses %j', (raw, msg) => {
    expect(() => parseAccessLog(raw)).toThrow(msg)
  })

  it('writes the documented JSON keys and nginx combined lines', () => {
    expect(JSON.parse(jsonLine(entry))).toEqual({
      time: '2026-01-02T03:04:05.000Z', client: '127.0.0.1', method: 'GET', path: '/a?"b"', status: 200, bytes: 123,
      duration_ms: 4.6, upstream: 'api', peer: '127.0.0.1:8001', attempts: 2, request_id: 'rid-1', worker: 1,
    })
    expect(combinedLine(entry)).toMatch(
      /^127\.0\.0\.1 - - \[\d\d\/Jan\/2026:\d\d:\d\d:05 [+-]\d{4}\] "GET \/a\?\\"b\\" HTTP\/1\.1" 200 123 "-" "curl\/8" rt=0\.005 upstream=api peer=127\.0\.0\.1:8001 attempts=2 rid=rid-1\n$/,
    )
  })

  it('batches lines into a file and flushes everything on close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckp-access-'))
    try {
      const file = join(dir, 'access.log')
      const log = createAccessLog({ format: 'json', path: file })
      for (let i = 0; i < 100; i++) log.log({ ...entry, request_id: `r${i}` })
      log.close()
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { request_id: string })
      expect(lines.map((l) => l.request_id)).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('Prometheus text', () => {
  it('renders one header per family, escaped labels, cumulative histogram buckets', () => {
    const text = renderFamilies([
      { name: 'x_total', help: 'a\nb', type: 'counter', samples: [{ labels: { peer: 'h"1\\' }, value: 3 }] },
      { name: 'h_seconds', help: 'h', type: 'histogram', samples: histogramSamples('h_seconds', { u: 'a' }, [0.1, 1], [2, 0, 1], 1.5) },
    ])
    expect(text).toBe([
      '# HELP x_total a\\nb', '# TYPE x_total counter', 'x_total{peer="h\\"1\\\\"} 3',
      '# HELP h_seconds h', '# TYPE h_seconds histogram',
      'h_seconds_bucket{u="a",le="0.1"} 2', 'h_seconds_bucket{u="a",le="1"} 2', 'h_seconds_bucket{u="a",le="+Inf"} 3',
      'h_seconds_sum{u="a"} 1.5', 'h_seconds_count{u="a"} 3', '',
    ].join('\n'))
  })

  it('merges every process snapshot family by family, skipping an unreadable one', () => {
    const snap = (w: string, v: number) => JSON.stringify([{ name: 'process_cpu_seconds_total', help: 'cpu', type: 'counter', values: [{ value: v, labels: { worker: w } }] }])
    const text = renderFamilies(mergeSnapshots([snap('primary', 1), '{broken', snap('0', 2), snap('1', 3)]))
    expect(text).toBe('# HELP process_cpu_seconds_total cpu\n# TYPE process_cpu_seconds_total counter\n' +
      'process_cpu_seconds_total{worker="primary"} 1\nprocess_cpu_seconds_total{worker="0"} 2\nprocess_cpu_seconds_total{worker="1"} 3\n')
  })

  it('a peer is up unless its heartbeat or passive state is err', () => {
    const status = { 'cls:api': [[
      { server: 'api:h:1', status: 'ok' }, { server: 'api:h:2', status: 'err' },
      { server: 'api:h:3', status: 'ok', passive: { status: 'err' } }, { server: 'api:h:4', status: 'unstable' },
    ]] }
    expect([...upByPeer(status, 'api')]).toEqual([['h:1', 1], ['h:2', 0], ['h:3', 0], ['h:4', 1]])
  })
})

describe('balancing gauges', () => {
  it('ejections, ejected-until, slow-start factor and latency cost, only for the upstreams that have them', async () => {
    const mk = () => SharedDict.create(new SharedArrayBuffer(1 << 20))
    const shared = { state: mk(), mutex: mk(), locks: mk(), config: mk() }
    const peers = (...ports: number[]) => [{ servers: ports.map((port) => ({ host: '127.0.0.1', port })) }]
    const cfg = {
      bal: { enable: false, mode: 'p2c', slow_start: 60, cluster: peers(1, 2),
        outlier_detection: { consecutive_local_origin_failure: 1, base_ejection_time: 30, max_ejection_percent: 50 } },
      plain: { enable: false, cluster: peers(3) },
    }
    const c = new Checkups({ shared })
    c.init(cfg)
    c.prepareChecker(cfg)
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    // port 1 refuses: its first connect error ejects it (the call then retries into port 2)
    let ejections = 0
    for (let i = 0; i < 20 && ejections === 0; i++) {
      expect(await c.readyOk('bal', (_h, port) => { if (port === 1) throw refused; return port })).toBe(2)
      ejections = (c.getStatus()['cls:bal'] as { outlier?: { ejections: number } }[][])[0]![0]!.outlier?.ejections ?? 0
    }
    expect(ejections).toBe(1)
    const text = renderFamilies(peerFamilies(c))
    const line = (family: string, port: number): string | undefined =>
      new RegExp(`^${family}\\{upstream="(?:bal|plain)",peer="127\\.0\\.0\\.1:${port}"\\} (\\S+)$`, 'm').exec(text)?.[1]
    expect(line('checkups_peer_ejections_total', 1)).toBe('1')
    expect(Number(line('checkups_peer_ejected_until_seconds', 1))).toBeGreaterThan(Date.now() / 1000 + 25)
    expect(line('checkups_peer_ejections_total', 2)).toBe('0')
    expect(line('checkups_peer_ejected_until_seconds', 2)).toBe('0')
    // no ramp runs (the peers were there from the start): factor 1
    expect(line('checkups_peer_slow_start_factor', 1)).toBe('1')
    expect(Number(line('checkups_peer_latency_cost_seconds', 2))).toBeGreaterThanOrEqual(0)
    // the upstream without those options has no sample in those families
    for (const f of ['ejections_total', 'ejected_until_seconds', 'slow_start_factor', 'latency_cost_seconds']) {
      expect(line(`checkups_peer_${f}`, 3)).toBeUndefined()
      expect(text).toContain(`# TYPE checkups_peer_${f} `)
    }
    expect(line('checkups_peer_inflight', 3)).toBe('0')
  })
})
