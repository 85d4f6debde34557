/**
 * ICMP errors crossing a NAT (RFC 5508 4.2, RFC 3022 4.3): an error quotes the offending packet's
 * IPv4 header and its first 8 transport bytes, so a NAT that rewrote that packet must rewrite the
 * quote too, or the host behind it cannot match the error to its flow (and the address it hides
 * leaks out). These helpers find the quote, and rewrite one of its addresses (with the quoted
 * port or echo identifier) and the outer header's address:
 *
 * - the quoted IPv4 header checksum is updated (RFC 1624);
 * - the quoted UDP checksum too (its 8 bytes are quoted; zero, "none", stays zero), and the quoted
 *   ICMP echo checksum (it covers the identifier); a quoted TCP checksum lies past the 8 quoted
 *   bytes unless the quote is longer, and is updated only when it is there (as Linux does);
 * - the ICMP error's own checksum covers the quote: it is verified before anything is rewritten
 *   (an error that fails it is not translated, RFC 5508 REQ-3) and computed again after.
 */
import {
  IcmpType,
  IpProtocol,
  type Ipv4,
  incrementalChecksumUpdate,
  internetChecksum,
  onesComplementSum,
  readU16,
  readU32,
  writeU16,
  writeU32,
} from '../../wire/index.js';

/** Where an ICMP error's quoted datagram sits in the packet, and what it says. */
export interface IcmpErrorQuote {
  /** Offset of the ICMP header. */
  readonly icmp: number;
  /** Offset of the quoted IPv4 header. */
  readonly inner: number;
  /** Offset of the quoted transport header. */
  readonly l4: number;
  readonly protocol: number;
  readonly src: Ipv4;
  readonly dst: Ipv4;
  /** The quote holds ports (TCP/UDP) or an echo identifier, from a first fragment. */
  readonly hasPorts: boolean;
}

/** ICMP types that quote the offending datagram (RFC 792). */
function quotesDatagram(type: number): boolean {
  return (
    type === IcmpType.destinationUnreachable ||
    type === IcmpType.sourceQuench ||
    type === IcmpType.redirect ||
    type === IcmpType.timeExceeded ||
    type === IcmpType.parameterProblem
  );
}

/**
 * The quote of `packet` (exactly one IPv4 packet) when it is an unfragmented ICMP error whose
 * checksum verifies and whose quote holds a whole IPv4 header; undefined otherwise.
 */
export function icmpErrorQuote(packet: Uint8Array): IcmpErrorQuote | undefined {
  const ihl = (packet[0]! & 0x0f) * 4;
  if (packet[9] !== IpProtocol.icmp || (readU16(packet, 6) & 0x3fff) !== 0) return undefined;
  const end = Math.min(packet.length, readU16(packet, 2));
  const inner = ihl + 8;
  if (end < inner + 20 || !quotesDatagram(packet[ihl]!)) return undefined;
  if (onesComplementSum(packet, ihl, end) !== 0xffff) return undefined;
  const innerIhl = (packet[inner]! & 0x0f) * 4;
  if (packet[inner]! >>> 4 !== 4 || innerIhl < 20 || end < inner + innerIhl) return undefined;
  const protocol = packet[inner + 9]!;
  const l4 = inner + innerIhl;
  const firstFragment = (readU16(packet, inner + 6) & 0x1fff) === 0;
  const echo =
    protocol === IpProtocol.icmp &&
    (packet[l4] === IcmpType.echoRequest || packet[l4] === IcmpType.echoReply);
  const hasPorts =
    firstFragment && end >= l4 + 8 && (protocol === IpProtocol.tcp || protocol === IpProtocol.udp || echo);
  return {
    icmp: ihl,
    inner,
    l4,
    protocol,
    src: readU32(packet, inner + 12),
    dst: readU32(packet, inner + 16),
    hasPorts,
  };
}

/** Where the quoted port of `side` sits (an echo's identifier for either side); -1 if none. */
function quotedPortAt(q: IcmpErrorQuote, side: 'src' | 'dst'): number {
  if (!q.hasPorts) return -1;
  if (q.protocol === IpProtocol.icmp) return q.l4 + 4;
  return q.l4 + (side === 'src' ? 0 : 2);
}

/** The quoted source or destination port (or echo identifier); -1 if the quote has none. */
export function quotedPort(packet: Uint8Array, q: IcmpErrorQuote, side: 'src' | 'dst'): number {
  const at = quotedPortAt(q, side);
  return at < 0 ? -1 : readU16(packet, at);
}

/** Replaces the 32-bit word at `at`, updating the checksum at `sumAt` for it (RFC 1624). */
function replaceAddress(p: Uint8Array, at: number, addr: Ipv4, sumAt: number): void {
  const old = readU32(p, at);
  let sum = readU16(p, sumAt);
  sum = incrementalChecksumUpdate(sum, old >>> 16, addr >>> 16);
  sum = incrementalChecksumUpdate(sum, old & 0xffff, addr & 0xffff);
  writeU16(p, sumAt, sum);
  writeU32(p, at, addr);
}

/**
 * Rewrites the quoted datagram's `side` address to `addr` and, when `port` is given and the quote
 * holds one, its port (or echo identifier) of that side; fixes the quoted checksums and the ICMP
 * error's own. The outer header is left to `rewriteOuterAddress`.
 */
export function rewriteQuoted(
  p: Uint8Array,
  q: IcmpErrorQuote,
  side: 'src' | 'dst',
  addr: Ipv4,
  port?: number,
): void {
  const addrAt = q.inner + (side === 'src' ? 12 : 16);
  const oldAddr = readU32(p, addrAt);
  replaceAddress(p, addrAt, addr, q.inner + 10);
  const portAt = port === undefined ? -1 : quotedPortAt(q, side);
  const oldPort = portAt < 0 ? 0 : readU16(p, portAt);
  if (portAt >= 0) writeU16(p, portAt, port!);
  const end = Math.min(p.length, readU16(p, 2));
  // The quoted transport checksum: UDP's and TCP's cover the addresses and ports, ICMP echo's the identifier.
  const sumAt =
    q.protocol === IpProtocol.udp
      ? q.l4 + 6
      : q.protocol === IpProtocol.tcp
        ? q.l4 + 16
        : q.protocol === IpProtocol.icmp && q.hasPorts
          ? q.l4 + 2
          : -1;
  const firstFragment = (readU16(p, q.inner + 6) & 0x1fff) === 0;
  if (sumAt >= 0 && firstFragment && end >= sumAt + 2) {
    let sum = readU16(p, sumAt);
    if (!(q.protocol === IpProtocol.udp && sum === 0)) {
      if (q.protocol !== IpProtocol.icmp) {
        sum = incrementalChecksumUpdate(sum, oldAddr >>> 16, addr >>> 16);
        sum = incrementalChecksumUpdate(sum, oldAddr & 0xffff, addr & 0xffff);
      }
      if (portAt >= 0) sum = incrementalChecksumUpdate(sum, oldPort, port!);
      if (q.protocol === IpProtocol.udp && sum === 0) sum = 0xffff;
      writeU16(p, sumAt, sum);
    }
  }
  writeU16(p, q.icmp + 2, 0);
  writeU16(p, q.icmp + 2, internetChecksum(p, q.icmp, end));
}

/** Rewrites the outer source (`at` 12) or destination (16) of an ICMP packet, fixing the IPv4 header checksum (ICMP's does not cover it). */
export function rewriteOuterAddress(p: Uint8Array, at: 12 | 16, addr: Ipv4): void {
  replaceAddress(p, at, addr, 10);
}
