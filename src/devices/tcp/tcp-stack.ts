/**
 * A node's TCP: listeners, the connection table (demultiplexed by 4-tuple), ephemeral ports
 * (32768..60999, as Linux's ip_local_port_range, handed out in turn), segment checks and emission
 * as real bytes (`TcpView.check`, `emitTcp`), and the answers for segments that match nothing.
 *
 * Guarantees: every received segment is checked (header, options, checksum) and a bad one is
 * dropped and counted (`tcp-bad-checksum`, `tcp-truncated`, ...); a segment for no connection or
 * listener is answered with a RST as RFC 9293 3.10.7.1 says (never a RST for a RST); ICMP errors
 * quoting one of our segments become the connection's soft error. Every IpNode has one, created
 * on first use, so routers answer RST too.
 */
import type { Nanos, Timer } from '../../sim/index.js';
import {
  emitTcp,
  formatIpv4,
  IpProtocol,
  type Ipv4,
  type Ipv4View,
  readU16,
  TcpFlag,
  TcpView,
  tcpFlagNames,
} from '../../wire/index.js';
import {
  newTcpCounters,
  TcpConnection,
  type TcpConnectionHost,
  type TcpCounters,
  type TcpOptions,
} from './tcp-connection.js';
import { initialSequenceNumber, isnKey, seqAdd } from './tcp-seq.js';

/** What the stack needs from its node. */
export interface TcpNode {
  readonly name: string;
  now(): Nanos;
  setTimer(delay: Nanos, fn: () => void): Timer;
  /** Sends an IP packet; null on success. */
  sendIp(spec: { src: Ipv4; dst: Ipv4; protocol: number; payload: Uint8Array }): string | null;
  /** The source address and MTU of the route towards `dst`, if any. */
  routeTo(dst: Ipv4): { src: Ipv4; mtu: number } | undefined;
  drop(reason: string, why?: string): void;
  trace(message: string): void;
  readonly tracing: boolean;
}

export type AcceptHandler = (conn: TcpConnection) => void;

interface Listener {
  readonly port: number;
  readonly onAccept: AcceptHandler;
  readonly options: TcpOptions;
}

export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;

const NO_BYTES = new Uint8Array(0);

export class TcpStack implements TcpConnectionHost {
  readonly counters: TcpCounters = newTcpCounters();
  private readonly table = new Map<string, TcpConnection>();
  private readonly listeners = new Map<number, Listener>();
  private nextEphemeral = EPHEMERAL_FIRST;
  private readonly key: number;
  /** Default options of every connection of this stack (a connect or listen may override them). */
  defaults: TcpOptions = {};

  constructor(private readonly node: TcpNode) {
    this.key = isnKey(node.name);
  }

  now(): Nanos {
    return this.node.now();
  }

  setTimer(delay: Nanos, fn: () => void): Timer {
    return this.node.setTimer(delay, fn);
  }

  get tracing(): boolean {
    return this.node.tracing;
  }

  trace(message: string): void {
    this.node.trace(message);
  }

  /** Passive open on `port` (every local address): `onAccept` gets each connection once established. */
  listen(port: number, onAccept: AcceptHandler, options: TcpOptions = {}): void {
    if (this.listeners.has(port)) throw new Error(`${this.node.name}: TCP port ${port} is already listening`);
    this.listeners.set(port, { port, onAccept, options });
  }

  unlisten(port: number): void {
    this.listeners.delete(port);
  }

  isListening(port: number): boolean {
    return this.listeners.has(port);
  }

  /**
   * Active open to `dst`:`dstPort` from the address of the route there and an ephemeral port (or
   * `options.localPort`). Throws when there is no route (as connect() fails with ENETUNREACH).
   */
  connect(dst: Ipv4, dstPort: number, options: TcpOptions & { localPort?: number } = {}): TcpConnection {
    const route = this.node.routeTo(dst);
    if (!route) throw new Error(`${this.node.name}: no route to ${formatIpv4(dst)}`);
    const localPort = options.localPort ?? this.ephemeralPort(route.src, dst, dstPort);
    const conn = this.create(
      { ip: route.src, port: localPort },
      { ip: dst, port: dstPort },
      route.mtu,
      { ...this.defaults, ...options },
      'SYN-SENT',
    );
    conn.start();
    return conn;
  }

  /** Open connections (not yet CLOSED), in the order they were made. */
  connections(): TcpConnection[] {
    return [...this.table.values()];
  }

  private ephemeralPort(src: Ipv4, dst: Ipv4, dstPort: number): number {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    for (let i = 0; i < span; i++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
      if (!this.table.has(tupleKey(src, port, dst, dstPort))) return port;
    }
    throw new Error(`${this.node.name}: no free ephemeral port`);
  }

  private create(
    local: { ip: Ipv4; port: number },
    remote: { ip: Ipv4; port: number },
    mtu: number,
    options: TcpOptions,
    state: 'SYN-SENT' | 'SYN-RECEIVED',
  ): TcpConnection {
    const iss = initialSequenceNumber(this.key, local.ip, local.port, remote.ip, remote.port, this.now());
    const conn = new TcpConnection(this, local, remote, iss, Math.max(1, mtu - 40), options, state);
    this.table.set(tupleKey(local.ip, local.port, remote.ip, remote.port), conn);
    return conn;
  }

  release(conn: TcpConnection): void {
    const key = tupleKey(conn.local.ip, conn.local.port, conn.remote.ip, conn.remote.port);
    if (this.table.get(key) === conn) this.table.delete(key);
  }

  // ---- receive ----

