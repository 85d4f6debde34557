/**
 * A node's UDP sockets (RFC 768): a handler bound per port, and a bounded log of what was delivered
 * (addresses, ports and sizes, never the bytes: a long-running node neither grows without bound
 * nor keeps frames' slabs alive). Beside them, datagram endpoints: receivers bound to an address
 * and a UDP port (or a bare IP protocol, GRE) that take the payload in place, unlogged and
 * uncopied, before the sockets: an NVE's tunnel port.
 *
 * The node's receive path finds the handler or endpoint; this room keeps the bindings and the log.
 */
import type { Ipv4 } from '../../wire/index.js';

export interface UdpDatagram {
  readonly time: number;
  readonly src: Ipv4;
  readonly srcPort: number;
  readonly dst: Ipv4;
  readonly dstPort: number;
  readonly payload: Uint8Array;
  /** Interface it arrived on (null for a packet to ourselves). */
  readonly iface: string | null;
}

export type UdpHandler = (datagram: UdpDatagram) => void;

/** A delivered datagram as `udpLog` keeps it: its addresses, ports and size, not its bytes. */
export type UdpLogEntry = Omit<UdpDatagram, 'payload'> & { readonly length: number };

/** How many of the latest UDP datagrams a node keeps in `udpLog` (at least; up to twice as many). */
export const UDP_LOG_LIMIT = 1024;

/**
 * Receives the payload of a datagram for an endpoint bound with `bindDatagrams`, in place:
 * `bytes[offset, end)` (a UDP payload, or a bare IP payload), valid during the call only. `via` is
 * the name of the port it arrived on (undefined for a packet to ourselves).
 */
export type DatagramReceiver = (
  src: Ipv4,
  srcPort: number,
  bytes: Uint8Array,
  offset: number,
  end: number,
  via: string | undefined,
) => void;

export interface DatagramEndpoint {
  /** The local address the endpoint is bound to (datagrams to other addresses are not its). */
  readonly address: Ipv4;
  readonly receiver: DatagramReceiver;
}

export class UdpSockets {
  private readonly handlers = new Map<number, UdpHandler>();
  /** Endpoints by `protocol * 65536 + port`. */
  private readonly endpoints = new Map<number, DatagramEndpoint>();
  /** The latest datagrams delivered to a socket (at least `UDP_LOG_LIMIT`), in order. */
  readonly log: UdpLogEntry[] = [];
  private deliveredCount = 0;

  /** `owner` names the node in errors. */
  constructor(private readonly owner: string) {}

  bind(port: number, handler: UdpHandler): void {
    if (this.handlers.has(port)) throw new Error(`${this.owner}: UDP port ${port} is in use`);
    this.handlers.set(port, handler);
  }

  unbind(port: number): void {
    this.handlers.delete(port);
  }

  isBound(port: number): boolean {
    return this.handlers.has(port);
  }

  handler(port: number): UdpHandler | undefined {
    return this.handlers.get(port);
  }

  /** Logs a datagram about to be handed to its socket (the log keeps its last `UDP_LOG_LIMIT` at least). */
  record(d: UdpDatagram): void {
    if (this.log.length >= 2 * UDP_LOG_LIMIT) this.log.splice(0, UDP_LOG_LIMIT);
    this.log.push({
      time: d.time,
      src: d.src,
      srcPort: d.srcPort,
      dst: d.dst,
      dstPort: d.dstPort,
      length: d.payload.length,
      iface: d.iface,
    });
    this.deliveredCount++;
  }

  /** Datagrams delivered to a socket, in all. */
  get delivered(): number {
    return this.deliveredCount;
  }

  get hasEndpoints(): boolean {
    return this.endpoints.size > 0;
  }

  /** Binds an endpoint for `protocol` (UDP with `port`, or a bare IP protocol with port 0) at `address`. */
  bindEndpoint(protocol: number, address: Ipv4, port: number, receiver: DatagramReceiver): void {
    const key = protocol * 0x1_0000 + port;
    if (this.endpoints.has(key))
      throw new Error(`${this.owner}: IP protocol ${protocol} port ${port} is bound`);
    this.endpoints.set(key, { address, receiver });
  }

  unbindEndpoint(protocol: number, port: number): void {
    this.endpoints.delete(protocol * 0x1_0000 + port);
  }

  /** The endpoint of `protocol` and `port` bound to `address`, if any. */
  endpoint(protocol: number, port: number, address: Ipv4): DatagramEndpoint | undefined {
    const e = this.endpoints.get(protocol * 0x1_0000 + port);
    return e !== undefined && e.address === address ? e : undefined;
  }
}
