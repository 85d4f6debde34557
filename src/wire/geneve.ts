/**
 * GENEVE (RFC 8926 3.4): 8-byte base header plus variable-length options, after UDP port 6081.
 *
 *   Ver(2) | Opt Len(6, 4-byte words) | O | C | Rsvd(6) | Protocol Type(16)
 *   VNI(24) | Reserved(8)
 *   Options: Class(16) | Type(8, high bit = critical) | R(3) | Length(5, 4-byte words) | data
 *
 * Version must be 0 (RFC 8926 3.4: unknown versions MUST be dropped): `unsupported-version`.
 * Options must exactly tile the Opt Len area: `bad-option-length` otherwise.
 */
import { allocBytes, readU16, readU24, writeU16, writeU24 } from './bytes.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const GENEVE_HEADER_LENGTH = 8;
export const GENEVE_PORT = 6081;

export interface GeneveOption {
  readonly optionClass: number;
  /** Full type octet; its high bit is the critical flag. */
  readonly type: number;
  /** Option data, a multiple of 4 bytes (at most 124). */
  readonly data: Uint8Array;
}

export function isCriticalGeneveOption(option: GeneveOption): boolean {
  return (option.type & 0x80) !== 0;
}

function walkGeneveOptions(area: Uint8Array, baseOffset: number): WireResult<GeneveOption[]> {
  const options: GeneveOption[] = [];
  let i = 0;
  while (i < area.length) {
    const at = baseOffset + i;
    if (i + 4 > area.length)
      return fail(
        'geneve',
        'bad-option-length',
        at,
        `GENEVE option header at offset ${at} is cut off by Opt Len`,
      );
    const dataLength = (area[i + 3]! & 0x1f) * 4;
    if (i + 4 + dataLength > area.length) {
      return fail(
        'geneve',
        'bad-option-length',
        at + 3,
        `GENEVE option at offset ${at} has ${dataLength} data bytes, past the end of the options area`,
      );
    }
    options.push({
      optionClass: readU16(area, i),
      type: area[i + 2]!,
      data: area.subarray(i + 4, i + 4 + dataLength),
    });
    i += 4 + dataLength;
  }
  return ok(options);
}

export class GeneveView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
    readonly end: number,
    /** Options, walked once by `check`. */
    readonly options: readonly GeneveOption[],
  ) {}

  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<GeneveView> {
    const have = end - offset;
    if (have < GENEVE_HEADER_LENGTH) return truncated('geneve', have, GENEVE_HEADER_LENGTH, offset);
    const version = bytes[offset]! >>> 6;
    if (version !== 0)
      return fail('geneve', 'unsupported-version', offset, `GENEVE version ${version} (only 0 is defined)`);
    const headerLength = GENEVE_HEADER_LENGTH + (bytes[offset]! & 0x3f) * 4;
    if (headerLength > have) return truncated('geneve', have, headerLength, offset);
    const options = walkGeneveOptions(
      bytes.subarray(offset + GENEVE_HEADER_LENGTH, offset + headerLength),
      offset + GENEVE_HEADER_LENGTH,
    );
    if (!options.ok) return options;
    return ok(new GeneveView(bytes, offset, end, options.value));
  }

  get version(): number {
    return this.bytes[this.offset]! >>> 6;
  }
  /** Opt Len in 4-byte words. */
  get optionsLength(): number {
    return this.bytes[this.offset]! & 0x3f;
  }
  get headerLength(): number {
    return GENEVE_HEADER_LENGTH + this.optionsLength * 4;
  }
  get oam(): boolean {
    return (this.bytes[this.offset + 1]! & 0x80) !== 0;
  }
  get critical(): boolean {
    return (this.bytes[this.offset + 1]! & 0x40) !== 0;
  }
  get reservedBitsSet(): boolean {
    return (this.bytes[this.offset + 1]! & 0x3f) !== 0 || this.bytes[this.offset + 7] !== 0;
  }
  /** EtherType of the payload: 0x6558 for an Ethernet frame, 0x0800 for IPv4. */
  get protocol(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get vni(): number {
    return readU24(this.bytes, this.offset + 4);
  }
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.payloadOffset, this.end);
  }
}

export interface GeneveRepr {
  readonly oam: boolean;
  /** C bit: set when any option is critical (RFC 8926 3.4). */
  readonly critical: boolean;
  readonly protocol: number;
  readonly vni: number;
  readonly options: readonly GeneveOption[];
}

export function parseGeneve(bytes: Uint8Array): WireResult<{ repr: GeneveRepr; payload: Uint8Array }> {
  const view = GeneveView.check(bytes);
  if (!view.ok) return view;
  const v = view.value;
  return ok({
    repr: { oam: v.oam, critical: v.critical, protocol: v.protocol, vni: v.vni, options: v.options },
    payload: v.payload,
  });
}

export function geneveHeaderLength(repr: GeneveRepr): number {
  let n = GENEVE_HEADER_LENGTH;
  for (const o of repr.options) n += 4 + o.data.length;
  return n;
}

export function emitGeneve(repr: GeneveRepr, payload: Uint8Array): Uint8Array {
  const headerLength = geneveHeaderLength(repr);
  if (headerLength - GENEVE_HEADER_LENGTH > 63 * 4) throw new Error('GENEVE options exceed 252 bytes');
  const out = allocBytes(headerLength + payload.length);
  out[0] = (headerLength - GENEVE_HEADER_LENGTH) / 4;
  out[1] = (repr.oam ? 0x80 : 0) | (repr.critical ? 0x40 : 0);
  writeU16(out, 2, repr.protocol);
  writeU24(out, 4, repr.vni);
  let at = GENEVE_HEADER_LENGTH;
  for (const o of repr.options) {
    if (o.data.length % 4 !== 0 || o.data.length > 124)
      throw new Error(`GENEVE option data must be a multiple of 4 bytes, at most 124 (got ${o.data.length})`);
    writeU16(out, at, o.optionClass);
    out[at + 2] = o.type;
    out[at + 3] = o.data.length / 4;
    out.set(o.data, at + 4);
    at += 4 + o.data.length;
  }
  out.set(payload, headerLength);
  return out;
}
