/**
 * Source NAT with port translation (NAPT, RFC 3022 2.2) on one interface of a router, as a border
 * does for traffic leaving the overlay: a packet going out gets the public address as its source,
 * and its TCP/UDP source port or ICMP echo identifier is replaced by one the NAT allocates; the
 * mapping is remembered, and a packet coming back to the public address and that port is
 * translated back to the inside address and port before it is routed.
 *
 * Checksums are updated incrementally (RFC 1624): the IPv4 header's, and the TCP or UDP checksum
 * over the pseudo-header (a UDP checksum of zero, "none", stays zero, RFC 768); ICMP's checksum
 * covers the identifier only. Fragments and protocols other than TCP, UDP and ICMP echo pass
 * untranslated and are counted. Mappings never expire (a simulation runs for minutes).
 *
 * ICMP errors about a translated flow are translated with it (RFC 5508 4.2, see nat-icmp.ts): one
 * coming back for the public address has its quoted source address and port restored to the inside
 * ones; one an inside node sends about a reply it received has its quoted destination address and
 * port made public again, and leaves from the public address. Both NATs do this.
 */
import {
  allocBytes,
  formatIpv4,
  IcmpType,
  IpProtocol,
  type Ipv4,
  incrementalChecksumUpdate,
  readU16,
  readU32,
  writeU16,
  writeU32,
} from '../../wire/index.js';
import {
  type IcmpErrorQuote,
  icmpErrorQuote,
  quotedPort,
  rewriteOuterAddress,
  rewriteQuoted,
} from './nat-icmp.js';

export interface NatMapping {
  readonly protocol: number;
  readonly insideIp: Ipv4;
  readonly insidePort: number;
  readonly publicPort: number;
}

export interface NatCounters {
  translatedOut: number;
  /** Packets of new flows refused a mapping because every public port was taken. */
  exhausted: number;
  translatedIn: number;
  untranslatable: number;
  noMapping: number;
}

/** The first port (or ICMP identifier) handed out. */
const FIRST_PORT = 1024;

export class SourceNat {
  private readonly out = new Map<string, NatMapping>();
  private readonly back = new Map<string, NatMapping>();
  private nextPort = new Map<number, number>();
  readonly counters: NatCounters = {
    translatedOut: 0,
    exhausted: 0,
    translatedIn: 0,
    untranslatable: 0,
    noMapping: 0,
  };

  constructor(
    /** The interface the NAT sits on. */
    readonly iface: string,
    readonly publicIp: Ipv4,
  ) {}

  /** Where the port of a TCP/UDP packet or the identifier of an ICMP echo sits, relative to the L4 start; -1 if none. */
  private static portOffset(packet: Uint8Array, l4: number, protocol: number, outbound: boolean): number {
    if (protocol === IpProtocol.tcp || protocol === IpProtocol.udp)
      return packet.length >= l4 + 8 ? (outbound ? 0 : 2) : -1;
    if (protocol === IpProtocol.icmp && packet.length >= l4 + 8) {
      const type = packet[l4]!;
      if (type === (outbound ? IcmpType.echoRequest : IcmpType.echoReply)) return 4;
    }
    return -1;
  }

  /**
   * Translates a packet leaving by the NAT's interface, in place (`packet` is the router's own copy,
   * exactly one IPv4 packet). Returns false when it cannot be translated (it is sent as it is).
   * `ownError`: an ICMP error the NAT's router itself sends, whose source address it keeps.
   */
  translateOut(packet: Uint8Array, ownError = false): boolean {
    const q = icmpErrorQuote(packet);
    if (q !== undefined) return this.translateErrorOut(packet, q, ownError);
    const ihl = (packet[0]! & 0x0f) * 4;
    const protocol = packet[9]!;
    const fragmented = (readU16(packet, 6) & 0x3fff) !== 0;
    const at = fragmented ? -1 : SourceNat.portOffset(packet, ihl, protocol, true);
    if (at < 0) {
      this.counters.untranslatable++;
      return false;
    }
    const insideIp = readU32(packet, 12);
    const insidePort = readU16(packet, ihl + at);
    const key = `${protocol}/${insideIp}/${insidePort}`;
    let m = this.out.get(key);
    if (m === undefined) {
      const publicPort = this.allocate(protocol);
      if (publicPort < 0) {
        this.counters.exhausted++;
        return false;
      }
      m = { protocol, insideIp, insidePort, publicPort };
      this.out.set(key, m);
      this.back.set(`${protocol}/${publicPort}`, m);
    }
    rewrite(packet, ihl, protocol, 12, this.publicIp, ihl + at, m.publicPort);
    this.counters.translatedOut++;
    return true;
  }

