/**
 * Bounded concurrency for a round's probes, with two bounds:
 *
 * - `active`: probes doing work at once (connect/handshake in progress). A probe counts as
 *   active until it calls `release` (a socket probe: connected, request sent) or, for probes
 *   that cannot tell (redis, mysql, custom), for its first `slowAfterMs`; after that it is
 *   just waiting on the peer (a hanging one ends at its timeout) and gives its slot to the
 *   next probe. `active` also bounds the connects in progress a peer server sees at once,
 *   so its accept backlog does not overflow.
 * - `total`: probes in flight at all (= sockets / file descriptors held), slow ones included.
 *
 * So peers that hang until `timeout` do not hold back the rest of the round (the round lasts
 * about one timeout, not timeout × hangers / slots) while fd use stays bounded by `total`.
 * Starting is paced: at most `burst` probes start per turn of the event loop (the rest after
 * a `setImmediate`), so the thread running a round never blocks for more than one burst.
 * Results come back in input order. `fn` should not throw; a throw becomes `onError`'s value.
 */
export interface Bounds {
  active: number
  total: number
  slowAfterMs: number
  /** probes started per event-loop turn (absent = DEFAULT_BURST) */
  burst?: number
}

/** Probes started per event-loop turn: ~32 socket connects are ~1–2 ms of one core. */
export const DEFAULT_BURST = 32

export function mapBounded<T, R>(items: readonly T[], bounds: Bounds, fn: (item: T, release: () => void) => Promise<R>,
  onError: (item: T, err: unknown) => R): Promise<R[]> {
  const out = new Array<R>(items.length)
  const active = Math.max(1, bounds.active)
  const total = Math.max(active, bounds.total)
  const burst = Math.max(1, bounds.burst ?? DEFAULT_BURST)
  let next = 0
  let running = 0
  let inFlight = 0
  let left = items.length
  let resumeArmed = false
  return new Promise((resolve) => {
    if (left === 0) return resolve(out)
    const pump = (): void => {
      let started = 0
      while (next < items.length && running < active && inFlight < total) {
        if (started++ === burst) {
          if (!resumeArmed) { resumeArmed = true; setImmediate(() => { resumeArmed = false; pump() }) }
          return
        }
        start(next++)
      }
    }
    const start = (i: number): void => {
      running += 1
      inFlight += 1
      let counted = true
      const release = (): void => {
        if (!counted) return
        counted = false
        clearTimeout(slow)
        running -= 1
        pump()
      }
      const slow = setTimeout(release, bounds.slowAfterMs)
      const item = items[i] as T
      let p: Promise<R>
      try {
        p = fn(item, release)
      } catch (e) {
        p = Promise.reject(e)
      }
      p.then((v) => { out[i] = v }, (e) => { out[i] = onError(item, e) }).finally(() => {
        if (counted) { counted = false; clearTimeout(slow); running -= 1 }
        inFlight -= 1
        left -= 1
        if (left === 0) resolve(out)
        else pump()
      })
    }
    pump()
  })
}
