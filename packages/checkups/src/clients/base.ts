/**
 * What the redis and mysql clients share: the checkups they go through, their upstream, their
 * options, and being closed (every call after close() fails with CKP_ERR_CLOSED).
 */
import { CheckupsError } from '../errors.js'
import type { ClientCheckups } from './dispatcher.js'

export abstract class UpstreamClient<O> {
  protected closed = false

  constructor(protected readonly c: ClientCheckups, protected readonly skey: string, protected readonly opts: O) {}

  protected checkOpen(kind: string): void {
    if (this.closed) throw new CheckupsError('CKP_ERR_CLOSED', `${kind} client for "${this.skey}" is closed`)
  }
}
