/**
 * The simulated underlay: an `Underlay` over a node's own IPv4 stack (an NVE's router side, with
 * its routed uplinks, static and ECMP routes and ARP). Datagrams leave from the VTEP address with
 * the NVE's outer TTL and DF set, routed as the node routes what it originates; datagrams for the
 * VTEP on the tunnel's port are handed over in place by the node's receive path (`bindDatagrams`).
 */
import type { IpNode } from '../devices/ip/ip-node.js';
import type { Ipv4 } from '../wire/index.js';
import type { Underlay, UnderlayProtocol, UnderlayReceiver, UnderlayRefusal } from './underlay.js';

export class IpNodeUnderlay implements Underlay {
  constructor(
    private readonly node: IpNode,
    readonly address: Ipv4,
    /** Outer IPv4 TTL. */
    private readonly ttl: number,
  ) {}

  send(
    protocol: UnderlayProtocol,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    header: Uint8Array,
    payload: Uint8Array,
  ): UnderlayRefusal | null {
    return this.node.sendDatagram(protocol, this.address, dst, srcPort, dstPort, this.ttl, header, payload);
  }

  check(
    protocol: UnderlayProtocol,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    length: number,
  ): UnderlayRefusal | null {
    return this.node.checkDatagram(protocol, this.address, dst, srcPort, dstPort, length);
  }

  listen(protocol: UnderlayProtocol, port: number, receiver: UnderlayReceiver): void {
    this.node.bindDatagrams(protocol, this.address, port, receiver);
  }

  close(protocol: UnderlayProtocol, port: number): void {
    this.node.unbindDatagrams(protocol, port);
  }
}
