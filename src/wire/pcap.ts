/**
 * Classic libpcap capture files: reader and writer over `Uint8Array` (no I/O here; the CLI reads
 * and writes files, the simulator writes with virtual timestamps).
 *
 * Format (pcap-savefile(5), draft-ietf-opsawg-pcap): a 24-byte global header whose magic
 * 0xa1b2c3d4 (microsecond) or 0xa1b23c4d (nanosecond) also tells the byte order, then records of
 * a 16-byte header (seconds, fraction, captured length, original length) and the packet bytes.
 * The reader never throws: damage stops the read with a `WireError` at the byte offset, and every
 * record before it is returned.
 */
import { concatBytes, readU32, readU32le, writeU16le, writeU32le } from './bytes.js';
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

export function readPcap(bytes: Uint8Array): CaptureFile {
  const packets: CapturedPacket[] = [];
  const result = (resolution: CaptureFile['resolution'], error: WireError | null): CaptureFile => ({
    format: 'pcap',
    resolution,
    packets,
    error,
  });
  if (!isPcap(bytes)) {
    return result(
      'micro',
      pcapError('bad-magic', 0, 'not a pcap file (no libpcap magic number in the first 4 bytes)'),
    );
  }
  const bigEndian = readU32(bytes, 0) === PCAP_MAGIC_MICRO || readU32(bytes, 0) === PCAP_MAGIC_NANO;
  const u32 = bigEndian ? readU32 : readU32le;
  const magic = u32(bytes, 0);
  const resolution = magic === PCAP_MAGIC_NANO ? 'nano' : 'micro';
  if (bytes.length < PCAP_GLOBAL_HEADER_LENGTH) {
    return result(
      resolution,
      pcapError('truncated', bytes.length, `pcap global header cut short at byte ${bytes.length} (needs 24)`),
    );
  }
  // The link-type field's upper bits (pcap-savefile(5)): bit 26 says frames end with an FCS,
  // bits 28-31 give its length in 16-bit units. The link type is the low 26 bits.
  const network = u32(bytes, 20);
  const linkType = network & 0x03ff_ffff;
  const fcsBytes = network & 0x0400_0000 ? ((network >>> 28) & 0xf) * 2 : 0;
  const fractionScale = resolution === 'nano' ? 1 : 1000;
  let offset = PCAP_GLOBAL_HEADER_LENGTH;
  while (offset < bytes.length) {
    if (offset + PCAP_RECORD_HEADER_LENGTH > bytes.length) {
      return result(
        resolution,
        pcapError(
          'truncated',
          offset,
          `record ${packets.length + 1} header cut short at byte ${offset} (${bytes.length - offset} of 16 bytes)`,
        ),
      );
    }
    const seconds = u32(bytes, offset);
    const fraction = u32(bytes, offset + 4);
    const capturedLength = u32(bytes, offset + 8);
    const originalLength = u32(bytes, offset + 12);
    if (fraction * fractionScale >= 1e9) {
      return result(
        resolution,
        pcapError(
          'bad-timestamp',
          offset + 4,
          `record ${packets.length + 1} at byte ${offset}: fraction ${fraction} is not below one second`,
        ),
      );
    }
    if (capturedLength > PCAP_MAX_RECORD) {
      return result(
        resolution,
        pcapError(
          'record-too-large',
          offset + 8,
          `record ${packets.length + 1} at byte ${offset} claims ${capturedLength} captured bytes (limit ${PCAP_MAX_RECORD})`,
        ),
      );
    }
    const dataStart = offset + PCAP_RECORD_HEADER_LENGTH;
    if (dataStart + capturedLength > bytes.length) {
      return result(
        resolution,
        pcapError(
          'truncated',
          bytes.length,
          `record ${packets.length + 1} at byte ${offset} cut short: ${capturedLength} bytes announced, ${bytes.length - dataStart} present`,
        ),
      );
    }
    // A trailing FCS is not part of the frame the decoder sees (when captured in full).
    const fcs =
      fcsBytes > 0 && capturedLength === originalLength && capturedLength >= fcsBytes ? fcsBytes : 0;
    packets.push({
      index: packets.length + 1,
      timestamp: { seconds, nanos: fraction * fractionScale },
      data: bytes.subarray(dataStart, dataStart + capturedLength - fcs),
      originalLength: originalLength - fcs,
      linkType,
      fileOffset: offset,
    });
    offset = dataStart + capturedLength;
  }
  return result(resolution, null);
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
