/**
 * Reads a capture file of either format, chosen by its magic number (the first 4 bytes): whole
 * (`readCapture`) or in chunks (`CaptureStreamReader`, same guarantees as the pcap and pcapng
 * push parsers: any split gives the same result, memory does not grow with the file). Never throws.
 */
import { concatBytes } from './bytes.js';
import { type CaptureStreamParser, readWhole } from './capture-stream.js';
import { type CapturedPacket, type CaptureFile, isPcap, PcapStreamParser } from './pcap.js';
import { isPcapng, PcapngStreamParser } from './pcapng.js';
import type { WireError } from './result.js';

export function readCapture(bytes: Uint8Array): CaptureFile {
  return readWhole(new CaptureStreamReader(), bytes);
}

/** Push parser for a capture of either format: holds the first bytes until the magic number is in. */
export class CaptureStreamReader implements CaptureStreamParser {
  private parser: CaptureStreamParser | null = null;
  /** The file's first bytes while there are fewer than 4. */
  private head = new Uint8Array(0);
  private ownError: WireError | null = null;

  get format(): CaptureFile['format'] {
    return this.parser?.format ?? 'pcap';
  }

  get resolution(): CaptureFile['resolution'] {
    return this.parser?.resolution ?? 'micro';
  }

  get packetCount(): number {
    return this.parser?.packetCount ?? 0;
  }

  get error(): WireError | null {
    return this.parser?.error ?? this.ownError;
  }

  feed(chunk: Uint8Array): CapturedPacket[] {
    if (this.parser) return this.parser.feed(chunk);
    if (this.ownError) return [];
    // Copies the chunk only when the file's first chunks were under 4 bytes (a byte-wise pipe).
    const bytes = this.head.length === 0 ? chunk : concatBytes([this.head, chunk]);
    if (bytes.length < 4) {
      this.head = Uint8Array.from(bytes);
      return [];
    }
    if (isPcapng(bytes)) this.parser = new PcapngStreamParser();
    else if (isPcap(bytes)) this.parser = new PcapStreamParser();
    else {
      this.ownError = badMagic(
        'not a capture file (neither a pcap nor a pcapng magic number in the first 4 bytes)',
      );
      return [];
    }
    return this.parser.feed(bytes);
  }

  end(): WireError | null {
    if (this.parser) return this.parser.end();
    this.ownError ??= badMagic(`file is ${this.head.length} bytes, too short for a capture header`);
    return this.ownError;
  }
}

function badMagic(message: string): WireError {
  return { layer: 'pcap', code: 'bad-magic', offset: 0, message };
}
