/** Deep-freeze for resolved (freshly built) objects. Functions are left as the user gave them. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  for (const v of Object.values(value as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') deepFreeze(v)
  }
  return Object.freeze(value)
}
