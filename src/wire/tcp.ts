/**
 * TCP header (RFC 9293) with the IPv4 pseudo-header checksum and an option walker.
 *
 * `check` validates: 20 bytes present; data offset >= 5 and the header inside the segment; every
 * option well formed (kinds 0 and 1 are single octets; all others carry a length >= 2 inside the
 * header; MSS, window scale, SACK-permitted, SACK and timestamps must have their defined lengths).
 */
import { allocBytes, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { onesComplementSum, pseudoHeaderSum } from './checksum.js';
import { IpProtocol } from './ether-type.js';
import type { Ipv4 } from './ipv4-address.js';
import { fail, ok, truncated, type WireResult } from './result.js';

export const TCP_MIN_HEADER = 20;

export const TcpFlag = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  /** Accurate ECN (RFC 9768; formerly NS, RFC 3540): bit 0 of byte 12. */
  AE: 0x100,
} as const;

export type TcpFlagName = keyof typeof TcpFlag;
const FLAG_ORDER: readonly TcpFlagName[] = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'AE'];

export function tcpFlagNames(flags: number): TcpFlagName[] {
  return FLAG_ORDER.filter((name) => (flags & TcpFlag[name]) !== 0);
}

export interface TcpOption {
  readonly kind: number;
  readonly name: string;
  /** Total length including kind and length octets (1 for EOL/NOP). */
  readonly length: number;
  readonly data: Uint8Array;
  readonly mss?: number;
  readonly windowScale?: number;
  readonly sackBlocks?: readonly { readonly left: number; readonly right: number }[];
  readonly tsVal?: number;
  readonly tsEcr?: number;
}

const OPTION_INFO: Record<number, { name: string; valid: (len: number) => boolean }> = {
  2: { name: 'mss', valid: (l) => l === 4 },
  3: { name: 'window-scale', valid: (l) => l === 3 },
  4: { name: 'sack-permitted', valid: (l) => l === 2 },
  5: { name: 'sack', valid: (l) => l >= 10 && (l - 2) % 8 === 0 },
  8: { name: 'timestamps', valid: (l) => l === 10 },
};

/** Walks the options area (header offset 20 to the data offset); error offsets are `baseOffset` + the position in the area. */
export function walkTcpOptions(area: Uint8Array, baseOffset = TCP_MIN_HEADER): WireResult<TcpOption[]> {
  const options: TcpOption[] = [];
  let i = 0;
  while (i < area.length) {
    const kind = area[i]!;
    if (kind === 0) {
      options.push({ kind, name: 'eol', length: 1, data: area.subarray(i + 1, i + 1) });
      break;
    }
    if (kind === 1) {
      options.push({ kind, name: 'nop', length: 1, data: area.subarray(i + 1, i + 1) });
      i += 1;
      continue;
    }
    const at = baseOffset + i;
    if (i + 1 >= area.length)
      return fail('tcp', 'bad-option-length', at, `TCP option ${kind} at offset ${at} has no length octet`);
    const length = area[i + 1]!;
    const info = OPTION_INFO[kind];
    if (length < 2 || i + length > area.length || (info && !info.valid(length))) {
      return fail(
        'tcp',
        'bad-option-length',
        at + 1,
        `TCP option ${info?.name ?? kind} at offset ${at} has invalid length ${length}`,
      );
    }
    const data = area.subarray(i + 2, i + length);
    const base = { kind, name: info?.name ?? `option-${kind}`, length, data };
    switch (kind) {
      case 2:
        options.push({ ...base, mss: readU16(data, 0) });
        break;
      case 3:
        options.push({ ...base, windowScale: data[0]! });
        break;
      case 5: {
        const sackBlocks = [];
        for (let j = 0; j < data.length; j += 8)
          sackBlocks.push({ left: readU32(data, j), right: readU32(data, j + 4) });
        options.push({ ...base, sackBlocks });
        break;
      }
      case 8:
        options.push({ ...base, tsVal: readU32(data, 0), tsEcr: readU32(data, 4) });
        break;
      default:
        options.push(base);
    }
    i += length;
  }
  return ok(options);
}

