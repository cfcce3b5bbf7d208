/**
 * No import cycles: within every package's src/ (type-only imports included — a cycle of
 * types is still two modules that cannot be understood apart), and between the packages
 * themselves (dependencies point one way: shm ← shdict ← core ← runtime ← server).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['packages/shm', 'packages/shdict', 'packages/checkups', 'packages/runtime', 'apps/server']
// static imports/re-exports (`import x from`, `import type`, `export * from`) and dynamic import('...')
const SPEC = /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return sources(p)
    return /\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [p] : []
  })
}

function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  return [...text.matchAll(SPEC)].map((m) => m[1] ?? m[2] ?? m[3]!).filter(Boolean)
}

/** Cycles of a directed graph, each as the list of nodes around it (one per strongly connected set). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (n: string): void => {
    state.set(n, 'open')
    stack.push(n)
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m])
      else if (!state.has(m)) visit(m)
    }
    stack.pop()
    state.set(n, 'done')
  }
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n)
  return found
}

describe('import graph', () => {
  it.each(PACKAGES)('%s/src has no import cycle', (pkg) => {
    const src = join(root, pkg, 'src')
    const files = sources(src)
    const graph = new Map<string, string[]>()
    for (const f of files) {
      const deps = specifiers(f).filter((s) => s.startsWith('.')).map((s) => {
        const target = resolve(dirname(f), s).replace(/\.js$/, '.ts')
        return relative(src, target)
      })
      graph.set(relative(src, f), deps)
    }
    expect(files.length).toBeGreaterThan(3)
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual([])
  })

  it('packages depend on each other one way only', () => {
    const names = new Map<string, string>()
    for (const p of PACKAGES) names.set((JSON.parse(readFileSync(join(root, p, 'package.json'), 'utf8')) as { name: string }).name, p)
    const graph = new Map<string, string[]>()
    for (const [name, p] of names) {
      const used = new Set<string>()
      for (const f of sources(join(root, p, 'src'))) {
        for (const s of specifiers(f)) {
          const dep = [...names.keys()].find((n) => s === n || s.startsWith(`${n}/`))
          if (dep !== undefined && dep !== name) used.add(dep)
        }
      }
      graph.set(name, [...used])
    }
    expect(graph.get('@checkups/shm')).toEqual([])
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual([])
  })
})
