/**
 * A TAP device as the far end of a device's port: what the port sends is written to the TAP (the
 * namespace behind it receives the frame), and what the kernel sends out of the TAP arrives on
 * the port, as if a cable joined them. Reads happen when the poller says the TAP is readable, up
 * to `READ_BATCH` frames per wake-up; each frame gets bytes of its own (devices may keep frames).
 */
import type { Port } from '../link/index.js';
import type { FdPoller } from './fd-poller.js';
import type { TapDevice } from './tap.js';

const READ_BATCH = 64;
/** Frames are read into slabs of this size; a frame longer than what is left starts a new slab. */
const SLAB = 256 * 1024;
/** The largest frame a read may return (a TAP's MTU is at most 65,535; plus the Ethernet header). */
const MAX_FRAME = 65_535 + 18;

export interface TapPortCounters {
  /** Frames the kernel would not take from the port (the TAP is down, or gone). */
  writeErrors: number;
}

export class TapPort {
  readonly counters: TapPortCounters = { writeErrors: 0 };
  private slab = new Uint8Array(SLAB);
  private used = 0;

  constructor(
    readonly tap: TapDevice,
    readonly port: Port,
    private readonly poller: FdPoller,
  ) {
    port.tx = {
      up: true,
      transmit: (frame) => {
        if (!tap.write(frame)) this.counters.writeErrors++;
      },
    };
    poller.add(tap.fd, () => this.drain());
  }

  /** Reads the frames waiting on the TAP and delivers each to the port. */
  private drain(): void {
    for (let i = 0; i < READ_BATCH; i++) {
      if (SLAB - this.used < MAX_FRAME) {
        this.slab = new Uint8Array(SLAB);
        this.used = 0;
      }
      let n: number;
      try {
        n = this.tap.read(this.slab, this.used);
      } catch {
        this.close();
        return;
      }
      if (n === 0) return;
      const frame = this.slab.subarray(this.used, this.used + n);
      this.used += (n + 7) & ~7;
      this.port.deliver(frame);
    }
  }

  close(): void {
    this.poller.remove(this.tap.fd);
    this.port.tx = null;
    this.tap.close();
  }
}