/** Options a TCP stack sends; `emitTcpOptions` encodes them in order and pads with EOL to a multiple of 4. */
export type TcpOptionSpec =
  | { readonly kind: 'nop' }
  | { readonly kind: 'mss'; readonly mss: number }
  | { readonly kind: 'window-scale'; readonly shift: number }
  | { readonly kind: 'sack-permitted' }
  | { readonly kind: 'sack'; readonly blocks: readonly { readonly left: number; readonly right: number }[] }
  | { readonly kind: 'timestamps'; readonly tsVal: number; readonly tsEcr: number };

function checkField(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new Error(`TCP option ${name} ${value} is not 0..${max}`);
  return value;
}

/** Throws on a value that does not fit its field (a programming error, never input). */
export function emitTcpOptions(specs: readonly TcpOptionSpec[]): Uint8Array {
  const bytes: number[] = [];
  const u16 = (name: string, v: number) => {
    checkField(name, v, 0xffff);
    bytes.push((v >>> 8) & 255, v & 255);
  };
  const u32 = (name: string, v: number) => {
    checkField(name, v, 0xffff_ffff);
    bytes.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  };
  for (const o of specs) {
    switch (o.kind) {
      case 'nop':
        bytes.push(1);
        break;
      case 'mss':
        bytes.push(2, 4);
        u16('mss', o.mss);
        break;
      case 'window-scale':
        // RFC 7323 2.3: a shift above 14 is treated as 14; sending one is a mistake.
        bytes.push(3, 3, checkField('window-scale shift', o.shift, 14));
        break;
      case 'sack-permitted':
        bytes.push(4, 2);
        break;
      case 'sack':
        if (o.blocks.length < 1 || o.blocks.length > 4)
          throw new Error(`TCP SACK option needs 1..4 blocks, got ${o.blocks.length}`);
        bytes.push(5, 2 + 8 * o.blocks.length);
        for (const b of o.blocks) {
          u32('sack left edge', b.left);
          u32('sack right edge', b.right);
        }
        break;
      case 'timestamps':
        bytes.push(8, 10);
        u32('tsVal', o.tsVal);
        u32('tsEcr', o.tsEcr);
        break;
    }
  }
  while (bytes.length % 4 !== 0) bytes.push(0);
  if (bytes.length > 40) throw new Error(`TCP options take ${bytes.length} bytes, more than 40`);
  return Uint8Array.from(bytes);
}

export class TcpView {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
    /** End of the segment (the IP payload's end) in `bytes`. */
    readonly end: number,
  ) {}

  static check(bytes: Uint8Array, offset = 0, end = bytes.length): WireResult<TcpView> {
    const have = end - offset;
    if (have < TCP_MIN_HEADER) return truncated('tcp', have, TCP_MIN_HEADER, offset);
    const headerLength = (bytes[offset + 12]! >>> 4) * 4;
    if (headerLength < TCP_MIN_HEADER) {
      return fail(
        'tcp',
        'bad-data-offset',
        offset + 12,
        `data offset ${headerLength / 4} is below the minimum of 5`,
      );
    }
    if (headerLength > have) {
      return fail(
        'tcp',
        'truncated',
        end,
        `data offset ${headerLength / 4} (${headerLength} bytes) exceeds the ${have}-byte segment`,
      );
    }
    if (headerLength > TCP_MIN_HEADER) {
      const walked = walkTcpOptions(
        bytes.subarray(offset + TCP_MIN_HEADER, offset + headerLength),
        offset + TCP_MIN_HEADER,
      );
      if (!walked.ok) return walked;
    }
    return ok(new TcpView(bytes, offset, end));
  }

  get srcPort(): number {
    return readU16(this.bytes, this.offset + 0);
  }
  get dstPort(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get seq(): number {
    return readU32(this.bytes, this.offset + 4);
  }
  get ack(): number {
    return readU32(this.bytes, this.offset + 8);
  }
  /** Header length in 32-bit words. */
  get dataOffset(): number {
    return this.bytes[this.offset + 12]! >>> 4;
  }
  get headerLength(): number {
    return (this.bytes[this.offset + 12]! >>> 4) * 4;
  }
  /** The 9 flag bits (see `TcpFlag`). */
  get flags(): number {
    return ((this.bytes[this.offset + 12]! & 1) << 8) | this.bytes[this.offset + 13]!;
  }
  /** Bits 4-6 of byte 12, reserved (must be zero). */
  get reserved(): number {
    return (this.bytes[this.offset + 12]! >>> 1) & 7;
  }
  get window(): number {
    return readU16(this.bytes, this.offset + 14);
  }
  get checksum(): number {
    return readU16(this.bytes, this.offset + 16);
  }
  get urgentPointer(): number {
    return readU16(this.bytes, this.offset + 18);
  }
  get optionBytes(): Uint8Array {
    return this.bytes.subarray(this.offset + TCP_MIN_HEADER, this.offset + this.headerLength);
  }
  get options(): TcpOption[] {
    const walked = walkTcpOptions(this.optionBytes);
    return walked.ok ? walked.value : [];
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + this.headerLength, this.end);
  }
  checksumOk(src: Ipv4, dst: Ipv4): boolean {
    const length = this.end - this.offset;
    return (
      onesComplementSum(
        this.bytes,
        this.offset,
        this.end,
        pseudoHeaderSum(src, dst, IpProtocol.tcp, length),
      ) === 0xffff
    );
  }
}

