// Heartbeat aggregation, table-driven against the pure function,
// plus the other pure pieces: status-line judgement, INFO parsing, custom results, planning.
import { describe, expect, it } from 'vitest'
import { aggregateUpstream, updatePeer, judgeStatusLine, normaliseCustom, parseInfo, planRound, type ProbeResult } from '@checkups/core/heartbeat'
import type { HeartbeatRecord } from '@checkups/core'
import { hbView } from './fixtures/heartbeat-config.js'

const OK = 0, UN = 1, ERR = 2
const NAMES = ['ok', 'unstable', 'err'] as const
type Name = (typeof NAMES)[number]
const code = (n: Name): 0 | 1 | 2 => NAMES.indexOf(n) as 0 | 1 | 2
const res = (n: Name, msg: string | null = n === 'ok' ? null : `${n}!`): ProbeResult => ({ status: code(n), msg, extras: {} })

function run(results: Name[], opts: { protected?: boolean; sensibility?: number } = {},
  prev: Map<string, HeartbeatRecord> = new Map(), now = 100): Map<string, HeartbeatRecord> {
  const outcomes = results.map((n, i) => ({ key: `p${i}`, result: res(n) }))
  const out = aggregateUpstream(outcomes, (k) => prev.get(k), {
    protected: opts.protected ?? true, sensibility: opts.sensibility ?? 1, now,
  })
  return new Map([...prev, ...out])
}
const statuses = (m: Map<string, HeartbeatRecord>, n: number): Name[] =>
  Array.from({ length: n }, (_, i) => NAMES[m.get(`p${i}`)!.status]!)

describe('aggregateUpstream: one round from empty state', () => {
  const cases: Array<[string, Name[], Name[], boolean?]> = [
    ['all ok', ['ok', 'ok'], ['ok', 'ok']],
    ['err before ok is written err', ['err', 'ok'], ['err', 'ok']],
    ['held unstable becomes err at the first ok', ['unstable', 'ok'], ['err', 'ok']],
    ['unstable after an ok becomes err', ['ok', 'unstable'], ['ok', 'err']],
    ['err after an ok', ['ok', 'err'], ['ok', 'err']],
    ['all err, protected: first becomes unstable', ['err', 'err', 'err'], ['unstable', 'err', 'err']],
    ['all err, protected: false', ['err', 'err'], ['err', 'err'], false],
    ['lone err, protected', ['err'], ['unstable']],
    ['lone err, protected: false', ['err'], ['err'], false],
    ['unstable survives when nothing is ok', ['unstable', 'err'], ['unstable', 'err']],
    ['err then unstable, nothing ok', ['err', 'unstable'], ['err', 'unstable']],
    ['lone unstable', ['unstable'], ['unstable']],
    ['mixed around one ok', ['err', 'unstable', 'ok', 'unstable', 'err'], ['err', 'err', 'ok', 'err', 'err']],
    ['ok last', ['unstable', 'unstable', 'ok'], ['err', 'err', 'ok']],
  ]
  it.each(cases)('%s', (_name, input, expected, prot) => {
    const m = run(input, { protected: prot ?? true })
    expect(statuses(m, input.length)).toEqual(expected)
    input.forEach((n, i) => expect(m.get(`p${i}`)!.fail_num).toBe(n === 'ok' ? 0 : 1))
  })
})

describe('aggregateUpstream: across rounds', () => {
  it('sensibility 3: flips on the third failed round, back at the first ok', () => {
    let m = new Map<string, HeartbeatRecord>()
    const seen: Array<[Name, number, number]> = []
    const rounds: Name[][] = [['ok', 'ok'], ['ok', 'err'], ['ok', 'err'], ['ok', 'err'], ['ok', 'err'], ['ok', 'ok']]
    rounds.forEach((r, i) => {
      m = run(r, { sensibility: 3 }, m, 100 + i)
      const p1 = m.get('p1')!
      seen.push([NAMES[p1.status]!, p1.fail_num, p1.lastmodified])
    })
    expect(seen).toEqual([
      ['ok', 0, 100], ['ok', 1, 100], ['ok', 2, 100], ['err', 3, 103], ['err', 4, 103], ['ok', 0, 105],
    ])
  })

  it('lastmodified only on flips; msg overwritten every probe; extras merged', () => {
    let rec = updatePeer(undefined, OK, { status: OK, msg: null, extras: { a: 1 } }, 1, 10)
    expect(rec).toEqual({ status: OK, fail_num: 0, lastmodified: 10, msg: null, a: 1 })
    rec = updatePeer(rec, ERR, { status: ERR, msg: 'timeout', extras: { b: 2 } }, 1, 20)
    expect(rec).toEqual({ status: ERR, fail_num: 1, lastmodified: 20, msg: 'timeout', a: 1, b: 2 })
    rec = updatePeer(rec, ERR, { status: ERR, msg: 'connection refused', extras: {} }, 1, 30)
    expect(rec).toMatchObject({ status: ERR, fail_num: 2, lastmodified: 20, msg: 'connection refused' })
    rec = updatePeer(rec, UN, { status: UN, msg: 'master link status: down', extras: {} }, 1, 40)
    expect(rec).toMatchObject({ status: UN, fail_num: 3, lastmodified: 40 })
    rec = updatePeer(rec, OK, { status: OK, msg: null, extras: {} }, 1, 50)
    expect(rec).toMatchObject({ status: OK, fail_num: 0, lastmodified: 50, msg: null })
  })

  it('up_since only on a real flip back to ok (the slow_start ramp start), with rise too; a first ok record has none', () => {
    let rec = updatePeer(undefined, OK, res('ok'), 1, 10)
    expect(rec).not.toHaveProperty('up_since')
    rec = updatePeer(rec, OK, res('ok'), 1, 20)
    expect(rec).not.toHaveProperty('up_since')
    rec = updatePeer(rec, ERR, res('err'), 1, 30)
    expect(rec).not.toHaveProperty('up_since')
    rec = updatePeer(rec, OK, res('ok'), 1, 40)
    expect(rec).toMatchObject({ status: OK, lastmodified: 40, up_since: 40 })
    rec = updatePeer(rec, OK, res('ok'), 1, 50)
    expect(rec.up_since).toBe(40)
    rec = updatePeer(rec, UN, res('unstable'), 1, 60)
    expect(rec).not.toHaveProperty('up_since')
    rec = updatePeer(rec, OK, res('ok'), 1, 70, 2)
    expect(rec).toMatchObject({ status: UN, ok_num: 1 })
    expect(rec).not.toHaveProperty('up_since')
    rec = updatePeer(rec, OK, res('ok'), 1, 80, 2)
    expect(rec).toMatchObject({ status: OK, up_since: 80 })
    // a peer that fails first and recovers ramps like any other
    const first = updatePeer(undefined, ERR, res('err'), 1, 90)
    expect(updatePeer(first, OK, res('ok'), 1, 100)).toMatchObject({ status: OK, up_since: 100 })
  })

  it('an unchanged status keeps lastmodified of the record', () => {
    const m1 = run(['err', 'err'], { protected: false }, new Map(), 100)
    const m2 = run(['err', 'err'], { protected: false }, m1, 200)
    expect(m2.get('p0')).toMatchObject({ status: ERR, fail_num: 2, lastmodified: 100 })
  })
})

