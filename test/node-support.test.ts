// Supported Node.js releases (engines.node in every package.json, and run()'s check at start),
// and the optional peer packages of @checkups/core reported at the boundary.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CheckupsError, isInstalled, requirePackage, resolveConfig } from '@checkups/core'
import { RuntimeError, SUPPORTED_NODE, checkNode, nodeSupport } from '@checkups/runtime'

const root = fileURLToPath(new URL('..', import.meta.url))
const manifests = ['package.json', 'packages/shm', 'packages/shdict', 'packages/checkups', 'packages/runtime', 'apps/server']
  .map((p) => (p.endsWith('.json') ? p : `${p}/package.json`))

describe('supported Node.js releases', () => {
  it.each(manifests)('%s: engines.node is the runtime check\'s range', (file) => {
    const pj = JSON.parse(readFileSync(root + file, 'utf8')) as { engines?: { node?: string } }
    expect(pj.engines?.node).toBe(SUPPORTED_NODE)
  })

  it.each([
    ['18.20.4', 'too_old'],
    ['20.17.0', 'too_old'],
    ['v20.18.0', 'supported'],
    ['20.19.5', 'supported'],
    ['21.7.3', 'untested'],
    ['22.0.0', 'supported'],
    ['23.11.0', 'untested'],
    ['24.22.3', 'supported'],
    ['25.1.0', 'untested'],
    ['26.12.1', 'supported'],
    ['27.0.0', 'supported'],
    ['banana', 'untested'],
  ])('%s is %s', (version, kind) => {
    expect(nodeSupport(version).kind).toBe(kind)
  })

  it('the running Node is supported (CI runs the suite on each supported line)', () => {
    expect(nodeSupport(process.versions.node).kind).toBe('supported')
  })

  it('too old: run() refuses with one line naming the version and the range', () => {
    let err: unknown
    try {
      checkNode('18.20.4', () => {})
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(RuntimeError)
    expect((err as RuntimeError).code).toBe('RT_ERR_UNSUPPORTED_NODE')
    expect((err as Error).message).toBe(`Node.js v18.20.4 is not supported (supported: ${SUPPORTED_NODE}); please upgrade Node.js`)
  })

  it('an odd release line: one warning line, once per process, and it runs', () => {
    const lines: string[] = []
    checkNode('23.11.0', (l) => lines.push(l))
    checkNode('23.11.0', (l) => lines.push(l))
    checkNode('24.22.3', (l) => lines.push(l))
    expect(lines).toEqual([`checkups: Node.js v23.11.0 is not a supported release line (supported: ${SUPPORTED_NODE}); continuing`])
  })
})

describe('optional peer packages of @checkups/core', () => {
  it('the workspace installs all of them (its tests use them)', () => {
    expect(['ioredis', 'mysql2', 'piscina', 'undici'].map(isInstalled)).toEqual([true, true, true, true])
  })

  it('a missing package is one CKP_ERR_MISSING_PACKAGE naming what to install', () => {
    const name = 'checkups-no-such-package-' + process.pid
    let err: unknown
    try {
      requirePackage(name, 'the test')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CheckupsError)
    expect((err as CheckupsError).code).toBe('CKP_ERR_MISSING_PACKAGE')
    expect((err as Error).message).toBe(`the test needs the package "${name}" (an optional feature), which is not installed: npm install ${name}`)
  })

  it('a redis / mysql upstream resolves when its driver is installed', () => {
    const cfg = resolveConfig({
      r: { typ: 'redis', cluster: [{ servers: [{ host: '127.0.0.1', port: 6379 }] }] },
      m: { typ: 'mysql', cluster: [{ servers: [{ host: '127.0.0.1', port: 3306 }] }] },
    })
    expect(Object.keys(cfg.upstreams)).toEqual(['r', 'm'])
  })
})
