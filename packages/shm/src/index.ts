/**
 * @checkups/shm — shared memory zones as real SharedArrayBuffers.
 *
 * The primary `createZone()`s each zone; children inherit the zone fds through the
 * child's stdio table (`zoneStdio`) and `attachInheritedZones()` maps them again. Every
 * process then holds its own SharedArrayBuffer over the same physical pages, so
 * `Atomics` operations are exact across processes.
 */
import { loadAddon } from './addon.js'
import { ShmError } from './errors.js'
import { parseSize } from './size.js'

export { ShmError, ShmErrorCodes, type ShmErrorCode } from './errors.js'
export { parseSize } from './size.js'
export { pidAlive } from './pid.js'

export interface Zone {
  readonly name: string
  readonly fd: number
  readonly size: number
  readonly buffer: SharedArrayBuffer
}

/** Creates a zone of `size` bytes (rounded up to a page) in shared memory. */
export function createZone(name: string, size: number | string): Zone {
  const bytes = Math.ceil(Math.max(parseSize(size), 4096) / 4096) * 4096
  const { fd, buffer } = loadAddon().create(name, bytes)
  return { name, fd, size: bytes, buffer }
}

/** Maps an inherited zone fd. */
export function attachFd(fd: number): SharedArrayBuffer {
  return loadAddon().attach(fd)
}

export const ZONES_ENV = 'CHECKUPS_ZONES'
/** The first child stdio slot used for zone fds (0-2 are stdio, 3 is cluster's IPC). */
export const FIRST_ZONE_SLOT = 4

interface ZoneDescriptor { name: string; slot: number; size: number }

/**
 * Builds what a child needs to inherit `zones`: extra stdio entries (the zone fds, starting
 * at slot 4) and the environment entry that names them.
 */
export function zoneStdio(zones: readonly Zone[]): { stdio: number[]; env: Record<string, string> } {
  const addon = loadAddon()
  const desc: ZoneDescriptor[] = zones.map((z, i) => {
    addon.clearCloexec(z.fd)
    return { name: z.name, slot: FIRST_ZONE_SLOT + i, size: z.size }
  })
  return { stdio: zones.map((z) => z.fd), env: { [ZONES_ENV]: JSON.stringify(desc) } }
}

/** In a child: maps every zone named in the environment. Returns name → buffer. */
export function attachInheritedZones(env: NodeJS.ProcessEnv = process.env): Map<string, SharedArrayBuffer> {
  const raw = env[ZONES_ENV]
  const out = new Map<string, SharedArrayBuffer>()
  if (!raw) return out
  let desc: ZoneDescriptor[]
  try {
    desc = JSON.parse(raw) as ZoneDescriptor[]
  } catch (cause) {
    throw new ShmError('SHM_ERR_ATTACH', `${ZONES_ENV} is not valid JSON`, { cause })
  }
  for (const d of desc) {
    const buf = attachFd(d.slot)
    if (buf.byteLength !== d.size) {
      throw new ShmError('SHM_ERR_ATTACH', `zone ${d.name}: inherited fd ${d.slot} has ${buf.byteLength} bytes, expected ${d.size}`)
    }
    out.set(d.name, buf)
  }
  return out
}

/** Closes a zone's fd in this process; its buffers stay valid. */
export function closeZoneFd(zone: Zone): void {
  loadAddon().closeFd(zone.fd)
}
