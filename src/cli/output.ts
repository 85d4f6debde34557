/**
 * Buffered line output for the CLI: lines are batched into large writes, a writer that loops over
 * a big input awaits `drained()` so a slow reader (a pipe into `less`) holds it back instead of
 * everything piling up in memory, and a closed pipe (`vnet decode big.pcap | head`) ends the
 * program quietly instead of with EPIPE.
 */
import type { Writable } from 'node:stream';

export class LineWriter {
  private buffer: string[] = [];
  private size = 0;
  closed = false;

  constructor(private readonly stream: Writable) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.closed = true;
      else throw error;
    });
  }

  line(text: string): void {
    if (this.closed) return;
    this.buffer.push(text);
    this.size += text.length + 1;
    if (this.size > 1 << 16) this.flush();
  }

  flush(): void {
    if (this.buffer.length === 0 || this.closed) return;
    this.stream.write(`${this.buffer.join('\n')}\n`);
    this.buffer = [];
    this.size = 0;
  }

  /** Resolves at once, or when the stream has room again after a write it could not take. */
  drained(): Promise<void> {
    if (this.closed || !this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.stream.once('drain', () => resolve()));
  }

  /** Resolves once everything written so far has been handed to the OS. */
  async end(): Promise<void> {
    this.flush();
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      if (this.stream.writableNeedDrain) this.stream.once('drain', () => resolve());
      else resolve();
    });
  }
}