  /** A TCP segment delivered to this node (`ip` is for one of its addresses). */
  receive(ip: Ipv4View, forUs: boolean): void {
    const checked = TcpView.check(ip.bytes, ip.payloadOffset, ip.end);
    if (!checked.ok) return this.node.drop(`tcp-${checked.error.code}`, checked.error.message);
    const seg = checked.value;
    if (!seg.checksumOk(ip.src, ip.dst)) return this.node.drop('tcp-bad-checksum');
    if (!forUs) return this.node.drop('tcp-not-unicast', `TCP to ${formatIpv4(ip.dst)}`);
    if (this.tracing) this.traceSegment('<-', ip.dst, seg.dstPort, ip.src, seg.srcPort, seg, null);
    const conn = this.table.get(tupleKey(ip.dst, seg.dstPort, ip.src, seg.srcPort));
    if (conn) return conn.receive(seg);
    this.counters.segmentsReceived++;
    const flags = seg.flags;
    const listener = this.listeners.get(seg.dstPort);
    if (listener && (flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN) {
      // RFC 9293 3.10.7.2: a SYN for a listener opens a connection in SYN-RECEIVED.
      const route = this.node.routeTo(ip.src);
      const created = this.create(
        { ip: ip.dst, port: seg.dstPort },
        { ip: ip.src, port: seg.srcPort },
        route?.mtu ?? 1500,
        { ...this.defaults, ...listener.options },
        'SYN-RECEIVED',
      );
      created.onEstablished = () => listener.onAccept(created);
      created.acceptSyn(seg);
      return;
    }
    if (flags & TcpFlag.RST) return this.node.drop('tcp-rst-no-connection');
    if (listener && (flags & TcpFlag.ACK) === 0) return this.node.drop('tcp-no-syn');
    // RFC 9293 3.10.7.1: CLOSED. With ACK: <SEQ=SEG.ACK><CTL=RST>; without:
    // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    this.node.drop(listener ? 'tcp-no-connection' : 'tcp-port-closed', `TCP port ${seg.dstPort}`);
    const segLen = seg.payload.length + (flags & TcpFlag.SYN ? 1 : 0) + (flags & TcpFlag.FIN ? 1 : 0);
    const reset =
      flags & TcpFlag.ACK
        ? { seq: seg.ack, ack: 0, flags: TcpFlag.RST }
        : { seq: 0, ack: seqAdd(seg.seq, segLen), flags: TcpFlag.RST | TcpFlag.ACK };
    this.counters.rstsSent++;
    this.counters.segmentsSent++;
    this.send(
      ip.dst,
      seg.dstPort,
      ip.src,
      seg.srcPort,
      reset.seq,
      reset.ack,
      reset.flags,
      0,
      NO_BYTES,
      NO_BYTES,
      null,
    );
  }

  /** An ICMP error quoting a TCP segment we sent (`quoted` starts at its TCP header). */
  icmpError(src: Ipv4, dst: Ipv4, quoted: Uint8Array, text: string): void {
    if (quoted.length < 4) return;
    const conn = this.table.get(tupleKey(src, readU16(quoted, 0), dst, readU16(quoted, 2)));
    conn?.icmpError(text);
  }

  // ---- send ----

  transmit(
    conn: TcpConnection,
    seq: number,
    ack: number,
    flags: number,
    window: number,
    options: Uint8Array,
    payload: Uint8Array,
  ): void {
    this.send(
      conn.local.ip,
      conn.local.port,
      conn.remote.ip,
      conn.remote.port,
      seq,
      ack,
      flags,
      window,
      options,
      payload,
      conn,
    );
  }

  private send(
    src: Ipv4,
    srcPort: number,
    dst: Ipv4,
    dstPort: number,
    seq: number,
    ack: number,
    flags: number,
    window: number,
    options: Uint8Array,
    payload: Uint8Array,
    conn: TcpConnection | null,
  ): void {
    const segment = emitTcp(
      { srcPort, dstPort, seq, ack, flags, window, urgentPointer: 0, options },
      payload,
      { src, dst },
    );
    if (this.tracing) {
      const view = TcpView.check(segment);
      if (view.ok) this.traceSegment('->', src, srcPort, dst, dstPort, view.value, conn);
    }
    this.node.sendIp({ src, dst, protocol: IpProtocol.tcp, payload: segment });
  }

  /** `TCP 10.0.0.1:32768 -> 10.0.0.2:7 SYN seq=.. ack=.. win=.. len=..; SYN-SENT`. */
  private traceSegment(
    dir: '->' | '<-',
    local: Ipv4,
    localPort: number,
    remote: Ipv4,
    remotePort: number,
    seg: TcpView,
    conn: TcpConnection | null,
  ): void {
    const ends =
      dir === '->'
        ? `${formatIpv4(local)}:${localPort} -> ${formatIpv4(remote)}:${remotePort}`
        : `${formatIpv4(remote)}:${remotePort} -> ${formatIpv4(local)}:${localPort}`;
    const flags = seg.flags;
    const mss = seg.options.find((o) => o.mss !== undefined)?.mss;
    const state = conn?.state ?? this.table.get(tupleKey(local, localPort, remote, remotePort))?.state;
    this.trace(
      `TCP ${ends} ${tcpFlagNames(flags).join(',')} seq=${seg.seq}${flags & TcpFlag.ACK ? ` ack=${seg.ack}` : ''} win=${seg.window} len=${seg.payload.length}${mss !== undefined ? ` mss=${mss}` : ''}${state ? `; ${state}` : ''}`,
    );
  }
}

function tupleKey(localIp: Ipv4, localPort: number, remoteIp: Ipv4, remotePort: number): string {
  return `${localIp}:${localPort}:${remoteIp}:${remotePort}`;
}
