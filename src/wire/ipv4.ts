/**
 * IPv4 header (RFC 791).
 *
 * `check` validates, once: version 4; IHL >= 5 (RFC 791: the minimum header is 5 words); the
 * header and options present; total length >= header length and <= the bytes present (bytes past
 * total length are link-layer padding, not payload, and are reported as `paddingLength`); every
 * option's length (RFC 791 3.1: types 0 and 1 are single octets, every other option carries a
 * length octet >= 2 that must stay inside the header). The header checksum is not enforced by the
 * view: `checksumOk` tells, and `parseIpv4` rejects a bad one unless asked not to.
 *
 * `decrementTtl` is the router's in-place TTL decrement with the RFC 1624 incremental checksum
 * update (call it on a buffer you own).
 */
import { allocBytes, readU16, writeU16 } from './bytes.js';
import { incrementalChecksumUpdate, internetChecksum, onesComplementSum } from './checksum.js';
import { type Ipv4, readIpv4, writeIpv4 } from './ipv4-address.js';
import { fail, ok, truncated, type WireError, type WireResult } from './result.js';

export const IPV4_MIN_HEADER = 20;
export const IPV4_MAX_HEADER = 60;

export interface Ipv4Option {
  /** The whole type octet: copied flag (bit 7), class (bits 6-5), number (bits 4-0). */
  readonly type: number;
  readonly copied: boolean;
  readonly optionClass: number;
  readonly number: number;
  /** Total option length in bytes, including type and length octets (1 for EOL/NOP). */
  readonly length: number;
  /** Option data (after type and length octets). */
  readonly data: Uint8Array;
}

const OPTION_NAMES: Record<number, string> = {
  0: 'eol',
  1: 'nop',
  7: 'record-route',
  68: 'timestamp',
  130: 'security',
  131: 'loose-source-route',
  137: 'strict-source-route',
  148: 'router-alert',
};

export function ipv4OptionName(type: number): string {
  return OPTION_NAMES[type] ?? `option-${type}`;
}

/** Length rules of the options with a defined size (RFC 791 3.1, RFC 1108, RFC 2113). */
const OPTION_LENGTH: Record<number, { min: number; max: number }> = {
  7: { min: 3, max: 40 }, // record route
  68: { min: 4, max: 40 }, // timestamp
  130: { min: 11, max: 11 }, // security (RFC 1108)
  131: { min: 3, max: 40 }, // loose source route
  137: { min: 3, max: 40 }, // strict source route
  148: { min: 4, max: 4 }, // router alert (RFC 2113)
};

/**
 * Validates the options area `b[start, end)` without allocating: types 0 (EOL) and 1 (NOP) are
 * single octets, every other option has a length octet >= 2 that stays inside the area, and the
 * options with a defined size have it. Returns null, or the error at the bad option; its offsets
 * count from the start of `b`, plus `shift` (for an area that sits elsewhere in the caller's buffer).
 */
export function checkIpv4Options(b: Uint8Array, start: number, end: number, shift = 0): WireError | null {
  let i = start;
  while (i < end) {
    const at = i + shift;
    const type = b[i]!;
    if (type === 0) return null; // End of Option List: the rest is padding
    if (type === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end)
      return {
        layer: 'ipv4',
        code: 'bad-option-length',
        offset: at,
        message: `IPv4 option ${type} at offset ${at} has no length octet`,
      };
    const length = b[i + 1]!;
    if (length < 2 || i + length > end) {
      return {
        layer: 'ipv4',
        code: 'bad-option-length',
        offset: at + 1,
        message: `IPv4 option ${type} at offset ${at} has length ${length}, ${length < 2 ? 'below the minimum of 2' : `past the end of the header (${end - i} bytes left)`}`,
      };
    }
    const rule = OPTION_LENGTH[type];
    if (rule && (length < rule.min || length > rule.max)) {
      const want = rule.min === rule.max ? `${rule.min}` : `at least ${rule.min}`;
      return {
        layer: 'ipv4',
        code: 'bad-option-length',
        offset: at + 1,
        message: `IPv4 ${ipv4OptionName(type)} option at offset ${at} has length ${length}, should be ${want}`,
      };
    }
    i += length;
  }
  return null;
}

