/**
 * Classic libpcap capture files: reader and writer over `Uint8Array` (no I/O here; the CLI reads
 * and writes files, the simulator writes with virtual timestamps).
 *
 * Format (pcap-savefile(5), draft-ietf-opsawg-pcap): a 24-byte global header whose magic
 * 0xa1b2c3d4 (microsecond) or 0xa1b23c4d (nanosecond) also tells the byte order, then records of
 * a 16-byte header (seconds, fraction, captured length, original length) and the packet bytes.
 * The reader never throws: damage stops the read with a `WireError` at the byte offset, and every
 * record before it is returned; a record whose timestamp fraction is not below one second is read
 * with a `bad-timestamp` warning. `readPcap` reads a whole file; `PcapStreamParser` reads one in
 * chunks of any size with memory that does not grow with the file (capture-stream.ts).
 */
import { concatBytes, readU32, readU32le, writeU16le, writeU32le } from './bytes.js';
import { readWhole, UnitStreamParser } from './capture-stream.js';
import type { DecodeWarning } from './decode.js';
import type { WireError } from './result.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** Largest record the reader accepts (tcpdump's MAXIMUM_SNAPLEN). */
export const PCAP_MAX_RECORD = 262144;

export interface Timestamp {
  readonly seconds: number;
  /** 0 .. 999,999,999 */
  readonly nanos: number;
}

export interface CapturedPacket {
  /** 1-based, as Wireshark numbers frames. */
  readonly index: number;
  readonly timestamp: Timestamp;
  readonly data: Uint8Array;
  /** Length on the wire; larger than `data.length` when the capture was cut by the snap length. */
  readonly originalLength: number;
  readonly linkType: number;
  /** Byte offset of the record (or block) in the file. */
  readonly fileOffset: number;
  /** Oddities of the record itself that did not stop the read (layer `pcap`); absent when none. */
  readonly warnings?: readonly DecodeWarning[];
}

export interface CaptureFile {
  readonly format: 'pcap' | 'pcapng';
  /** 'micro' | 'nano' for pcap; for pcapng, the first interface's resolution. */
  readonly resolution: 'micro' | 'nano' | 'other';
  readonly packets: CapturedPacket[];
  /** Set when the file is damaged or cut short; `packets` holds everything before the damage. */
  readonly error: WireError | null;
}

function pcapError(code: string, offset: number, message: string): WireError {
  return { layer: 'pcap', code, offset, message };
}

export function isPcap(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const be = readU32(bytes, 0);
  const le = readU32le(bytes, 0);
  return (
    be === PCAP_MAGIC_MICRO || be === PCAP_MAGIC_NANO || le === PCAP_MAGIC_MICRO || le === PCAP_MAGIC_NANO
  );
}

/** Reads a whole pcap file (see `PcapStreamParser` for reading one in chunks). Never throws. */
export function readPcap(bytes: Uint8Array): CaptureFile {
  return readWhole(new PcapStreamParser(), bytes);
}

/**
 * Push parser for classic pcap: `feed` the file in chunks of any size, then `end` (see
 * capture-stream.ts for the guarantees). The global header is the first unit, each record the next.
 */
export class PcapStreamParser extends UnitStreamParser {
  readonly format = 'pcap';
  private u32 = readU32le;
  private linkType = LINKTYPE_ETHERNET;
  private fcsBytes = 0;

  protected measure(head: Uint8Array, offset: number): number | WireError {
    if (offset === 0) {
      if (head.length < 4) return 4;
      if (!isPcap(head)) {
        return pcapError('bad-magic', 0, 'not a pcap file (no libpcap magic number in the first 4 bytes)');
      }
      // The magic, written in the writer's byte order, tells that order and the resolution.
      const be = readU32(head, 0);
      this.u32 = be === PCAP_MAGIC_MICRO || be === PCAP_MAGIC_NANO ? readU32 : readU32le;
      this.resolution = this.u32(head, 0) === PCAP_MAGIC_NANO ? 'nano' : 'micro';
      return PCAP_GLOBAL_HEADER_LENGTH;
    }
    if (head.length < PCAP_RECORD_HEADER_LENGTH) return PCAP_RECORD_HEADER_LENGTH;
    const capturedLength = this.u32(head, 8);
    if (capturedLength > PCAP_MAX_RECORD) {
      return pcapError(
        'record-too-large',
        offset + 8,
        `record ${this.packetCount + 1} at byte ${offset} claims ${capturedLength} captured bytes (limit ${PCAP_MAX_RECORD})`,
      );
    }
    return PCAP_RECORD_HEADER_LENGTH + capturedLength;
  }

