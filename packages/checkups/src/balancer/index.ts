/**
 * Balancer per mode: `wrr` → smooth weighted round-robin; the hash modes → consistent hash;
 * `least_conn` → weighted least in-flight; `p2c` → power of two choices by latency cost × in-flight.
 */
import type { Mode } from '../config/types.js'
import { createConsistentHash } from './chash.js'
import type { BalancerFactory } from './types.js'
import { createRoundRobin } from './wrr.js'
import { createLeastConn } from './least-conn.js'
import { createPowerOfTwo } from './p2c.js'

export type { Balancer, BalancerFactory, BalancerPeer } from './types.js'
export { RoundRobin, createRoundRobin } from './wrr.js'
export { ConsistentHash, createConsistentHash, MIN_POINTS, POINTS_PER_WEIGHT } from './chash.js'
export { hash32 } from './hash32.js'
export { hashKeyOf, isHashMode, type RequestLike, type HashKeyOptions } from './key.js'
export { LeastConn, createLeastConn } from './least-conn.js'
export { PowerOfTwo, createPowerOfTwo } from './p2c.js'
export { LoadBoard, PeerLoad, DECAY_MS } from './load.js'

export function balancerFor(mode: Mode): BalancerFactory {
  switch (mode) {
    case 'wrr': return createRoundRobin
    case 'least_conn': return createLeastConn
    case 'p2c': return createPowerOfTwo
    default: return createConsistentHash
  }
}
