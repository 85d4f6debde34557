/**
 * IEEE 802.1Q VLAN tags (TPID 0x8100, C-tag) and IEEE 802.1ad service tags (TPID 0x88a8, S-tag).
 *
 * On the wire a tag is the 2-byte TPID (which sits where the EtherType would be) followed by the
 * 2-byte TCI: PCP (3 bits), DEI (1 bit), VID (12 bits). This module's view covers the TCI and the
 * next type field (4 bytes), i.e. what follows a TPID. VID 0 (priority tag, no VLAN) and 4095 are
 * reserved (IEEE 802.1Q-2018 Table 9-2), leaving 4094 usable VLANs.
 */
import { readU16, writeU16 } from './bytes.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const VLAN_TAG_LENGTH = 4;
export const VID_PRIORITY_TAG = 0;
export const VID_RESERVED = 4095;
export const USABLE_VLANS = 4094;

export interface VlanTagRepr {
  /** 0x8100 (802.1Q) or 0x88a8 (802.1ad); the TPID that introduced this tag. */
  readonly tpid: number;
  readonly pcp: number;
  readonly dei: boolean;
  readonly vid: number;
}

export function isReservedVid(vid: number): boolean {
  return vid === VID_PRIORITY_TAG || vid === VID_RESERVED;
}

export function isUsableVid(vid: number): boolean {
  return Number.isInteger(vid) && vid >= 1 && vid <= 4094;
}

/** Checked view over [TCI(2) | next type(2) | payload...] at `offset`, the bytes after a TPID. */
export class VlanTagView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
    readonly end: number,
  ) {}

  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<VlanTagView> {
    if (end - offset < VLAN_TAG_LENGTH) return truncated('vlan', end - offset, VLAN_TAG_LENGTH, offset);
    return ok(new VlanTagView(bytes, offset, end));
  }

  get pcp(): number {
    return this.bytes[this.offset]! >>> 5;
  }
  get dei(): boolean {
    return (this.bytes[this.offset]! & 0x10) !== 0;
  }
  get vid(): number {
    return readU16(this.bytes, this.offset) & 0x0fff;
  }
  /** The type field after the tag: an EtherType, another TPID, or an 802.3 length. */
  get etherType(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get payloadOffset(): number {
    return this.offset + VLAN_TAG_LENGTH;
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + VLAN_TAG_LENGTH, this.end);
  }
}

/** Writes a TCI at `o` (the TPID is written by the caller, where the previous type field is). */
export function writeTci(b: Uint8Array, o: number, tag: VlanTagRepr): void {
  writeU16(b, o, ((tag.pcp & 7) << 13) | (tag.dei ? 0x1000 : 0) | (tag.vid & 0x0fff));
}

/** Validates a tag repr before emitting (emit never writes out-of-range fields silently). */
export function checkVlanTagRepr(tag: VlanTagRepr): WireResult<VlanTagRepr> {
  if (tag.pcp < 0 || tag.pcp > 7 || !Number.isInteger(tag.pcp))
    return fail('vlan', 'bad-pcp', 0, `PCP ${tag.pcp} is not 0..7`);
  if (tag.vid < 0 || tag.vid > 4095 || !Number.isInteger(tag.vid))
    return fail('vlan', 'bad-vid', 0, `VID ${tag.vid} is not 0..4095`);
  return ok(tag);
}
