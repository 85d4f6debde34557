/**
 * Flow hashes: one unsigned 32-bit number per flow, so that every packet of a flow takes the same
 * path (ECMP next hop, VXLAN/GENEVE source port, NVGRE FlowID) and arrives in order, while
 * different flows spread evenly: the hash-based next-hop selection of RFC 2991 and RFC 2992. The
 * fields are those of a 5-tuple: addresses, protocol and, for TCP, UDP and SCTP packets that are
 * not fragments, the ports (only the first fragment carries them, so a fragmented datagram hashes
 * on its 3-tuple, every fragment alike). Fields that vary within a flow (TTL, identification,
 * checksums, payload) are not hashed.
 *
 * Each field is mixed as a 32-bit word by the MurmurHash3 block step and the result goes through
 * its fmix32 finalizer, so flows that differ in one bit (adjacent source ports) land on unrelated
 * hashes and `hash % n` is even for any n. Never throws, reads only bytes that exist (short or
 * garbage input hashes the fields present) and allocates nothing.
 */
import { readU16, readU32 } from './bytes.js';
import { EtherType, IpProtocol, isVlanTpid } from './ether-type.js';
import type { Ipv4 } from './ipv4-address.js';

const SEED = 0x5f3759df;
const SCTP = 132;
/** RFC 7348 5 (and RFC 6335 6): the source port comes from the dynamic/private range 49152..65535. */
const DYNAMIC_PORT_BASE = 49152;
const DYNAMIC_PORT_COUNT = 16384;

/** The MurmurHash3 (x86, 32-bit) block step: mixes the word `k` into the state `h`. */
function mix(h: number, k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x, 0x1b873593);
  const y = h ^ x;
  return (Math.imul((y << 13) | (y >>> 19), 5) + 0xe6546b64) | 0;
}

/** The MurmurHash3 finalizer: every input bit affects every output bit. */
function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const hasPorts = (protocol: number): boolean =>
  protocol === IpProtocol.tcp || protocol === IpProtocol.udp || protocol === SCTP;

/**
 * Mixes an IPv4 packet's 5-tuple (at `o`, its bytes ending at `end` <= bytes.length) into `h`:
 * nothing unless a version-4 header with a valid IHL is present in full.
 */
function mixIpv4(h: number, bytes: Uint8Array, o: number, end: number): number {
  if (!(o >= 0 && end - o >= 20)) return h; // also false for NaN
  const vihl = bytes[o]!;
  const headerLength = (vihl & 0x0f) * 4;
  if (vihl >>> 4 !== 4 || headerLength < 20) return h;
  const protocol = bytes[o + 9]!;
  let x = mix(h, readU32(bytes, o + 12));
  x = mix(x, readU32(bytes, o + 16));
  x = mix(x, protocol);
  // Ports only in a whole datagram (offset 0, MF clear) whose L4 header starts within the total length.
  const l4 = o + headerLength;
  const last = Math.min(end, o + readU16(bytes, o + 2));
  if (hasPorts(protocol) && (readU16(bytes, o + 6) & 0x3fff) === 0 && last - l4 >= 4)
    x = mix(x, readU32(bytes, l4));
  return x;
}

/**
 * The flow hash of an Ethernet frame: destination and source MAC, the EtherType after any
 * 802.1Q/802.1ad tags (the VLAN IDs are not hashed), and for IPv4 its 5-tuple (see `ipv4FlowHash`).
 */
export function innerFlowHash(frame: Uint8Array): number {
  const n = frame.length;
  let h = SEED;
  if (n >= 6) h = mix(mix(h, readU32(frame, 0)), readU16(frame, 4));
  if (n >= 12) h = mix(mix(h, readU32(frame, 6)), readU16(frame, 10));
  if (n < 14) return fmix32(h);
  let type = readU16(frame, 12);
  let o = 14;
  while (isVlanTpid(type)) {
    if (n < o + 4) return fmix32(h);
    type = readU16(frame, o + 2);
    o += 4;
  }
  h = mix(h, type);
  if (type === EtherType.ipv4) h = mixIpv4(h, frame, o, n);
  return fmix32(h);
}

/**
 * The flow hash of the IPv4 packet at `offset` in `bytes` (the header's IHL respected, nothing read
 * at or past `end` nor past the total length): source, destination and protocol, and the ports of
 * a TCP, UDP or SCTP datagram that is not a fragment. A packet too short for its 20-byte header,
 * or not version 4, hashes to one constant.
 */
export function ipv4FlowHash(bytes: Uint8Array, offset: number, end: number): number {
  return fmix32(mixIpv4(SEED, bytes, offset, Math.min(end, bytes.length)));
}

/**
 * What `ipv4FlowHash` gives the unfragmented packet `src -> dst` of `protocol` whose payload (the L4
 * header onwards) is `l4`, without building it: for a node choosing a path for a packet it is
 * about to send, the same choice a router would make for it.
 */
export function ipv4TupleHash(src: Ipv4, dst: Ipv4, protocol: number, l4: Uint8Array): number {
  let h = mix(mix(mix(SEED, src), dst), protocol & 0xff);
  if (hasPorts(protocol) && l4.length >= 4) h = mix(h, readU32(l4, 0));
  return fmix32(h);
}

/** A UDP source port for a tunnel carrying the flow: 49152 + (hash mod 16384), RFC 7348 5's range. */
export function flowSourcePort(hash: number): number {
  return DYNAMIC_PORT_BASE + ((hash >>> 0) % DYNAMIC_PORT_COUNT);
}
