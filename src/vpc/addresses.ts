/**
 * Address rules of a VPC subnet, as the usual clouds apply them, and the allocators the service
 * uses to hand out instance IPs and MACs (src/store/ calls them inside the transaction that creates
 * the instance). The reserved-address rule is written here only.
 *
 * - Reserved in every subnet (AWS, "Subnet CIDR blocks", VPC User Guide): the network address,
 *   the first host (.1, the VPC router: here the subnet's distributed anycast gateway), the
 *   second (.2, the DNS resolver), the third (.3, reserved for future use) and the broadcast
 *   address. Nothing else is ever reserved; everything between is allocatable.
 * - `firstFreeInstanceIp` gives the lowest allocatable address not in use: deterministic, so a
 *   replay of the same requests gives the same addresses.
 * - The fabric's own blocks (`FABRIC_BLOCKS`: its border, transit and peering links) are never a
 *   VPC's.
 * - MACs: locally administered unicast (IEEE 802: bit 1 of the first octet set, bit 0 clear),
 *   `02:76:6e` ("vn") followed by a 24-bit counter that the service never takes back, so no two
 *   instances fabric-wide ever share one, not even a deleted one's successor. Disjoint from the
 *   fabric generator's VMs (02:0s:...) and its anycast gateway MAC (02:ac:00:00:00:01).
 *
 * Pure functions; no state.
 */
import { ANYCAST_GATEWAY_MAC } from '../topo/fabric.js';
import {
  type Cidr,
  cidrBroadcast,
  cidrNetwork,
  formatIpv4,
  formatMac,
  type Ipv4,
  parseCidr,
  prefixMask,
} from '../wire/index.js';

/** The MAC every subnet's distributed gateway answers with (the fabric's anycast gateway MAC). */
export const GATEWAY_MAC = formatMac(ANYCAST_GATEWAY_MAC);

/**
 * Blocks the service fabric numbers its own links from inside the VRFs of a VPC: a VPC block may
 * not overlap them (validate.ts), as AWS keeps some ranges from VPCs, so that a VPC's addresses
 * never meet these in one routing table. apply.ts takes its bases from here.
 */
export const FABRIC_BLOCKS = {
  external: { cidr: '100.64.0.0/10', use: "the border's links to the internet" },
  transit: { cidr: '169.254.0.0/16', use: "the VRFs' transit addresses on their L3 VNI" },
  peering: { cidr: '198.18.0.0/15', use: 'the peering links' },
} as const;

/** Prefix lengths a VPC block and a subnet may have (AWS: /16 to /28). */
export const MIN_PREFIX = 16;
export const MAX_PREFIX = 28;

export type ReservedRole = 'network' | 'gateway' | 'dns' | 'future' | 'broadcast';

const ROLE_TEXT: Record<ReservedRole, string> = {
  network: 'the network address',
  gateway: "the subnet's gateway",
  dns: "the subnet's DNS resolver",
  future: 'reserved for future use',
  broadcast: 'the broadcast address',
};

function toCidr(c: string | Cidr): Cidr | undefined {
  return typeof c === 'string' ? parseCidr(c) : c;
}

/** The gateway address of a subnet (network + 1). */
export function gatewayAddress(c: string | Cidr): Ipv4 {
  const p = toCidr(c);
  if (p === undefined) throw new Error(`invalid CIDR "${String(c)}"`);
  return (cidrNetwork(p) + 1) >>> 0;
}

/** Why `ip` is never handed out in `cidr`, or undefined when it may be. */
export function reservedRole(cidr: string | Cidr, ip: Ipv4): ReservedRole | undefined {
  const c = toCidr(cidr);
  if (c === undefined) return undefined;
  const net = cidrNetwork(c);
  if (ip === net) return 'network';
  if (ip === cidrBroadcast(c)) return 'broadcast';
  if (ip === net + 1) return 'gateway';
  if (ip === net + 2) return 'dns';
  if (ip === net + 3) return 'future';
  return undefined;
}

export function reservedRoleText(role: ReservedRole): string {
  return ROLE_TEXT[role];
}

/** The reserved addresses of a subnet with their roles, in address order. */
export function reservedAddresses(cidr: string | Cidr): { ip: string; role: ReservedRole }[] {
  const c = toCidr(cidr);
  if (c === undefined) return [];
  const net = cidrNetwork(c);
  const out: { ip: string; role: ReservedRole }[] = [];
  for (const a of [net, net + 1, net + 2, net + 3, cidrBroadcast(c)]) {
    const role = reservedRole(c, a);
    if (role !== undefined && !out.some((o) => o.ip === formatIpv4(a))) out.push({ ip: formatIpv4(a), role });
  }
  return out;
}

/** The allocatable range of a subnet (network + 4 .. broadcast - 1); count 0 when there is none. */
export function allocatableAddresses(cidr: string | Cidr): { first: string; last: string; count: number } {
  const c = toCidr(cidr);
  if (c === undefined) throw new Error(`invalid CIDR "${String(cidr)}"`);
  const first = (cidrNetwork(c) + 4) >>> 0;
  const last = (cidrBroadcast(c) - 1) >>> 0;
  const count = Math.max(0, last - first + 1);
  return { first: formatIpv4(first), last: formatIpv4(last), count };
}

/** The lowest address an instance may have in `subnet` that is not in `used`; undefined when the subnet is full. */
export function firstFreeInstanceIp(subnet: Cidr, used: ReadonlySet<Ipv4>): Ipv4 | undefined {
  const network = cidrNetwork(subnet);
  const broadcast = cidrBroadcast(subnet);
  for (let ip = network + 4; ip < broadcast; ip++) if (!used.has(ip)) return ip;
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

/** Whether two prefixes share an address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const m = prefixMask(Math.min(a.prefixLength, b.prefixLength));
  return (a.address & m) >>> 0 === (b.address & m) >>> 0;
}

/** Whether `inner` lies entirely inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  if (inner.prefixLength < outer.prefixLength) return false;
  const m = prefixMask(outer.prefixLength);
  return (inner.address & m) >>> 0 === (outer.address & m) >>> 0;
}
