/**
 * GRE (RFC 2784 with the key and sequence extensions of RFC 2890) and NVGRE (RFC 7637).
 *
 *   C | R | K | S | Reserved0(9) | Ver(3) | Protocol Type(16)
 *   [Checksum(16) | Reserved1(16)]  if C
 *   [Key(32)]                       if K
 *   [Sequence Number(32)]           if S
 *
 * NVGRE is GRE with K = 1, C = S = 0, protocol 0x6558 (Transparent Ethernet Bridging), and the key
 * split into a 24-bit Virtual Subnet ID and an 8-bit FlowID.
 */
import { allocBytes, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { onesComplementSum } from './checksum.js';
import { EtherType } from './ether-type.js';
import { fail, ok, truncated, type WireResult } from './result.js';

const GRE_BASE = 4;

export class GreView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
    readonly end: number,
  ) {}

  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<GreView> {
    const have = end - offset;
    if (have < GRE_BASE) return truncated('gre', have, GRE_BASE, offset);
    const version = bytes[offset + 1]! & 7;
    if (version !== 0) {
      return fail(
        'gre',
        'unsupported-version',
        offset + 1,
        `GRE version ${version} (only version 0, RFC 2784, is decoded)`,
      );
    }
    const b0 = bytes[offset]!;
    // RFC 2784 2.3: bits 1-5 must be zero (RFC 2890 later gave bits 2 and 3 to K and S); with R,
    // s or Recur set the packet follows RFC 1701's layout, whose routing fields are not walked here.
    if (b0 & 0x4f) {
      return fail(
        'gre',
        'unsupported-flags',
        offset,
        `GRE flags 0x${b0.toString(16).padStart(2, '0')} use RFC 1701 routing or recursion bits`,
      );
    }
    const headerLength = GRE_BASE + (b0 & 0x80 ? 4 : 0) + (b0 & 0x20 ? 4 : 0) + (b0 & 0x10 ? 4 : 0);
    if (have < headerLength) return truncated('gre', have, headerLength, offset);
    return ok(new GreView(bytes, offset, end));
  }

  get checksumPresent(): boolean {
    return (this.bytes[this.offset]! & 0x80) !== 0;
  }
  get keyPresent(): boolean {
    return (this.bytes[this.offset]! & 0x20) !== 0;
  }
  get sequencePresent(): boolean {
    return (this.bytes[this.offset]! & 0x10) !== 0;
  }
  get version(): number {
    return this.bytes[this.offset + 1]! & 7;
  }
  get protocol(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  private get keyOffset(): number {
    return this.offset + GRE_BASE + (this.checksumPresent ? 4 : 0);
  }
  get key(): number | null {
    return this.keyPresent ? readU32(this.bytes, this.keyOffset) : null;
  }
  get sequence(): number | null {
    return this.sequencePresent ? readU32(this.bytes, this.keyOffset + (this.keyPresent ? 4 : 0)) : null;
  }
  /** GRE checksum covers the GRE header and payload (RFC 2784 2.5). */
  get checksumOk(): boolean | null {
    return this.checksumPresent ? onesComplementSum(this.bytes, this.offset, this.end) === 0xffff : null;
  }
  get headerLength(): number {
    return this.keyOffset - this.offset + (this.keyPresent ? 4 : 0) + (this.sequencePresent ? 4 : 0);
  }
  /** NVGRE shape: key present, carrying an Ethernet frame. */
  get isNvgre(): boolean {
    return this.keyPresent && this.protocol === EtherType.transparentEthernetBridging;
  }
  get vsid(): number {
    return (this.key ?? 0) >>> 8;
  }
  get flowId(): number {
    return (this.key ?? 0) & 0xff;
  }
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.payloadOffset, this.end);
  }
}

export const NVGRE_HEADER_LENGTH = 8;

export interface NvgreRepr {
  /** Virtual Subnet ID, 24 bits. */
  readonly vsid: number;
  readonly flowId: number;
}

export function parseNvgre(bytes: Uint8Array): WireResult<{ repr: NvgreRepr; payload: Uint8Array }> {
  const view = GreView.check(bytes);
  if (!view.ok) return view;
  const v = view.value;
  if (!v.isNvgre) {
    return fail(
      'gre',
      'not-nvgre',
      0,
      `GRE packet is not NVGRE (key ${v.keyPresent ? 'present' : 'absent'}, protocol 0x${v.protocol.toString(16)})`,
    );
  }
  return ok({ repr: { vsid: v.vsid, flowId: v.flowId }, payload: v.payload });
}

export function emitNvgre(repr: NvgreRepr, inner: Uint8Array): Uint8Array {
  if (!Number.isInteger(repr.vsid) || repr.vsid < 0 || repr.vsid > 0xff_ffff)
    throw new Error(`VSID ${repr.vsid} is not 0..16777215`);
  const out = allocBytes(NVGRE_HEADER_LENGTH + inner.length);
  out[0] = 0x20; // K
  writeU16(out, 2, EtherType.transparentEthernetBridging);
  writeU32(out, 4, ((repr.vsid << 8) | (repr.flowId & 0xff)) >>> 0);
  out.set(inner, NVGRE_HEADER_LENGTH);
  return out;
}
