/**
 * What the service hands out itself, with no compiler, beside the instance IPs and MACs of
 * src/vpc/addresses.ts (whose reserved-address rule `reservedReason` explains to the caller):
 * elastic IPs and the hypervisor an instance runs on. Pure functions; the store calls them inside
 * the transaction that creates the object, so two creates never get the same answer.
 *
 * - Instance IPs: the lowest free address (a /24's first instance gets .4); an address the request
 *   names is refused with the reason the rule reserves it (`reservedReason`).
 * - Elastic IPs: the lowest free address of the public pool, except its network and broadcast.
 * - Placement: the pinned hypervisor when the request names one; otherwise the least loaded
 *   (fewest instances, every tenant's, running or stopped: a stopped instance keeps its place), ties
 *   to the first in the configured list.
 */
import { type ReservedRole, reservedRole } from '../vpc/addresses.js';
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
  const role = reservedRole(subnet, ip);
  return role === undefined ? undefined : `${text} ${REASONS[role](where)}`;
}

/** How `reservedReason` says each reserved role of a subnet. */
const REASONS: Record<ReservedRole, (subnet: string) => string> = {
  network: (subnet) => `is the network address of ${subnet}`,
  broadcast: (subnet) => `is the broadcast address of ${subnet}`,
  gateway: (subnet) => `is reserved for the subnet's gateway (.1 of ${subnet})`,
  dns: (subnet) => `is reserved for DNS (.2 of ${subnet})`,
  future: (subnet) => `is reserved for future use (.3 of ${subnet})`,
};

/** The lowest address of a public pool that is not in `used` (never its network or broadcast). */
export function firstFreePoolIp(pool: Cidr, used: ReadonlySet<Ipv4>): Ipv4 | undefined {
  const network = cidrNetwork(pool);
  const broadcast = cidrBroadcast(pool);
  const first = pool.prefixLength >= 31 ? network : network + 1;
  const last = pool.prefixLength >= 31 ? broadcast : broadcast - 1;
  for (let ip = first; ip <= last; ip++) if (!used.has(ip)) return ip;
  return undefined;
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
