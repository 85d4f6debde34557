/**
 * ICMPv4 (RFC 792), with the messages a router and a host need: echo request/reply, destination
 * unreachable (with the RFC 1191 next-hop MTU for code 4, fragmentation needed), time exceeded,
 * and every other type passed through with its raw "rest of header" word.
 *
 * Error messages quote the offending datagram's IPv4 header plus at least its first 8 payload
 * bytes (RFC 792; RFC 1812 4.3.2.3 allows more). `parseQuotedDatagram` reads that quote even though
 * its total length field describes a datagram longer than the bytes quoted.
 */
import { allocBytes, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { internetChecksum, onesComplementSum } from './checksum.js';
import { IpProtocol } from './ether-type.js';
import { IPV4_MIN_HEADER, type Ipv4Option, walkIpv4Options } from './ipv4.js';
import { type Ipv4, readIpv4 } from './ipv4-address.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const ICMP_HEADER_LENGTH = 8;

export const IcmpType = {
  echoReply: 0,
  destinationUnreachable: 3,
  sourceQuench: 4, // deprecated by RFC 6633, still decoded: it quotes a datagram
  redirect: 5,
  echoRequest: 8,
  timeExceeded: 11,
  parameterProblem: 12,
} as const;

export const UnreachableCode = {
  network: 0,
  host: 1,
  protocol: 2,
  port: 3,
  fragmentationNeeded: 4,
  sourceRouteFailed: 5,
  administrativelyProhibited: 13,
} as const;

export const TimeExceededCode = {
  ttlExceeded: 0,
  reassemblyTimeExceeded: 1,
} as const;

export class IcmpView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
    /** End of the ICMP message in `bytes` (the IP payload's end). */
    readonly end: number,
  ) {}

  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<IcmpView> {
    if (end - offset < ICMP_HEADER_LENGTH) return truncated('icmp', end - offset, ICMP_HEADER_LENGTH, offset);
    return ok(new IcmpView(bytes, offset, end));
  }

  get type(): number {
    return this.bytes[this.offset]!;
  }
  get code(): number {
    return this.bytes[this.offset + 1]!;
  }
  get checksum(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get checksumOk(): boolean {
    return onesComplementSum(this.bytes, this.offset, this.end) === 0xffff;
  }
  /** Echo identifier (bytes 4-5). */
  get id(): number {
    return readU16(this.bytes, this.offset + 4);
  }
  /** Echo sequence number (bytes 6-7). */
  get seq(): number {
    return readU16(this.bytes, this.offset + 6);
  }
  /** Next-hop MTU of a fragmentation-needed message (RFC 1191: bytes 6-7). */
  get nextHopMtu(): number {
    return readU16(this.bytes, this.offset + 6);
  }
  /** Bytes 4-7 as one word. */
  get restOfHeader(): number {
    return readU32(this.bytes, this.offset + 4);
  }
  get bodyLength(): number {
    return this.end - this.offset - ICMP_HEADER_LENGTH;
  }
  /** Echo data, or the quoted datagram of an error message. */
  get body(): Uint8Array {
    return this.bytes.subarray(this.offset + ICMP_HEADER_LENGTH, this.end);
  }
  get isError(): boolean {
    const t = this.type;
    return (
      t === IcmpType.destinationUnreachable ||
      t === IcmpType.sourceQuench ||
      t === IcmpType.timeExceeded ||
      t === IcmpType.parameterProblem ||
      t === IcmpType.redirect
    );
  }
}

export type IcmpRepr =
  | {
      readonly kind: 'echo-request' | 'echo-reply';
      readonly id: number;
      readonly seq: number;
      readonly data: Uint8Array;
    }
  | {
      readonly kind: 'destination-unreachable';
      readonly code: number;
      readonly nextHopMtu: number;
      readonly quoted: Uint8Array;
    }
  | { readonly kind: 'time-exceeded'; readonly code: number; readonly quoted: Uint8Array }
  | {
      readonly kind: 'other';
      readonly type: number;
      readonly code: number;
      readonly restOfHeader: number;
      readonly data: Uint8Array;
    };

export function icmpReprFromView(v: IcmpView): IcmpRepr {
  switch (v.type) {
    case IcmpType.echoRequest:
    case IcmpType.echoReply:
      if (v.code === 0) {
        return {
          kind: v.type === IcmpType.echoRequest ? 'echo-request' : 'echo-reply',
          id: v.id,
          seq: v.seq,
          data: v.body,
        };
      }
      break;
    case IcmpType.destinationUnreachable:
      if (readU16(v.bytes, v.offset + 4) === 0)
        return { kind: 'destination-unreachable', code: v.code, nextHopMtu: v.nextHopMtu, quoted: v.body };
      break;
    case IcmpType.timeExceeded:
      if (v.restOfHeader === 0) return { kind: 'time-exceeded', code: v.code, quoted: v.body };
      break;
  }
  return { kind: 'other', type: v.type, code: v.code, restOfHeader: v.restOfHeader, data: v.body };
}

/** Checks and reads an ICMP message; a wrong checksum is an error unless `verifyChecksum` is false. */
export function parseIcmp(
  bytes: Uint8Array,
  options: { verifyChecksum?: boolean } = {},
): WireResult<IcmpRepr> {
  const view = IcmpView.check(bytes);
  if (!view.ok) return view;
  if (options.verifyChecksum !== false && !view.value.checksumOk) {
    return fail(
      'icmp',
      'bad-checksum',
      2,
      `ICMP checksum 0x${view.value.checksum.toString(16).padStart(4, '0')} is wrong`,
    );
  }
  return ok(icmpReprFromView(view.value));
}