  protected unit(bytes: Uint8Array, offset: number): CapturedPacket | null {
    const u32 = this.u32;
    if (offset === 0) {
      // The link-type field's upper bits (draft-ietf-opsawg-pcap, LinkType and additional
      // information): bit 26 (F) says frames end with an FCS, bits 28-31 give its length in 16-bit
      // units. The link type is the low 26 bits.
      const network = u32(bytes, 20);
      this.linkType = network & 0x03ff_ffff;
      this.fcsBytes = network & 0x0400_0000 ? ((network >>> 28) & 0xf) * 2 : 0;
      return null;
    }
    const index = this.packetCount + 1;
    const seconds = u32(bytes, 0);
    const fraction = u32(bytes, 4);
    const capturedLength = u32(bytes, 8);
    const originalLength = u32(bytes, 12);
    // The fraction counts the microseconds (or nanoseconds) elapsed since that second
    // (draft-ietf-opsawg-pcap, Packet Record), so it should be below one second. A record whose
    // fraction is not is still read, as tshark reads it: the whole seconds in the fraction are
    // carried into the seconds (the time the two fields add up to), with a warning on the packet.
    const nanos = fraction * (this.resolution === 'nano' ? 1 : 1000);
    const carry = Math.floor(nanos / 1e9);
    // A trailing FCS is not part of the frame the decoder sees (when captured in full).
    const fcs =
      this.fcsBytes > 0 && capturedLength === originalLength && capturedLength >= this.fcsBytes
        ? this.fcsBytes
        : 0;
    const packet: CapturedPacket = {
      index,
      timestamp: { seconds: seconds + carry, nanos: nanos - carry * 1e9 },
      data: bytes.subarray(PCAP_RECORD_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH + capturedLength - fcs),
      originalLength: originalLength - fcs,
      linkType: this.linkType,
      fileOffset: offset,
    };
    if (carry === 0) return packet;
    const unit = this.resolution === 'nano' ? 'nanoseconds' : 'microseconds';
    const warning: DecodeWarning = {
      layer: 'pcap',
      code: 'bad-timestamp',
      message: `timestamp fraction ${fraction} ${unit} is not below one second (carried into the seconds)`,
    };
    return { ...packet, warnings: [warning] };
  }

  protected cutShort(head: Uint8Array, offset: number): WireError {
    if (offset === 0) {
      return head.length < 4
        ? pcapError('bad-magic', 0, 'not a pcap file (no libpcap magic number in the first 4 bytes)')
        : pcapError(
            'truncated',
            head.length,
            `pcap global header cut short at byte ${head.length} (needs 24)`,
          );
    }
    const record = this.packetCount + 1;
    if (head.length < PCAP_RECORD_HEADER_LENGTH) {
      return pcapError(
        'truncated',
        offset,
        `record ${record} header cut short at byte ${offset} (${head.length} of 16 bytes)`,
      );
    }
    return pcapError(
      'truncated',
      offset + head.length,
      `record ${record} at byte ${offset} cut short: ${this.u32(head, 8)} bytes announced, ${head.length - PCAP_RECORD_HEADER_LENGTH} present`,
    );
  }
}

export interface PcapWriterOptions {
  /** Nanosecond timestamps (magic 0xa1b23c4d). Default false: microseconds, which every tool reads. */
  readonly nanosecond?: boolean;
  readonly snapLength?: number;
  readonly linkType?: number;
}

/**
 * Writes little-endian classic pcap. `header()` once, then `record()` per packet; the caller
 * concatenates or streams the chunks. Microsecond files round timestamps down.
 */
export class PcapWriter {
  readonly nanosecond: boolean;
  readonly snapLength: number;
  readonly linkType: number;

  constructor(options: PcapWriterOptions = {}) {
    this.nanosecond = options.nanosecond ?? false;
    this.snapLength = options.snapLength ?? PCAP_MAX_RECORD;
    this.linkType = options.linkType ?? LINKTYPE_ETHERNET;
  }

  header(): Uint8Array {
    const b = new Uint8Array(PCAP_GLOBAL_HEADER_LENGTH);
    writeU32le(b, 0, this.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO);
    writeU16le(b, 4, 2);
    writeU16le(b, 6, 4);
    writeU32le(b, 16, this.snapLength);
    writeU32le(b, 20, this.linkType);
    return b;
  }

  record(data: Uint8Array, timestamp: Timestamp, originalLength = data.length): Uint8Array {
    const captured = Math.min(data.length, this.snapLength);
    const b = new Uint8Array(PCAP_RECORD_HEADER_LENGTH + captured);
    writeU32le(b, 0, timestamp.seconds);
    writeU32le(b, 4, this.nanosecond ? timestamp.nanos : Math.floor(timestamp.nanos / 1000));
    writeU32le(b, 8, captured);
    writeU32le(b, 12, Math.max(originalLength, captured));
    b.set(data.subarray(0, captured), PCAP_RECORD_HEADER_LENGTH);
    return b;
  }
}

/** Timestamp of an integer number of nanoseconds (e.g. simulated time since 0). */
export function timestampFromNanos(ns: number): Timestamp {
  const seconds = Math.floor(ns / 1e9);
  return { seconds, nanos: ns - seconds * 1e9 };
}

/** One whole file: header and records. */
export function writePcap(
  packets: readonly { data: Uint8Array; timestamp: Timestamp }[],
  options: PcapWriterOptions = {},
): Uint8Array {
  const writer = new PcapWriter(options);
  return concatBytes([writer.header(), ...packets.map((p) => writer.record(p.data, p.timestamp))]);
}
