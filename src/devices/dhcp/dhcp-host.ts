/**
 * What DHCP needs of the node it runs on, and no more (as the TCP stack's `TcpNode`): a clock,
 * traces, and UDP on one interface. The client's host also takes the address, default router and
 * announcement the client configures. A Host and an IpNode fit these shapes as they are; the
 * client and server import neither, so DHCP and the IP node do not import each other.
 */
import type { Nanos, Timer } from '../../sim/index.js';
import type { Cidr, Ipv4, Mac } from '../../wire/index.js';
import type { IpInterface } from '../ip/ip-interface.js';

/** The node a DHCP server answers on. */
export interface DhcpServerHost {
  readonly name: string;
  now(): Nanos;
  traceEvent(kind: string, message: string): void;
  /** Sends a UDP datagram straight out of `iface` to `dstMac` (broadcast by default), bypassing routing. */
  sendUdpOnLink(
    iface: IpInterface,
    src: Ipv4,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    payload: Uint8Array,
    dstMac?: Mac,
  ): void;
}

/** A UDP datagram as the client's socket receives it. */
export interface DhcpDatagram {
  readonly payload: Uint8Array;
}

/** The host a DHCP client configures. */
export interface DhcpClientHost extends DhcpServerHost {
  setTimer(delay: Nanos, fn: () => void): Timer;
  bindUdp(port: number, handler: (datagram: DhcpDatagram) => void): void;
  /** Sends a routed UDP datagram (false when there is no route). */
  sendUdp(srcPort: number, dst: Ipv4, dstPort: number, payload: Uint8Array): boolean;
  assignAddress(iface: IpInterface, address: Cidr): void;
  clearAddresses(iface: IpInterface): void;
  setGateway(router: Ipv4): void;
  /** Announces the host's addresses (gratuitous ARP). */
  announce(): void;
}
