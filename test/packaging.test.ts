// The packages as published: every manifest says what it is, under which license, for which
// Node, what it exports and ships; the CLI answers --version. (scripts/ci/smoke/smoke.sh then
// installs the packed tarballs with plain npm outside the workspace and runs them.)
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const dirs = ['packages/shm', 'packages/shdict', 'packages/checkups', 'packages/runtime', 'apps/server']
type Manifest = Record<string, unknown> & { name: string; version: string; files?: string[]; exports?: Record<string, unknown> }
const manifest = (dir: string): Manifest => JSON.parse(readFileSync(`${root}${dir}/package.json`, 'utf8')) as Manifest

describe('published packages', () => {
  it('the workspace root stays private', () => {
    expect(JSON.parse(readFileSync(`${root}package.json`, 'utf8')).private).toBe(true)
  })

  it.each(dirs)('%s: publishable, MIT with its LICENSE and a README', (dir) => {
    const pj = manifest(dir)
    expect(pj.private).toBeUndefined()
    expect(pj.name).toMatch(/^@checkups\//)
    expect(pj.license).toBe('MIT')
    expect(typeof pj.description).toBe('string')
    expect((pj.keywords as string[]).length).toBeGreaterThan(0)
    expect((pj.repository as { directory: string }).directory).toBe(dir)
    expect(readFileSync(`${root}${dir}/LICENSE`, 'utf8')).toBe(readFileSync(`${root}LICENSE`, 'utf8'))
    expect(readFileSync(`${root}${dir}/README.md`, 'utf8')).toContain('```')
  })

  it.each(dirs)('%s: ships dist without maps, never tests or build outputs; exports ./package.json', (dir) => {
    const pj = manifest(dir)
    expect(pj.files).toContain('dist')
    expect(pj.files).toContain('!dist/**/*.map')
    const included = pj.files!.filter((f) => !f.startsWith('!'))
    expect(included.filter((f) => /test|build|tsbuildinfo|\.node$|^src$/.test(f))).toEqual([])
    expect(pj.exports?.['./package.json']).toBe('./package.json')
    expect(pj.exports?.['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' })
  })

  it('@checkups/shm ships its addon sources and builds them at install', () => {
    const pj = manifest('packages/shm')
    expect(pj.files).toEqual(expect.arrayContaining(['src/native', 'binding.gyp']))
    expect((pj.scripts as Record<string, string>).install).toMatch(/^node-gyp rebuild/)
    expect(existsSync(`${root}packages/shm/src/native/shm.cc`)).toBe(true)
  })

  it('@checkups/core: ioredis, mysql2, piscina, undici are optional peers; only the server needs undici', () => {
    const pj = manifest('packages/checkups') as Manifest & Record<string, Record<string, unknown>>
    const optional = ['ioredis', 'mysql2', 'piscina', 'undici']
    expect(Object.keys(pj.peerDependencies!).sort()).toEqual(optional)
    for (const p of optional) expect(pj.peerDependenciesMeta![p]).toEqual({ optional: true })
    for (const p of optional) expect((pj.devDependencies as Record<string, string>)[p]).toBeDefined() // the workspace's tests use them
    const needs = (dir: string) => Object.keys((manifest(dir).dependencies ?? {}) as object).filter((d) => optional.includes(d))
    expect(Object.fromEntries(dirs.map((d) => [d, needs(d)]))).toEqual({
      'packages/shm': [], 'packages/shdict': [], 'packages/checkups': [], 'packages/runtime': [], 'apps/server': ['undici'],
    })
  })

  it('`checkups --version` (the bin of @checkups/server) prints the package version', () => {
    const pj = manifest('apps/server')
    expect(pj.bin).toEqual({ checkups: './index.js' })
    const out = execFileSync(process.execPath, [`${root}apps/server/${(pj.bin as { checkups: string }).checkups}`, '--version'], { encoding: 'utf8' })
    expect(out).toBe(`checkups ${pj.version} (node ${process.version})\n`)
  })
})
