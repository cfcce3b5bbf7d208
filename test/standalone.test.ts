// The repository stands alone: no tracked file refers to documents kept outside it (the team's
// design notes beside the checkout) or to issue numbers of the tracker. Rules live in the
// comments themselves or in docs/.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && !f.endsWith('pnpm-lock.yaml') && !/\.(png|node|tgz)$/.test(f))

// The names of the outside folder and documents are kept base64-encoded, so that this file,
// the one that searches for them, does not name them itself. Decoded, the pattern is the
// folder as a path `../<folder>/…` or `../<folder>` (a module `<folder>.js` would not match),
// the four documents `<NAME>.md`, the seed readme by name, and issue numbers.
const name = (b64: string) => Buffer.from(b64, 'base64').toString('utf8')
const folder = name('c2hhcmVk')
const documents = ['REVTSUdO', 'Q09OVFJBQ1Q=', 'QkVIQVZJT1I=', 'Q09OVkVOVElPTlM='].map(name).join('|')
const outside = new RegExp(`\\.\\./${folder}(?:/|\\b(?!\\.))|\\b(?:${documents})\\.md\\b|${name('c2VlZC1yZWFkbWU=')}|\\b[Ii]ssue #?\\d+\\b`)

describe('the repository stands alone', () => {
  it('no file refers to documents outside the repository or to issue numbers', () => {
    const hits: string[] = []
    for (const f of files) {
      let text: string
      try { text = readFileSync(root + f, 'utf8') } catch { continue }
      text.split('\n').forEach((line, i) => { if (outside.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`) })
    }
    expect(hits).toEqual([])
  })
})
