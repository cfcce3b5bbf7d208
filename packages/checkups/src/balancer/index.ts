/** Balancer per mode: `wrr` → smooth weighted round-robin; the hash modes → consistent hash. */
import type { Mode } from '../config/types.js'
import { createConsistentHash } from './chash.js'
import type { BalancerFactory } from './types.js'
import { createRoundRobin } from './wrr.js'

export type { Balancer, BalancerFactory, BalancerPeer } from './types.js'
export { RoundRobin, createRoundRobin } from './wrr.js'
export { ConsistentHash, createConsistentHash } from './chash.js'
export { hash32 } from './hash32.js'
export { hashKeyOf, type RequestLike, type HashKeyOptions } from './key.js'

export function balancerFor(mode: Mode): BalancerFactory {
  return mode === 'wrr' ? createRoundRobin : createConsistentHash
}