export function emitIcmp(repr: IcmpRepr): Uint8Array {
  let type: number;
  let code = 0;
  let rest = 0;
  let body: Uint8Array;
  switch (repr.kind) {
    case 'echo-request':
    case 'echo-reply':
      type = repr.kind === 'echo-request' ? IcmpType.echoRequest : IcmpType.echoReply;
      rest = ((repr.id & 0xffff) << 16) | (repr.seq & 0xffff);
      body = repr.data;
      break;
    case 'destination-unreachable':
      type = IcmpType.destinationUnreachable;
      code = repr.code;
      rest = repr.nextHopMtu & 0xffff;
      body = repr.quoted;
      break;
    case 'time-exceeded':
      type = IcmpType.timeExceeded;
      code = repr.code;
      body = repr.quoted;
      break;
    case 'other':
      type = repr.type;
      code = repr.code;
      rest = repr.restOfHeader;
      body = repr.data;
      break;
  }
  const out = allocBytes(ICMP_HEADER_LENGTH + body.length);
  out[0] = type;
  out[1] = code;
  writeU32(out, 4, rest >>> 0);
  out.set(body, ICMP_HEADER_LENGTH);
  writeU16(out, 2, internetChecksum(out));
  return out;
}

/** What an ICMP error quotes of the original datagram. Transport fields are present when the quote reaches them. */
export interface QuotedDatagram {
  readonly ihl: number;
  readonly totalLength: number;
  readonly id: number;
  readonly df: boolean;
  readonly mf: boolean;
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  /** The quoted header is complete, so its checksum can be verified. */
  readonly checksumOk: boolean;
  readonly src: Ipv4;
  readonly dst: Ipv4;
  readonly options: Ipv4Option[];
  /** The quoted bytes after the IP header (normally 8: enough for UDP/TCP ports, or an echo's id/seq). */
  readonly transport: Uint8Array;
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** UDP length and checksum (the 8 quoted bytes hold the whole UDP header). */
  readonly udpLength?: number;
  readonly udpChecksum?: number;
  /** TCP sequence number (bytes 4-7 of the TCP header). */
  readonly tcpSeq?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly icmpChecksum?: number;
}

/** Reads an ICMP error's quote: a complete IPv4 header followed by the first payload bytes. */
export function parseQuotedDatagram(quoted: Uint8Array): WireResult<QuotedDatagram> {
  // Offsets in errors count from the start of the ICMP message (the quote begins 8 bytes in).
  if (quoted.length < IPV4_MIN_HEADER) {
    return fail(
      'icmp',
      'truncated',
      ICMP_HEADER_LENGTH + quoted.length,
      `quoted datagram: need ${IPV4_MIN_HEADER} bytes, have ${quoted.length}`,
    );
  }
  if (quoted[0]! >>> 4 !== 4)
    return fail(
      'icmp',
      'bad-quoted-version',
      ICMP_HEADER_LENGTH,
      `quoted datagram has IP version ${quoted[0]! >>> 4}`,
    );
  const headerLength = (quoted[0]! & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER || headerLength > quoted.length) {
    return fail(
      'icmp',
      'bad-quoted-ihl',
      ICMP_HEADER_LENGTH,
      `quoted datagram IHL ${headerLength / 4} does not fit the ${quoted.length} quoted bytes`,
    );
  }
  // Offsets of the quote count from the ICMP message's start, 8 bytes before the quote.
  const walked = walkIpv4Options(
    quoted.subarray(IPV4_MIN_HEADER, headerLength),
    ICMP_HEADER_LENGTH + IPV4_MIN_HEADER,
  );
  if (!walked.ok)
    return fail(
      'icmp',
      'bad-quoted-options',
      walked.error.offset,
      `quoted datagram: ${walked.error.message}`,
    );
  const protocol = quoted[9]!;
  const transport = quoted.subarray(headerLength);
  const base = {
    ihl: headerLength / 4,
    totalLength: readU16(quoted, 2),
    id: readU16(quoted, 4),
    df: (quoted[6]! & 0x40) !== 0,
    mf: (quoted[6]! & 0x20) !== 0,
    fragmentOffset: readU16(quoted, 6) & 0x1fff,
    ttl: quoted[8]!,
    protocol,
    checksum: readU16(quoted, 10),
    checksumOk: onesComplementSum(quoted, 0, headerLength) === 0xffff,
    src: readIpv4(quoted, 12),
    dst: readIpv4(quoted, 16),
    options: walked.value,
    transport,
  };
  if (protocol === IpProtocol.udp && transport.length >= 8) {
    return ok({
      ...base,
      srcPort: readU16(transport, 0),
      dstPort: readU16(transport, 2),
      udpLength: readU16(transport, 4),
      udpChecksum: readU16(transport, 6),
    });
  }
  if (protocol === IpProtocol.tcp && transport.length >= 8) {
    return ok({
      ...base,
      srcPort: readU16(transport, 0),
      dstPort: readU16(transport, 2),
      tcpSeq: readU32(transport, 4),
    });
  }
  if (protocol === IpProtocol.icmp && transport.length >= 4) {
    return ok({
      ...base,
      icmpType: transport[0]!,
      icmpCode: transport[1]!,
      icmpChecksum: readU16(transport, 2),
    });
  }
  return ok(base);
}
