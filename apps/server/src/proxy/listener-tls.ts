/**
 * The HTTPS listener's TLS settings from `server.tls: { cert, key, ca?, min_version? }`.
 *
 * Invariants:
 * - The files are read when the listener is created, i.e. by each worker at start. A reload
 *   (SIGHUP) replaces the workers one by one, so new connections get the re-read
 *   certificates while the old workers finish theirs: no connection is dropped.
 * - `ca` turns on client-certificate verification (mutual TLS): a client without a
 *   certificate signed by it is refused during the handshake.
 * - An unreadable or invalid file refuses the start with PRX_ERR_INVALID_CONFIG naming it.
 */
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureVersion, type TlsOptions as NodeTlsOptions } from 'node:tls'
import { ProxyError } from './errors.js'
import type { TlsOptions } from './options.js'

function read(file: string, where: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new ProxyError('PRX_ERR_INVALID_CONFIG', `server.tls.${where}: cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
}

export function listenerTlsOptions(tls: TlsOptions): NodeTlsOptions {
  const o: NodeTlsOptions = {
    cert: read(tls.cert, 'cert'),
    key: read(tls.key, 'key'),
    minVersion: tls.min_version as SecureVersion,
    ALPNProtocols: ['http/1.1'],
  }
  if (tls.ca !== undefined) {
    o.ca = read(tls.ca, 'ca')
    o.requestCert = true
    o.rejectUnauthorized = true
  }
  try {
    createSecureContext(o) // refuses a key that does not match the certificate, or a bad PEM
  } catch (err) {
    throw new ProxyError('PRX_ERR_INVALID_CONFIG', `server.tls: ${(err as Error).message}`, { cause: err })
  }
  return o
}
