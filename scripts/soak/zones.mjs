// Reads a running server's shared-memory zones from outside, for the soak scripts and tests:
// a worker's environment names each zone's inherited fd slot (CHECKUPS_ZONES), and
// /proc/<pid>/fd/<slot> opens the same memory, which @checkups/shm maps again. Only the dict
// zones' diagnostics are read (SharedDict#stats takes the zone lock for a moment, as any
// worker does). Linux only. The fds opened here are closed before returning; the mappings stay
// valid while this process lives.
import { closeSync, openSync, readFileSync } from 'node:fs'
import { attachFd, ZONES_ENV } from '@checkups/shm'
import { SharedDict } from '@checkups/shdict'

/** name → SharedDict for every dict zone of the server whose worker has pid `workerPid` */
export function attachServerZones(workerPid, names = ['config', 'state', 'mutex', 'locks']) {
  const env = readFileSync(`/proc/${workerPid}/environ`, 'utf8').split('\0')
  const raw = env.find((e) => e.startsWith(`${ZONES_ENV}=`))?.slice(ZONES_ENV.length + 1)
  if (!raw) throw new Error(`process ${workerPid} has no ${ZONES_ENV}`)
  const out = new Map()
  for (const d of JSON.parse(raw)) {
    if (!names.includes(d.name)) continue
    const fd = openSync(`/proc/${workerPid}/fd/${d.slot}`, 'r+')
    try {
      out.set(d.name, SharedDict.attach(attachFd(fd)))
    } finally {
      closeSync(fd)
    }
  }
  return out
}

/** name → { entries, usedBytes } of each attached zone */
export function zoneUsage(zones) {
  const out = {}
  for (const [name, dict] of zones) {
    const { entries, usedBytes } = dict.stats()
    out[name] = { entries, usedBytes }
  }
  return out
}
