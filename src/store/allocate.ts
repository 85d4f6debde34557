/**
 * What the service hands out itself, with no compiler: instance addresses, MAC addresses,
 * elastic IPs and the hypervisor an instance runs on. Pure functions; the store calls them inside
 * the transaction that creates the object, so two creates never get the same answer.
 *
 * - Instance IPs follow the AWS rule: in a subnet, the network address, the first three after it
 *   (.1 the gateway, .2 DNS, .3 reserved for future use) and the broadcast address are never given
 *   to an instance. The lowest free address is taken (a /24's first instance gets .4).
 * - MACs are locally administered unicast (first octet 02: the U/L bit set, the group bit clear),
 *   `02:76:6e` ("vn") and a 24-bit counter that never goes back, so no two instances fabric-wide
 *   ever share one, not even a deleted one's successor.
 * - Elastic IPs: the lowest free address of the public pool, except its network and broadcast.
 * - Placement: the pinned hypervisor when the request names one; otherwise the least loaded
 *   (fewest instances, every tenant's, running or stopped: a stopped instance keeps its place), ties
 *   to the first in the configured list.
 */
import {
  type Cidr,
  cidrBroadcast,
  cidrContains,
  cidrNetwork,
  formatCidr,
  formatIpv4,
  type Ipv4,
} from '../wire/index.js';

/** Why an instance may not have this address in this subnet; undefined when it may. */
export function reservedReason(subnet: Cidr, ip: Ipv4): string | undefined {
  const text = formatIpv4(ip);
  const where = formatCidr({ address: cidrNetwork(subnet), prefixLength: subnet.prefixLength });
  if (!cidrContains(subnet, ip)) return `${text} is not inside the subnet's ${where}`;
  const network = cidrNetwork(subnet);
  const broadcast = cidrBroadcast(subnet);
  const offset = ip - network;
  if (offset === 0) return `${text} is the network address of ${where}`;
  if (ip === broadcast) return `${text} is the broadcast address of ${where}`;
  if (offset === 1) return `${text} is reserved for the subnet's gateway (.1 of ${where})`;
  if (offset === 2) return `${text} is reserved for DNS (.2 of ${where})`;
  if (offset === 3) return `${text} is reserved for future use (.3 of ${where})`;
  return undefined;
}

/** The lowest address an instance may have that is not in `used`; undefined when the subnet is full. */
export function firstFreeInstanceIp(subnet: Cidr, used: ReadonlySet<Ipv4>): Ipv4 | undefined {
  const network = cidrNetwork(subnet);
  const broadcast = cidrBroadcast(subnet);
  for (let ip = network + 4; ip < broadcast; ip++) if (!used.has(ip)) return ip;
  return undefined;
}

/** The lowest address of a public pool that is not in `used` (never its network or broadcast). */
export function firstFreePoolIp(pool: Cidr, used: ReadonlySet<Ipv4>): Ipv4 | undefined {
  const network = cidrNetwork(pool);
  const broadcast = cidrBroadcast(pool);
  const first = pool.prefixLength >= 31 ? network : network + 1;
  const last = pool.prefixLength >= 31 ? broadcast : broadcast - 1;
  for (let ip = first; ip <= last; ip++) if (!used.has(ip)) return ip;
  return undefined;
}

export const MAC_PREFIX = '02:76:6e';
export const MAC_COUNTER_LIMIT = 0xff_ffff;

/** The n-th service MAC (n from 1): `02:76:6e:00:00:01`, ... */
export function serviceMac(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAC_COUNTER_LIMIT) throw new RangeError(`MAC counter ${n}`);
  const hex = n.toString(16).padStart(6, '0');
  return `${MAC_PREFIX}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

/** The hypervisor with the fewest instances, ties to the first listed; undefined for an empty list. */
export function leastLoaded(
  hypervisors: readonly string[],
  load: ReadonlyMap<string, number>,
): string | undefined {
  let best: string | undefined;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (const h of hypervisors) {
    const n = load.get(h) ?? 0;
    if (n < bestLoad) {
      best = h;
      bestLoad = n;
    }
  }
  return best;
}
