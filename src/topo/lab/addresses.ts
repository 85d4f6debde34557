/**
 * Which addresses an interface can have. A lab that gives an interface one of the others builds
 * and then loses every packet without a word, so the lab checker refuses it and says why:
 *
 * - IPv4 (RFC 1122 3.2.1.3): not 0.0.0.0/8 ("this host/network", a source only while a host
 *   learns its address), not 127.0.0.0/8 (loopback never leaves a host), not 224.0.0.0/4
 *   (multicast: a group), not 240.0.0.0/4 (class E, reserved), not 255.255.255.255 (the limited
 *   broadcast, RFC 919), and not the network or the broadcast address of its own subnet (host part
 *   all zeros or all ones, RFC 919/922), except on /31 (RFC 3021) and /32, which have neither.
 * - MAC (IEEE 802): unicast, so the I/G bit (the first octet's lowest bit) is clear; broadcast
 *   ff:ff:ff:ff:ff:ff is one group address; all zeros is no station.
 */
import {
  type Cidr,
  cidrBroadcast,
  cidrNetwork,
  formatCidr,
  formatIpv4,
  formatMac,
  type Ipv4,
  isGroupMac,
  MAC_BROADCAST,
  MAC_ZERO,
  type Mac,
} from '../../wire/index.js';

/** Blocks no interface's address may come from, in the order the checker names them (RFC 1122 3.2.1.3). */
export const SPECIAL_BLOCKS: readonly { readonly cidr: Cidr; readonly what: string }[] = [
  { cidr: { address: 0x0000_0000, prefixLength: 8 }, what: '"this network"' },
  { cidr: { address: 0x7f00_0000, prefixLength: 8 }, what: 'loopback' },
  { cidr: { address: 0xe000_0000, prefixLength: 4 }, what: 'multicast' },
  { cidr: { address: 0xf000_0000, prefixLength: 4 }, what: 'class E' },
];

const RFC1122 = 'RFC 1122 3.2.1.3';

/** Why `ip` cannot be an interface's address, or undefined if it can; `subnet` is the interface's prefix. */
export function interfaceAddressProblem(ip: Ipv4, subnet?: Cidr): string | undefined {
  const a = formatIpv4(ip);
  if (ip === 0)
    return `${a} is the unspecified address ("this host", a source only while a host learns its own), not an interface's (${RFC1122})`;
  if (ip >>> 24 === 0) return `${a} is in 0.0.0.0/8 ("this network"), not an interface's (${RFC1122})`;
  if (ip >>> 24 === 127)
    return `${a} is a loopback address (127.0.0.0/8): it never leaves a host, so no interface has it (${RFC1122})`;
  if (ip >>> 28 === 0xe) return `${a} is a multicast address (224.0.0.0/4), not an interface's`;
  if (ip === 0xffff_ffff)
    return `${a} is the limited broadcast address, not an interface's (RFC 919, ${RFC1122})`;
  if (ip >>> 28 === 0xf)
    return `${a} is a reserved class E address (240.0.0.0/4), not an interface's (${RFC1122})`;
  // A /31 (RFC 3021) or /32 has no network or broadcast address; a /0 is refused elsewhere as no subnet.
  if (subnet === undefined || subnet.prefixLength > 30 || subnet.prefixLength === 0) return undefined;
  const net = formatCidr({ address: cidrNetwork(subnet), prefixLength: subnet.prefixLength });
  if (ip === cidrNetwork(subnet))
    return `${a} is the network address of ${net} (host part all zeros), not an interface's (${RFC1122})`;
  if (ip === cidrBroadcast(subnet))
    return `${a} is the broadcast address of ${net} (host part all ones), not an interface's (RFC 919, RFC 922)`;
  return undefined;
}

/** Why `mac` cannot be an interface's own address (IEEE 802: a station address is unicast), or undefined. */
export function interfaceMacProblem(mac: Mac): string | undefined {
  const m = formatMac(mac);
  if (mac === MAC_BROADCAST) return `${m} is the broadcast address, not an interface's (IEEE 802)`;
  if (isGroupMac(mac)) return `${m} is a group address (I/G bit set, IEEE 802), not an interface's`;
  if (mac === MAC_ZERO) return `${m} is all zeros, not an interface's (IEEE 802)`;
  return undefined;
}

/** The special block `subnet` overlaps (shares an address with), if any. */
export function overlappingSpecialBlock(subnet: Cidr): { cidr: Cidr; what: string } | undefined {
  return SPECIAL_BLOCKS.find((b) => cidrsOverlap(b.cidr, subnet));
}

/** Two prefixes overlap when the shorter one contains the other's network address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  return (
    cidrNetwork({ address: a.address, prefixLength: shorter }) ===
    cidrNetwork({ address: b.address, prefixLength: shorter })
  );
}
