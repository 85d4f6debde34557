/**
 * Packet capture on simulated ports and links, written as nanosecond pcap with simulated
 * timestamps (time 0 is 1970-01-01T00:00:00Z, as a capture of virtual time). A link capture sees
 * what a tap on the cable would: every frame either end transmits, at the time it starts.
 */
import type { Nanos } from '../sim/index.js';
import { timestampFromNanos, writePcap } from '../wire/index.js';
import type { Clock } from './clock.js';
import type { Link } from './link.js';
import type { Port } from './port.js';

export interface CapturedFrame {
  readonly time: Nanos;
  readonly data: Uint8Array;
  /** Where it was seen, e.g. `sw1:1 tx`. */
  readonly where: string;
}

export class Capture {
  readonly frames: CapturedFrame[] = [];
  private detachers: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  /** Captures frames sent (`tx`), received (`rx`) or both at a port. */
  attachPort(port: Port, direction: 'rx' | 'tx' | 'both' = 'both'): this {
    this.detachers.push(
      port.tap((frame, dir, p) => {
        if (direction === 'both' || direction === dir)
          this.frames.push({ time: this.clock.now(), data: frame, where: `${p.id} ${dir}` });
      }),
    );
    return this;
  }

  /** Captures every frame either end puts on the cable, stamped when it starts on the wire (frames the link drops are not on it). */
  attachLink(link: Link): this {
    this.detachers.push(
      link.tap((frame, from, start) =>
        this.frames.push({ time: start, data: frame, where: `${from.id} tx` }),
      ),
    );
    return this;
  }

  detach(): void {
    for (const d of this.detachers) d();
    this.detachers = [];
  }

  /** The frames in time order (a frame queued behind another is stamped when it starts, so they may arrive out of order). */
  toPcap(): Uint8Array {
    const ordered = [...this.frames].sort((a, b) => a.time - b.time);
    return writePcap(
      ordered.map((f) => ({ data: f.data, timestamp: timestampFromNanos(f.time) })),
      { nanosecond: true },
    );
  }
}
