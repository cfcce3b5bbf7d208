/**
 * `createFilePersistence(file)`: atomic, durable writes of the state file.
 *
 * Invariants
 * - The state file is only ever replaced by `rename(2)` of a fully written and fsynced temp file
 *   in the same directory, then the directory is fsynced: after a crash at any point the file
 *   holds either the previous snapshot or the new one, never a torn mix.
 * - The temp file is created exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600) under an
 *   unpredictable name (`<file>.tmp-<pid>-<random hex>`): a file or symlink planted at any name
 *   is never written through. The pid lets `loadStateFile` remove temps of dead writers.
 * - A state path that is a symlink is refused (CKP_ERR_STATE_FILE) unless `allowSymlink` is
 *   set: replacing it would silently turn the link into a plain file.
 * - `save` is synchronous on purpose: core calls it under the `checkups:skeys` lock and the
 *   admin API acknowledges a change only after the snapshot is on disk.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, constants, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { CheckupsError } from '../errors.js'
import { STATE_FILE_FORMAT, type PendingSave, type Persistence, type StateFileContent, type StateSnapshot } from './types.js'

export interface FilePersistence extends Persistence {
  /** absolute path of the state file */
  readonly file: string
}

export interface FilePersistenceOptions {
  /** accept a state path that is a symlink (it is then replaced by a plain file) */
  allowSymlink?: boolean
}

/** @example const p = createFilePersistence('/etc/checkups/.checkups-state.json'); p.save(snap) */
export function createFilePersistence(file: string, opts: FilePersistenceOptions = {}): FilePersistence {
  const abs = resolve(file)
  const text = (snapshot: StateSnapshot): string => {
    if (!opts.allowSymlink) refuseSymlink(abs)
    const content: StateFileContent = {
        format: STATE_FILE_FORMAT,
        conf_hash: snapshot.conf_hash,
        version: snapshot.version,
        saved_at: Date.now(),
        upstreams: snapshot.upstreams,
        ...(snapshot.origin ? { origin: snapshot.origin } : {}),
        ...(snapshot.deleted ? { deleted: snapshot.deleted } : {}),
      }
    return JSON.stringify(content, null, 2) + '\n'
  }
  return {
    file: abs,
    save(snapshot: StateSnapshot): void {
      writeFileAtomic(abs, text(snapshot))
    },
    begin(snapshot: StateSnapshot): PendingSave {
      const data = text(snapshot)
      // keep the previous file under a second name (a hard link: no copy) until commit
      const prev = `${abs}.tmp-${process.pid}-${randomBytes(8).toString('hex')}`
      let kept = false
      try {
        linkSync(abs, prev)
        kept = true
      } catch {
        // no previous file (first save): undo removes the new one
      }
      writeFileAtomic(abs, data)
      const drop = (): void => {
        try {
          unlinkSync(prev)
        } catch {
          // already gone
        }
      }
      return {
        commit: () => (kept ? drop() : undefined),
        undo: () => {
          try {
            if (kept) renameSync(prev, abs)
            else unlinkSync(abs)
          } catch (err) {
            if (kept) drop()
            throw new CheckupsError('CKP_ERR_STATE_FILE', `state file ${abs}: previous snapshot not restored: ${(err as Error).message}`, { cause: err })
          }
          fsyncDir(dirname(abs))
        },
      }
    },
  }
}

/** Throws CKP_ERR_STATE_FILE when `file` is a symlink. */
export function refuseSymlink(file: string): void {
  let link = false
  try {
    link = lstatSync(file).isSymbolicLink()
  } catch {
    return // missing: fine
  }
  if (link) {
    throw new CheckupsError('CKP_ERR_STATE_FILE', `state file ${file} is a symlink; refused (allow it explicitly to follow links)`)
  }
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0)

/** Write `data` to `file` through an exclusive, fsynced temp file + rename + directory fsync. */
export function writeFileAtomic(file: string, data: string): void {
  const dir = dirname(file)
  const tmp = `${dir}/${basename(file)}.tmp-${process.pid}-${randomBytes(8).toString('hex')}`
  let created = false
  try {
    mkdirSync(dir, { recursive: true })
    const fd = openSync(tmp, CREATE_FLAGS, 0o600)
    created = true
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
    if (created) {
      try {
        unlinkSync(tmp)
      } catch {
        // already renamed or removed
      }
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
