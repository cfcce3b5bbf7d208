/**
 * The original's readyOk rules 1-7, table-driven with exact attempt sequences. Servers are
 * named by letter (A = port 1001, B = 1002, ...); callbacks that talk to a server use real
 * loopback HTTP servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CheckupsError, KEY, SLOT, STATUS_ERR, STATUS_UNSTABLE, encodeRecord, type Checkups } from '@checkups/core'
import { backend, fakeClock, httpGet, letterOf, prepared, type Backend } from './helpers.js'

const S = (letters: string, extra: Record<string, unknown> = {}) =>
  [...letters].map((l) => ({ host: '127.0.0.1', port: 1000 + l.charCodeAt(0) - 64, ...extra }))
const levels = (...ls: string[]) => ls.map((l) => ({ servers: S(l) }))

/** Runs readyOk with a callback failing on the peers in `failing` (letters); returns the letters tried + outcome. */
async function run(c: Checkups, failing: string, opts: Record<string, unknown> = {}, skey = 'ups'): Promise<string> {
  let tried = ''
  try {
    const r = await c.readyOk(skey, (_h, port) => {
      tried += letterOf(port)
      return failing.includes(letterOf(port)) ? false : `ok:${letterOf(port)}`
    }, opts)
    return `${tried} → ${String(r)}`
  } catch (e) {
    return `${tried} → ${(e as CheckupsError).code}: ${(e as Error).message}`
  }
}

function hbRecord(c: Checkups, skey: string, letter: string, status: number): void {
  const port = 1000 + letter.charCodeAt(0) - 64
  c.zones.state.set(KEY.peerStatus(skey, '127.0.0.1', port), encodeRecord({ status, fail_num: 1, lastmodified: 0, msg: 'x' }))
  c.zones.state.addSlot(SLOT.STATE_HEARTBEAT_VERSION, 1)
}

