/**
 * A ping run, as `ping -c COUNT -i INTERVAL -W TIMEOUT -s SIZE` does it: echo requests with one
 * identifier and sequence numbers from 1, each answered by a reply (with its RTT and TTL), an ICMP
 * error (time exceeded, unreachable, from whom), or nothing within the timeout. Statistics as ping
 * prints them: transmitted, received, loss, min/avg/max/mdev RTT.
 */
import type { Nanos } from '../../sim/index.js';

export interface PingOptions {
  readonly count?: number;
  /** Between requests, ns (default 1 s). */
  readonly interval?: Nanos;
  /** How long to wait for each reply, ns (default 1 s). */
  readonly timeout?: Nanos;
  /** Echo data bytes (default 56, as ping's). */
  readonly size?: number;
  readonly ttl?: number;
}

export type PingReplyStatus = 'reply' | 'error' | 'timeout' | 'not-sent';

export interface PingResult {
  readonly seq: number;
  readonly status: PingReplyStatus;
  readonly rtt?: Nanos;
  readonly ttl?: number;
  readonly from?: string;
  readonly message?: string;
}

export interface PingStatistics {
  readonly transmitted: number;
  readonly received: number;
  readonly errors: number;
  readonly lossPercent: number;
  readonly rttMin: Nanos | null;
  readonly rttAvg: Nanos | null;
  readonly rttMax: Nanos | null;
  readonly rttMdev: Nanos | null;
}

export class PingRun {
  readonly results: PingResult[] = [];
  transmitted = 0;
  done = false;
  private readonly sentAt = new Map<number, Nanos>();
  private readonly settled = new Set<number>();
  private readonly onDone: (() => void)[] = [];

  constructor(
    readonly source: string,
    readonly destination: string,
    readonly id: number,
    readonly count: number,
  ) {}

  /** Called by the host when request `seq` leaves. */
  sent(seq: number, at: Nanos): void {
    this.transmitted++;
    this.sentAt.set(seq, at);
  }

  /** Takes back a `sent` for a request that could not leave after all. */
  unsent(seq: number): void {
    if (this.sentAt.delete(seq)) this.transmitted--;
  }

  /** Records the outcome of `seq` once; later outcomes for it are ignored. */
  settle(result: PingResult): void {
    if (this.settled.has(result.seq)) return;
    this.settled.add(result.seq);
    this.results.push(result);
    this.sentAt.delete(result.seq);
    if (this.results.length === this.count) {
      this.results.sort((a, b) => a.seq - b.seq);
      this.done = true;
      for (const fn of this.onDone) fn();
    }
  }

  sentTime(seq: number): Nanos | undefined {
    return this.sentAt.get(seq);
  }

  whenDone(fn: () => void): void {
    if (this.done) fn();
    else this.onDone.push(fn);
  }

  statistics(): PingStatistics {
    const rtts = this.results.filter((r) => r.status === 'reply').map((r) => r.rtt ?? 0);
    const received = rtts.length;
    const avg = received ? rtts.reduce((a, b) => a + b, 0) / received : null;
    const mdev = avg === null ? null : Math.sqrt(rtts.reduce((a, r) => a + (r - avg) ** 2, 0) / received);
    return {
      transmitted: this.transmitted,
      received,
      errors: this.results.filter((r) => r.status === 'error').length,
      lossPercent: this.transmitted
        ? Math.round(((this.transmitted - received) / this.transmitted) * 1000) / 10
        : 100,
      rttMin: received ? Math.min(...rtts) : null,
      rttAvg: avg,
      rttMax: received ? Math.max(...rtts) : null,
      rttMdev: mdev,
    };
  }
}
