/**
 * UDP (RFC 768) with the IPv4 pseudo-header checksum.
 *
 * - Length field >= 8 and <= the bytes present (the IP payload); bytes beyond the UDP length are
 *   not UDP payload.
 * - Checksum 0 means "none" (`checksumOk` is null). A computed checksum of 0 is sent as 0xffff
 *   (RFC 768: "If the computed checksum is zero, it is transmitted as all ones").
 */
import { allocBytes, readU16, writeU16 } from './bytes.js';
import { onesComplementSum, pseudoHeaderSum } from './checksum.js';
import { IpProtocol } from './ether-type.js';
import type { Ipv4 } from './ipv4-address.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const UDP_HEADER_LENGTH = 8;

export class UdpView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
  ) {}

  /** `end` is the end of the IP payload; the UDP length must fit inside it. */
  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<UdpView> {
    const have = end - offset;
    if (have < UDP_HEADER_LENGTH) return truncated('udp', have, UDP_HEADER_LENGTH, offset);
    const length = readU16(bytes, offset + 4);
    if (length < UDP_HEADER_LENGTH)
      return fail('udp', 'bad-length', offset + 4, `UDP length ${length} is below the 8-byte header`);
    if (length > have)
      return fail(
        'udp',
        'bad-length',
        offset + 4,
        `UDP length ${length} exceeds the ${have} bytes of IP payload`,
      );
    return ok(new UdpView(bytes, offset));
  }

  get srcPort(): number {
    return readU16(this.bytes, this.offset);
  }
  get dstPort(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get length(): number {
    return readU16(this.bytes, this.offset + 4);
  }
  get checksum(): number {
    return readU16(this.bytes, this.offset + 6);
  }
  get payloadOffset(): number {
    return this.offset + UDP_HEADER_LENGTH;
  }
  /** End of the datagram (offset + UDP length) in `bytes`. */
  get end(): number {
    return this.offset + this.length;
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + UDP_HEADER_LENGTH, this.end);
  }
  /** null when the sender sent no checksum (0); otherwise whether it verifies over the pseudo-header. */
  checksumOk(src: Ipv4, dst: Ipv4): boolean | null {
    if (this.checksum === 0) return null;
    const len = this.length;
    return (
      onesComplementSum(
        this.bytes,
        this.offset,
        this.offset + len,
        pseudoHeaderSum(src, dst, IpProtocol.udp, len),
      ) === 0xffff
    );
  }
}

export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
}

export interface ParsedUdp {
  readonly repr: UdpRepr;
  readonly payload: Uint8Array;
  /** null: no checksum was sent. */
  readonly checksumOk: boolean | null;
}

/** With `pseudo` given, a wrong (non-zero) checksum is an error. */
export function parseUdp(bytes: Uint8Array, pseudo?: { src: Ipv4; dst: Ipv4 }): WireResult<ParsedUdp> {
  const view = UdpView.check(bytes);
  if (!view.ok) return view;
  const v = view.value;
  const checksumOk = pseudo ? v.checksumOk(pseudo.src, pseudo.dst) : null;
  if (checksumOk === false)
    return fail(
      'udp',
      'bad-checksum',
      6,
      `UDP checksum 0x${v.checksum.toString(16).padStart(4, '0')} is wrong`,
    );
  return ok({ repr: { srcPort: v.srcPort, dstPort: v.dstPort }, payload: v.payload, checksumOk });
}

/**
 * Writes the 8-byte header at `o`; the payload must already be at `o + 8`. With `pseudo`, computes
 * the checksum (0 becomes 0xffff); without, sends 0 (allowed for IPv4, and what RFC 7348 recommends
 * for the outer UDP header of VXLAN).
 */
export function writeUdpHeader(
  b: Uint8Array,
  o: number,
  repr: UdpRepr,
  payloadLength: number,
  pseudo?: { src: Ipv4; dst: Ipv4 },
): void {
  const length = UDP_HEADER_LENGTH + payloadLength;
  if (length > 0xffff) throw new Error(`UDP length ${length} exceeds 65535`);
  writeU16(b, o, repr.srcPort);
  writeU16(b, o + 2, repr.dstPort);
  writeU16(b, o + 4, length);
  writeU16(b, o + 6, 0);
  if (pseudo) {
    const sum = onesComplementSum(
      b,
      o,
      o + length,
      pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.udp, length),
    );
    const checksum = ~sum & 0xffff;
    writeU16(b, o + 6, checksum === 0 ? 0xffff : checksum);
  }
}

export function emitUdp(repr: UdpRepr, payload: Uint8Array, pseudo?: { src: Ipv4; dst: Ipv4 }): Uint8Array {
  const out = allocBytes(UDP_HEADER_LENGTH + payload.length);
  out.set(payload, UDP_HEADER_LENGTH);
  writeUdpHeader(out, 0, repr, payload.length, pseudo);
  return out;
}