  /**
   * A packet arriving on the NAT's interface for the public address: the inside packet it stands
   * for (a new buffer), or null when no mapping matches (the router then treats it as its own).
   */
  translateIn(packet: Uint8Array, offset: number, end: number): Uint8Array | null {
    const copy = allocBytes(end - offset);
    copy.set(packet.subarray(offset, end));
    const q = icmpErrorQuote(copy);
    if (q !== undefined) return this.translateErrorIn(copy, q);
    const ihl = (copy[0]! & 0x0f) * 4;
    const protocol = copy[9]!;
    if ((readU16(copy, 6) & 0x3fff) !== 0) return null;
    const at = SourceNat.portOffset(copy, ihl, protocol, false);
    if (at < 0) return null;
    const m = this.back.get(`${protocol}/${readU16(copy, ihl + at)}`);
    if (m === undefined) {
      this.counters.noMapping++;
      return null;
    }
    rewrite(copy, ihl, protocol, 16, m.insideIp, ihl + at, m.insidePort);
    this.counters.translatedIn++;
    return copy;
  }

  /** An inside node's ICMP error about a packet that came in translated: the quote made public again. */
  private translateErrorOut(packet: Uint8Array, q: IcmpErrorQuote, ownError: boolean): boolean {
    const m = this.out.get(`${q.protocol}/${q.dst}/${quotedPort(packet, q, 'dst')}`);
    if (m === undefined) {
      this.counters.untranslatable++;
      return false;
    }
    rewriteQuoted(packet, q, 'dst', this.publicIp, m.publicPort);
    if (!ownError) rewriteOuterAddress(packet, 12, this.publicIp);
    this.counters.translatedOut++;
    return true;
  }

  /** An ICMP error about a packet that left translated: the quote and the destination made inside again. */
  private translateErrorIn(copy: Uint8Array, q: IcmpErrorQuote): Uint8Array | null {
    const m =
      q.src === this.publicIp ? this.back.get(`${q.protocol}/${quotedPort(copy, q, 'src')}`) : undefined;
    if (m === undefined) {
      this.counters.noMapping++;
      return null;
    }
    rewriteQuoted(copy, q, 'src', m.insideIp, m.insidePort);
    rewriteOuterAddress(copy, 16, m.insideIp);
    this.counters.translatedIn++;
    return copy;
  }

  /** The next free public port (or identifier) of `protocol`, or -1 when all 64,512 are in use. */
  private allocate(protocol: number): number {
    let port = this.nextPort.get(protocol) ?? FIRST_PORT;
    for (let tries = 0; tries <= 65535 - FIRST_PORT; tries++) {
      const next = port >= 65535 ? FIRST_PORT : port + 1;
      if (!this.back.has(`${protocol}/${port}`)) {
        this.nextPort.set(protocol, next);
        return port;
      }
      port = next;
    }
    return -1;
  }

  /** The public ports (or ICMP identifiers) that stand for `insidePort` of `protocol`, any inside address. */
  publicPortsFor(protocol: number, insidePort: number): number[] {
    const out: number[] = [];
    for (const m of this.out.values())
      if (m.protocol === protocol && m.insidePort === insidePort) out.push(m.publicPort);
    return out;
  }

  /** The mappings, as rows for `show`. */
  table(): { protocol: number; inside: string; public: string }[] {
    return [...this.out.values()].map((m) => ({
      protocol: m.protocol,
      inside: `${formatIpv4(m.insideIp)}:${m.insidePort}`,
      public: `${formatIpv4(this.publicIp)}:${m.publicPort}`,
    }));
  }
}

const hi = (w: number) => w >>> 16;
const lo = (w: number) => w & 0xffff;

/** Writes `addr` at `addrAt` of the IPv4 header and updates its checksum (RFC 1624); returns the old address. */
function replaceAddress(p: Uint8Array, addrAt: number, addr: Ipv4): Ipv4 {
  const oldAddr = readU32(p, addrAt);
  let ipSum = readU16(p, 10);
  ipSum = incrementalChecksumUpdate(ipSum, hi(oldAddr), hi(addr));
  ipSum = incrementalChecksumUpdate(ipSum, lo(oldAddr), lo(addr));
  writeU16(p, 10, ipSum);
  writeU32(p, addrAt, addr);
  return oldAddr;
}

/** Replaces the address at `addrAt` and the 16-bit port at `portAt`, fixing the IPv4 and L4 checksums (RFC 1624). */
function rewrite(
  p: Uint8Array,
  ihl: number,
  protocol: number,
  addrAt: number,
  addr: Ipv4,
  portAt: number,
  port: number,
): void {
  const oldPort = readU16(p, portAt);
  const oldAddr = replaceAddress(p, addrAt, addr);
  writeU16(p, portAt, port);
  // Where the L4 checksum sits: TCP 16, UDP 6, ICMP 2.
  const sumAt = ihl + (protocol === IpProtocol.tcp ? 16 : protocol === IpProtocol.udp ? 6 : 2);
  let sum = readU16(p, sumAt);
  if (protocol === IpProtocol.udp && sum === 0) return; // no checksum sent
  if (protocol !== IpProtocol.icmp) {
    sum = incrementalChecksumUpdate(sum, hi(oldAddr), hi(addr));
    sum = incrementalChecksumUpdate(sum, lo(oldAddr), lo(addr));
  }
  sum = incrementalChecksumUpdate(sum, oldPort, port);
  if (protocol === IpProtocol.udp && sum === 0) sum = 0xffff;
  writeU16(p, sumAt, sum);
}

export interface StaticNatCounters {
  translatedOut: number;
  translatedIn: number;
}

