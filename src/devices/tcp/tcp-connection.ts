/**
 * One TCP connection (RFC 9293): the state machine from SYN-SENT or SYN-RECEIVED to CLOSED, a
 * reliable byte stream each way, and the sender's congestion control.
 *
 * Guarantees and choices:
 * - Sequence numbers are compared modulo 2^32 (`tcp-seq.ts`); segments are checked for
 *   acceptability against the receive window (RFC 9293 3.10.7.4), duplicates are re-ACKed.
 * - The receiver ACKs every segment at once (no delayed ACKs), buffers out-of-order data and
 *   delivers it in order once the gap fills; it advertises the free space of its receive buffer
 *   (default 64 KiB, capped at 65535: no window scaling) and never shrinks the right edge.
 * - The sender respects min(cwnd, peer window); slow start and congestion avoidance (RFC 5681),
 *   fast retransmit on the third duplicate ACK and NewReno recovery (RFC 6582); after an RTO it
 *   goes back to SND.UNA with cwnd = 1 segment. No Nagle (as TCP_NODELAY), no SACK.
 * - RTO per RFC 6298 (`tcp-rto.ts`), Karn's rule (one segment timed at a time, never a
 *   retransmitted one); like Linux, an ACK of new data ends the backoff.
 * - A zero window is probed with one byte when the persist timer (the RTO, backed off) expires.
 * - The user timeout (RFC 5482, Linux TCP_USER_TIMEOUT) bounds how long sent data may stay
 *   unacknowledged: the connection then closes with a reason that names the ICMP soft error, if
 *   any (as Linux reports `sk_err_soft`). The RTO is clamped so that the give-up is on time.
 * - TIME-WAIT lasts `timeWait` (default 1 s, a short 2*MSL; RFC 9293 suggests MSL = 2 min).
 */
import type { Nanos } from '../../sim/index.js';
import { emitTcpOptions, formatIpv4, TcpFlag, type TcpView } from '../../wire/index.js';
import { ReassemblyQueue, SendQueue } from './tcp-buffers.js';
import { RtoEstimator, type RtoOptions } from './tcp-rto.js';
import { seqAdd, seqDiff, seqGeq, seqGt, seqLeq, seqLt } from './tcp-seq.js';
import { Deadline, type TimerClock } from './tcp-timer.js';

export type TcpState =
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT'
  | 'CLOSED';

/** Counters kept per connection and, summed, per stack. */
export interface TcpCounters {
  segmentsSent: number;
  segmentsReceived: number;
  retransmissions: number;
  fastRetransmits: number;
  rtoExpiries: number;
  dupAcksReceived: number;
  rstsSent: number;
  rstsReceived: number;
  bytesSent: number;
  bytesAcked: number;
  bytesReceived: number;
  outOfOrderSegments: number;
  zeroWindowProbes: number;
}

export function newTcpCounters(): TcpCounters {
  return {
    segmentsSent: 0,
    segmentsReceived: 0,
    retransmissions: 0,
    fastRetransmits: 0,
    rtoExpiries: 0,
    dupAcksReceived: 0,
    rstsSent: 0,
    rstsReceived: 0,
    bytesSent: 0,
    bytesAcked: 0,
    bytesReceived: 0,
    outOfOrderSegments: 0,
    zeroWindowProbes: 0,
  };
}

export interface TcpOptions extends RtoOptions {
  /** Receive buffer, bytes (default 65536; the advertised window is at most 65535). */
  readonly receiveBuffer?: number;
  /** Give up when sent data stays unacknowledged this long (default 60 s). */
  readonly userTimeout?: Nanos;
  /** SYN (or SYN-ACK) retransmissions before a handshake fails (default 6, as Linux). */
  readonly synRetries?: number;
  /** How long TIME-WAIT lasts, 2*MSL (default 1 s). */
  readonly timeWait?: Nanos;
}

export const DEFAULT_RECEIVE_BUFFER = 65536;
export const DEFAULT_USER_TIMEOUT: Nanos = 60e9;
export const DEFAULT_SYN_RETRIES = 6;
export const DEFAULT_TIME_WAIT: Nanos = 1e9;
/** How long FIN-WAIT-2 waits for the peer's FIN (Linux's net.ipv4.tcp_fin_timeout default). */
export const FIN_WAIT_2_TIMEOUT: Nanos = 60e9;
/** RFC 9293 3.7.1: the MSS assumed when the peer sends no MSS option. */
export const DEFAULT_PEER_MSS = 536;

