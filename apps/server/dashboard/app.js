// The checkups dashboard: plain JavaScript, no build step. It polls /status, /stats and
// /workers, follows /events (Server-Sent Events read through fetch, so the admin token can go
// in an Authorization header) and redraws. Every value shown comes from the admin API.
'use strict'

const REFRESH_MS = 2000
const MAX_EVENTS = 60
const state = { token: null, prev: null, prevAt: 0, events: [], lastEventId: '', refreshing: false, again: false }

function tokenFromPage() {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash)
  if (m) {
    sessionStorage.setItem('checkups-token', decodeURIComponent(m[1]))
    history.replaceState(null, '', location.pathname + location.search)
  }
  return sessionStorage.getItem('checkups-token')
}

function headers(extra) {
  const h = Object.assign({}, extra)
  if (state.token) h.authorization = 'Bearer ' + state.token
  return h
}

class Unauthorized extends Error {}

async function getJson(path) {
  const res = await fetch(path, { headers: headers(), cache: 'no-store' })
  if (res.status === 401) throw new Unauthorized()
  if (!res.ok) throw new Error(path + ': ' + res.status)
  return res.json()
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue
    if (k === 'class') e.className = v
    else if (k.startsWith('data-')) e.setAttribute(k, v)
    else e[k] = v
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c))
  return e
}

function fmtRate(v) {
  if (v === null || !isFinite(v)) return '–'
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
}
function fmtMs(v) {
  if (v === null || v === undefined) return '–'
  return v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v >= 10 ? v.toFixed(0) + ' ms' : v.toFixed(1) + ' ms'
}
function fmtCount(v) {
  return v >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : v >= 1e4 ? (v / 1e3).toFixed(1) + 'k' : String(v)
}
function ago(ms) {
  if (!ms) return '–'
  const s = Math.max(0, (Date.now() - ms) / 1000)
  if (s < 60) return Math.round(s) + ' s ago'
  if (s < 3600) return Math.round(s / 60) + ' min ago'
  if (s < 86400) return Math.round(s / 3600) + ' h ago'
  return new Date(ms).toLocaleString()
}
function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false })
}

function levelsOf(status, skey) {
  const lv = status['cls:' + skey]
  if (!lv) return []
  return Array.isArray(lv) ? lv.map((peers, i) => ['level ' + (i + 1), peers]) : Object.entries(lv)
}

function failures(s) {
  return s.requests - (s.outcomes.ok || 0) - (s.outcomes.client_abort || 0)
}

function rates(skey, peer, s, dt) {
  const p = state.prev && state.prev[skey] && state.prev[skey][peer]
  if (!p || dt <= 0) return { req: null, err: null }
  return { req: Math.max(0, s.requests - p.requests) / dt, err: Math.max(0, failures(s) - failures(p)) / dt }
}

/** A peer resolved from a hostname (global.dns): the name, the age of its addresses, stale. */
function dnsTag(d) {
  const age = d.age === null ? 'unresolved' : Math.round(d.age) + 's ago'
  return el('span', { class: 'dns' + (d.stale ? ' stale' : ''), 'data-dns': d.name, 'data-stale': String(d.stale),
    title: d.name + ' → ' + d.addresses.join(', ') + ' (resolved ' + age + (d.stale ? '; the last lookup failed, these are the last addresses' : '') + ')' },
  ' ← ' + d.name + ' · ' + age + (d.stale ? ' · stale' : ''))
}

function peerRow(skey, peer, st, s, dt) {
  const hp = peer.slice(skey.length + 1)
  const r = rates(skey, hp, s, dt)
  const passive = st.passive ? st.passive.status : 'ok'
  const health = st.status === 'err' || passive === 'err' ? 'err' : st.status
  const last = s.last_change
  return el('tr', { class: 'peer', 'data-upstream': skey, 'data-peer': hp, 'data-health': health },
    el('td', {}, el('span', { class: 'peer-name' }, hp), st.dns ? dnsTag(st.dns) : null),
    el('td', {}, el('span', { class: 'pill ' + st.status, title: st.msg || '' }, st.status),
      st.status !== 'ok' && st.msg ? el('span', { class: 'why' }, st.msg) : null),
    el('td', {}, el('span', { class: 'pill ' + passive, title: 'failures counted: ' + (st.passive ? st.passive.count : 0) }, passive),
      st.passive && st.passive.count > 0 ? el('span', { class: 'muted' }, ' ×' + st.passive.count) : null),
    el('td', { class: 'num' }, st.weight),
    el('td', { class: 'num' }, fmtRate(r.req)),
    el('td', { class: 'num' + (r.err > 0 ? ' bad' : '') }, fmtRate(r.err)),
    el('td', { class: 'num' }, fmtMs(s.latency.p50_ms)),
    el('td', { class: 'num' }, fmtMs(s.latency.p99_ms)),
    el('td', { class: 'num' }, s.inflight),
    el('td', { class: 'num' }, fmtCount(s.requests)),
    el('td', { class: 'muted', title: last ? new Date(last).toLocaleString() : '' }, ago(last)),
    balanceCell(st),
  )
}

