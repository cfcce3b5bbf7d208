/**
 * `createFilePersistence(file)`: atomic, durable writes of the state file.
 *
 * Invariants
 * - The state file is only ever replaced by `rename(2)` of a fully written and fsynced temp file
 *   in the same directory, then the directory is fsynced: after a crash at any point the file
 *   holds either the previous snapshot or the new one, never a torn mix.
 * - Temp names carry the writer's pid and a counter (`<file>.tmp-<pid>-<n>`), so two processes
 *   never share one; a temp left by a crash is never read, and `loadStateFile` removes temps
 *   whose writer pid no longer runs.
 * - `save` is synchronous on purpose: core calls it under the `checkups:skeys` lock and the
 *   admin API acknowledges a change only after the snapshot is on disk.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { CheckupsError } from '../errors.js'
import { STATE_FILE_FORMAT, type Persistence, type StateFileContent, type StateSnapshot } from './types.js'

export interface FilePersistence extends Persistence {
  /** absolute path of the state file */
  readonly file: string
}

let tmpCounter = 0

/** @example const p = createFilePersistence('/etc/checkups/.checkups-state.json'); p.save(snap) */
export function createFilePersistence(file: string): FilePersistence {
  const abs = resolve(file)
  return {
    file: abs,
    save(snapshot: StateSnapshot): void {
      const content: StateFileContent = {
        format: STATE_FILE_FORMAT,
        conf_hash: snapshot.conf_hash,
        version: snapshot.version,
        saved_at: Date.now(),
        upstreams: snapshot.upstreams,
      }
      writeFileAtomic(abs, JSON.stringify(content, null, 2) + '\n')
    },
  }
}

/** Write `data` to `file` through a fsynced temp file + rename + directory fsync. */
export function writeFileAtomic(file: string, data: string): void {
  const dir = dirname(file)
  const tmp = `${dir}/${basename(file)}.tmp-${process.pid}-${++tmpCounter}`
  try {
    mkdirSync(dir, { recursive: true })
    const fd = openSync(tmp, 'w', 0o600)
    try {
      const buf = Buffer.from(data, 'utf8')
      let off = 0
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (err) {
    try {
      unlinkSync(tmp)
    } catch {
      // the temp may not exist (open failed) — nothing to clean
    }
    throw new CheckupsError('CKP_ERR_STATE_FILE', `state file ${file}: write failed: ${(err as Error).message}`, {
      cause: err,
    })
  }
  fsyncDir(dir)
}

function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some filesystems refuse fsync on a directory (EINVAL/EISDIR); the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
