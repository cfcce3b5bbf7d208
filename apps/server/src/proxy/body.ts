/**
 * The request body as a stream undici can consume — and lose — without harming the client.
 *
 * Invariants:
 * - Nothing is read from the client request until undici reads this stream, which happens
 *   only once a connection to the peer exists. An attempt that failed to connect leaves the
 *   client body untouched, so the next peer can receive it whole (`touched` stays false).
 * - Once `touched`, the body is being streamed (never buffered) and cannot be replayed.
 * - undici destroys a request body on failure; destroying this stream only detaches it from
 *   the client request (which is paused), so the proxy can still answer the client.
 * - Backpressure: the client request is paused whenever this stream's buffer is full.
 * - At most `limit` bytes pass (the route's max_body_size): one byte more destroys the stream
 *   with PRX_ERR_BODY_TOO_LARGE, which the call answers 413 (a client fault, not the peer's).
 */
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { ProxyError } from './errors.js'

export class RequestBody extends Readable {
  readonly #req: IncomingMessage
  #touched = false
  readonly #limit: number
  #bytes = 0
  readonly #onData = (chunk: Buffer): void => {
    this.#bytes += chunk.length
    if (this.#bytes > this.#limit) {
      this.destroy(new ProxyError('PRX_ERR_BODY_TOO_LARGE', `request body too large: more than ${this.#limit} bytes`))
      return
    }
    if (!this.push(chunk)) this.#req.pause()
  }
  readonly #onEnd = (): void => {
    this.push(null)
  }
  readonly #onAborted = (): void => {
    this.destroy(new ProxyError('PRX_ERR_CLIENT_ABORTED', 'client aborted the request body'))
  }

  constructor(req: IncomingMessage, limit = Number.POSITIVE_INFINITY) {
    super({ highWaterMark: 64 * 1024 })
    this.#req = req
    this.#limit = limit
  }

  /** true once any byte may have left the client request towards a peer */
  get touched(): boolean {
    return this.#touched
  }

  override _read(): void {
    if (!this.#touched) {
      this.#touched = true
      const req = this.#req
      if (req.readableEnded) {
        this.push(null)
        return
      }
      req.on('data', this.#onData)
      req.on('end', this.#onEnd)
      req.on('error', this.#onAborted)
      req.on('aborted', this.#onAborted)
    }
    this.#req.resume()
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#detach()
    cb(err)
  }

  #detach(): void {
    const req = this.#req
    req.off('data', this.#onData)
    req.off('end', this.#onEnd)
    req.off('error', this.#onAborted)
    req.off('aborted', this.#onAborted)
    if (!req.readableEnded) req.pause()
  }
}

/**
 * Whether a request carries a body (RFC 9112 §6.3): Transfer-Encoding, or Content-Length > 0;
 * over HTTP/2, unless its HEADERS frame ended the stream.
 */
export function hasBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2) {
    const stream = (req as { stream?: { endAfterHeaders?: boolean } }).stream
    return stream?.endAfterHeaders !== true && req.headers['content-length'] !== '0'
  }
  if (req.headers['transfer-encoding'] !== undefined) return true
  const cl = req.headers['content-length']
  return cl !== undefined && cl !== '0'
}
