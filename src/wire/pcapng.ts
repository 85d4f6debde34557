/**
 * pcapng reader (draft-ietf-opsawg-pcapng): Section Header, Interface Description, Enhanced
 * Packet, Simple Packet and (obsolete) Packet blocks; every other block is skipped by its length.
 * Each section sets its own byte order; each interface its link type, snap length and timestamp
 * resolution (option if_tsresol, default microseconds). Written by hand: the registry has no
 * maintained pure-JS pcapng reader, and the format is small. Never throws: damage stops the read
 * with a `WireError` at its byte offset, after every packet before it. `readPcapng` reads a whole
 * file; `PcapngStreamParser` reads one in chunks of any size with memory that does not grow with
 * the file (capture-stream.ts).
 */
import { readU16, readU16le, readU32, readU32le } from './bytes.js';
import { readWhole, UnitStreamParser } from './capture-stream.js';
import type { CapturedPacket, CaptureFile, Timestamp } from './pcap.js';
import type { WireError } from './result.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
/**
 * Largest block the reader accepts: 16 MiB, Wireshark's limit before it raised it for D-Bus
 * messages (Ethernet frames are far smaller). A damaged length field then cannot make a reader
 * buffer the rest of the file as one block.
 */
export const PCAPNG_MAX_BLOCK = 16 * 1024 * 1024;
const NOT_PCAPNG = 'not a pcapng file (no Section Header Block)';
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

/** Reads a whole pcapng file (see `PcapngStreamParser` for reading one in chunks). Never throws. */
export function readPcapng(bytes: Uint8Array): CaptureFile {
  return readWhole(new PcapngStreamParser(), bytes);
}

/**
 * Push parser for pcapng: `feed` the file in chunks of any size, then `end` (see capture-stream.ts
 * for the guarantees). Each block is one unit.
 */
export class PcapngStreamParser extends UnitStreamParser {
  readonly format = 'pcapng';
  /** Readers in the current section's byte order (set by its Section Header Block). */
  private u16 = readU16;
  private u32 = readU32;
  /** The current section's interfaces, by Interface ID (their order in the section). */
  private interfaces: Interface[] = [];
  private resolutionKnown = false;

  protected measure(head: Uint8Array, offset: number): number | WireError {
    if (offset === 0) {
      if (head.length < 4) return 4;
      if (readU32(head, 0) !== PCAPNG_SHB) return ngError('bad-magic', 0, NOT_PCAPNG);
    }
    if (head.length < 12) return 12;
    // The Section Header Block's type reads the same in both byte orders; its byte-order magic
    // then sets the order of everything in the section, its own length included
    // (draft-ietf-opsawg-pcapng, Section Header Block).
    if (readU32(head, 0) === PCAPNG_SHB) {
      if (readU32(head, 8) === BYTE_ORDER_MAGIC) {
        this.u16 = readU16;
        this.u32 = readU32;
      } else if (readU32le(head, 8) === BYTE_ORDER_MAGIC) {
        this.u16 = readU16le;
        this.u32 = readU32le;
      } else {
        return ngError(
          'bad-byte-order-magic',
          offset + 8,
          `section header at byte ${offset} has no valid byte-order magic`,
        );
      }
    }
    // Block Total Length counts the whole block and is a multiple of 4 (draft-ietf-opsawg-pcapng,
    // General Block Structure).
    const length = this.u32(head, 4);
    if (length < 12 || length % 4 !== 0)
      return ngError('bad-block-length', offset + 4, `block at byte ${offset} has invalid length ${length}`);
    if (length > PCAPNG_MAX_BLOCK)
      return ngError(
        'block-too-large',
        offset + 4,
        `block at byte ${offset} claims ${length} bytes (limit ${PCAPNG_MAX_BLOCK})`,
      );
    return length;
  }

  protected unit(block: Uint8Array, offset: number): CapturedPacket | WireError | null {
    const u16 = this.u16;
    const u32 = this.u32;
    const length = block.length;
    if (u32(block, length - 4) !== length)
      return ngError(
        'bad-block-length',
        offset + length - 4,
        `block at byte ${offset}: trailing length differs from ${length}`,
      );
    const type = u32(block, 0);
    const body = block.subarray(8, length - 4);
    const index = this.packetCount + 1;
    if (type === PCAPNG_SHB) {
      this.interfaces = []; // Interface IDs count from 0 again in each section
    } else if (type === BLOCK_IDB) {
      if (body.length < 8)
        return ngError('truncated', offset + 8, `interface description block at byte ${offset} is too short`);
      const iface = readInterface(body, u16, u32);
      this.interfaces.push(iface);
      if (!this.resolutionKnown) {
        this.resolution = iface.resolution;
        this.resolutionKnown = true;
      }
    } else if (type === BLOCK_EPB || type === BLOCK_PB) {
      if (body.length < 20)
        return ngError('truncated', offset + 8, `packet block at byte ${offset} is too short`);
      const interfaceId = type === BLOCK_EPB ? u32(body, 0) : u16(body, 0);
      const iface = this.interfaces[interfaceId];
      if (!iface)
        return ngError(
          'unknown-interface',
          offset + 8,
          `packet block at byte ${offset} names interface ${interfaceId}, which was not described`,
        );
      // One 64-bit count of if_tsresol units, high word first: there is no separate fraction
      // field that could exceed a second, as there is in classic pcap.
      const units = (BigInt(u32(body, 4)) << 32n) | BigInt(u32(body, 8));
      const capturedLength = u32(body, 12);
      if (20 + capturedLength > body.length)
        return ngError(
          'bad-captured-length',
          offset + 20,
          `packet block at byte ${offset} claims ${capturedLength} bytes, more than the block holds`,
        );
      return {
        index,
        timestamp: toTimestamp(units, iface.unitsPerSecond),
        data: body.subarray(20, 20 + capturedLength),
        originalLength: u32(body, 16),
        linkType: iface.linkType,
        fileOffset: offset,
      };
    } else if (type === BLOCK_SPB) {
      const iface = this.interfaces[0];
      if (!iface)
        return ngError(
          'unknown-interface',
          offset + 8,
          `simple packet block at byte ${offset} before any interface description`,
        );
      if (body.length < 4)
        return ngError(
          'truncated',
          offset + 8,
          `simple packet block at byte ${offset} has no original length`,
        );
      const originalLength = u32(body, 0);
      const capturedLength = Math.min(
        originalLength,
        body.length - 4,
        iface.snapLength || Number.MAX_SAFE_INTEGER,
      );
      return {
        index,
        timestamp: { seconds: 0, nanos: 0 },
        data: body.subarray(4, 4 + capturedLength),
        originalLength,
        linkType: iface.linkType,
        fileOffset: offset,
      };
    }
    return null;
  }

  protected cutShort(head: Uint8Array, offset: number): WireError {
    if (offset === 0 && head.length < 4) return ngError('bad-magic', 0, NOT_PCAPNG);
    if (head.length < 12)
      return ngError(
        'truncated',
        offset,
        `block at byte ${offset} cut short (${head.length} bytes, a block needs at least 12)`,
      );
    return ngError(
      'truncated',
      offset + head.length,
      `block at byte ${offset} cut short: ${this.u32(head, 4)} bytes announced, ${head.length} present`,
    );
  }
}