export interface TcpEndpoint {
  readonly ip: number;
  readonly port: number;
}

/** What a connection needs from its stack. */
export interface TcpConnectionHost extends TimerClock {
  /** Emits and sends a segment of `conn`. */
  transmit(
    conn: TcpConnection,
    seq: number,
    ack: number,
    flags: number,
    window: number,
    options: Uint8Array,
    payload: Uint8Array,
  ): void;
  readonly counters: TcpCounters;
  trace(message: string): void;
  readonly tracing: boolean;
  /** The connection reached CLOSED: forget it. */
  release(conn: TcpConnection): void;
}

/** Seconds as `10 s`, `1.5 s`, `200 ms`. */
export function formatSeconds(ns: Nanos): string {
  if (ns >= 1e9) return `${Number((ns / 1e9).toFixed(3))} s`;
  return `${Number((ns / 1e6).toFixed(3))} ms`;
}

const NO_BYTES = new Uint8Array(0);
const SYNCHRONIZED: ReadonlySet<TcpState> = new Set([
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
]);

export class TcpConnection {
  state: TcpState;
  readonly stats: TcpCounters = newTcpCounters();
  /** Why it closed (set when it reaches CLOSED). */
  closeReason: string | null = null;
  /** The last ICMP error about this connection's segments (a soft error), e.g. `Destination Host Unreachable from 10.0.0.254`. */
  softError: string | null = null;
  /** When the connection was opened and established (virtual ns). */
  readonly openedAt: Nanos;
  establishedAt: Nanos | null = null;

  // Application callbacks.
  onEstablished: () => void = () => {};
  onData: (bytes: Uint8Array) => void = () => {};
  /** The peer sent FIN: no more data will come (the application usually closes in turn). */
  onRemoteClose: () => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** An ACK acknowledged new data (`unacknowledged` tells what is left). */
  onAcked: () => void = () => {};

  // Send sequence space (RFC 9293 3.3.1).
  readonly iss: number;
  sndUna: number;
  sndNxt: number;
  /** The highest sequence number sent so far (SND.NXT goes back below it after an RTO). */
  sndMax: number;
  sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  private readonly receiveBuffer: number;

  /** Sender MSS: min(our MSS, the peer's). */
  mss: number;
  cwnd: number;
  ssthresh = 0x3fff_ffff;
  private dupAcks = 0;
  private inRecovery = false;
  private recover: number;

  readonly rto: RtoEstimator;
  private readonly rtx: Deadline;
  private readonly timeWaitTimer: Deadline;
  private timing: { end: number; at: Nanos } | null = null;
  /** RTO expiries (or SYN retransmissions) since the last progress. */
  private retries = 0;
  /** Since when the oldest unacknowledged data has waited. */
  private unackedSince: Nanos = 0;
  /** When a segment last came from the peer. */
  private lastHeard: Nanos;

  private readonly sendQueue = new SendQueue();
  private readonly reassembly = new ReassemblyQueue();
  private finQueued = false;
  /** The sequence number our FIN occupies, once sent. */
  private finSeq: number | null = null;
  private finAcked = false;
  private probing = false;
  private ackPending = false;
  private readingPaused = false;
  private readonly unread: Uint8Array[] = [];
  private unreadBytes = 0;
  private readonly userTimeout: Nanos;
  private readonly synRetries: number;
  private readonly timeWait: Nanos;

