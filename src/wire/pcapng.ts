/**
 * pcapng reader (draft-ietf-opsawg-pcapng): Section Header, Interface Description, Enhanced
 * Packet, Simple Packet and (obsolete) Packet blocks; every other block is skipped by its length.
 * Each section sets its own byte order; each interface its link type, snap length and timestamp
 * resolution (option if_tsresol, default microseconds). Written by hand: the registry has no
 * maintained pure-JS pcapng reader, and the format is small. Never throws.
 */
import { readU16, readU16le, readU32, readU32le } from './bytes.js';
import type { CapturedPacket, CaptureFile, Timestamp } from './pcap.js';
import type { WireError } from './result.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPT_IF_TSRESOL = 9;

interface Interface {
  readonly linkType: number;
  readonly snapLength: number;
  /** Timestamp units per second. */
  readonly unitsPerSecond: bigint;
  readonly resolution: CaptureFile['resolution'];
}

export function isPcapng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && readU32(bytes, 0) === PCAPNG_SHB;
}

function ngError(code: string, offset: number, message: string): WireError {
  return { layer: 'pcapng', code, offset, message };
}

function toTimestamp(units: bigint, unitsPerSecond: bigint): Timestamp {
  const seconds = units / unitsPerSecond;
  const rest = units % unitsPerSecond;
  return { seconds: Number(seconds), nanos: Number((rest * 1_000_000_000n) / unitsPerSecond) };
}

function readInterface(body: Uint8Array, u16: typeof readU16, u32: typeof readU32): Interface {
  const linkType = u16(body, 0);
  const snapLength = u32(body, 4);
  let unitsPerSecond = 1_000_000n;
  let resolution: CaptureFile['resolution'] = 'micro';
  let o = 8;
  while (o + 4 <= body.length) {
    const code = u16(body, o);
    const length = u16(body, o + 2);
    if (code === 0 || o + 4 + length > body.length) break;
    if (code === OPT_IF_TSRESOL && length >= 1) {
      const v = body[o + 4]!;
      unitsPerSecond = v & 0x80 ? 2n ** BigInt(v & 0x7f) : 10n ** BigInt(v);
      resolution =
        unitsPerSecond === 1_000_000n ? 'micro' : unitsPerSecond === 1_000_000_000n ? 'nano' : 'other';
    }
    o += 4 + length + ((4 - (length % 4)) % 4);
  }
  return { linkType, snapLength, unitsPerSecond, resolution };
}

export function readPcapng(bytes: Uint8Array): CaptureFile {
  const packets: CapturedPacket[] = [];
  let interfaces: Interface[] = [];
  let resolution: CaptureFile['resolution'] | undefined;
  const done = (error: WireError | null): CaptureFile => ({
    format: 'pcapng',
    resolution: resolution ?? 'micro',
    packets,
    error,
  });
  if (!isPcapng(bytes)) return done(ngError('bad-magic', 0, 'not a pcapng file (no Section Header Block)'));
  let u16 = readU16;
  let u32 = readU32;
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length)
      return done(
        ngError(
          'truncated',
          offset,
          `block at byte ${offset} cut short (${bytes.length - offset} bytes, a block needs at least 12)`,
        ),
      );
    const rawType = readU32(bytes, offset);
    if (rawType === PCAPNG_SHB) {
      const magic = readU32(bytes, offset + 8);
      if (magic === BYTE_ORDER_MAGIC) {
        u16 = readU16;
        u32 = readU32;
      } else if (readU32le(bytes, offset + 8) === BYTE_ORDER_MAGIC) {
        u16 = readU16le;
        u32 = readU32le;
      } else {
        return done(
          ngError(
            'bad-byte-order-magic',
            offset + 8,
            `section header at byte ${offset} has no valid byte-order magic`,
          ),
        );
      }
      interfaces = [];
    }
    const type = u32(bytes, offset);
    const length = u32(bytes, offset + 4);
    if (length < 12 || length % 4 !== 0)
      return done(
        ngError('bad-block-length', offset + 4, `block at byte ${offset} has invalid length ${length}`),
      );
    if (offset + length > bytes.length)
      return done(
        ngError(
          'truncated',
          bytes.length,
          `block at byte ${offset} cut short: ${length} bytes announced, ${bytes.length - offset} present`,
        ),
      );
    if (u32(bytes, offset + length - 4) !== length)
      return done(
        ngError(
          'bad-block-length',
          offset + length - 4,
          `block at byte ${offset}: trailing length differs from ${length}`,
        ),
      );
    const body = bytes.subarray(offset + 8, offset + length - 4);
    if (type === BLOCK_IDB) {
      if (body.length < 8)
        return done(
          ngError('truncated', offset + 8, `interface description block at byte ${offset} is too short`),
        );
      const iface = readInterface(body, u16, u32);
      interfaces.push(iface);
      resolution ??= iface.resolution;
    } else if (type === BLOCK_EPB || type === BLOCK_PB) {
      if (body.length < 20)
        return done(ngError('truncated', offset + 8, `packet block at byte ${offset} is too short`));
      const interfaceId = type === BLOCK_EPB ? u32(body, 0) : u16(body, 0);
      const iface = interfaces[interfaceId];
      if (!iface)
        return done(
          ngError(
            'unknown-interface',
            offset + 8,
            `packet block at byte ${offset} names interface ${interfaceId}, which was not described`,
          ),
        );
      const units = (BigInt(u32(body, 4)) << 32n) | BigInt(u32(body, 8));
      const capturedLength = u32(body, 12);
      if (20 + capturedLength > body.length)
        return done(
          ngError(
            'bad-captured-length',
            offset + 20,
            `packet block at byte ${offset} claims ${capturedLength} bytes, more than the block holds`,
          ),
        );
      packets.push({
        index: packets.length + 1,
        timestamp: toTimestamp(units, iface.unitsPerSecond),
        data: body.subarray(20, 20 + capturedLength),
        originalLength: u32(body, 16),
        linkType: iface.linkType,
        fileOffset: offset,
      });
    } else if (type === BLOCK_SPB) {
      const iface = interfaces[0];
      if (!iface)
        return done(
          ngError(
            'unknown-interface',
            offset + 8,
            `simple packet block at byte ${offset} before any interface description`,
          ),
        );
      if (body.length < 4)
        return done(
          ngError('truncated', offset + 8, `simple packet block at byte ${offset} has no original length`),
        );
      const originalLength = u32(body, 0);
      const capturedLength = Math.min(
        originalLength,
        body.length - 4,
        iface.snapLength || Number.MAX_SAFE_INTEGER,
      );
      packets.push({
        index: packets.length + 1,
        timestamp: { seconds: 0, nanos: 0 },
        data: body.subarray(4, 4 + capturedLength),
        originalLength,
        linkType: iface.linkType,
        fileOffset: offset,
      });
    }
    offset += length;
  }
  return done(null);
}