// The balancing state of a peer from its /status entry: an outlier ejection (until when, how
// many so far), a running slow-start ramp (the share of its weight it gets now) and p2c's
// latency cost; the row carries data-ejected / data-slow-start for scripts and tests.
function balanceCell(st) {
  const td = el('td', { class: 'balance' })
  const od = st.outlier
  if (od && od.ejected_until) {
    td.append(el('span', { class: 'pill err', title: od.ejections + ' ejections so far' }, 'ejected until ' + clock(od.ejected_until * 1000)))
  }
  if (od && od.ejections > 0) td.append(el('span', { class: 'muted' }, ' ' + od.ejections + '× ejected'))
  const ss = st.slow_start
  if (ss && ss.factor < 1) {
    td.append(el('span', { class: 'pill unstable', title: 'weight ' + ss.weight + ' of ' + st.weight + ' until ' + clock(ss.until * 1000) },
      'slow start ' + Math.round(ss.factor * 100) + ' %'))
  }
  if (typeof st.latency_cost_ms === 'number') td.append(el('span', { class: 'muted' }, ' cost ' + fmtMs(st.latency_cost_ms)))
  return td
}

function balanceData(row, st) {
  const od = st.outlier
  row.dataset.ejected = od && od.ejected_until ? '1' : '0'
  if (od) row.dataset.ejections = String(od.ejections)
  if (st.slow_start) row.dataset.slowStart = String(st.slow_start.factor)
  return row
}

const COLUMNS = [['peer'], ['health'], ['passive'], ['weight', 'num'], ['req/s', 'num'], ['err/s', 'num'], ['p50', 'num'],
  ['p99', 'num'], ['in flight', 'num'], ['requests', 'num'], ['last change'], ['balancing']]

function upstreamCard(skey, status, stats, dt) {
  const body = el('tbody')
  let total = 0
  let up = 0
  let rate = 0
  for (const [name, peers] of levelsOf(status, skey)) {
    body.append(el('tr', { class: 'level' }, el('td', { colSpan: COLUMNS.length }, name)))
    for (const st of peers) {
      const hp = st.server.slice(skey.length + 1)
      const s = (stats[skey] || {})[hp]
      if (!s) continue
      const row = balanceData(peerRow(skey, st.server, st, s, dt), st)
      total++
      if (row.dataset.health !== 'err') up++
      rate += rates(skey, hp, s, dt).req || 0
      body.append(row)
    }
  }
  const head = el('tr', {}, ...COLUMNS.map(([t, c]) => el('th', { class: c }, t)))
  return el('section', { class: 'card upstream', 'data-upstream': skey },
    el('h2', {}, skey, el('span', { class: 'sub' }, up + ' of ' + total + ' peers up' + (dt > 0 ? ' · ' + fmtRate(rate) + ' req/s' : ''))),
    el('table', {}, el('thead', {}, head), body))
}

function renderFacts(status) {
  const f = document.getElementById('facts')
  const leader = status.heartbeat_leader
  const items = [
    ['heartbeat leader', leader ? 'worker ' + leader.worker + ' (pid ' + leader.pid + ')' : 'none'],
    ['last check', status.last_check_time || 'never'],
    ['config version', status.shd_config_version ?? '–'],
  ]
  f.replaceChildren(...items.map(([k, v]) => el('div', { class: 'fact' }, el('span', {}, k), el('b', {}, v))))
}

