import { ShmError } from './errors.js'

/** Parses a zone size as nginx does: a byte count, or a number with `k`/`m`/`g` (e.g. `'10m'`). */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') {
    if (Number.isInteger(size) && size > 0) return size
  } else {
    const m = /^\s*(\d+)\s*([kKmMgG]?)\s*$/.exec(size)
    if (m) {
      const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
      const n = Number(m[1]) * mult
      if (n > 0) return n
    }
  }
  throw new ShmError('SHM_ERR_INVALID_ARG', `invalid zone size ${JSON.stringify(size)}: expected bytes or a number with k/m/g`)
}
