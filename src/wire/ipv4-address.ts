/**
 * IPv4 addresses and CIDR prefixes. An address is a plain unsigned 32-bit number
 * (0 .. 2^32-1); a CIDR is an address with a prefix length (`192.168.0.1/24` keeps its host
 * bits, as an interface address does; `cidrNetwork` drops them).
 */
import { readU32, writeU32 } from './bytes.js';

export type Ipv4 = number;

export interface Cidr {
  readonly address: Ipv4;
  readonly prefixLength: number;
}

export const IPV4_ANY: Ipv4 = 0;
export const IPV4_BROADCAST: Ipv4 = 0xffff_ffff;

export const readIpv4 = readU32;
export const writeIpv4 = writeU32;

const OCTETS = Array.from({ length: 256 }, (_, i) => String(i));

export function formatIpv4(ip: Ipv4): string {
  return `${OCTETS[ip >>> 24]}.${OCTETS[(ip >>> 16) & 255]}.${OCTETS[(ip >>> 8) & 255]}.${OCTETS[ip & 255]}`;
}

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Formats the address stored at `b[o..o+4)` straight from the bytes. */
export function formatIpv4At(b: Uint8Array, o: number): string {
  return `${OCTETS[b[o]!]}.${OCTETS[b[o + 1]!]}.${OCTETS[b[o + 2]!]}.${OCTETS[b[o + 3]!]}`;
}

/** Strict dotted quad (no leading zeros, each octet 0..255); undefined otherwise. */
export function parseIpv4Address(text: string): Ipv4 | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    v = v * 256 + octet;
  }
  return v;
}

/** For literals in code and tests: throws on a malformed string. */
export function ip(text: string): Ipv4 {
  const v = parseIpv4Address(text);
  if (v === undefined) throw new Error(`invalid IPv4 address "${text}"`);
  return v;
}

/** Netmask of a prefix length: 24 -> 255.255.255.0. */
export function prefixMask(prefixLength: number): Ipv4 {
  return prefixLength <= 0 ? 0 : (0xffff_ffff << (32 - Math.min(prefixLength, 32))) >>> 0;
}

/** Prefix length of a contiguous netmask (255.255.255.0 -> 24); undefined if not contiguous. */
export function maskPrefixLength(mask: Ipv4): number | undefined {
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  return Math.clz32(inverted);
}

/** Parses `a.b.c.d/len`; with `strict`, host bits must be zero (a route, not an interface). */
export function parseCidr(text: string, options: { strict?: boolean } = {}): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIpv4Address(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (address === undefined || !/^(0|[1-9]\d?)$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > 32) return undefined;
  if (options.strict && (address & ~prefixMask(prefixLength)) >>> 0 !== 0) return undefined;
  return { address, prefixLength };
}

export function cidr(text: string): Cidr {
  const v = parseCidr(text);
  if (v === undefined) throw new Error(`invalid CIDR "${text}"`);
  return v;
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.address)}/${c.prefixLength}`;
}

export function cidrMask(c: Cidr): Ipv4 {
  return prefixMask(c.prefixLength);
}

export function cidrNetwork(c: Cidr): Ipv4 {
  return (c.address & prefixMask(c.prefixLength)) >>> 0;
}

export function cidrBroadcast(c: Cidr): Ipv4 {
  return (c.address | ~prefixMask(c.prefixLength)) >>> 0;
}

export function cidrContains(c: Cidr, ip: Ipv4): boolean {
  const m = prefixMask(c.prefixLength);
  return (ip & m) >>> 0 === (c.address & m) >>> 0;
}

/** The lecture's rule: two addresses are on the same subnet when `ip & mask` is equal. */
export function sameSubnet(a: Ipv4, b: Ipv4, prefixLength: number): boolean {
  const m = prefixMask(prefixLength);
  return (a & m) >>> 0 === (b & m) >>> 0;
}

/** Number of addresses in the prefix (2^(32-len)). */
export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefixLength);
}

export function isMulticastIpv4(ip: Ipv4): boolean {
  return ip >>> 28 === 0xe;
}
