// The config examples of the documentation are real configs: every ```js block of README.md
// and docs/*.md that starts with a file-name comment (`// my.config.mjs`) and has a default
// export is written to a temp module, imported, and accepted by the same checks `node
// apps/server --check` runs — core's schema, the `server` section, routes to known upstreams — so a
// documented example never drifts from what the program accepts. Program examples (blocks
// that call run()) are left to the reader; they need ports of their own.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { checkConfig } from '@checkups/server'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

interface Example { page: string; line: number; name: string; code: string }

function examples(): Example[] {
  const out: Example[] = []
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8')
    const re = /^```js\n(\/\/ (\S+\.m?js)[^\n]*\n[\s\S]*?)^```/gm
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const code = m[1]!
      if (!/^export default \{/m.test(code) || /\brun\(/.test(code)) continue
      out.push({ page, line: text.slice(0, m.index).split('\n').length, name: m[2]!, code })
    }
  }
  return out
}

const dir = mkdtempSync(join(tmpdir(), 'ckp-docs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('config examples in the documentation', () => {
  const all = examples()

  it('there are examples to check', () => {
    expect(all.length).toBeGreaterThanOrEqual(5)
  })

  it.each(all.map((e) => [`${e.page}:${e.line} ${e.name}`, e] as const))('%s is accepted', async (_label, e) => {
    const file = join(dir, `${e.page.replace(/\W/g, '_')}_${e.line}.mjs`)
    writeFileSync(file, e.code)
    const raw = ((await import(pathToFileURL(file).href)) as { default: Record<string, unknown> }).default
    // what `node apps/server --check` runs: core's schema, the server section, routes to known upstreams
    const { config, server, warnings } = checkConfig(raw)
    expect(warnings).toEqual([])
    for (const r of server.routes) expect(Object.keys(config.upstreams)).toContain(r.upstream)
  })
})
