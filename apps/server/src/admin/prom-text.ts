/**
 * Prometheus text exposition (format 0.0.4) for families built from shared memory, and the
 * merge of every process's prom-client snapshot into one family list labelled by worker.
 *
 * Invariant: a family's `# HELP` / `# TYPE` appear once, before all its samples, whichever
 * processes contributed them (duplicate headers make the whole scrape invalid).
 */

export type Labels = Readonly<Record<string, string>>
/**
 * One sample. `extra` is one more label after `labels` (a histogram's `le`, a split
 * family's class): the shared `labels` object of a peer is then rendered once per scrape,
 * not copied into a new object per sample.
 */
export interface Sample { name?: string; labels: Labels; extra?: readonly [name: string, value: string]; value: number }
export interface Family { name: string; help: string; type: 'counter' | 'gauge' | 'histogram'; samples: Sample[] }

const NEEDS_ESCAPE = /[\\\n"]/

function escapeLabel(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

/** `k="v",...` of a labels object (no braces), computed once per object and render call */
function labelText(labels: Labels, cache: WeakMap<Labels, string>): string {
  let t = cache.get(labels)
  if (t === undefined) {
    t = ''
    for (const k in labels) t += `${t === '' ? '' : ','}${k}="${escapeLabel(labels[k]!)}"`
    cache.set(labels, t)
  }
  return t
}

export function renderFamilies(families: readonly Family[]): string {
  let out = ''
  const cache = new WeakMap<Labels, string>()
  for (const f of families) {
    out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.type}\n`
    for (const s of f.samples) {
      let labels = labelText(s.labels, cache)
      if (s.extra !== undefined) labels += `${labels === '' ? '' : ','}${s.extra[0]}="${escapeLabel(s.extra[1])}"`
      out += `${s.name ?? f.name}${labels === '' ? '' : `{${labels}}`} ${fmt(s.value)}\n`
    }
  }
  return out
}

/** `buckets` are non-cumulative counts for `bounds` plus a last +Inf bucket. */
export function histogramSamples(name: string, labels: Labels, bounds: readonly number[], buckets: readonly number[], sum: number): Sample[] {
  const out: Sample[] = []
  const bucket = `${name}_bucket`
  let acc = 0
  for (let i = 0; i <= bounds.length; i++) {
    acc += buckets[i] ?? 0
    out.push({ name: bucket, labels, extra: ['le', i < bounds.length ? String(bounds[i]) : '+Inf'], value: acc })
  }
  out.push({ name: `${name}_sum`, labels, value: sum }, { name: `${name}_count`, labels, value: acc })
  return out
}

/** prom-client's `getMetricsAsJSON()` shape (what each process publishes). */
interface JsonMetric {
  name: string
  help: string
  type: string
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>
}

/** Merges the snapshots (JSON text of getMetricsAsJSON, one per process) family by family. */
export function mergeSnapshots(texts: readonly string[]): Family[] {
  const byName = new Map<string, Family>()
  for (const text of texts) {
    let metrics: JsonMetric[]
    try {
      metrics = JSON.parse(text) as JsonMetric[]
    } catch {
      continue // a snapshot is written whole (seqlock); an unreadable one is skipped, never fatal
    }
    for (const m of metrics) {
      const type = m.type === 'counter' || m.type === 'histogram' ? m.type : 'gauge'
      let f = byName.get(m.name)
      if (!f) byName.set(m.name, (f = { name: m.name, help: m.help, type, samples: [] }))
      for (const v of m.values) {
        const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]))
        f.samples.push({ ...(v.metricName ? { name: v.metricName } : {}), labels, value: v.value })
      }
    }
  }
  return [...byName.values()]
}
