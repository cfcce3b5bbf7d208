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
  .filter((f) => f !== '' && f !== 'test/standalone.test.ts' && !f.endsWith('pnpm-lock.yaml') && !/\.(png|node|tgz)$/.test(f))

// `../shared/…` or `../shared` as a folder (a module named shared.js would not match).
const outside = /\.\.\/shared(?:\/|\b(?!\.))|\b(?:DESIGN|CONTRACT|BEHAVIOR|CONVENTIONS)\.md\b|seed-readme|\b[Ii]ssue #?\d+\b/

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