function renderWorkers(workers, status) {
  const leader = status.heartbeat_leader ? status.heartbeat_leader.worker : -1
  document.getElementById('workers').replaceChildren(...workers.map((w) =>
    el('div', { class: 'worker' + (w.id === leader ? ' leader' : ''), 'data-worker': w.id },
      el('div', { class: 'name' }, 'worker ' + w.id + (w.id === leader ? ' · heartbeat' : '')),
      el('div', { class: 'meta' }, 'pid ' + w.pid + ' · ' + (w.state || 'ready') + (w.restarts ? ' · ' + w.restarts + ' restarts' : '')))))
}

function describe(e) {
  if (e.type === 'transition') return e.upstream + ' ' + e.peer + ': ' + e.from + ' → ' + e.to + ' (' + e.cause + (e.msg ? ': ' + e.msg : '') + ')'
  if (e.type === 'config') return 'config ' + e.op + (e.upstream ? ' ' + e.upstream : '') + ' → version ' + e.version
  return e.type
}

function renderEvents() {
  const list = document.getElementById('events')
  document.getElementById('events-count').textContent = state.events.length ? '(' + state.events.length + ')' : ''
  if (state.events.length === 0) {
    list.replaceChildren(el('li', { class: 'empty' }, 'No events yet: health transitions and config changes appear here.'))
    return
  }
  list.replaceChildren(...state.events.slice().reverse().map((e) =>
    el('li', { 'data-event': e.type }, el('span', { class: 'when' }, clock(e.time)),
      el('span', { class: e.type === 'transition' && e.to === 'err' ? 'what bad' : 'what' }, describe(e)))))
}

async function refresh() {
  if (state.refreshing) {
    state.again = true
    return
  }
  state.refreshing = true
  try {
    const [status, stats, workers] = await Promise.all([getJson('/status'), getJson('/stats'), getJson('/workers')])
    const now = Date.now()
    const dt = state.prev ? (now - state.prevAt) / 1000 : 0
    renderFacts(status)
    renderWorkers(workers, status)
    const skeys = Object.keys(status).filter((k) => k.startsWith('cls:')).map((k) => k.slice(4)).sort()
    document.getElementById('upstreams').replaceChildren(...skeys.map((k) => upstreamCard(k, status, stats, dt)))
    state.prev = stats
    state.prevAt = now
  } catch (err) {
    if (err instanceof Unauthorized) askToken()
    else setLive('error', 'admin API unreachable')
  } finally {
    state.refreshing = false
    if (state.again) {
      state.again = false
      void refresh()
    }
  }
}

function setLive(s, text) {
  const live = document.getElementById('live')
  live.dataset.state = s
  document.getElementById('live-text').textContent = text || s
}

function onEvent(block) {
  let data = null
  let id = ''
  for (const line of block.split('\n')) {
    if (line.startsWith('id:')) id = line.slice(3).trim()
    else if (line.startsWith('data:')) data = line.slice(5).trim()
  }
  if (id) state.lastEventId = id
  if (!data) return
  const e = JSON.parse(data)
  if (e.type !== 'transition' && e.type !== 'config') return
  state.events.push(e)
  if (state.events.length > MAX_EVENTS) state.events.shift()
  renderEvents()
  void refresh()
}

async function follow() {
  for (;;) {
    try {
      const path = state.lastEventId ? '/events' : '/events?since=0'
      const res = await fetch(path, { headers: headers(state.lastEventId ? { 'last-event-id': state.lastEventId } : {}) })
      if (res.status === 401) return askToken()
      if (!res.ok || !res.body) throw new Error('events: ' + res.status)
      setLive('live', 'live · worker ' + res.headers.get('x-checkups-worker'))
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buf = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buf += value
        let at
        while ((at = buf.indexOf('\n\n')) >= 0) {
          onEvent(buf.slice(0, at))
          buf = buf.slice(at + 2)
        }
      }
    } catch {
      // reconnect below
    }
    setLive('error', 'reconnecting')
    await new Promise((r) => setTimeout(r, 2000))
  }
}

function askToken() {
  const form = document.getElementById('token-form')
  if (!form.hidden) return
  form.hidden = false
  setLive('error', 'token needed')
  document.getElementById('token-error').textContent = state.token ? 'that token was refused' : ''
  document.getElementById('token-input').focus()
}

function start() {
  state.token = tokenFromPage()
  document.getElementById('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault()
    state.token = document.getElementById('token-input').value
    sessionStorage.setItem('checkups-token', state.token)
    document.getElementById('token-form').hidden = true
    void refresh()
    void follow()
  })
  renderEvents()
  void refresh()
  void follow()
  setInterval(() => void refresh(), REFRESH_MS)
}

start()