/**
 * Walks an options area (bytes after the fixed 20-byte header) into option records, for display.
 * Returns the options up to EOL, or the error of `checkIpv4Options` with offsets counted from
 * `baseOffset` (the area's position in the caller's buffer).
 */
export function walkIpv4Options(area: Uint8Array, baseOffset = IPV4_MIN_HEADER): WireResult<Ipv4Option[]> {
  const error = checkIpv4Options(area, 0, area.length, baseOffset);
  if (error) return { ok: false, error };
  const options: Ipv4Option[] = [];
  let i = 0;
  while (i < area.length) {
    const type = area[i]!;
    const length = type === 0 || type === 1 ? 1 : area[i + 1]!;
    options.push({
      type,
      copied: (type & 0x80) !== 0,
      optionClass: (type >>> 5) & 3,
      number: type & 0x1f,
      length,
      data: length === 1 ? area.subarray(i + 1, i + 1) : area.subarray(i + 2, i + length),
    });
    if (type === 0) break;
    i += length;
  }
  return ok(options);
}

export class Ipv4View {
  private constructor(
    readonly bytes: Uint8Array,
    /** Where the header starts in `bytes`. */
    readonly offset: number,
    /** Where the bytes available to this packet end (its total length may end earlier: padding). */
    readonly limit: number,
  ) {}

  /**
   * With `snapped`, a packet whose total length runs past the bytes present is accepted (a capture
   * cut by its snap length): the view then ends where the bytes do (`isCut`).
   */
  static check(bytes: Uint8Array, offset = 0, end = bytes.length, snapped = false): WireResult<Ipv4View> {
    const have = end - offset;
    if (have < IPV4_MIN_HEADER) return truncated('ipv4', have, IPV4_MIN_HEADER, offset);
    const version = bytes[offset]! >>> 4;
    if (version !== 4) return fail('ipv4', 'bad-version', offset, `IP version ${version} in an IPv4 packet`);
    const headerLength = (bytes[offset]! & 0x0f) * 4;
    if (headerLength < IPV4_MIN_HEADER)
      return fail('ipv4', 'bad-ihl', offset, `IHL ${headerLength / 4} is below the minimum of 5`);
    if (have < headerLength) return truncated('ipv4', have, headerLength, offset);
    const totalLength = readU16(bytes, offset + 2);
    if (totalLength < headerLength) {
      return fail(
        'ipv4',
        'bad-total-length',
        offset + 2,
        `total length ${totalLength} is shorter than the ${headerLength}-byte header`,
      );
    }
    if (totalLength > have && !snapped) {
      return fail('ipv4', 'truncated', end, `total length ${totalLength} exceeds the ${have} bytes present`);
    }
    if (headerLength > IPV4_MIN_HEADER) {
      const error = checkIpv4Options(bytes, offset + IPV4_MIN_HEADER, offset + headerLength);
      if (error) return { ok: false, error };
    }
    return ok(new Ipv4View(bytes, offset, end));
  }

