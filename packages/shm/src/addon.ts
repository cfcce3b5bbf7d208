// Loads the native addon once. If it is missing (install scripts skipped, no compiler),
// the error says what to run instead of a bare "Cannot find module".
import { createRequire } from 'node:module'
import { ShmError } from './errors.js'

export interface Addon {
  create(name: string, size: number): { fd: number; buffer: SharedArrayBuffer }
  attach(fd: number): SharedArrayBuffer
  closeFd(fd: number): void
  clearCloexec(fd: number): void
}

let addon: Addon | undefined

export function loadAddon(): Addon {
  if (addon) return addon
  const require = createRequire(import.meta.url)
  try {
    addon = require('../build/Release/shm.node') as Addon
  } catch (cause) {
    throw new ShmError(
      'SHM_ERR_ADDON_LOAD',
      'the @checkups/shm native addon could not be loaded (' +
        String((cause as Error).message).split('\n')[0] +
        '). It is compiled when the package is installed: in an app, allow its install script ' +
        '(`npm approve-scripts @checkups/shm`, then `npm rebuild @checkups/shm`); in this repository run ' +
        '`npx -y pnpm@10 install` (or `cd packages/shm && npx node-gyp rebuild`). ' +
        'It needs python3, make, g++ and the Node headers (set npm_config_nodedir=/usr if they live there).',
      { cause },
    )
  }
  return addon
}
