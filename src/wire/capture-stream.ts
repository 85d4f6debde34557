/**
 * Incremental (push) parsing of capture files: the one parser behind the pcap and pcapng readers.
 *
 * A capture file is a run of self-delimiting units (pcap: the global header, then records; pcapng:
 * blocks), each of which says its own length in its first bytes. `feed(chunk)` takes the file's
 * next bytes, in chunks of any size, and returns the packets they complete; `end()` says the file
 * is over and returns the error for a last unit cut short, if any. Guarantees:
 * - chunk boundaries do not matter: any split of a file gives the same packets, warnings and error
 *   as the whole file in one chunk (which is what `readPcap`, `readPcapng` and `readCapture` do);
 * - memory does not grow with the file: between chunks only the unfinished unit is kept, and a
 *   unit's announced length is checked against its format's limit before anything is buffered;
 * - a packet's `data` is a view into the chunk it arrived in when its whole record was in that
 *   chunk (no copy), and a copy when the record spanned chunks: a caller that refills one buffer
 *   must be done with the packets of a chunk before it refills it;
 * - input bytes never make it throw: damage sets `error`, and the bytes after it are ignored.
 */
import type { CapturedPacket, CaptureFile } from './pcap.js';
import type { WireError } from './result.js';

export interface CaptureStreamParser {
  readonly format: CaptureFile['format'];
  /** Known once the header (pcap) or first interface description (pcapng) has been read. */
  readonly resolution: CaptureFile['resolution'];
  /** Packets returned so far. */
  readonly packetCount: number;
  /** The damage that stopped the parse, once found (and after `end()`, a cut-off last unit). */
  readonly error: WireError | null;
  /** The packets completed by `chunk`, in file order. */
  feed(chunk: Uint8Array): CapturedPacket[];
  /** The file is over: returns `error`, set now if the file ends inside a unit. Feed nothing after it. */
  end(): WireError | null;
}

/** Feeds `bytes` as one chunk: the whole-file reading of a capture. */
export function readWhole(parser: CaptureStreamParser, bytes: Uint8Array): CaptureFile {
  const packets = parser.feed(bytes);
  const error = parser.end();
  return { format: parser.format, resolution: parser.resolution, packets, error };
}

function isWireError(x: CapturedPacket | WireError): x is WireError {
  return 'code' in x;
}

/**
 * Splits the byte stream into units and hands each complete unit to the format. A format says how
 * long the next unit is from its first bytes (`measure`), turns a complete unit into a packet or
 * nothing (`unit`), and names the damage when the file ends inside a unit (`cutShort`).
 */
export abstract class UnitStreamParser implements CaptureStreamParser {
  abstract readonly format: CaptureFile['format'];
  resolution: CaptureFile['resolution'] = 'micro';
  packetCount = 0;
  error: WireError | null = null;
  /** File offset of the next unit, the unfinished one when `pendingLength > 0`. */
  private offset = 0;
  /** The unfinished unit's bytes so far; reused, grown to the largest unit that spanned chunks. */
  private pending = new Uint8Array(0);
  private pendingLength = 0;

  /**
   * How many bytes the unit starting at file offset `offset` needs, judged from `head`, its bytes
   * so far (possibly more than the unit): while its header is incomplete, the header's length (or
   * the bytes needed to judge the next field); once the header is there, the whole unit's length.
   * Must only grow as `head` grows, and be exact once `head` is at least as long as it.
   */
  protected abstract measure(head: Uint8Array, offset: number): number | WireError;
  /** A complete unit: a packet (numbered `packetCount + 1`), nothing (headers, other blocks), or damage. */
  protected abstract unit(bytes: Uint8Array, offset: number): CapturedPacket | WireError | null;
  /** The file ended inside the unit at `offset`, of which `head` arrived (empty for an empty file). */
  protected abstract cutShort(head: Uint8Array, offset: number): WireError;

  feed(chunk: Uint8Array): CapturedPacket[] {
    const packets: CapturedPacket[] = [];
    let pos = 0;
    while (this.error === null) {
      if (this.pendingLength === 0) {
        // Fast path: units wholly inside the chunk are taken where they are.
        if (pos === chunk.length) break;
        const head = chunk.subarray(pos);
        const need = this.measure(head, this.offset);
        if (typeof need !== 'number') {
          this.error = need;
          break;
        }
        if (need > head.length) {
          this.keep(head, need);
          break;
        }
        this.take(chunk.subarray(pos, pos + need), packets);
        pos += need;
      } else {
        // A unit begun in an earlier chunk: top it up to what it needs, measuring again as it grows.
        const head = this.pending.subarray(0, this.pendingLength);
        const need = this.measure(head, this.offset);
        if (typeof need !== 'number') {
          this.error = need;
          break;
        }
        if (need <= head.length) {
          this.pendingLength = 0;
          this.take(head.slice(), packets); // a copy: `pending` is refilled with the next unit
          continue;
        }
        if (pos === chunk.length) break;
        const n = Math.min(need - head.length, chunk.length - pos);
        this.keep(chunk.subarray(pos, pos + n), need);
        pos += n;
      }
    }
    return packets;
  }

  end(): WireError | null {
    if (this.error === null && (this.pendingLength > 0 || this.offset === 0)) {
      this.error = this.cutShort(this.pending.subarray(0, this.pendingLength), this.offset);
    }
    return this.error;
  }

  /** Appends `bytes` to the unfinished unit, which will need `need` bytes (or more). */
  private keep(bytes: Uint8Array, need: number): void {
    if (this.pending.length < need) {
      const grown = new Uint8Array(Math.max(need, 2 * this.pending.length));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(bytes, this.pendingLength);
    this.pendingLength += bytes.length;
  }

  private take(bytes: Uint8Array, packets: CapturedPacket[]): void {
    const result = this.unit(bytes, this.offset);
    this.offset += bytes.length;
    if (result === null) return;
    if (isWireError(result)) {
      this.error = result;
      return;
    }
    this.packetCount++;
    packets.push(result);
  }
}