  get version(): number {
    return this.bytes[this.offset]! >>> 4;
  }
  /** Header length in 32-bit words. */
  get ihl(): number {
    return this.bytes[this.offset]! & 0x0f;
  }
  get headerLength(): number {
    return (this.bytes[this.offset]! & 0x0f) * 4;
  }
  get dscp(): number {
    return this.bytes[this.offset + 1]! >>> 2;
  }
  get ecn(): number {
    return this.bytes[this.offset + 1]! & 3;
  }
  get totalLength(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get id(): number {
    return readU16(this.bytes, this.offset + 4);
  }
  /** The reserved flag bit (RFC 791: must be zero). */
  get reservedFlag(): boolean {
    return (this.bytes[this.offset + 6]! & 0x80) !== 0;
  }
  get df(): boolean {
    return (this.bytes[this.offset + 6]! & 0x40) !== 0;
  }
  get mf(): boolean {
    return (this.bytes[this.offset + 6]! & 0x20) !== 0;
  }
  /** Fragment offset in 8-byte units. */
  get fragmentOffset(): number {
    return readU16(this.bytes, this.offset + 6) & 0x1fff;
  }
  /** True for any fragment of a fragmented datagram (MF set or offset non-zero). */
  get isFragment(): boolean {
    return (readU16(this.bytes, this.offset + 6) & 0x3fff) !== 0;
  }
  get ttl(): number {
    return this.bytes[this.offset + 8]!;
  }
  get protocol(): number {
    return this.bytes[this.offset + 9]!;
  }
  get checksum(): number {
    return readU16(this.bytes, this.offset + 10);
  }
  get src(): Ipv4 {
    return readIpv4(this.bytes, this.offset + 12);
  }
  get dst(): Ipv4 {
    return readIpv4(this.bytes, this.offset + 16);
  }
  get checksumOk(): boolean {
    return onesComplementSum(this.bytes, this.offset, this.offset + this.headerLength) === 0xffff;
  }
  get optionBytes(): Uint8Array {
    return this.bytes.subarray(this.offset + IPV4_MIN_HEADER, this.offset + this.headerLength);
  }
  /** Options as walked by `check` (which already proved the walk succeeds). */
  get options(): Ipv4Option[] {
    const walked = walkIpv4Options(this.optionBytes);
    return walked.ok ? walked.value : [];
  }
  /** Offset of the payload in `bytes`. */
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  /** Offset just past the packet (header + payload = total length) in `bytes`. */
  get end(): number {
    const end = this.offset + this.totalLength;
    return Math.min(end, this.limit);
  }
  /** True when the bytes end before the total length (a snapped capture, checked with `snapped`). */
  get isCut(): boolean {
    return this.offset + this.totalLength > this.limit;
  }
  /** Bytes from the end of the header to total length. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.payloadOffset, this.end);
  }
  /** Bytes present after total length (Ethernet minimum-size padding). */
  get paddingLength(): number {
    return this.limit - this.end;
  }
}

export interface Ipv4Repr {
  readonly dscp: number;
  readonly ecn: number;
  readonly id: number;
  readonly df: boolean;
  readonly mf: boolean;
  /** In 8-byte units (0..8191). */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly src: Ipv4;
  readonly dst: Ipv4;
  /** Raw options area, a multiple of 4 bytes, at most 40 (empty for none). */
  readonly options: Uint8Array;
}

export function ipv4ReprFromView(v: Ipv4View): Ipv4Repr {
  return {
    dscp: v.dscp,
    ecn: v.ecn,
    id: v.id,
    df: v.df,
    mf: v.mf,
    fragmentOffset: v.fragmentOffset,
    ttl: v.ttl,
    protocol: v.protocol,
    src: v.src,
    dst: v.dst,
    options: v.optionBytes,
  };
}

export interface ParsedIpv4 {
  readonly repr: Ipv4Repr;
  readonly payload: Uint8Array;
}

/** Checks and reads an IPv4 packet; a wrong header checksum is an error unless `verifyChecksum` is false. */
export function parseIpv4(
  bytes: Uint8Array,
  options: { verifyChecksum?: boolean } = {},
): WireResult<ParsedIpv4> {
  const view = Ipv4View.check(bytes);
  if (!view.ok) return view;
  const v = view.value;
  if (options.verifyChecksum !== false && !v.checksumOk) {
    return fail(
      'ipv4',
      'bad-checksum',
      10,
      `IPv4 header checksum 0x${v.checksum.toString(16).padStart(4, '0')} is wrong`,
    );
  }
  return ok({ repr: ipv4ReprFromView(v), payload: v.payload });
}

export function ipv4HeaderLength(repr: Ipv4Repr): number {
  return IPV4_MIN_HEADER + repr.options.length;
}

/** Writes a header (with checksum) at `o` for a payload of `payloadLength` bytes; returns the header length. */
export function writeIpv4Header(b: Uint8Array, o: number, repr: Ipv4Repr, payloadLength: number): number {
  const headerLength = ipv4HeaderLength(repr);
  if (repr.options.length % 4 !== 0 || headerLength > IPV4_MAX_HEADER) {
    throw new Error(`IPv4 options must be a multiple of 4 bytes and at most 40 (got ${repr.options.length})`);
  }
  if (headerLength + payloadLength > 0xffff)
    throw new Error(`IPv4 total length ${headerLength + payloadLength} exceeds 65535`);
  b[o] = 0x40 | (headerLength / 4);
  b[o + 1] = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 3);
  writeU16(b, o + 2, headerLength + payloadLength);
  writeU16(b, o + 4, repr.id);
  writeU16(b, o + 6, (repr.df ? 0x4000 : 0) | (repr.mf ? 0x2000 : 0) | (repr.fragmentOffset & 0x1fff));
  b[o + 8] = repr.ttl;
  b[o + 9] = repr.protocol;
  writeU16(b, o + 10, 0);
  writeIpv4(b, o + 12, repr.src);
  writeIpv4(b, o + 16, repr.dst);
  b.set(repr.options, o + IPV4_MIN_HEADER);
  writeU16(b, o + 10, internetChecksum(b, o, o + headerLength));
  return headerLength;
}