export interface TcpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** The 9 flag bits (see `TcpFlag`). */
  readonly flags: number;
  readonly window: number;
  readonly urgentPointer: number;
  /** Raw options area, a multiple of 4 bytes, at most 40. */
  readonly options: Uint8Array;
}

export function tcpReprFromView(v: TcpView): TcpRepr {
  return {
    srcPort: v.srcPort,
    dstPort: v.dstPort,
    seq: v.seq,
    ack: v.ack,
    flags: v.flags,
    window: v.window,
    urgentPointer: v.urgentPointer,
    options: v.optionBytes,
  };
}

/** With `pseudo` given, a wrong checksum is an error. */
export function parseTcp(
  bytes: Uint8Array,
  pseudo?: { src: Ipv4; dst: Ipv4 },
): WireResult<{ repr: TcpRepr; payload: Uint8Array }> {
  const view = TcpView.check(bytes);
  if (!view.ok) return view;
  const v = view.value;
  if (pseudo && !v.checksumOk(pseudo.src, pseudo.dst)) {
    return fail(
      'tcp',
      'bad-checksum',
      16,
      `TCP checksum 0x${v.checksum.toString(16).padStart(4, '0')} is wrong`,
    );
  }
  return ok({ repr: tcpReprFromView(v), payload: v.payload });
}

export function tcpHeaderLength(repr: TcpRepr): number {
  return TCP_MIN_HEADER + repr.options.length;
}

/** Builds a segment with its checksum over the pseudo-header of `src` -> `dst`. */
export function emitTcp(repr: TcpRepr, payload: Uint8Array, pseudo: { src: Ipv4; dst: Ipv4 }): Uint8Array {
  const headerLength = tcpHeaderLength(repr);
  if (repr.options.length % 4 !== 0 || repr.options.length > 40) {
    throw new Error(`TCP options must be a multiple of 4 bytes and at most 40 (got ${repr.options.length})`);
  }
  const out = allocBytes(headerLength + payload.length);
  writeU16(out, 0, repr.srcPort);
  writeU16(out, 2, repr.dstPort);
  writeU32(out, 4, repr.seq >>> 0);
  writeU32(out, 8, repr.ack >>> 0);
  out[12] = ((headerLength / 4) << 4) | ((repr.flags >>> 8) & 1);
  out[13] = repr.flags & 0xff;
  writeU16(out, 14, repr.window);
  writeU16(out, 18, repr.urgentPointer);
  out.set(repr.options, TCP_MIN_HEADER);
  out.set(payload, headerLength);
  const sum = onesComplementSum(
    out,
    0,
    out.length,
    pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.tcp, out.length),
  );
  writeU16(out, 16, ~sum & 0xffff);
  return out;
}