  constructor(
    private readonly host: TcpConnectionHost,
    readonly local: TcpEndpoint,
    readonly remote: TcpEndpoint,
    iss: number,
    /** Our MSS (the outgoing interface's MTU - 40), announced in our SYN. */
    readonly localMss: number,
    options: TcpOptions,
    state: 'SYN-SENT' | 'SYN-RECEIVED',
  ) {
    this.state = state;
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndMax = iss;
    this.recover = iss;
    this.mss = Math.min(localMss, DEFAULT_PEER_MSS);
    this.cwnd = this.initialWindow();
    this.receiveBuffer = options.receiveBuffer ?? DEFAULT_RECEIVE_BUFFER;
    this.userTimeout = options.userTimeout ?? DEFAULT_USER_TIMEOUT;
    this.synRetries = options.synRetries ?? DEFAULT_SYN_RETRIES;
    this.timeWait = options.timeWait ?? DEFAULT_TIME_WAIT;
    this.rto = new RtoEstimator(options);
    this.rtx = new Deadline(host, () => this.onRtoExpired());
    this.timeWaitTimer = new Deadline(host, () => this.closeWith('closed'));
    this.openedAt = host.now();
    this.lastHeard = this.openedAt;
  }

  /** Re-read after every callback: the application may have closed or aborted meanwhile. */
  private get closed(): boolean {
    return this.state === 'CLOSED';
  }

  get name(): string {
    return `${formatIpv4(this.local.ip)}:${this.local.port} -> ${formatIpv4(this.remote.ip)}:${this.remote.port}`;
  }

  /** Bytes written by the application and not yet acknowledged. */
  get unacknowledged(): number {
    return this.sendQueue.length;
  }

  /** RFC 5681 3.1 (RFC 3390): IW = min(4*SMSS, max(2*SMSS, 4380 bytes)). */
  private initialWindow(): number {
    return Math.min(4 * this.mss, Math.max(2 * this.mss, 4380));
  }

  // ---- the application's calls ----

  /** Queues bytes to send (in SYN-SENT they wait for the handshake). False once closing. */
  send(bytes: Uint8Array): boolean {
    if (
      this.finQueued ||
      !(
        this.state === 'SYN-SENT' ||
        this.state === 'SYN-RECEIVED' ||
        this.state === 'ESTABLISHED' ||
        this.state === 'CLOSE-WAIT'
      )
    )
      return false;
    this.sendQueue.push(bytes);
    this.output();
    return true;
  }

  /** Graceful close: FIN after the queued data. */
  close(): void {
    switch (this.state) {
      case 'SYN-SENT':
        return this.closeWith('closed');
      case 'SYN-RECEIVED':
        // RFC 9293 3.10.4: queued until ESTABLISHED (our SYN is not acknowledged yet, so data and
        // FIN cannot be numbered from it): `established()` then goes on to FIN-WAIT-1.
        this.finQueued = true;
        return;
      case 'ESTABLISHED':
        this.finQueued = true;
        this.setState('FIN-WAIT-1');
        return this.output();
      case 'CLOSE-WAIT':
        this.finQueued = true;
        this.setState('LAST-ACK');
        return this.output();
      default:
    }
  }

  /** RFC 9293 3.10.5: ABORT sends a RST (in a synchronized state) and closes at once. */
  abort(): void {
    if (this.closed) return;
    if (SYNCHRONIZED.has(this.state) || this.state === 'SYN-RECEIVED') {
      this.countRstSent();
      this.emit(this.sndNxt, 0, TcpFlag.RST, NO_BYTES);
    }
    this.closeWith('aborted');
  }

  /** Stops delivering data: it waits in the receive buffer, and the window closes as it fills. */
  pauseReading(): void {
    this.readingPaused = true;
  }

