/**
 * The one JSON parser for untrusted text (admin request bodies, state files): JSON.parse with
 * a reviver that refuses `__proto__`, `constructor` and `prototype` keys at any depth. The
 * reviver sees every key JSON.parse creates, including the own `__proto__` data property it
 * would otherwise hand to code that spreads it.
 */

/** Keys refused anywhere in untrusted JSON. */
export const FORBIDDEN_JSON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** Thrown by parseJsonRefusingKeys for a refused key (malformed JSON throws SyntaxError). */
export class ForbiddenJsonKey extends Error {
  constructor(readonly key: string) {
    super(`forbidden key "${key}"`)
    this.name = 'ForbiddenJsonKey'
  }
}

/**
 * Parses `text`, refusing forbidden keys.
 * @throws SyntaxError for malformed JSON, ForbiddenJsonKey for a refused key
 * @example parseJsonRefusingKeys('{"cluster":[]}') // → { cluster: [] }
 */
export function parseJsonRefusingKeys(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => {
    if (FORBIDDEN_JSON_KEYS.has(key)) throw new ForbiddenJsonKey(key)
    return value
  })
}
