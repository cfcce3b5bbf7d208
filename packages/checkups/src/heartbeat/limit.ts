/**
 * Bounded concurrency: runs `fn` over `items` with at most `limit` in flight, results in input
 * order. `fn` must not throw (probes return err results instead); a throw is passed to
 * `onError` and yields its value.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>,
  onError: (item: T, err: unknown) => R): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  async function lane(): Promise<void> {
    while (next < items.length) {
      const i = next++
      const item = items[i] as T
      try {
        out[i] = await fn(item)
      } catch (e) {
        out[i] = onError(item, e)
      }
    }
  }
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane)
  await Promise.all(lanes)
  return out
}
