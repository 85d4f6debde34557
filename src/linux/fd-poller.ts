/**
 * Waits for many non-blocking file descriptors at once (TAP devices) and tells their owners when
 * they are readable. One `poll(2)` over all of them runs on a worker thread at a time; when it
 * returns, each ready descriptor's `onReadable` runs on the event loop and reads what is waiting
 * (several frames per wake-up), then the next poll starts. A descriptor added or removed while a
 * poll runs counts from the next one (each poll times out after `POLL_TIMEOUT_MS`).
 */
import { libc } from './libc.js';

const POLLIN = 0x0001;
const POLL_TIMEOUT_MS = 100;

interface Watch {
  readonly fd: number;
  readonly onReadable: () => void;
}

export class FdPoller {
  private readonly watches: Watch[] = [];
  private fds = new Uint8Array(0);
  private polling = false;
  private stopped = false;

  /** Calls `onReadable` whenever `fd` has data, until `remove(fd)`. */
  add(fd: number, onReadable: () => void): void {
    this.watches.push({ fd, onReadable });
    this.rebuild();
    this.stopped = false;
    if (!this.polling) this.next();
  }

  remove(fd: number): void {
    const i = this.watches.findIndex((w) => w.fd === fd);
    if (i >= 0) this.watches.splice(i, 1);
    this.rebuild();
  }

  /** Stops polling (the poll in flight ends within its timeout). */
  stop(): void {
    this.stopped = true;
  }

  /** The `struct pollfd` array (fd, events, revents: 8 bytes each) of the current watches. */
  private rebuild(): void {
    const fds = new Uint8Array(8 * this.watches.length);
    const view = new DataView(fds.buffer);
    this.watches.forEach((w, i) => {
      view.setInt32(i * 8, w.fd, true);
      view.setInt16(i * 8 + 4, POLLIN, true);
    });
    this.fds = fds;
  }

  private next(): void {
    if (this.stopped || this.watches.length === 0) {
      this.polling = false;
      return;
    }
    this.polling = true;
    const fds = this.fds;
    const watches = [...this.watches];
    libc().pollAsync(fds, watches.length, POLL_TIMEOUT_MS, (error, ready) => {
      try {
        if (!error && ready > 0 && !this.stopped) {
          const view = new DataView(fds.buffer);
          watches.forEach((w, i) => {
            // Any event: data (POLLIN), or an error or hang-up the owner's read will report.
            if (view.getInt16(i * 8 + 6, true) !== 0 && this.watches.includes(w)) w.onReadable();
          });
        }
      } finally {
        // One owner's failure must not end the polling of every other descriptor.
        this.next();
      }
    });
  }
}

/**
 * The process's one poller: each `poll(2)` in flight holds a thread of libuv's pool (4 by
 * default) for up to its timeout, so every TAP of the process shares one.
 */
export const sharedPoller = new FdPoller();