  /** Delivers what waited and reopens the window (with a window update). */
  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    const chunks = this.unread.splice(0);
    this.unreadBytes = 0;
    for (const c of chunks) {
      this.onData(c);
      if (this.closed) return;
    }
    if (SYNCHRONIZED.has(this.state)) this.sendAck();
  }

  /** The window we advertise: the free receive buffer (RFC 9293 3.8.6.2.2 leaves SWS avoidance aside here). */
  receiveWindow(): number {
    return Math.max(0, Math.min(0xffff, this.receiveBuffer - this.unreadBytes));
  }

  // ---- opening ----

  /** Active open: sends the SYN. */
  start(): void {
    this.sendSyn();
  }

  /** Passive open from a listener's SYN (RFC 9293 3.10.7.2): records it and answers SYN-ACK. */
  acceptSyn(seg: TcpView): void {
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.takeMss(seg);
    this.lastHeard = this.host.now();
    this.sendSyn();
  }

  private takeMss(seg: TcpView): void {
    const mssOption = seg.options.find((o) => o.mss !== undefined)?.mss;
    this.mss = Math.max(1, Math.min(this.localMss, mssOption ?? DEFAULT_PEER_MSS));
    this.cwnd = this.initialWindow();
  }

  private sendSyn(): void {
    const flags = this.state === 'SYN-SENT' ? TcpFlag.SYN : TcpFlag.SYN | TcpFlag.ACK;
    const retransmission = this.sndMax !== this.iss;
    if (retransmission) {
      this.count('retransmissions');
      this.timing = null; // Karn: an answer to either copy is ambiguous
    } else this.timing = { end: seqAdd(this.iss, 1), at: this.host.now() };
    this.emit(this.iss, this.rcvNxt, flags, NO_BYTES, emitTcpOptions([{ kind: 'mss', mss: this.localMss }]));
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    if (!retransmission) this.unackedSince = this.host.now();
    this.rtx.start(this.rto.rto);
  }

  // ---- receiving ----

  /** A segment for this connection (checksum verified by the stack). */
  receive(seg: TcpView): void {
    this.count('segmentsReceived');
    this.lastHeard = this.host.now();
    if (this.state === 'SYN-SENT') return this.receiveInSynSent(seg);
    const flags = seg.flags;
    const data = seg.payload;
    const fin = (flags & TcpFlag.FIN) !== 0;
    const syn = (flags & TcpFlag.SYN) !== 0;
    const segLen = data.length + (fin ? 1 : 0) + (syn ? 1 : 0);
    let seq = seg.seq;

    // A retransmitted SYN: our SYN-ACK was lost, send it again.
    if (this.state === 'SYN-RECEIVED' && syn && (flags & TcpFlag.ACK) === 0 && seq === this.irs)
      return this.sendSyn();
    // 1. Sequence number acceptable? (RFC 9293 3.10.7.4, first check.)
    if (!this.acceptable(seq, segLen, data.length)) {
      if ((flags & TcpFlag.RST) !== 0) return;
      // TIME-WAIT: a retransmitted FIN (our last ACK was lost) is acknowledged again and restarts
      // the 2*MSL timeout (RFC 9293 3.10.7.4, as Linux does).
      if (fin && this.state === 'TIME-WAIT') this.timeWaitTimer.start(this.timeWait);
      this.sendAck();
      return;
    }
    // 2. RST: exactly at RCV.NXT resets; elsewhere in the window earns a challenge ACK (RFC 5961 3.2).
    if (flags & TcpFlag.RST) {
      this.count('rstsReceived');
      if (seq !== this.rcvNxt) return this.sendAck();
      return this.closeWith(
        this.state === 'SYN-RECEIVED' ? 'connection refused' : 'connection reset by peer',
      );
    }
    // 4. A SYN in a synchronized state: challenge ACK (RFC 5961 4.2, RFC 9293).
    if (syn) {
      return this.sendAck();
    }
    // 5. ACK field.
    if ((flags & TcpFlag.ACK) === 0) return;
    if (this.state === 'SYN-RECEIVED') {
      if (!(seqGt(seg.ack, this.sndUna) && seqLeq(seg.ack, this.sndMax))) {
        this.countRstSent();
        this.emit(seg.ack, 0, TcpFlag.RST, NO_BYTES);
        return;
      }
      this.sndWnd = seg.window;
      this.sndWl1 = seq;
      this.sndWl2 = seg.ack;
      this.established();
      if (this.closed) return;
    }
    if (!this.processAck(seg, segLen)) return;
    if (this.closed) return;

    // 7. Segment text, then 8. FIN.
    if (this.state === 'ESTABLISHED' || this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2') {
      let bytes = data;
      let finHere = fin;
      if (seqLt(seq, this.rcvNxt)) {
        bytes = bytes.subarray(Math.min(bytes.length, seqDiff(this.rcvNxt, seq)));
        seq = this.rcvNxt;
      }
      const room = seqDiff(seqAdd(this.rcvNxt, this.receiveWindow()), seq);
      if (bytes.length > room) {
        bytes = bytes.subarray(0, Math.max(0, room));
        finHere = false;
      }
      if (bytes.length > 0 || finHere) this.ackPending = true;
      if (seq === this.rcvNxt) {
        if (bytes.length > 0) this.deliver(bytes);
        for (const chunk of this.reassembly.take(this.rcvNxt)) {
          if (this.closed) return;
          this.deliver(chunk);
        }
        if (this.closed) return;
        if (this.reassembly.fin !== null && this.reassembly.fin === this.rcvNxt) finHere = true;
        if (finHere) this.receiveFin();
      } else if (bytes.length > 0 || finHere) {
        this.count('outOfOrderSegments');
        if (bytes.length > 0) this.reassembly.add(seq, bytes);
        if (finHere) this.reassembly.fin = seqAdd(seq, bytes.length);
        if (this.host.tracing)
          this.host.trace(
            `TCP ${this.name}: out-of-order segment seq=${seq} len=${bytes.length} held (expecting ${this.rcvNxt}); duplicate ACK`,
          );
      }
    }
    if (this.closed) return;
    this.output();
    if (this.ackPending) this.sendAck();
  }

  /** RFC 9293 3.10.7.4: the four cases of segment length and receive window, plus a FIN alone at a zero window. */
  private acceptable(seq: number, segLen: number, dataLen: number): boolean {
    const wnd = this.receiveWindow();
    const inWindow = (s: number) => seqGeq(s, this.rcvNxt) && seqLt(s, seqAdd(this.rcvNxt, wnd));
    if (segLen === 0) return wnd === 0 ? seq === this.rcvNxt : inWindow(seq);
    if (wnd === 0) return dataLen === 0 && seq === this.rcvNxt;
    return inWindow(seq) || inWindow(seqAdd(seq, segLen - 1));
  }

  private deliver(bytes: Uint8Array): void {
    this.rcvNxt = seqAdd(this.rcvNxt, bytes.length);
    this.count('bytesReceived', bytes.length);
    if (this.readingPaused) {
      this.unread.push(bytes.slice());
      this.unreadBytes += bytes.length;
      return;
    }
    this.onData(bytes);
  }

  private receiveFin(): void {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.reassembly.fin = null;
    this.ackPending = true;
    switch (this.state) {
      case 'ESTABLISHED':
        this.setState('CLOSE-WAIT');
        break;
      case 'FIN-WAIT-1':
        this.setState(this.finAcked ? 'TIME-WAIT' : 'CLOSING');
        break;
      case 'FIN-WAIT-2':
        this.setState('TIME-WAIT');
        break;
      default:
    }
    if (this.state === 'TIME-WAIT') this.enterTimeWait();
    this.sendAck();
    this.onRemoteClose();
  }

  private receiveInSynSent(seg: TcpView): void {
    const flags = seg.flags;
    const hasAck = (flags & TcpFlag.ACK) !== 0;
    if (hasAck && (seqLeq(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax))) {
      if ((flags & TcpFlag.RST) === 0) {
        this.countRstSent();
        this.emit(seg.ack, 0, TcpFlag.RST, NO_BYTES);
      }
      return;
    }
    if (flags & TcpFlag.RST) {
      this.count('rstsReceived');
      if (hasAck) this.closeWith('connection refused');
      return;
    }
    if ((flags & TcpFlag.SYN) === 0) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.takeMss(seg);
    if (!hasAck) {
      // Simultaneous open (RFC 9293 3.5): answer SYN-ACK from SYN-RECEIVED.
      this.setState('SYN-RECEIVED');
      this.sndMax = this.iss; // re-send our SYN, now with ACK, as a first transmission
      this.sendSyn();
      return;
    }
    this.sndUna = seg.ack;
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.ackSampled(seg.ack);
    this.rtx.stop();
    this.retries = 0;
    this.rto.backoffs = 0;
    this.ackPending = true;
    this.established();
    if (this.closed) return;
    this.output();
    if (this.ackPending) this.sendAck();
  }

  private established(): void {
    this.retries = 0;
    this.establishedAt = this.host.now();
    if (this.state === 'SYN-RECEIVED' || this.state === 'SYN-SENT') {
      this.sndUna = seqAdd(this.iss, 1);
      if (this.finQueued) this.setState('FIN-WAIT-1');
      else this.setState('ESTABLISHED');
    }
    this.ackSampled(this.sndUna);
    if (this.sndUna === this.sndMax) this.rtx.stop();
    this.onEstablished();
  }

  /** Takes an RTT sample when `ack` covers the timed segment (Karn's rule: it was never retransmitted). */
  private ackSampled(ack: number): void {
    if (this.timing !== null && seqGeq(ack, this.timing.end)) {
      this.rto.sample(this.host.now() - this.timing.at);
      this.timing = null;
    }
  }

  /** RFC 9293 3.10.7.4 fifth check, with RFC 5681 and RFC 6582. False when the segment is to be dropped. */
  private processAck(seg: TcpView, segLen: number): boolean {
    const ack = seg.ack;
    const seq = seg.seq;
    if (seqGt(ack, this.sndMax)) {
      this.sendAck(); // acknowledges something not yet sent
      return false;
    }
    if (seqGt(ack, this.sndUna)) {
      this.newAck(ack);
    } else if (
      ack === this.sndUna &&
      segLen === 0 &&
      seg.window === this.sndWnd &&
      this.sndWnd > 0 &&
      this.sndMax !== this.sndUna
    ) {
      this.duplicateAck();
    }
    // Window update (RFC 9293 3.10.7.4: SND.WL1 < SEG.SEQ, or equal and SND.WL2 =< SEG.ACK).
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLeq(this.sndWl2, ack))) {
      const opened = this.sndWnd === 0 && seg.window > 0;
      this.sndWnd = seg.window;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (opened && this.probing) {
        this.probing = false;
        this.sndNxt = this.sndUna; // the probe byte goes again, in order, with what follows it
      }
    }
    // Our FIN acknowledged?
    if (this.finSeq !== null && !this.finAcked && seqGt(ack, this.finSeq)) {
      this.finAcked = true;
      if (this.state === 'FIN-WAIT-1') {
        this.setState('FIN-WAIT-2');
        // A peer that never closes its side does not hold the connection forever (Linux's
        // tcp_fin_timeout, 60 s): when its FIN comes, TIME-WAIT restarts the timer.
        this.timeWaitTimer.start(FIN_WAIT_2_TIMEOUT);
      } else if (this.state === 'CLOSING') {
        this.setState('TIME-WAIT');
        this.enterTimeWait();
      } else if (this.state === 'LAST-ACK') {
        this.closeWith('closed');
        return false;
      }
    }
    return true;
  }

  private newAck(ack: number): void {
    const acked = seqDiff(ack, this.sndUna);
    const dataAcked = Math.min(acked, this.sendQueue.length);
    this.sendQueue.drop(dataAcked);
    this.count('bytesAcked', dataAcked);
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    this.ackSampled(ack);
    this.probing = false;
    this.rto.backoffs = 0; // as Linux: an ACK of new data ends the backoff
    this.retries = 0;
    this.unackedSince = this.host.now();
    if (this.inRecovery) {
      if (seqGeq(ack, this.recover)) {
        // RFC 6582 3.2 step 3, full acknowledgment: deflate to min(ssthresh, FlightSize + SMSS).
        this.cwnd = Math.min(this.ssthresh, Math.max(seqDiff(this.sndMax, ack), this.mss) + this.mss);
        this.inRecovery = false;
      } else {
        // Partial acknowledgment: retransmit the next hole, deflate by what was acked.
        this.retransmitFirst();
        this.cwnd = Math.max(this.mss, this.cwnd - acked + (acked >= this.mss ? this.mss : 0));
      }
    } else if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, this.mss); // slow start (RFC 5681 3.1, with ABC's limit of 1 SMSS)
    } else {
      this.cwnd += Math.max(1, Math.floor((this.mss * this.mss) / this.cwnd)); // congestion avoidance
    }
    this.dupAcks = 0;
    if (this.sndUna === this.sndMax) this.rtx.stop();
    else this.armRtx();
    if (dataAcked > 0) this.onAcked();
  }

  private duplicateAck(): void {
    this.count('dupAcksReceived');
    this.dupAcks++;
    if (this.dupAcks === 3 && !this.inRecovery && seqGt(this.sndUna, this.recover)) {
      // RFC 5681 3.2 with RFC 6582: fast retransmit, then recovery until `recover` is acknowledged.
      const flight = seqDiff(this.sndMax, this.sndUna);
      this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
      this.recover = this.sndMax;
      this.inRecovery = true;
      this.count('fastRetransmits');
      if (this.host.tracing)
        this.host.trace(
          `TCP ${this.name}: 3 duplicate ACKs: fast retransmit seq=${this.sndUna} (ssthresh ${this.ssthresh}, cwnd ${this.ssthresh + 3 * this.mss})`,
        );
      this.retransmitFirst();
      this.cwnd = this.ssthresh + 3 * this.mss;
    } else if (this.dupAcks > 3 && this.inRecovery) {
      this.cwnd += this.mss; // each further duplicate: a segment has left the network
    }
  }

  // ---- sending ----

  /** Sends what the windows allow: new data from SND.NXT, then the FIN once all data is out. */
  private output(): void {
    const s = this.state;
    if (
      !(
        s === 'ESTABLISHED' ||
        s === 'CLOSE-WAIT' ||
        s === 'FIN-WAIT-1' ||
        s === 'LAST-ACK' ||
        s === 'CLOSING'
      )
    )
      return;
    for (;;) {
      const offset = seqDiff(this.sndNxt, this.sndUna);
      const left = this.sendQueue.length - offset;
      const window = Math.min(this.cwnd, this.sndWnd);
      const usable = window - offset;
      if (left > 0 && usable > 0) {
        const len = Math.min(this.mss, left, usable);
        const fin = this.finQueued && len === left;
        this.sendData(this.sndNxt, len, fin);
        continue;
      }
      if (left === 0 && this.finQueued && !this.finAcked) {
        this.sendData(this.sndNxt, 0, true); // a FIN needs no window
        continue;
      }
      break;
    }
    if (this.sndUna !== this.sndMax) {
      if (!this.rtx.running) this.armRtx();
    } else if (this.sndWnd === 0 && this.sendQueue.length > 0 && !this.rtx.running) {
      this.armRtx(); // the persist timer
    }
  }

  /** Sends `len` bytes from `seq` (a retransmission when below SND.MAX), with FIN when asked. */
  private sendData(seq: number, len: number, fin: boolean): void {
    const payload = this.sendQueue.read(seqDiff(seq, this.sndUna), len);
    const end = seqAdd(seq, len + (fin ? 1 : 0));
    if (fin && this.finSeq === null) this.finSeq = seqAdd(seq, len);
    const retransmission = seqLt(seq, this.sndMax);
    if (retransmission) {
      this.count('retransmissions');
      this.timing = null; // Karn
    } else if (this.timing === null) {
      this.timing = { end, at: this.host.now() };
    }
    if (this.sndUna === this.sndMax) this.unackedSince = this.host.now();
    this.count('bytesSent', len);
    this.emit(seq, this.rcvNxt, TcpFlag.ACK | (len > 0 ? TcpFlag.PSH : 0) | (fin ? TcpFlag.FIN : 0), payload);
    if (seqGt(end, this.sndNxt)) this.sndNxt = end;
    if (seqGt(end, this.sndMax)) this.sndMax = end;
  }

  /** Retransmits the segment at SND.UNA (fast retransmit, a partial ACK, an RTO). */
  private retransmitFirst(): void {
    const outstanding = seqDiff(this.sndMax, this.sndUna);
    const len = Math.min(this.mss, this.sendQueue.length, outstanding);
    const fin = this.finSeq !== null && len === this.sendQueue.length;
    if (len === 0 && !fin) return;
    this.sendData(this.sndUna, len, fin);
  }

  private sendAck(): void {
    this.emit(this.sndNxt, this.rcvNxt, TcpFlag.ACK, NO_BYTES);
  }

  private emit(
    seq: number,
    ack: number,
    flags: number,
    payload: Uint8Array,
    options: Uint8Array = NO_BYTES,
  ): void {
    if (flags & TcpFlag.ACK) this.ackPending = false;
    this.count('segmentsSent');
    this.host.transmit(this, seq, ack, flags, this.receiveWindow(), options, payload);
  }

  // ---- timers ----

  /** Starts the retransmission timer at the current RTO, clamped so the user timeout is met on time. */
  private armRtx(): void {
    let delay = this.rto.rto;
    if (SYNCHRONIZED.has(this.state)) {
      const since = this.sndWnd === 0 ? this.lastHeard : this.unackedSince;
      const left = since + this.userTimeout - this.host.now();
      delay = Math.max(1, Math.min(delay, left));
    }
    this.rtx.start(delay);
  }

  private onRtoExpired(): void {
    const now = this.host.now();
    if (this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED') {
      if (this.retries >= this.synRetries) return this.closeWith(this.withSoftError('timed out'));
      this.retries++;
      this.count('rtoExpiries');
      this.rto.backoff();
      if (this.host.tracing)
        this.host.trace(`TCP ${this.name}: SYN timeout: retransmit (RTO now ${formatSeconds(this.rto.rto)})`);
      return this.sendSyn();
    }
    if (!SYNCHRONIZED.has(this.state) || this.state === 'TIME-WAIT') return;
    if (
      this.sndWnd === 0 &&
      seqAdd(this.sndUna, this.probing ? 1 : 0) === this.sndMax &&
      this.sendQueue.length > 0
    ) {
      // The persist timer: probe the zero window with one byte (RFC 9293 3.8.6.1).
      if (now - this.lastHeard >= this.userTimeout)
        return this.closeWith(
          this.withSoftError(`timed out: zero window, no answer for ${formatSeconds(now - this.lastHeard)}`),
        );
      this.count('zeroWindowProbes');
      this.probing = true;
      if (this.host.tracing) this.host.trace(`TCP ${this.name}: zero window: probe seq=${this.sndUna}`);
      this.sendData(this.sndUna, 1, false);
      this.rto.backoff();
      return this.armRtx();
    }
    if (this.sndUna === this.sndMax) return;
    if (now - this.unackedSince >= this.userTimeout)
      return this.closeWith(
        this.withSoftError(
          `timed out: no acknowledgement for ${formatSeconds(now - this.unackedSince)} (${this.retries} retransmission${this.retries === 1 ? '' : 's'})`,
        ),
      );
    // RFC 5681 3.1 (equation 4) and 3.2: loss window of one segment, half the flight as ssthresh.
    this.count('rtoExpiries');
    const flight = seqDiff(this.sndMax, this.sndUna);
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.cwnd = this.mss;
    this.inRecovery = false;
    this.recover = this.sndMax; // RFC 6582 4: no fast retransmit for what was sent before the timeout
    this.dupAcks = 0;
    this.retries++;
    this.rto.backoff();
    this.sndNxt = this.sndUna;
    this.timing = null;
    if (this.host.tracing)
      this.host.trace(
        `TCP ${this.name}: RTO expired: retransmit seq=${this.sndUna} (RTO now ${formatSeconds(this.rto.rto)})`,
      );
    this.output();
    this.armRtx();
  }

  private withSoftError(reason: string): string {
    return this.softError ? `${reason}; last ICMP error: ${this.softError}` : reason;
  }

  private enterTimeWait(): void {
    this.rtx.stop();
    this.timeWaitTimer.start(this.timeWait);
  }

  // ---- bookkeeping ----

  private setState(state: TcpState): void {
    if (this.state === state) return;
    if (this.host.tracing) this.host.trace(`TCP ${this.name}: ${this.state} -> ${state}`);
    this.state = state;
  }

  /** Ends the connection: CLOSED, timers stopped, forgotten by the stack, the application told once. */
  closeWith(reason: string): void {
    if (this.closed) return;
    this.setState('CLOSED');
    this.closeReason = reason;
    this.rtx.stop();
    this.timeWaitTimer.stop();
    this.host.release(this);
    this.onClose(reason);
  }

  /** Records an ICMP error about one of our segments (RFC 1122 4.2.3.9: a soft error, the connection goes on). */
  icmpError(text: string): void {
    this.softError = text;
    if (this.host.tracing) this.host.trace(`TCP ${this.name}: soft error: ${text}`);
  }

  private countRstSent(): void {
    this.count('rstsSent');
  }

  count(key: keyof TcpCounters, n = 1): void {
    this.stats[key] += n;
    this.host.counters[key] += n;
  }
}
