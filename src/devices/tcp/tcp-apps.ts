/**
 * TCP applications: an echo server (RFC 862) and a discard server (RFC 863); a message client that
 * sends a fixed-size message every interval and checks each echo byte for byte (what a user of an
 * interactive session sees: echoes, the longest silence, failures); a bulk transfer that sends N
 * bytes to a discard server and measures the throughput. All in virtual time, usable from code and
 * from lab steps.
 */
import type { Nanos, Timer } from '../../sim/index.js';
import { formatIpv4, type Ipv4 } from '../../wire/index.js';
import type { TcpConnection, TcpOptions } from './tcp-connection.js';
import type { TcpStack } from './tcp-stack.js';

/** Echoes every byte back; closes when the client does. */
export class TcpEchoServer {
  accepted = 0;
  bytesEchoed = 0;

  constructor(
    stack: TcpStack,
    readonly port = 7,
  ) {
    stack.listen(port, (conn) => {
      this.accepted++;
      conn.onData = (bytes) => {
        this.bytesEchoed += bytes.length;
        conn.send(bytes);
      };
      conn.onRemoteClose = () => conn.close();
    });
  }
}

/** Reads and forgets every byte; closes when the client does. */
export class TcpDiscardServer {
  accepted = 0;
  bytesReceived = 0;

  constructor(
    stack: TcpStack,
    readonly port = 9,
  ) {
    stack.listen(port, (conn) => {
      this.accepted++;
      conn.onData = (bytes) => {
        this.bytesReceived += bytes.length;
      };
      conn.onRemoteClose = () => conn.close();
    });
  }
}

export interface MessageClientOptions extends TcpOptions {
  /** Between messages, ns. */
  readonly every: Nanos;
  /** Bytes per message (default 64). */
  readonly size?: number;
}

export interface TcpFailure {
  readonly time: Nanos;
  readonly reason: string;
}

/** A message session's state, as plain data (lab results, JSON). */
export interface TcpSessionStatus {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly state: string;
  readonly alive: boolean;
  readonly established: boolean;
  readonly sent: number;
  readonly echoed: number;
  readonly corrupt: number;
  /** The longest wait for an echo: between two echoes (or from the handshake to the first). */
  readonly largestGap: Nanos;
  /** When that longest wait ended. */
  readonly largestGapEnd: Nanos | null;
  readonly lastEcho: Nanos | null;
  readonly failures: readonly TcpFailure[];
  readonly retransmissions: number;
  readonly rtoExpiries: number;
  readonly fastRetransmits: number;
  readonly srtt: Nanos | null;
  readonly rto: Nanos;
  readonly softError: string | null;
}

/** Byte `j` of message `i`: a pattern the echo is checked against. */
const patternByte = (i: number, j: number) => (i * 7 + j) & 0xff;

export class TcpMessageClient {
  readonly conn: TcpConnection;
  sent = 0;
  echoed = 0;
  /** Echoed bytes that differ from what was sent (never, unless the stack is broken). */
  corrupt = 0;
  largestGap: Nanos = 0;
  largestGapEnd: Nanos | null = null;
  lastEcho: Nanos | null = null;
  readonly failures: TcpFailure[] = [];
  private received = 0;
  private timer: Timer | null = null;
  private stopped = false;
  readonly size: number;

  constructor(
    private readonly stack: TcpStack,
    readonly name: string,
    /** The client's node. */
    readonly from: string,
    readonly to: Ipv4,
    readonly port: number,
    private readonly options: MessageClientOptions,
    /** The server's node, when known (a lab resolves it from the address). */
    readonly server: string | null = null,
  ) {
    this.size = Math.max(1, options.size ?? 64);
    this.conn = stack.connect(to, port, options);
    this.conn.onEstablished = () => this.tick();
    this.conn.onData = (bytes) => this.echo(bytes);
    this.conn.onClose = (reason) => {
      this.timer?.cancel();
      if (!this.stopped || reason !== 'closed') this.failures.push({ time: stack.now(), reason });
    };
  }

  get established(): boolean {
    return this.conn.establishedAt !== null;
  }

  /** Established, not stopped, not closed. */
  get alive(): boolean {
    return !this.stopped && (this.conn.state === 'ESTABLISHED' || this.conn.state === 'CLOSE-WAIT');
  }

