/**
 * `vnet decode [--json] [--verbose] FILE...`: prints every frame of every capture file.
 *
 * Streams: each file is read in chunks and fed to the wire/ push parser, and each frame is decoded
 * and printed as soon as its record is in, so memory stays flat however large the file, and a
 * capture still being written into a pipe shows frame by frame. A slow reader of the output holds
 * back the reading; a reader that goes away (`| head`) ends it.
 *
 * Exit status: 0 when every file was read to its end; 1 when any file is missing, not a capture,
 * or damaged (the frames before the damage are still printed, and the message names the file
 * and the byte offset). Frames that fail to decode are printed with their error and do not
 * change the exit status: a malformed packet is data, not a failure of the tool.
 */
import { createReadStream } from 'node:fs';
import {
  type CapturedPacket,
  type CaptureFile,
  CaptureStreamReader,
  type DecodedFrame,
  type DecodeOptions,
  decodeFrame,
  LINKTYPE_ETHERNET,
  layerTree,
  summarizeFrame,
  type Timestamp,
} from '../wire/index.js';
import type { LineWriter } from './output.js';

export interface DecodeCommandOptions extends DecodeOptions {
  readonly json?: boolean;
  readonly verbose?: boolean;
}

function relativeNanos(t: Timestamp, start: Timestamp): number {
  return (t.seconds - start.seconds) * 1e9 + (t.nanos - start.nanos);
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
      warnings: [...(p.warnings ?? [])],
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
  if (p.warnings) frame.warnings.push(...p.warnings); // the record's own, e.g. a timestamp fraction over a second
  if (p.data.length < p.originalLength) {
    frame.warnings.push({
      layer: 'pcap',
      code: 'snapped',
      message: `only ${p.data.length} of ${p.originalLength} bytes were captured`,
    });
  }
  return frame;
}

/** Why a file could not be read: a read error, as opposed to damage inside the capture. */
class ReadError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** Bytes read at a time: memory stays flat in the file's size; a pipe gives what it has sooner. */
const CHUNK_BYTES = 256 * 1024;

/** The file's bytes in chunks, as they can be read; '-' reads standard input, as tshark -r - does. */
async function* readChunks(file: string): AsyncGenerator<Uint8Array> {
  const stream = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } catch (error) {
    throw new ReadError((error as NodeJS.ErrnoException).code ?? String(error));
  }
}

/**
 * Decodes one capture, arriving as `chunks`, to `out`: each frame is printed as soon as its record
 * is in, and only the record being read is held. Returns the file-level error message, or null.
 */
export async function decodeCaptureStream(
  file: string,
  chunks: AsyncIterable<Uint8Array>,
  options: DecodeCommandOptions,
  out: LineWriter,
): Promise<string | null> {
  const parser = new CaptureStreamReader();
  let start: Timestamp | undefined; // the first frame's time (not the frame: it views its chunk)
  for await (const chunk of chunks) {
    for (const p of parser.feed(chunk)) {
      start ??= p.timestamp;
      printFrame(file, p, start, parser.resolution, options, out);
      if (p.index % 1024 === 0) await out.drained();
      if (out.closed) return null; // the reader went away (`| head`): stop reading too
    }
    out.flush(); // frames show as they are read (a capture still being written into a pipe)
    await out.drained(); // a slow reader holds back the reading
    if (out.closed) return null;
    if (parser.error) break; // nothing after the damage is read
  }
  const e = parser.end();
  if (!e) return null;
  return `${file}: ${e.message} (${e.layer} ${e.code} at byte ${e.offset}); ${parser.packetCount} frame(s) before it were decoded`;
}

function printFrame(
  file: string,
  p: CapturedPacket,
  start: Timestamp,
  resolution: CaptureFile['resolution'],
  options: DecodeCommandOptions,
  out: LineWriter,
): void {
  const frame = decodePacket(p, options);
  const nanos = relativeNanos(p.timestamp, start);
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
    out.line(`${p.index} ${(nanos / 1e9).toFixed(resolution === 'micro' ? 6 : 9)} ${summarizeFrame(frame)}`);
    if (options.verbose) for (const line of layerTree(frame)) out.line(line);
  }
}

export async function runDecode(
  files: readonly string[],
  options: DecodeCommandOptions,
  out: LineWriter,
  err: LineWriter,
): Promise<number> {
  let status = 0;
  for (const file of files) {
    if (out.closed) break; // the reader went away (`| head`)
    let problem: string | null;
    try {
      problem = await decodeCaptureStream(file, readChunks(file), options, out);
    } catch (error) {
      if (!(error instanceof ReadError)) throw error;
      const code = error.code;
      problem = `${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code})`;
    }
    if (problem) {
      out.flush();
      err.line(`vnet decode: ${problem}`);
      err.flush();
      status = 1;
    }
  }
  return status;
}
