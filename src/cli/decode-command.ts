/**
 * `vnet decode [--json] [--verbose] FILE...`: prints every frame of every capture file.
 *
 * Exit status: 0 when every file was read to its end; 1 when any file is missing, not a capture,
 * or damaged (the frames before the damage are still printed, and the message names the file
 * and the byte offset). Frames that fail to decode are printed with their error and do not
 * change the exit status: a malformed packet is data, not a failure of the tool.
 */
import { readFileSync } from 'node:fs';
import {
  type CapturedPacket,
  type DecodedFrame,
  type DecodeOptions,
  decodeFrame,
  LINKTYPE_ETHERNET,
  layerTree,
  readCapture,
  summarizeFrame,
} from '../wire/index.js';
import type { LineWriter } from './output.js';

export interface DecodeCommandOptions extends DecodeOptions {
  readonly json?: boolean;
  readonly verbose?: boolean;
}

function relativeNanos(p: CapturedPacket, first: CapturedPacket): number {
  return (p.timestamp.seconds - first.timestamp.seconds) * 1e9 + (p.timestamp.nanos - first.timestamp.nanos);
}

/** ISO 8601 with nanoseconds, or null for a time JavaScript dates cannot hold (past year 275760). */
function isoTimestamp(p: CapturedPacket): string | null {
  const date = new Date(p.timestamp.seconds * 1000);
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString(); // 2026-11-24T08:00:00.000Z, or +275760-... for extended years
  return `${iso.slice(0, iso.indexOf('.'))}.${String(p.timestamp.nanos).padStart(9, '0')}Z`;
}

function decodePacket(p: CapturedPacket, options: DecodeOptions): DecodedFrame {
  if (p.linkType !== LINKTYPE_ETHERNET) {
    return {
      layers: [],
      warnings: [],
      error: {
        layer: 'pcap',
        code: 'unsupported-link-type',
        offset: 0,
        message: `link type ${p.linkType} is not Ethernet (1)`,
      },
    };
  }
  const frame = decodeFrame(p.data, {
    vxlanPorts: options.vxlanPorts,
    genevePorts: options.genevePorts,
    originalLength: p.originalLength,
  });
  if (p.data.length < p.originalLength) {
    frame.warnings.push({
      layer: 'pcap',
      code: 'snapped',
      message: `only ${p.data.length} of ${p.originalLength} bytes were captured`,
    });
  }
  return frame;
}

/** Decodes one file's bytes to `out`; returns the file-level error message, or null. */
export async function decodeCaptureBytes(
  file: string,
  bytes: Uint8Array,
  options: DecodeCommandOptions,
  out: LineWriter,
): Promise<string | null> {
  const capture = readCapture(bytes);
  const first = capture.packets[0];
  const decimals = capture.resolution === 'micro' ? 6 : 9;
  for (const p of capture.packets) {
    const frame = decodePacket(p, options);
    const nanos = first ? relativeNanos(p, first) : 0;
    if (options.json) {
      out.line(
        JSON.stringify({
          file,
          index: p.index,
          time: nanos / 1e9,
          timestamp: isoTimestamp(p),
          length: p.originalLength,
          capturedLength: p.data.length,
          layers: frame.layers,
          warnings: frame.warnings,
          error: frame.error,
        }),
      );
    } else {
      out.line(`${p.index} ${(nanos / 1e9).toFixed(decimals)} ${summarizeFrame(frame)}`);
      if (options.verbose) for (const line of layerTree(frame)) out.line(line);
    }
    if (p.index % 1024 === 0) {
      await out.drained();
      if (out.closed) break; // the reader went away (`| head`)
    }
  }
  if (!capture.error) return null;
  const e = capture.error;
  return `${file}: ${e.message} (${e.layer} ${e.code} at byte ${e.offset}); ${capture.packets.length} frame(s) before it were decoded`;
}

export async function runDecode(
  files: readonly string[],
  options: DecodeCommandOptions,
  out: LineWriter,
  err: LineWriter,
): Promise<number> {
  let status = 0;
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file === '-' ? 0 : file); // '-' reads standard input, as tshark -r - does
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      err.line(
        `vnet decode: ${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(error))})`,
      );
      status = 1;
      continue;
    }
    const problem = await decodeCaptureBytes(file, bytes, options, out);
    if (problem) {
      out.flush();
      err.line(`vnet decode: ${problem}`);
      err.flush();
      status = 1;
    }
  }
  return status;
}
