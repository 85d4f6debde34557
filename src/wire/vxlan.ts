/**
 * VXLAN header (RFC 7348 5): 8 bytes after the outer UDP header (destination port 4789 by IANA;
 * Linux defaults to 8472, so the port set is configurable in the decoder).
 *
 *   flags (8: R R R R I R R R) | reserved (24) | VNI (24) | reserved (8)
 *
 * The I flag MUST be 1 for a valid VNI, so a header without it is an error (`missing-i-flag`).
 * All other bits are reserved: sent as zero and ignored on receipt, which the view reports through
 * `reservedBitsSet` so the decoder can warn.
 */
import { allocBytes, readU24, writeU24, writeU32 } from './bytes.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const VXLAN_HEADER_LENGTH = 8;
export const VXLAN_PORT = 4789;
export const VXLAN_FLAG_I = 0x08;
export const VNI_MAX = 0xff_ffff;
/** Bytes VXLAN adds around an inner frame on an IPv4 underlay: outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8. */
export const VXLAN_OVERHEAD = 50;

export class VxlanView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
    /** End of the UDP payload in `bytes`: the inner frame runs from `payloadOffset` to here. */
    readonly end: number,
  ) {}

  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<VxlanView> {
    if (end - offset < VXLAN_HEADER_LENGTH)
      return truncated('vxlan', end - offset, VXLAN_HEADER_LENGTH, offset);
    const flags = bytes[offset]!;
    if ((flags & VXLAN_FLAG_I) === 0) {
      return fail(
        'vxlan',
        'missing-i-flag',
        offset,
        `VXLAN flags 0x${flags.toString(16).padStart(2, '0')} lack the I flag (0x08) that marks a valid VNI`,
      );
    }
    return ok(new VxlanView(bytes, offset, end));
  }

  get flags(): number {
    return this.bytes[this.offset]!;
  }
  get vni(): number {
    return readU24(this.bytes, this.offset + 4);
  }
  /** True when any reserved bit (flags other than I, the 24 bits after flags, the last octet) is set. */
  get reservedBitsSet(): boolean {
    const o = this.offset;
    return (
      (this.bytes[o]! & ~VXLAN_FLAG_I) !== 0 || readU24(this.bytes, o + 1) !== 0 || this.bytes[o + 7] !== 0
    );
  }
  get payloadOffset(): number {
    return this.offset + VXLAN_HEADER_LENGTH;
  }
  /** The inner Ethernet frame. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + VXLAN_HEADER_LENGTH, this.end);
  }
}

export interface VxlanRepr {
  readonly vni: number;
}

export function parseVxlan(bytes: Uint8Array): WireResult<{ repr: VxlanRepr; payload: Uint8Array }> {
  const view = VxlanView.check(bytes);
  return view.ok ? ok({ repr: { vni: view.value.vni }, payload: view.value.payload }) : view;
}

export function writeVxlanHeader(b: Uint8Array, o: number, repr: VxlanRepr): void {
  if (!Number.isInteger(repr.vni) || repr.vni < 0 || repr.vni > VNI_MAX)
    throw new Error(`VNI ${repr.vni} is not 0..16777215`);
  writeU32(b, o, VXLAN_FLAG_I << 24);
  writeU24(b, o + 4, repr.vni);
  b[o + 7] = 0;
}

export function emitVxlan(repr: VxlanRepr, inner: Uint8Array): Uint8Array {
  const out = allocBytes(VXLAN_HEADER_LENGTH + inner.length);
  writeVxlanHeader(out, 0, repr);
  out.set(inner, VXLAN_HEADER_LENGTH);
  return out;
}