  /** Whether the handshake is over either way (established, or failed). */
  get settled(): boolean {
    return this.established || this.conn.state === 'CLOSED';
  }

  /** Stops sending and closes the connection gracefully. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.conn.close();
  }

  private tick(): void {
    if (this.stopped || !this.alive) return;
    const i = this.sent++;
    const message = new Uint8Array(this.size);
    for (let j = 0; j < this.size; j++) message[j] = patternByte(i, j);
    this.conn.send(message);
    this.timer = this.stack.setTimer(this.options.every, () => this.tick());
  }

  private echo(bytes: Uint8Array): void {
    for (let k = 0; k < bytes.length; k++) {
      const p = this.received + k;
      if (bytes[k] !== patternByte(Math.floor(p / this.size), p % this.size)) this.corrupt++;
    }
    this.received += bytes.length;
    const complete = Math.floor(this.received / this.size);
    if (complete === this.echoed) return;
    this.echoed = complete;
    const now = this.stack.now();
    const since = this.lastEcho ?? this.conn.establishedAt ?? now;
    if (now - since > this.largestGap) {
      this.largestGap = now - since;
      this.largestGapEnd = now;
    }
    this.lastEcho = now;
  }

  status(): TcpSessionStatus {
    const c = this.conn;
    return {
      name: this.name,
      from: this.from,
      to: formatIpv4(this.to),
      port: this.port,
      state: c.state,
      alive: this.alive,
      established: this.established,
      sent: this.sent,
      echoed: this.echoed,
      corrupt: this.corrupt,
      largestGap: this.largestGap,
      largestGapEnd: this.largestGapEnd,
      lastEcho: this.lastEcho,
      failures: [...this.failures],
      retransmissions: c.stats.retransmissions,
      rtoExpiries: c.stats.rtoExpiries,
      fastRetransmits: c.stats.fastRetransmits,
      srtt: c.rto.srtt === null ? null : Math.round(c.rto.srtt),
      rto: c.rto.rto,
      softError: c.softError,
    };
  }
}

export interface TcpBulkResult {
  readonly bytes: number;
  readonly done: boolean;
  /** From the handshake's end to the last byte acknowledged, ns. */
  readonly duration: Nanos | null;
  /** bytes * 8 / duration, bits per second. */
  readonly throughput: number | null;
  readonly retransmissions: number;
  readonly fastRetransmits: number;
  readonly rtoExpiries: number;
  readonly failure: string | null;
}

const BULK_CHUNK = 65536;

/** Sends `bytes` bytes to a discard server, then closes; done when every byte is acknowledged. */
export class TcpBulkTransfer {
  readonly conn: TcpConnection;
  finishedAt: Nanos | null = null;
  failure: string | null = null;

  constructor(
    private readonly stack: TcpStack,
    readonly to: Ipv4,
    readonly port: number,
    readonly bytes: number,
    options: TcpOptions = {},
  ) {
    this.conn = stack.connect(to, port, options);
    this.conn.onEstablished = () => {
      for (let off = 0; off < bytes; off += BULK_CHUNK) {
        const n = Math.min(BULK_CHUNK, bytes - off);
        const chunk = new Uint8Array(n);
        for (let j = 0; j < n; j++) chunk[j] = (off + j) & 0xff;
        this.conn.send(chunk);
      }
      this.conn.close();
    };
    this.conn.onAcked = () => {
      if (this.finishedAt === null && this.conn.unacknowledged === 0) this.finishedAt = this.stack.now();
    };
    this.conn.onClose = (reason) => {
      if (this.finishedAt === null) this.failure = reason;
    };
  }

  /** Finished: every byte acknowledged, or failed. */
  get settled(): boolean {
    return this.finishedAt !== null || this.failure !== null;
  }

  result(): TcpBulkResult {
    const start = this.conn.establishedAt;
    const duration = this.finishedAt !== null && start !== null ? this.finishedAt - start : null;
    const s = this.conn.stats;
    return {
      bytes: this.bytes,
      done: this.finishedAt !== null,
      duration,
      throughput: duration ? Math.round((this.bytes * 8 * 1e9) / duration) : null,
      retransmissions: s.retransmissions,
      fastRetransmits: s.fastRetransmits,
      rtoExpiries: s.rtoExpiries,
      failure: this.failure,
    };
  }
}
