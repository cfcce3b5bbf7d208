/**
 * Persisted dynamic-upstream state (docs/internals.md §Persistence).
 *
 * Invariants
 * - A snapshot is data only: what `JSON.stringify` keeps. Custom `heartbeat` functions stay in
 *   the config module and are re-attached by core when it restores an upstream of the same skey.
 * - `conf_hash` is the boot config's hash (ResolvedConfig.conf_hash). A state file is only ever
 *   applied to the config it was written for.
 * - `version` is the `config_version` the snapshot was taken at; `upstreams` is the complete
 *   set of stored upstreams at that version (static and dynamic), keyed by skey.
 * - `origin` / `deleted` (written by every current writer) say which upstreams carry a
 *   runtime change and the hash of the file upstream it was based on (null: created at
 *   runtime), and which file upstreams were deleted at runtime. With them a snapshot applies
 *   to a changed config upstream by upstream (dynamic/reconcile.ts); without them (older
 *   files) only to the config it was written for (same `conf_hash`).
 */

/** What core hands to `Persistence.save` after each successful update/delete. */
export interface StateSnapshot {
  readonly version: number
  readonly conf_hash: string
  readonly upstreams: Readonly<Record<string, unknown>>
  readonly origin?: Readonly<Record<string, string | null>>
  readonly deleted?: Readonly<Record<string, string>>
}

/** The file's content: a snapshot plus its format and when it was written. */
export interface StateFileContent extends StateSnapshot {
  readonly format: typeof STATE_FILE_FORMAT
  /** milliseconds since the epoch */
  readonly saved_at: number
}

/** A save that can still be taken back (the previous file restored byte for byte). */
export interface PendingSave {
  /** keep the new snapshot */
  commit(): void
  /** put the previous file (or its absence) back */
  undo(): void
}

/** Core calls `save` under the `checkups:skeys` lock, before the update call resolves. */
export interface Persistence {
  save(snapshot: StateSnapshot): void
  /**
   * Optional: saves like `save`, keeping the previous file until `commit()`; core uses it so
   * that a write refused after the save (config zone full) leaves the file's bytes unchanged.
   */
  begin?(snapshot: StateSnapshot): PendingSave
}

export const STATE_FILE_FORMAT = 1

/** The default state file name, placed next to the config file by apps/server. */
export const DEFAULT_STATE_FILE_NAME = '.checkups-state.json'
