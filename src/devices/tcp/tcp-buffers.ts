/**
 * The byte stores of a TCP connection: the send queue (bytes the application wrote, from the
 * oldest unacknowledged one: read at any offset for (re)transmission, trimmed as ACKs arrive) and
 * the reassembly queue (out-of-order segments held until the gap before them fills, RFC 9293
 * 3.10.7.4: overlapping bytes are kept once).
 */
import { seqAdd, seqDiff, seqGt, seqLeq } from './tcp-seq.js';

export class SendQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of `chunks[0]` already removed. */
  private head = 0;
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  /** A copy of `count` bytes from `offset` (both clipped to what is queued). */
  read(offset: number, count: number): Uint8Array {
    const n = Math.max(0, Math.min(count, this.length - offset));
    const out = new Uint8Array(n);
    let skip = offset + this.head;
    let filled = 0;
    for (const chunk of this.chunks) {
      if (filled === n) break;
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      const take = Math.min(chunk.length - skip, n - filled);
      out.set(chunk.subarray(skip, skip + take), filled);
      filled += take;
      skip = 0;
    }
    return out;
  }

  /** Removes the first `count` bytes (they were acknowledged). */
  drop(count: number): void {
    let left = Math.min(count, this.length);
    this.length -= left;
    while (left > 0) {
      const first = this.chunks[0]!;
      const rest = first.length - this.head;
      if (left >= rest) {
        this.chunks.shift();
        this.head = 0;
        left -= rest;
      } else {
        this.head += left;
        left = 0;
      }
    }
  }
}

interface Held {
  seq: number;
  bytes: Uint8Array;
}

export class ReassemblyQueue {
  /** Disjoint segments in sequence order. */
  private held: Held[] = [];
  /** The sequence number of a FIN that arrived ahead of a gap, or null. */
  fin: number | null = null;

  /** Bytes held. */
  get size(): number {
    let n = 0;
    for (const h of this.held) n += h.bytes.length;
    return n;
  }

  get segments(): number {
    return this.held.length;
  }

  /** Keeps `bytes` at `seq`, minus what is already held. */
  add(seq: number, bytes: Uint8Array): void {
    let start = seq;
    let data = bytes;
    const pieces: Held[] = [];
    for (const h of this.held) {
      const hEnd = seqAdd(h.seq, h.bytes.length);
      const end = seqAdd(start, data.length);
      if (data.length === 0) break;
      if (seqLeq(end, h.seq) || seqLeq(hEnd, start)) continue;
      if (seqGt(h.seq, start)) pieces.push({ seq: start, bytes: data.subarray(0, seqDiff(h.seq, start)) });
      if (seqGt(end, hEnd)) {
        data = data.subarray(seqDiff(hEnd, start));
        start = hEnd;
      } else data = data.subarray(data.length);
    }
    if (data.length > 0) pieces.push({ seq: start, bytes: data });
    for (const p of pieces) this.held.push({ seq: p.seq, bytes: p.bytes.slice() });
    this.held.sort((a, b) => seqDiff(a.seq, b.seq));
  }

  /** Removes and returns the bytes that continue the stream at `next`, in order. */
  take(next: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = next;
    while (this.held.length > 0) {
      const first = this.held[0]!;
      const end = seqAdd(first.seq, first.bytes.length);
      if (seqGt(first.seq, at)) break;
      this.held.shift();
      if (seqLeq(end, at)) continue;
      const fresh = first.bytes.subarray(seqDiff(at, first.seq));
      out.push(fresh);
      at = end;
    }
    return out;
  }
}
