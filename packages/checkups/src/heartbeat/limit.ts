/**
 * Bounded concurrency for a round's probes, with two bounds:
 *
 * - `active`: probes doing work at once (connect/handshake in progress). A probe counts as
 *   active for its first `slowAfterMs`; after that it is just waiting on a peer that hangs
 *   (it will end at its timeout) and gives its slot to the next probe.
 * - `total`: probes in flight at all (= sockets / file descriptors held), slow ones included.
 *
 * So peers that hang until `timeout` do not hold back the rest of the round (the round lasts
 * about one timeout, not timeout × hangers / slots) while fd use stays bounded by `total`.
 * Results come back in input order. `fn` should not throw; a throw becomes `onError`'s value.
 */
export interface Bounds {
  active: number
  total: number
  slowAfterMs: number
}

export function mapBounded<T, R>(items: readonly T[], bounds: Bounds, fn: (item: T) => Promise<R>,
  onError: (item: T, err: unknown) => R): Promise<R[]> {
  const out = new Array<R>(items.length)
  const active = Math.max(1, bounds.active)
  const total = Math.max(active, bounds.total)
  let next = 0
  let running = 0
  let inFlight = 0
  let left = items.length
  return new Promise((resolve) => {
    if (left === 0) return resolve(out)
    const pump = (): void => {
      while (next < items.length && running < active && inFlight < total) start(next++)
    }
    const start = (i: number): void => {
      running += 1
      inFlight += 1
      let counted = true
      const slow = setTimeout(() => { counted = false; running -= 1; pump() }, bounds.slowAfterMs)
      const item = items[i] as T
      let p: Promise<R>
      try {
        p = fn(item)
      } catch (e) {
        p = Promise.reject(e)
      }
      p.then((v) => { out[i] = v }, (e) => { out[i] = onError(item, e) }).finally(() => {
        clearTimeout(slow)
        if (counted) running -= 1
        inFlight -= 1
        left -= 1
        if (left === 0) resolve(out)
        else pump()
      })
    }
    pump()
  })
}
