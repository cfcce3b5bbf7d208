/**
 * `loadStateFile(file, confHash)`: read the persisted snapshot at start (primary, before init).
 *
 * Invariants
 * - Missing file → `undefined` (first start). A file that cannot be read, is not valid JSON, not format 1, has
 *   the wrong shape, or was written for another config (`conf_hash` differs) is refused: it is
 *   renamed aside to `<file>.rejected-<timestamp>` (never deleted, never silently dropped) and
 *   a `CheckupsError` `CKP_ERR_STATE_FILE` is thrown whose message says why and where it went.
 * - The JSON is parsed with a reviver that refuses `__proto__`/`constructor`/`prototype` keys,
 *   like the admin API's bodies: a state file cannot smuggle what the API would refuse.
 * - Leftover temp files (`<file>.tmp-<pid>-<n>`) of writers that no longer run are removed.
 */
import { linkSync, readFileSync, readdirSync, unlinkSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { pidAlive } from '@checkups/shm'
import { CheckupsError } from '../errors.js'
import { parseJsonRefusingKeys } from '../json.js'
import { STATE_FILE_FORMAT, type StateFileContent } from './types.js'


/**
 * @returns the snapshot, or `undefined` when there is no state file yet
 * @throws CheckupsError CKP_ERR_STATE_FILE when the file is refused (it was moved aside)
 */
export function loadStateFile(file: string, confHash: string): StateFileContent | undefined {
  const abs = resolve(file)
  removeStaleTemps(abs)
  let text: string
  try {
    text = readFileSync(abs, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    const aside = moveAside(abs) // unreadable (EACCES, EISDIR...): keep it, start without it
    throw new CheckupsError('CKP_ERR_STATE_FILE', `state file ${abs} refused (unreadable: ${(err as Error).message}); kept as ${aside}`, {
      cause: err,
    })
  }
  const problem = checkContent(text, confHash)
  if (typeof problem !== 'string') return problem
  const aside = moveAside(abs)
  throw new CheckupsError('CKP_ERR_STATE_FILE', `state file ${abs} refused (${problem}); kept as ${aside}`)
}

/** The parsed content, or a string saying why it is refused. */
function checkContent(text: string, confHash: string): StateFileContent | string {
  let data: unknown
  try {
    data = parseJsonRefusingKeys(text)
  } catch (err) {
    return `corrupt: ${(err as Error).message}`
  }
  if (!isObject(data)) return 'corrupt: not a JSON object'
  if (data['format'] !== STATE_FILE_FORMAT) return `unknown format ${JSON.stringify(data['format'])}`
  const version = data['version']
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) return 'corrupt: bad version'
  if (typeof data['conf_hash'] !== 'string') return 'corrupt: bad conf_hash'
  if (data['conf_hash'] !== confHash) {
    return `written for another config: conf_hash ${data['conf_hash']}, current ${confHash}`
  }
  const ups = data['upstreams']
  if (!isObject(ups)) return 'corrupt: upstreams is not an object'
  for (const [skey, up] of Object.entries(ups)) {
    if (!isObject(up)) return `corrupt: upstreams.${skey} is not an object`
  }
  const savedAt = typeof data['saved_at'] === 'number' ? data['saved_at'] : 0
  return { format: STATE_FILE_FORMAT, conf_hash: confHash, version, saved_at: savedAt, upstreams: ups }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Move to `<file>.rejected-<timestamp>[-n]` without ever replacing an earlier rejected file:
 * `link(2)` refuses an existing name (rename would silently overwrite it), then unlink.
 */
function moveAside(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  for (let n = 0; n < 1000; n++) {
    const aside = `${file}.rejected-${stamp}${n === 0 ? '' : `-${n}`}`
    try {
      linkSync(file, aside)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw new CheckupsError('CKP_ERR_STATE_FILE', `state file ${file}: cannot move aside: ${(err as Error).message}`, {
        cause: err,
      })
    }
    unlinkSync(file)
    return aside
  }
  throw new CheckupsError('CKP_ERR_STATE_FILE', `state file ${file}: cannot move aside (too many rejected files)`)
}

function removeStaleTemps(file: string): void {
  const dir = dirname(file)
  const prefix = `${basename(file)}.tmp-`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(name.slice(prefix.length).split('-')[0])
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) continue
    try {
      unlinkSync(join(dir, name))
    } catch {
      // already gone
    }
  }
}


