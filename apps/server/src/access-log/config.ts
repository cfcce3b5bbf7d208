/**
 * `server.access_log: { format: 'json' | 'combined' | 'off', path? }`, validated once.
 * Default: JSON lines on stdout (what a container log collector expects).
 */
export type AccessLogFormat = 'json' | 'combined' | 'off'

export interface AccessLogConfig {
  readonly format: AccessLogFormat
  /** a file opened for appending; null = stdout */
  readonly path: string | null
}

export const DEFAULT_ACCESS_LOG: AccessLogConfig = Object.freeze({ format: 'json', path: null })

const FORMATS: readonly string[] = ['json', 'combined', 'off']

/** Throws a message with the dotted path for anything but the documented shape. */
export function parseAccessLog(raw: unknown, where = 'server.access_log'): AccessLogConfig {
  if (raw === undefined || raw === null) return DEFAULT_ACCESS_LOG
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError(`${where}: must be an object { format, path? }`)
  const o = raw as Record<string, unknown>
  for (const k of Object.keys(o)) if (k !== 'format' && k !== 'path') throw new TypeError(`${where}.${k}: unknown key`)
  const format = o['format'] ?? 'json'
  if (typeof format !== 'string' || !FORMATS.includes(format)) throw new TypeError(`${where}.format: must be one of json, combined, off`)
  const path = o['path'] ?? null
  if (path !== null && (typeof path !== 'string' || path === '')) throw new TypeError(`${where}.path: must be a non-empty string`)
  return Object.freeze({ format: format as AccessLogFormat, path: path as string | null })
}
