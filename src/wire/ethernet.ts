/**
 * Ethernet II and IEEE 802.3 frames (without FCS, as captured by libpcap on Linux), with any
 * number of 802.1Q / 802.1ad tags.
 *
 * - Type/length field <= 1500: an IEEE 802.3 length frame; the payload is exactly that many bytes
 *   (usually an LLC header follows). >= 0x0600: an EtherType. 1501..1535 are undefined by IEEE
 *   802.3 and are reported as an EtherType with a warning by the decoder.
 * - Emit pads the frame to the 60-byte minimum (64 on the wire with the FCS, IEEE 802.3 4.2.3.3).
 * - `EthernetFrameRepr` is the whole L2 header: addresses, the tag stack outermost first, and the
 *   final EtherType (or 802.3 length).
 */
import { allocBytes, readU16, writeU16 } from './bytes.js';
import { isVlanTpid, MAX_8023_LENGTH } from './ether-type.js';
import { type Mac, readMac, writeMac } from './mac.js';
import { fail, ok, truncated, type WireResult } from './result.js';
import { checkVlanTagRepr, VLAN_TAG_LENGTH, type VlanTagRepr, writeTci } from './vlan.js';

export const ETHERNET_HEADER_LENGTH = 14;
/** Minimum frame length without FCS; shorter frames are padded with zeros on emit. */
export const ETHERNET_MIN_FRAME = 60;

/** Checked view over the 14-byte header at `offset` and what follows up to `end`. */
export class EthernetView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
    readonly end: number,
  ) {}

  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<EthernetView> {
    if (end - offset < ETHERNET_HEADER_LENGTH)
      return truncated('ethernet', end - offset, ETHERNET_HEADER_LENGTH, offset);
    return ok(new EthernetView(bytes, offset, end));
  }

  get dst(): Mac {
    return readMac(this.bytes, this.offset);
  }
  get src(): Mac {
    return readMac(this.bytes, this.offset + 6);
  }
  /** Raw type/length field. */
  get typeOrLength(): number {
    return readU16(this.bytes, this.offset + 12);
  }
  get isLengthFrame(): boolean {
    return this.typeOrLength <= MAX_8023_LENGTH;
  }
  get payloadOffset(): number {
    return this.offset + ETHERNET_HEADER_LENGTH;
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + ETHERNET_HEADER_LENGTH, this.end);
  }
}

export interface EthernetFrameRepr {
  readonly dst: Mac;
  readonly src: Mac;
  /** VLAN tags, outermost first (an 802.1ad S-tag, then 802.1Q C-tags). Empty when untagged. */
  readonly tags: readonly VlanTagRepr[];
  /** The EtherType after the last tag (or an 802.3 length when <= 1500). */
  readonly etherType: number;
}

export interface ParsedEthernetFrame {
  readonly repr: EthernetFrameRepr;
  /** The L3 payload. For 802.3 length frames, exactly `length` bytes; otherwise everything after the header (including any padding: the L3 layer knows its own length). */
  readonly payload: Uint8Array;
  /** Offset of the payload in the frame. */
  readonly payloadOffset: number;
}

/** Parses the whole L2 header, walking any depth of VLAN tags. */
export function parseEthernetFrame(bytes: Uint8Array): WireResult<ParsedEthernetFrame> {
  const eth = EthernetView.check(bytes);
  if (!eth.ok) return eth;
  const tags: VlanTagRepr[] = [];
  let type = eth.value.typeOrLength;
  let offset = ETHERNET_HEADER_LENGTH;
  while (isVlanTpid(type)) {
    if (bytes.length < offset + VLAN_TAG_LENGTH) {
      return fail(
        'vlan',
        'truncated',
        bytes.length,
        `vlan: need ${VLAN_TAG_LENGTH} bytes, have ${bytes.length - offset}`,
      );
    }
    const tci = readU16(bytes, offset);
    tags.push({ tpid: type, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    type = readU16(bytes, offset + 2);
    offset += VLAN_TAG_LENGTH;
  }
  let payload = bytes.subarray(offset);
  if (type <= MAX_8023_LENGTH) {
    if (type > payload.length) {
      return fail(
        'ethernet',
        'bad-length',
        offset - 2,
        `802.3 length field ${type} exceeds the ${payload.length} bytes present`,
      );
    }
    payload = payload.subarray(0, type);
  }
  return ok({
    repr: { dst: eth.value.dst, src: eth.value.src, tags, etherType: type },
    payload,
    payloadOffset: offset,
  });
}

/** Header length of a frame repr: 14 + 4 per tag. */
export function ethernetHeaderLength(repr: EthernetFrameRepr): number {
  return ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH * repr.tags.length;
}

/** Writes the L2 header at `o` in `b`; returns the offset just after it. */
export function writeEthernetHeader(b: Uint8Array, o: number, repr: EthernetFrameRepr): number {
  writeMac(b, o, repr.dst);
  writeMac(b, o + 6, repr.src);
  let at = o + 12;
  for (const tag of repr.tags) {
    writeU16(b, at, tag.tpid);
    writeTci(b, at + 2, tag);
    at += VLAN_TAG_LENGTH;
  }
  writeU16(b, at, repr.etherType);
  return at + 2;
}

/**
 * Builds a frame: header + payload, zero-padded to 60 bytes unless `pad` is false (a frame that
 * never touches a physical wire, such as a VM's frame inside a tunnel, need not be padded).
 * Throws only on an invalid repr (a programming error).
 */
export function emitEthernetFrame(
  repr: EthernetFrameRepr,
  payload: Uint8Array,
  options: { pad?: boolean } = {},
): Uint8Array {
  for (const tag of repr.tags) {
    const checked = checkVlanTagRepr(tag);
    if (!checked.ok) throw new Error(checked.error.message);
  }
  const headerLength = ethernetHeaderLength(repr);
  const length = headerLength + payload.length;
  const out = allocBytes(options.pad === false ? length : Math.max(ETHERNET_MIN_FRAME, length));
  writeEthernetHeader(out, 0, repr);
  out.set(payload, headerLength);
  return out;
}