describe('rule 1: success is Lua truthiness; statuses only under typ "http"', () => {
  it.each<[string, unknown, string]>([
    ['0 succeeds', 0, 'A → 0'],
    ["'' succeeds", '', 'A → '],
    ['an object succeeds', { a: 1 }, 'A → [object Object]'],
    ['undefined fails', undefined, 'AB → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['null fails', null, 'AB → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['false fails', false, 'AB → CKP_ERR_TRY_LIMIT: try limit reached'],
  ])('%s', async (_n, value, expected) => {
    const c = prepared({ ups: { cluster: levels('AB') } })
    let tried = ''
    const out = await c.readyOk('ups', (_h, p) => { tried += letterOf(p); return value })
      .then((r) => `${tried} → ${String(r)}`, (e: CheckupsError) => `${tried} → ${e.code}: ${e.message}`)
    expect(out).toBe(expected)
  })

  let b502: Backend
  let b200: Backend
  beforeAll(async () => {
    b502 = await backend(502)
    b200 = await backend(200)
  })
  afterAll(async () => {
    await b502.close()
    await b200.close()
  })

  const cfg = (typ: string, statusKey: 'status' | 'statusCode') => ({
    ups: { typ, http_opts: { statuses: { 502: false } }, cluster: [{ servers: [
      { host: '127.0.0.1', port: b502.port }, { host: '127.0.0.1', port: b200.port }] }] },
    statusKey,
  })

  it.each<[string, 'status' | 'statusCode', string]>([
    ['http', 'status', '502,200 → 200'],
    ['http', 'statusCode', '502,200 → 200'],
    ['general', 'status', '502 → 502'],
  ])('typ %s, result.%s from a real server', async (typ, statusKey, expected) => {
    const { ups } = cfg(typ, statusKey)
    const c = prepared({ ups })
    const got: number[] = []
    const r = await c.readyOk('ups', async (_h, port) => {
      const res = await httpGet(port)
      got.push(res.status)
      return { [statusKey]: res.status, body: res.body }
    })
    expect(`${got.join(',')} → ${(r as Record<string, number>)[statusKey]}`).toBe(expected)
  })
})

describe('rule 1: status codes as strings count, as the original\'s tostring(res.status)', () => {
  it.each<[unknown, boolean]>([
    [{ status: '502' }, true], [{ status: 502 }, true], [{ statusCode: '502' }, true],
    [{ status: '200' }, false], [{ status: 'bad' }, false], [{ status: '5020' }, false],
  ])('%j fails: %s', async (result, fails) => {
    const c = prepared({ ups: { typ: 'http', try: 1, http_opts: { statuses: { 502: false } }, cluster: levels('A') } })
    const outcome = await c.readyOk('ups', () => result).then(() => false, () => true)
    expect(outcome).toBe(fails)
  })
})

describe('rule 2: try limit = opts.try ?? ups.try ?? server entries, across levels, with ??', () => {
  it.each<[string, unknown, Record<string, unknown>, string]>([
    ['default: all entries', { cluster: levels('ABC') }, {}, 'ABC → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['ups.try', { try: 2, cluster: levels('ABC') }, {}, 'AB → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['opts.try', { try: 2, cluster: levels('ABC') }, { try: 1 }, 'A → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['opts.try 0 is explicit', { try: 3, cluster: levels('ABC') }, { try: 0 }, 'A → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['ups.try 0 is explicit', { try: 0, cluster: levels('ABC') }, {}, 'A → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['counted across levels', { try: 2, cluster: levels('A', 'BC') }, {}, 'AB → CKP_ERR_TRY_LIMIT: try limit reached'],
    // limit 3 (A counted twice) is not reached: the candidates run out first
    ['duplicates counted', { cluster: [{ servers: [...S('A'), ...S('A')] }, { servers: S('B') }] }, {}, 'AB → CKP_ERR_NO_SERVERS: no servers available'],
    ['only the tried clusters count', { cluster: { x: { servers: S('AB') }, y: { servers: S('CDE') } } }, { cluster_key: ['x'] }, 'AB → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['success before the limit', { cluster: levels('ABC') }, {}, 'AB → ok:B'],
  ])('%s', async (name, ups, opts, expected) => {
    const c = prepared({ ups })
    expect(await run(c, name === 'success before the limit' ? 'A' : 'ABCDE', opts)).toBe(expected)
  })

  it('the last thrown error is the message, and the cause', async () => {
    const c = prepared({ ups: { cluster: levels('AB') } })
    const boom = new Error('connection refused')
    const err = await c.readyOk('ups', (_h, p) => {
      if (letterOf(p) === 'A') return false
      throw boom
    }).catch((e: unknown) => e as CheckupsError)
    expect(err).toBeInstanceOf(CheckupsError)
    expect([err.code, err.message, err.cause]).toEqual(['CKP_ERR_TRY_LIMIT', 'connection refused', boom])
  })

  it('a failing value is the cause when nothing was thrown', async () => {
    const c = prepared({ ups: { cluster: levels('A') } })
    const err = await c.readyOk('ups', () => null).catch((e: unknown) => e as CheckupsError)
    expect([err.code, err.message, err.cause]).toEqual(['CKP_ERR_TRY_LIMIT', 'try limit reached', { result: null }])
  })
})

describe('rule 3: try_timeout budget over the callbacks\' summed time (fake clock)', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    ['budget spent after the 2nd attempt', { try_timeout: 1 }, {}, 'AB → CKP_ERR_TRY_TIMEOUT: try_timeout excceed'],
    ['opts override', { try_timeout: 10 }, { try_timeout: 0.5 }, 'A → CKP_ERR_TRY_TIMEOUT: try_timeout excceed'],
    ['opts 0 turns it off', { try_timeout: 0.5 }, { try_timeout: 0 }, 'ABCD → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['the try limit is checked first', { try_timeout: 1, try: 2 }, {}, 'AB → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['a success inside the budget', { try_timeout: 5 }, {}, 'ABC → ok:C'],
  ])('%s', async (name, upsExtra, opts, expected) => {
    const clock = fakeClock()
    const c = prepared({ ups: { ...upsExtra, cluster: levels('ABCD') } }, { clock })
    let tried = ''
    const out = await c.readyOk('ups', (_h, p) => {
      tried += letterOf(p)
      clock.advance(600)
      return name === 'a success inside the budget' && letterOf(p) === 'C' ? 'ok:C' : false
    }, opts).then((r) => `${tried} → ${r}`, (e: CheckupsError) => `${tried} → ${e.code}: ${e.message}`)
    expect(out).toBe(expected)
  })
})

describe('rules 4 and 5: exclusion by cluster+host+port; cluster order', () => {
  it.each<[string, unknown, string, Record<string, unknown>, string]>([
    ['same host:port in another level is tried again', { cluster: levels('A', 'A') }, 'A', {}, 'AA → CKP_ERR_TRY_LIMIT: try limit reached'],
    ['a level is exhausted before the next', { cluster: levels('AB', 'C') }, 'AB', {}, 'ABC → ok:C'],
    ['named clusters in definition order', { cluster: { dc1: { servers: S('A') }, dc2: { servers: S('B') } } }, 'A', {}, 'AB → ok:B'],
    ['cluster_key order', { cluster: { dc1: { servers: S('A') }, dc2: { servers: S('B') } } }, '', { cluster_key: ['dc2', 'dc1'] }, 'B → ok:B'],
    ['unknown cluster_key entries are skipped', { cluster: { dc1: { servers: S('A') }, dc2: { servers: S('B') } } }, 'B', { cluster_key: ['nope', 'dc2', 'dc1'] }, 'BA → ok:A'],
    ['level numbers', { cluster: levels('A', 'B', 'C') }, 'C', { cluster_key: [3, 1] }, 'CA → ok:A'],
    ['only unknown keys', { cluster: levels('A') }, '', { cluster_key: ['x', 9] }, ' → CKP_ERR_NO_SERVERS: no servers available'],
  ])('%s', async (_n, ups, failing, opts, expected) => {
    const c = prepared({ ups })
    expect(await run(c, failing, opts)).toBe(expected)
  })

  it('the callback context says which attempt this is', async () => {
    const c = prepared({ ups: { cluster: { dc1: { servers: S('A') }, dc2: { servers: S('B') } } } })
    const seen: unknown[] = []
    await c.readyOk('ups', async (_h, _p, ctx) => {
      seen.push({ ...ctx })
      return ctx.attempt === 2 ? 'done' : null
    })
    expect(seen).toEqual([
      { attempt: 1, skey: 'ups', cluster: 'dc1', host: '127.0.0.1', port: 1001 },
      { attempt: 2, skey: 'ups', cluster: 'dc2', host: '127.0.0.1', port: 1002 },
    ])
  })
})

describe('rule 6: candidate filter', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, [string, number][], string]>([
    ['heartbeat err is skipped', {}, {}, [['A', STATUS_ERR]], 'B → ok:B'],
    ['unstable is selectable', {}, {}, [['A', STATUS_UNSTABLE]], 'A → ok:A'],
    ['no record = ok', {}, {}, [], 'A → ok:A'],
    ['enable: false ignores the heartbeat', { enable: false }, {}, [['A', STATUS_ERR]], 'A → ok:A'],
    ['default_heartbeat_enable: false ignores it', {}, { default_heartbeat_enable: false }, [['A', STATUS_ERR]], 'A → ok:A'],
    ['enable: true wins over the default', { enable: true }, { default_heartbeat_enable: false }, [['A', STATUS_ERR]], 'B → ok:B'],
    ['all err → nothing', {}, {}, [['A', STATUS_ERR], ['B', STATUS_ERR]], ' → CKP_ERR_NO_SERVERS: no servers available'],
  ])('%s', async (_n, upsExtra, global, records, expected) => {
    const c = prepared({ global, ups: { ...upsExtra, cluster: [{ servers: S('AB') }] } })
    for (const [l, st] of records) hbRecord(c, 'ups', l, st)
    expect(await run(c, '')).toBe(expected)
  })

  it('a passive err peer is skipped until its fail_timeout has passed', async () => {
    const clock = fakeClock()
    const c = prepared({ ups: { cluster: [{ servers: S('AB', { max_fails: 1, fail_timeout: 10 }) }] } }, { clock })
    c.feedbackStatus('ups', '127.0.0.1', 1001, true)
    expect(await run(c, '')).toBe('B → ok:B')
    expect(await run(c, '')).toBe('B → ok:B')
    clock.advance(10_000)
    expect(await run(c, '')).toBe('A → ok:A')
  })
})

describe('rule 7: errors', () => {
  it('unknown skey', async () => {
    const c = prepared({ ups: { cluster: levels('A') } })
    const err = await c.readyOk('nope', () => 1).catch((e: unknown) => e as CheckupsError)
    expect([err.code, err.message]).toEqual(['CKP_ERR_UNKNOWN_SKEY', 'unknown skey nope'])
    expect(() => c.selectPeer('nope')).toThrow('unknown skey nope')
  })

  it('no candidate at all', async () => {
    const c = prepared({ ups: { cluster: [{ servers: [] }] } })
    expect(await run(c, '')).toBe(' → CKP_ERR_NO_SERVERS: no servers available')
  })

  it('candidates run out before the limit', async () => {
    const c = prepared({ ups: { try: 5, cluster: levels('AB') } })
    expect(await run(c, 'AB')).toBe('AB → CKP_ERR_NO_SERVERS: no servers available')
  })
})