describe('probe helpers', () => {
  const statuses = { '200': true, '502': false }
  it.each([
    ['HTTP/1.1 200 OK', statuses, 'ok', null],
    ['HTTP/1.1 502 Bad Gateway', statuses, 'err', 'bad status code'],
    ['HTTP/1.0 404 Not Found', statuses, 'ok', null],
    ['http/1.1 502 x', statuses, 'err', 'bad status code'],
    ['SSH-2.0-OpenSSH', statuses, 'err', 'bad status line'],
    ['SSH-2.0-OpenSSH', null, 'ok', null],
    ['HTTP/1.1 502 Bad Gateway', null, 'ok', null],
  ] as const)('judgeStatusLine(%j)', (line, st, status, msg) => {
    expect(judgeStatusLine(line, st)).toEqual({ status: code(status), msg, extras: {} })
  })

  it('parseInfo keeps the replication fields and redis_version', () => {
    const text = '# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:1\r\nmaster_link_status:down\r\n' +
      'master_last_io_seconds_ago:-1\r\nmaster_link_down_since_seconds:-1\r\nslave_repl_offset:0\r\n' +
      '# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n'
    expect(parseInfo(text)).toEqual({
      replication: { role: 'slave', master_host: '127.0.0.1', master_port: '1', master_link_status: 'down',
        master_last_io_seconds_ago: '-1', master_link_down_since_seconds: '-1' },
      redis_version: '7.0.15',
    })
  })

  it.each([
    [0, { status: OK, msg: null, extras: {} }],
    [2, { status: ERR, msg: null, extras: {} }],
    [{ status: 1, msg: 'slow', lag: 3 }, { status: UN, msg: 'slow', extras: { lag: 3 } }],
    [{ status: 0, build: 'x' }, { status: OK, msg: null, extras: { build: 'x' } }],
    [7, { status: ERR, msg: 'invalid heartbeat status', extras: {} }],
    [undefined, { status: ERR, msg: 'invalid heartbeat status', extras: {} }],
  ])('normaliseCustom(%j)', (value, expected) => {
    expect(normaliseCustom(value)).toEqual(expected)
  })
})

describe('planRound', () => {
  const srv = (port: number) => ({ host: '127.0.0.1', port })
  it('probes a peer shared by clusters and upstreams once; skips disabled upstreams', () => {
    const plan = planRound(hbView({
      a: { typ: 'http', timeout: 1, cluster: [{ servers: [srv(1), srv(2)] }, { servers: [srv(1), srv(3)] }] },
      b: { typ: 'http', timeout: 1, cluster: { c1: { servers: [srv(2)] }, c2: { servers: [srv(3)] } } },
      c: { typ: 'http', timeout: 1, http_opts: { query: 'GET / HTTP/1.0\r\n\r\n' }, cluster: [{ servers: [srv(2)] }] },
      d: { typ: 'general', enable: false, cluster: [{ servers: [srv(9)] }] },
      e: { typ: 'general', cluster: [{ servers: [srv(8)] }] },
    }).upstreams, { defaultEnable: true })
    expect(plan.upstreams.map((u) => [u.skey, u.peers.map((p) => p.port)])).toEqual([
      ['a', [1, 2, 3]], ['b', [2, 3]], ['c', [2]], ['e', [8]],
    ])
    // a/b share 1,2,3; c sends a query (another probe); e is general
    expect(plan.probes.size).toBe(5)
    expect(planRound(hbView({ e: { cluster: [{ servers: [srv(8)] }] } }).upstreams, { defaultEnable: false }).upstreams).toEqual([])
    expect(planRound(hbView({ e: { enable: true, cluster: [{ servers: [srv(8)] }] } }).upstreams, { defaultEnable: false }).upstreams).toHaveLength(1)
  })
})
