/**
 * IPv4 reassembly (RFC 791 3.2, RFC 815's hole bookkeeping kept simple): fragments are buffered
 * per (source, destination, protocol, identification) until every byte from 0 to the end of the
 * last fragment (MF clear) is present, then one datagram is rebuilt with the first fragment's
 * header. Incomplete datagrams are abandoned after a timeout (30 s, Linux's ipfrag_time), at most
 * 64 are pending at once, and a datagram may not exceed 65,535 bytes.
 */
import type { Nanos, Timer } from '../../sim/index.js';
import { allocBytes, type Ipv4View, ipv4ReprFromView, writeIpv4Header } from '../../wire/index.js';

interface Pending {
  readonly pieces: { offset: number; data: Uint8Array }[];
  /** Header (view) of the fragment at offset 0, once it has come. */
  first: Ipv4View | null;
  /** Total payload length, once the last fragment has come. */
  total: number | null;
  timer: Timer;
}

export type ReassemblyResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'complete'; readonly packet: Uint8Array }
  | { readonly kind: 'dropped'; readonly reason: string };

export const REASSEMBLY_TIMEOUT: Nanos = 30e9;
const MAX_PENDING = 64;

export class Reassembler {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly setTimer: (delay: Nanos, fn: () => void) => Timer,
    /** Called when a datagram is abandoned; `first` is its first fragment if it came (for ICMP time exceeded, code 1). */
    private readonly onTimeout: (first: Ipv4View | null) => void,
  ) {}

  add(fragment: Ipv4View): ReassemblyResult {
    const key = `${fragment.src}/${fragment.dst}/${fragment.protocol}/${fragment.id}`;
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= MAX_PENDING) return { kind: 'dropped', reason: 'reassembly-queue-full' };
      const timer = this.setTimer(REASSEMBLY_TIMEOUT, () => {
        const gone = this.pending.get(key);
        this.pending.delete(key);
        this.onTimeout(gone?.first ?? null);
      });
      p = { pieces: [], first: null, total: null, timer };
      this.pending.set(key, p);
    }
    const offset = fragment.fragmentOffset * 8;
    const data = fragment.payload.slice(); // the frame buffer is not ours to keep
    if (offset + data.length > 65535 - 20) {
      p.timer.cancel();
      this.pending.delete(key);
      return { kind: 'dropped', reason: 'reassembly-too-large' };
    }
    p.pieces.push({ offset, data });
    if (offset === 0) p.first = fragment;
    if (!fragment.mf) p.total = offset + data.length;
    if (p.first === null || p.total === null) return { kind: 'incomplete' };
    // Complete when the pieces cover [0, total) without a gap.
    const sorted = [...p.pieces].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const piece of sorted) {
      if (piece.offset > covered) return { kind: 'incomplete' };
      covered = Math.max(covered, piece.offset + piece.data.length);
    }
    if (covered < p.total) return { kind: 'incomplete' };
    p.timer.cancel();
    this.pending.delete(key);
    const repr = ipv4ReprFromView(p.first);
    const headerLength = 20 + repr.options.length;
    const packet = allocBytes(headerLength + p.total);
    writeIpv4Header(packet, 0, { ...repr, mf: false, fragmentOffset: 0 }, p.total);
    for (const piece of sorted)
      packet.set(piece.data.subarray(0, Math.max(0, p.total - piece.offset)), headerLength + piece.offset);
    return { kind: 'complete', packet };
  }

  get size(): number {
    return this.pending.size;
  }
}
