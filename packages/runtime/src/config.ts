/**
 * Loading and validating the config.
 *
 * A module config (path or URL) is imported by every process, so functions in it (custom
 * `heartbeat`) work everywhere; its default export is the config. An object config exists
 * only in the primary: workers receive it as JSON over IPC, so it cannot carry functions.
 * Reloads re-import the module with a cache-busting query (`?reload=<n>`); each reload keeps
 * one more module instance in the primary's cache (nginx's master re-reads files the same way).
 * A `.json` file is read and parsed instead (a JSON document is the config object; keys
 * `__proto__`, `constructor` and `prototype` are refused at any depth).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseJsonRefusingKeys, resolveConfig, type ResolvedConfig } from './deps.js'
import { RuntimeError } from './errors.js'
import type { ConfigSource } from './types.js'

/** app-level validation run after core's (RunOptions.validate); gets core's result too */
export type Validator = (raw: Readonly<Record<string, unknown>>, config: ResolvedConfig) => void

/** where accepted but doubtful config input is reported (the primary's logger) */
export type WarningSink = (message: string) => void

export interface LoadedConfig {
  readonly raw: Readonly<Record<string, unknown>>
  readonly config: ResolvedConfig
}

/** The directory of a file: config module (for paths inside the config), else undefined. */
export function configDir(source: ConfigSource | undefined): string | undefined {
  const url = configUrl(source)
  return url?.protocol === 'file:' ? dirname(fileURLToPath(url)) : undefined
}

/** A module source as a file: (or other) URL; undefined for an object config. */
export function configUrl(source: ConfigSource | undefined): URL | undefined {
  if (source instanceof URL) return source
  if (typeof source !== 'string') return undefined
  if (/^[a-z][a-z0-9+.-]+:/i.test(source) && !isAbsolute(source)) return new URL(source)
  return pathToFileURL(resolve(source))
}

/** Imports a config module's default export. `bust` forces a fresh module instance. */
export async function importConfig(url: URL, bust?: number): Promise<Record<string, unknown>> {
  const where = url.protocol === 'file:' ? fileURLToPath(url) : url.href
  if (url.protocol === 'file:' && !existsSync(where)) {
    throw new RuntimeError('RT_ERR_CONFIG_LOAD', `config file not found: ${where}`)
  }
  const target = new URL(url.href)
  if (bust !== undefined) target.searchParams.set('reload', String(bust))
  let cfg: unknown
  try {
    cfg = url.pathname.endsWith('.json') ? readJson(where) : ((await import(target.href)) as { default?: unknown }).default
  } catch (cause) {
    throw new RuntimeError('RT_ERR_CONFIG_LOAD', `cannot load config ${where}: ${errorMessage(cause)}`, { cause })
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw new RuntimeError('RT_ERR_CONFIG_INVALID', `config ${where}: the default export must be the config object`)
  }
  return cfg as Record<string, unknown>
}

function readJson(file: string): unknown {
  return parseJsonRefusingKeys(readFileSync(file, 'utf8'))
}

/** Validates with core's resolveConfig; failures become RT_ERR_CONFIG_INVALID (cause kept). */
export function validateConfig(raw: Record<string, unknown>, where: string, extra?: Validator, warn?: WarningSink): LoadedConfig {
  try {
    const config = resolveConfig(raw, warn)
    extra?.(raw, config)
    return { raw, config }
  } catch (cause) {
    throw new RuntimeError('RT_ERR_CONFIG_INVALID', `invalid config ${where}: ${errorMessage(cause)}`, { cause })
  }
}

/** Loads (module) or takes (object) the config and validates it. */
export async function loadConfig(source: ConfigSource | undefined, bust?: number, extra?: Validator, warn?: WarningSink): Promise<LoadedConfig> {
  const url = configUrl(source)
  if (url) return validateConfig(await importConfig(url, bust), describe(url), extra, warn)
  if (source === undefined) return validateConfig({}, '(none)', extra, warn)
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new RuntimeError('RT_ERR_INVALID_OPTION', 'config: expected a module path, a URL or an object')
  }
  return validateConfig(source as Record<string, unknown>, '(object)', extra, warn)
}

function describe(url: URL): string {
  return url.protocol === 'file:' ? fileURLToPath(url) : url.href
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
