/**
 * The forwarding fast path: reads, into a caller-owned record and without allocating, the fields a
 * switch, router or VTEP decides on (MACs, VLAN, EtherType, IPv4 addresses/protocol/TTL, UDP ports,
 * VXLAN VNI and where the inner frame starts), applying the same length and format checks as the
 * views (`EthernetView`, `Ipv4View` incl. the option walk, `UdpView`, `VxlanView`). It does not
 * verify checksums (a router calls `Ipv4View.checksumOk` itself). On failure it returns the
 * `WireError` (allocated only then) so the caller can count the drop by its code.
 */
import { readU16 } from './bytes.js';
import { EtherType, IpProtocol, isVlanTpid } from './ether-type.js';
import { checkIpv4Options, IPV4_MIN_HEADER } from './ipv4.js';
import { readIpv4 } from './ipv4-address.js';
import { readMac } from './mac.js';
import type { WireError } from './result.js';
import { VXLAN_FLAG_I, VXLAN_PORT } from './vxlan.js';

export interface ForwardingKeys {
  dstMac: number;
  srcMac: number;
  /** VID of the outermost tag, or -1 when untagged. */
  vid: number;
  /** Number of VLAN tags. */
  tagCount: number;
  /** EtherType after the tags (or an 802.3 length). */
  etherType: number;
  l3Offset: number;
  /** IPv4 fields; meaningful only when `etherType` is 0x0800. */
  srcIp: number;
  dstIp: number;
  protocol: number;
  ttl: number;
  l4Offset: number;
  /** UDP ports, or -1. */
  srcPort: number;
  dstPort: number;
  /** VXLAN Network Identifier, or -1 when the frame is not VXLAN. */
  vni: number;
  /** Offset of the inner Ethernet frame of a VXLAN packet, or -1. */
  innerOffset: number;
}

export function newForwardingKeys(): ForwardingKeys {
  return {
    dstMac: 0,
    srcMac: 0,
    vid: -1,
    tagCount: 0,
    etherType: 0,
    l3Offset: 0,
    srcIp: 0,
    dstIp: 0,
    protocol: -1,
    ttl: 0,
    l4Offset: -1,
    srcPort: -1,
    dstPort: -1,
    vni: -1,
    innerOffset: -1,
  };
}

function error(layer: WireError['layer'], code: string, offset: number, message: string): WireError {
  return { layer, code, offset, message };
}

/** Fills `keys` from `frame`; returns null on success, or the first problem (offsets from the frame start). */
export function readForwardingKeys(
  frame: Uint8Array,
  keys: ForwardingKeys,
  vxlanPort = VXLAN_PORT,
): WireError | null {
  const n = frame.length;
  keys.vid = -1;
  keys.tagCount = 0;
  keys.protocol = -1;
  keys.l4Offset = -1;
  keys.srcPort = -1;
  keys.dstPort = -1;
  keys.vni = -1;
  keys.innerOffset = -1;
  if (n < 14) return error('ethernet', 'truncated', n, `ethernet: need 14 bytes, have ${n}`);
  keys.dstMac = readMac(frame, 0);
  keys.srcMac = readMac(frame, 6);
  let type = readU16(frame, 12);
  let o = 14;
  while (isVlanTpid(type)) {
    if (n < o + 4) return error('vlan', 'truncated', n, `vlan: need 4 bytes, have ${n - o}`);
    if (keys.tagCount === 0) keys.vid = readU16(frame, o) & 0x0fff;
    keys.tagCount++;
    type = readU16(frame, o + 2);
    o += 4;
  }
  keys.etherType = type;
  keys.l3Offset = o;
  if (type !== EtherType.ipv4) return null;
  // IPv4 (RFC 791): the checks of Ipv4View.check.
  if (n < o + IPV4_MIN_HEADER) return error('ipv4', 'truncated', n, `ipv4: need 20 bytes, have ${n - o}`);
  const vihl = frame[o]!;
  if (vihl >>> 4 !== 4) return error('ipv4', 'bad-version', o, `IP version ${vihl >>> 4} in an IPv4 packet`);
  const headerLength = (vihl & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER)
    return error('ipv4', 'bad-ihl', o, `IHL ${headerLength / 4} is below the minimum of 5`);
  if (n < o + headerLength)
    return error('ipv4', 'truncated', n, `ipv4: need ${headerLength} bytes, have ${n - o}`);
  const totalLength = readU16(frame, o + 2);
  if (totalLength < headerLength)
    return error(
      'ipv4',
      'bad-total-length',
      o + 2,
      `total length ${totalLength} is shorter than the ${headerLength}-byte header`,
    );
  if (o + totalLength > n)
    return error('ipv4', 'truncated', n, `total length ${totalLength} exceeds the ${n - o} bytes present`);
  if (headerLength > IPV4_MIN_HEADER) {
    const bad = checkIpv4Options(frame, o + IPV4_MIN_HEADER, o + headerLength);
    if (bad) return bad;
  }
  keys.ttl = frame[o + 8]!;
  keys.protocol = frame[o + 9]!;
  keys.srcIp = readIpv4(frame, o + 12);
  keys.dstIp = readIpv4(frame, o + 16);
  const l4 = o + headerLength;
  const end = o + totalLength;
  keys.l4Offset = l4;
  if (keys.protocol !== IpProtocol.udp || (readU16(frame, o + 6) & 0x3fff) !== 0) return null; // not UDP, or a fragment
  // UDP (RFC 768): the checks of UdpView.check.
  if (end < l4 + 8) return error('udp', 'truncated', end, `udp: need 8 bytes, have ${end - l4}`);
  const udpLength = readU16(frame, l4 + 4);
  if (udpLength < 8 || l4 + udpLength > end)
    return error(
      'udp',
      'bad-length',
      l4 + 4,
      `UDP length ${udpLength} does not fit the ${end - l4} bytes of IP payload`,
    );
  keys.srcPort = readU16(frame, l4);
  keys.dstPort = readU16(frame, l4 + 2);
  if (keys.dstPort !== vxlanPort) return null;
  // VXLAN (RFC 7348 5): the checks of VxlanView.check.
  const v = l4 + 8;
  if (l4 + udpLength < v + 8)
    return error('vxlan', 'truncated', l4 + udpLength, `vxlan: need 8 bytes, have ${l4 + udpLength - v}`);
  if ((frame[v]! & VXLAN_FLAG_I) === 0)
    return error('vxlan', 'missing-i-flag', v, 'VXLAN flags lack the I flag (0x08) that marks a valid VNI');
  keys.vni = (frame[v + 4]! << 16) | (frame[v + 5]! << 8) | frame[v + 6]!;
  keys.innerOffset = v + 8;
  return null;
}