export function emitIpv4(repr: Ipv4Repr, payload: Uint8Array): Uint8Array {
  const headerLength = ipv4HeaderLength(repr);
  const out = allocBytes(headerLength + payload.length);
  writeIpv4Header(out, 0, repr, payload.length);
  out.set(payload, headerLength);
  return out;
}

/**
 * Router TTL decrement, in place, on a checked IPv4 header at `o` in `b`. Returns the new TTL,
 * or -1 (and changes nothing) when the TTL is already 0 or 1 and the packet must not be forwarded.
 * The checksum is updated incrementally (RFC 1624 eqn. 3) over the TTL/protocol word.
 */
export function decrementTtl(b: Uint8Array, o = 0): number {
  const ttl = b[o + 8]!;
  if (ttl <= 1) return -1;
  const oldWord = (ttl << 8) | b[o + 9]!;
  const newWord = oldWord - 0x100;
  b[o + 8] = ttl - 1;
  writeU16(b, o + 10, incrementalChecksumUpdate(readU16(b, o + 10), oldWord, newWord));
  return ttl - 1;
}

/**
 * Splits an IPv4 packet (a buffer holding exactly one packet) into fragments whose total length
 * is at most `mtu` (RFC 791 3.2): payload cut at multiples of 8 bytes, MF set on all but the last
 * (which keeps the original MF), offsets in 8-byte units added to the original's, options copied
 * into later fragments only when their copied flag is set, checksums recomputed. Returns the packet
 * itself when it fits. The caller checks DF first. `mtu` must leave room for 8 payload bytes.
 */
export function fragmentIpv4(packet: Uint8Array, mtu: number): Uint8Array[] {
  const checked = Ipv4View.check(packet);
  if (!checked.ok) throw new Error(`fragmentIpv4: ${checked.error.message}`);
  const v = checked.value;
  if (v.totalLength <= mtu) return [packet];
  const repr = ipv4ReprFromView(v);
  const firstHeader = v.headerLength;
  const copiedOptions = copiedOptionBytes(v.optionBytes);
  const laterHeader = IPV4_MIN_HEADER + copiedOptions.length;
  const payload = v.payload;
  const fragments: Uint8Array[] = [];
  let done = 0;
  while (done < payload.length) {
    const header = done === 0 ? firstHeader : laterHeader;
    const room = Math.floor((mtu - header) / 8) * 8;
    if (room <= 0) throw new Error(`fragmentIpv4: MTU ${mtu} leaves no room for data`);
    const size = Math.min(room, payload.length - done);
    const last = done + size >= payload.length;
    const out = allocBytes(header + size);
    writeIpv4Header(
      out,
      0,
      {
        ...repr,
        mf: last ? repr.mf : true,
        fragmentOffset: repr.fragmentOffset + done / 8,
        options: done === 0 ? repr.options : copiedOptions,
      },
      size,
    );
    out.set(payload.subarray(done, done + size), header);
    fragments.push(out);
    done += size;
  }
  return fragments;
}

/** The options whose copied flag is set (RFC 791: they go into every fragment), padded to 4 bytes. */
function copiedOptionBytes(area: Uint8Array): Uint8Array {
  const walked = walkIpv4Options(area);
  if (!walked.ok) return new Uint8Array(0);
  const kept: number[] = [];
  for (const o of walked.value) if (o.copied) kept.push(o.type, o.length, ...o.data);
  while (kept.length % 4 !== 0) kept.push(0);
  return Uint8Array.from(kept);
}
