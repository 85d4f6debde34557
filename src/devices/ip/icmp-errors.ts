/**
 * ICMP error messages (RFC 792) as an IP node sends them, and in ping's words. `icmpErrorAbout`
 * builds the message about an offending packet, or refuses where RFC 1812 4.3.2.7 forbids an
 * error: never about an ICMP error, a non-first fragment, or a packet to or from a broadcast,
 * multicast or unspecified address. The quote is the IP header plus the first 8 bytes of its
 * payload (RFC 792). Routing the message back is the node's (`IpNode.sendIcmpError`).
 */
import { emitIcmp, IcmpType, IpProtocol, type Ipv4, type Ipv4View } from '../../wire/index.js';

/** What `icmpErrorAbout` asks of the node's interfaces: whether an address is one of their subnets' broadcast. */
export interface BroadcastDomain {
  isBroadcast(ip: Ipv4): boolean;
}

/**
 * The ICMP error of `type` and `code` about `offending` (with `nextHopMtu` for "fragmentation
 * needed"), or null when none may be sent. `interfaces` are the sending node's: a packet to or
 * from one of their broadcast addresses gets no error.
 */
export function icmpErrorAbout(
  offending: Ipv4View,
  type: number,
  code: number,
  nextHopMtu: number,
  interfaces: readonly BroadcastDomain[],
): Uint8Array | null {
  const src = offending.src;
  if (offending.fragmentOffset !== 0) return null;
  if (
    src === 0 ||
    src === 0xffff_ffff ||
    src >>> 28 === 0xe ||
    offending.dst >>> 28 === 0xe ||
    offending.dst === 0xffff_ffff
  )
    return null;
  if (interfaces.some((i) => i.isBroadcast(offending.dst) || i.isBroadcast(src))) return null;
  if (offending.protocol === IpProtocol.icmp) {
    const t = offending.bytes[offending.payloadOffset];
    if (t !== undefined && t !== IcmpType.echoRequest && t !== IcmpType.echoReply && t !== 13 && t !== 14)
      return null;
  }
  const quoteEnd = Math.min(offending.end, offending.payloadOffset + 8);
  const quoted = offending.bytes.slice(offending.offset, quoteEnd);
  return type === IcmpType.destinationUnreachable
    ? emitIcmp({ kind: 'destination-unreachable', code, nextHopMtu, quoted })
    : type === IcmpType.timeExceeded
      ? emitIcmp({ kind: 'time-exceeded', code, quoted })
      : emitIcmp({ kind: 'other', type, code, restOfHeader: 0, data: quoted });
}

const UNREACHABLE_TEXT: Record<number, string> = {
  0: 'Destination Net Unreachable',
  1: 'Destination Host Unreachable',
  2: 'Destination Protocol Unreachable',
  3: 'Destination Port Unreachable',
  4: 'Frag needed',
  13: 'Packet filtered',
};

/** An ICMP error in ping's words: `Destination Host Unreachable`, `Time to live exceeded`, `Frag needed (mtu = 1400)`. */
export function icmpErrorText(type: number, code: number, nextHopMtu: number): string {
  if (type === IcmpType.timeExceeded) return 'Time to live exceeded';
  if (type === IcmpType.destinationUnreachable)
    return (
      (UNREACHABLE_TEXT[code] ?? `Destination unreachable (code ${code})`) +
      (code === 4 ? ` (mtu = ${nextHopMtu})` : '')
    );
  return `ICMP type ${type} code ${code}`;
}