/**
 * Static 1:1 NAT (RFC 2663 4.1.1, "basic NAT", one address for one) on one interface of a router,
 * as a cloud's elastic IP: a packet leaving by the interface from an inside address gets its public
 * address as its source, any protocol, ports untouched; a packet arriving on the interface for a
 * public address is given the inside address as its destination before it is routed. Checksums are
 * updated incrementally (RFC 1624): the IPv4 header's, and TCP's and UDP's over the pseudo-header.
 *
 * An ICMP error's quote is translated too: an error arriving for a public address about a packet
 * that left from it gets the inside address in its quote; an error leaving about a packet sent to an
 * inside address gets the public one. Such an error from an inside node without a public address of
 * its own (a router on the way in) leaves from the public address it quotes, as Linux's NAT does.
 */
export class StaticNat {
  private readonly byPublic = new Map<Ipv4, Ipv4>();
  private readonly byInside = new Map<Ipv4, Ipv4>();
  readonly counters: StaticNatCounters = { translatedOut: 0, translatedIn: 0 };

  constructor(
    /** The interface the NAT sits on. */
    readonly iface: string,
  ) {}

  get size(): number {
    return this.byPublic.size;
  }

  add(publicIp: Ipv4, insideIp: Ipv4): void {
    this.remove(publicIp);
    const before = this.byInside.get(insideIp);
    if (before !== undefined) this.byPublic.delete(before);
    this.byPublic.set(publicIp, insideIp);
    this.byInside.set(insideIp, publicIp);
  }

  remove(publicIp: Ipv4): boolean {
    const inside = this.byPublic.get(publicIp);
    if (inside === undefined) return false;
    this.byPublic.delete(publicIp);
    this.byInside.delete(inside);
    return true;
  }

  /** The inside address `publicIp` stands for. */
  insideOf(publicIp: Ipv4): Ipv4 | undefined {
    return this.byPublic.get(publicIp);
  }

  /** The public address of `insideIp`. */
  publicOf(insideIp: Ipv4): Ipv4 | undefined {
    return this.byInside.get(insideIp);
  }

  /**
   * Translates a packet leaving by the NAT's interface, in place; false when neither its source nor
   * (for an ICMP error) its quoted destination has a public address. `ownError`: an ICMP error the
   * NAT's router itself sends, whose source address it keeps.
   */
  translateOut(packet: Uint8Array, ownError = false): boolean {
    const publicIp = this.byInside.get(readU32(packet, 12));
    const q = icmpErrorQuote(packet);
    const quotedPublic = q === undefined ? undefined : this.byInside.get(q.dst);
    if (quotedPublic !== undefined) {
      rewriteQuoted(packet, q!, 'dst', quotedPublic);
      if (!ownError) rewriteOuterAddress(packet, 12, publicIp ?? quotedPublic);
      this.counters.translatedOut++;
      return true;
    }
    if (publicIp === undefined) return false;
    rewriteAddress(packet, 12, publicIp);
    this.counters.translatedOut++;
    return true;
  }

  /** A packet arriving for a public address: the inside packet (a new buffer), or null when it has none. */
  translateIn(packet: Uint8Array, offset: number, end: number): Uint8Array | null {
    const inside = this.byPublic.get(readU32(packet, offset + 16));
    if (inside === undefined) return null;
    const copy = allocBytes(end - offset);
    copy.set(packet.subarray(offset, end));
    const q = icmpErrorQuote(copy);
    const quotedInside = q === undefined ? undefined : this.byPublic.get(q.src);
    if (quotedInside !== undefined) rewriteQuoted(copy, q!, 'src', quotedInside);
    rewriteAddress(copy, 16, inside);
    this.counters.translatedIn++;
    return copy;
  }

  table(): { public: string; inside: string }[] {
    return [...this.byPublic].map(([p, i]) => ({ public: formatIpv4(p), inside: formatIpv4(i) }));
  }
}

/** Replaces the address at `addrAt` (12 source, 16 destination), fixing the IPv4 checksum and a TCP or UDP one (RFC 1624). */
function rewriteAddress(p: Uint8Array, addrAt: number, addr: Ipv4): void {
  const ihl = (p[0]! & 0x0f) * 4;
  const protocol = p[9]!;
  const oldAddr = replaceAddress(p, addrAt, addr);
  // Only the first fragment carries the L4 header; ICMP's checksum does not cover the addresses.
  if ((readU16(p, 6) & 0x1fff) !== 0) return;
  if (protocol !== IpProtocol.tcp && protocol !== IpProtocol.udp) return;
  const sumAt = ihl + (protocol === IpProtocol.tcp ? 16 : 6);
  if (p.length < sumAt + 2) return;
  let sum = readU16(p, sumAt);
  if (protocol === IpProtocol.udp && sum === 0) return; // no checksum sent
  sum = incrementalChecksumUpdate(sum, hi(oldAddr), hi(addr));
  sum = incrementalChecksumUpdate(sum, lo(oldAddr), lo(addr));
  if (protocol === IpProtocol.udp && sum === 0) sum = 0xffff;
  writeU16(p, sumAt, sum);
}
