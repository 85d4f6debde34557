/**
 * The IPv4 stack shared by hosts and routers: interfaces (with sub-interfaces per VLAN), a
 * routing table, ARP resolution with a pending queue per next hop, local delivery, ICMP echo
 * replies and ICMP error messages with the rules of RFC 1812 4.3.2.7.
 *
 * Receive path (never throws; every drop is counted by reason): Ethernet -> the interface of
 * (port, VLAN) -> MAC filter -> ARP or IPv4 (header checked, checksum verified) -> local delivery,
 * or `forward` (a host drops, a router routes). Subclasses implement `forward`, and may override
 * `onIcmp` / `onUdp` for their applications.
 *
 * Send path: a packet the node originates takes the route `lookupMultipath` picks by the hash of
 * its 5-tuple when the destination's prefix has several equal-cost routes (ECMP), so each flow
 * keeps one path; the hash is computed only then.
 *
 * Datagram endpoints (an NVE's tunnel port, overlay/sim-underlay.ts): `bindDatagrams` takes UDP to
 * one address and port (or a bare IP protocol, GRE) before the sockets, in place; untraced, such a
 * datagram is read in place from the frame without allocating. `sendDatagram` sends one with DF,
 * built in one buffer when its next hop's MAC is known. Both fast paths make the same counts and
 * bytes as the general ones, which they fall back to in every unusual case.
 *
 * Rooms of their own: UDP sockets and their log (udp-sockets.ts), ICMP error messages
 * (icmp-errors.ts), reassembly (reassembly.ts); DHCP and TCP see this node through narrow
 * interfaces (dhcp/dhcp-host.ts, tcp/tcp-stack.ts's TcpNode).
 */
import type { Port } from '../../link/index.js';
import {
  ArpOp,
  ArpView,
  allocBytes,
  type Cidr,
  cidrContains,
  cidrNetwork,
  DHCP_SERVER_PORT,
  ETHERNET_MIN_FRAME,
  EtherType,
  emitArp,
  emitIcmp,
  emitUdp,
  formatIpv4,
  formatMac,
  fragmentIpv4,
  IcmpType,
  IcmpView,
  IpProtocol,
  type Ipv4,
  Ipv4View,
  ipProtocolName,
  ipv4TupleHash,
  isGroupMac,
  MAC_BROADCAST,
  type Mac,
  newForwardingKeys,
  onesComplementSum,
  parseQuotedDatagram,
  rarpAnnouncement,
  readForwardingKeys,
  readIpv4,
  readMac,
  readU16,
  UdpView,
  writeEthernetHeader,
  writeIpv4Header,
  writeMac,
  writeU16,
  writeUdpHeader,
} from '../../wire/index.js';
import { Device, type DeviceContext } from '../device.js';
import { DhcpServer, type DhcpServerOptions } from '../dhcp/dhcp-server.js';
import { type MultipathChoice, newMultipathChoice, type Route, RouteTable } from '../router/route-table.js';
import { TcpStack } from '../tcp/tcp-stack.js';
import type { ArpOptions } from './arp-cache.js';
import { icmpErrorAbout, icmpErrorText } from './icmp-errors.js';
import { IpInterface } from './ip-interface.js';
import { Reassembler } from './reassembly.js';
import {
  type DatagramReceiver,
  type UdpDatagram,
  type UdpHandler,
  type UdpLogEntry,
  UdpSockets,
} from './udp-sockets.js';

export const DEFAULT_TTL = 64;

export interface IpNodeOptions {
  readonly arp?: ArpOptions;
}

export interface InterfaceConfig {
  readonly name: string;
  /** Port to use (created if the device does not have it yet). Defaults to the interface name. */
  readonly port?: string;
  readonly mac: Mac;
  readonly addresses: readonly Cidr[];
  /** 802.1Q VLAN for a sub-interface or VLANIF. */
  readonly vlan?: number;
}

export interface IpCounters {
  received: number;
  delivered: number;
  sent: number;
  forwarded: number;
  icmpErrorsSent: number;
  reassembled: number;
  arpRequestsSent: number;
  arpRepliesSent: number;
}

export interface IpPacketSpec {
  readonly src?: Ipv4;
  readonly dst: Ipv4;
  readonly protocol: number;
  readonly payload: Uint8Array;
  readonly ttl?: number;
  readonly df?: boolean;
  readonly dscp?: number;
}

/** Why `sendDatagram` would not send: no route, or a datagram too large for its interface (DF). */
export type DatagramRefusal =
  | { readonly reason: 'no-route' }
  | { readonly reason: 'too-big'; readonly mtu: number; readonly iface: string; readonly port: string };

/** The flow of a datagram being sent, for the ECMP choice (one record per node, no allocation). */
interface DatagramFlow {
  src: Ipv4;
  dst: Ipv4;
  protocol: number;
  readonly ports: Uint8Array;
}

const NO_ROUTE: DatagramRefusal = { reason: 'no-route' };

/** Why a packet could not be sent. */
export type SendFailure = 'no-route' | 'no-source-address' | 'interface-down' | 'message-too-long';

export abstract class IpNode extends Device {
  readonly interfaces: IpInterface[] = [];
  readonly routes = new RouteTable<Route>();
  readonly ipCounters: IpCounters = {
    received: 0,
    delivered: 0,
    sent: 0,
    forwarded: 0,
    icmpErrorsSent: 0,
    reassembled: 0,
    arpRequestsSent: 0,
    arpRepliesSent: 0,
  };
  private readonly byPort = new Map<Port, Map<number, IpInterface>>();
  /** The untagged interface of each port, by port index (the common case, without two Map lookups). */
  private readonly untaggedOn: (IpInterface | undefined)[] = [];
  /** Fragments of datagrams for this node, waiting for the rest (RFC 791). */
  private readonly reassembler = new Reassembler(
    (delay, fn) => this.setTimer(delay, fn),
    (first) => {
      this.drop('reassembly-timeout');
      if (first) this.sendIcmpError(first, IcmpType.timeExceeded, 1); // RFC 792: fragment reassembly time exceeded
    },
  );
  /** Per-packet lookups stay O(1) however many interfaces a router has. */
  private readonly byName = new Map<string, IpInterface>();
  private readonly ownAddresses = new Set<Ipv4>();
  /** Filled by each `sendIp` route lookup (read at once: sending may re-enter `sendIp`). */
  private readonly sendChoice: MultipathChoice = newMultipathChoice();
  /** UDP sockets and datagram endpoints (udp-sockets.ts). */
  private readonly udp: UdpSockets;
  private nextId = 1;

  constructor(
    name: string,
    context: DeviceContext,
    protected readonly options: IpNodeOptions = {},
  ) {
    super(name, context);
    this.udp = new UdpSockets(name);
  }

  /**
   * The latest UDP datagrams delivered to a socket of this node (at least `UDP_LOG_LIMIT`), in
   * order, without their bytes (the socket's handler had those): a long-running node (a service's
   * gateway answering DHCP for years of simulated time) neither grows without bound nor keeps the
   * frames' slabs alive.
   */
  get udpLog(): UdpLogEntry[] {
    return this.udp.log;
  }

  /** UDP datagrams delivered to a socket of this node, in all. */
  get udpDelivered(): number {
    return this.udp.delivered;
  }

  addInterface(config: InterfaceConfig): IpInterface {
    if (this.interfaces.some((i) => i.name === config.name))
      throw new Error(`${this.name} already has an interface ${config.name}`);
    const portName = config.port ?? config.name;
    const port = this.port(portName) ?? this.addPort(portName);
    const vlanKey = config.vlan ?? -1;
    let vlans = this.byPort.get(port);
    if (!vlans) {
      vlans = new Map();
      this.byPort.set(port, vlans);
    }
    if (vlans.has(vlanKey))
      throw new Error(
        `${this.name} port ${portName} already has an interface${config.vlan ? ` for VLAN ${config.vlan}` : ''}`,
      );
    const iface = new IpInterface(
      config.name,
      port,
      config.mac,
      [...config.addresses],
      config.vlan ?? null,
      this.options.arp,
    );
    vlans.set(vlanKey, iface);
    if (vlanKey === -1 && port.index >= 0) {
      this.untaggedOn[port.index] = iface;
      port.deviceState = iface;
    }
    this.byName.set(iface.name, iface);
    for (const a of iface.addresses) this.ownAddresses.add(a.address);
    this.interfaces.push(iface);
    for (const a of iface.addresses) {
      this.routes.add({
        prefix: cidrNetwork(a),
        prefixLength: a.prefixLength,
        nextHop: null,
        iface: iface.name,
        source: 'connected',
        metric: 0,
      });
    }
    this.interfaceAdded(iface);
    return iface;
  }

  /** Hook for subclasses, after an interface and its connected routes are added. */
  protected interfaceAdded(_iface: IpInterface): void {}

  /** DHCP servers on this node's interfaces. */
  readonly dhcpServers: DhcpServer[] = [];

  /** Serves DHCP on an interface (RFC 2131); started by `start()`. */
  enableDhcpServer(ifaceName: string, options: DhcpServerOptions): DhcpServer {
    const iface = this.iface(ifaceName);
    if (!iface) throw new Error(`${this.name}: no interface named ${ifaceName}`);
    const server = new DhcpServer(this, iface, options);
    this.dhcpServers.push(server);
    return server;
  }

  /** The DHCP server on the interface named `ifaceName`, if one was enabled there. */
  dhcpServerOn(ifaceName: string): DhcpServer | undefined {
    return this.dhcpServers.find((s) => s.iface.name === ifaceName);
  }

  /** Brings the node's services up: one socket on port 67 serves every DHCP server of the node, each answering on its interface. */
  start(): void {
    if (this.dhcpServers.length > 0 && !this.isBound(DHCP_SERVER_PORT)) {
      this.bindUdp(DHCP_SERVER_PORT, (d) => {
        for (const s of this.dhcpServers) s.handle(d);
      });
    }
  }

  /** Adds an address to an interface (as DHCP does when it binds), with its connected route. */
  assignAddress(iface: IpInterface, address: Cidr): void {
    iface.addAddress(address);
    this.ownAddresses.add(address.address);
    this.routes.add({
      prefix: cidrNetwork(address),
      prefixLength: address.prefixLength,
      nextHop: null,
      iface: iface.name,
      source: 'connected',
      metric: 0,
    });
    this.interfaceAdded(iface);
  }

  /** Removes every address of an interface (a DHCP lease lost), with their connected routes. */
  clearAddresses(iface: IpInterface): void {
    for (const a of iface.addresses) this.ownAddresses.delete(a.address);
    this.routes.remove((r) => r.iface === iface.name && (r.source === 'connected' || r.source === 'local'));
    iface.clearAddresses();
  }

  /** The interface that receives untagged (`vlan` -1) or VLAN-tagged frames on `port`. */
  protected interfaceOn(port: Port, vlan: number): IpInterface | undefined {
    if (vlan === -1 && port.index >= 0) {
      const iface = port.deviceState as IpInterface | null;
      if (iface !== null && iface.port === port) return iface;
    }
    return this.byPort.get(port)?.get(vlan);
  }

  iface(name: string): IpInterface | undefined {
    return this.byName.get(name);
  }

  ownsAddress(ip: Ipv4): boolean {
    return this.ownAddresses.has(ip);
  }

  // ---- receive ----

  protected receive(frame: Uint8Array, port: Port): void {
    if (this.udp.hasEndpoints && !this.tracer.enabled && this.receiveDatagramFast(frame, port)) return;
    if (frame.length < 14) return this.drop('runt', port);
    let type = readU16(frame, 12);
    let offset = 14;
    let vlan = -1;
    if (type === EtherType.vlan) {
      if (frame.length < 18) return this.drop('runt', port);
      vlan = readU16(frame, 14) & 0x0fff;
      type = readU16(frame, 16);
      offset = 18;
      if (vlan === 0) vlan = -1; // priority tag
    }
    const iface = this.interfaceOn(port, vlan);
    if (iface === undefined)
      return this.drop(
        vlan === -1 ? 'no-interface' : 'unknown-vlan',
        port,
        vlan === -1 ? undefined : `no sub-interface for VLAN ${vlan}`,
      );
    if (!iface.up) return this.drop('interface-down', port);
    const dst = readMac(frame, 0);
    if (dst !== iface.mac && dst !== MAC_BROADCAST) {
      // The NIC's address filter: frames for other stations (a hub repeats them) and multicast.
      return this.drop(isGroupMac(dst) ? 'multicast-ignored' : 'mac-filtered', port);
    }
    if (type === EtherType.arp) return this.receiveArp(iface, frame, offset);
    if (type === EtherType.ipv4) return this.receiveIpv4(iface, frame, offset, dst === MAC_BROADCAST);
    this.drop('unknown-ethertype', port, `EtherType 0x${type.toString(16).padStart(4, '0')}`);
  }

  private receiveArp(iface: IpInterface, frame: Uint8Array, offset: number): void {
    if (!ArpView.isValid(frame, offset)) {
      const checked = ArpView.check(frame, offset);
      return this.drop(`arp-${checked.ok ? 'invalid' : checked.error.code}`, iface.port);
    }
    // The fields read in place: most ARP a station sees is another station's broadcast request.
    const now = this.now();
    const op = readU16(frame, offset + 6);
    const senderMac = readMac(frame, offset + 8);
    const senderIp = readIpv4(frame, offset + 14);
    const targetIp = readIpv4(frame, offset + 24);
    const forUs = iface.owns(targetIp);
    if (senderIp !== 0 && !isGroupMac(senderMac) && !iface.owns(senderIp)) {
      // Linux: a request for us creates the requester's entry; any other ARP refreshes an existing one,
      // and a reply completes a resolution in progress.
      const known = iface.arp.has(senderIp, now);
      const awaited = iface.arp.isResolving(senderIp);
      if ((op === ArpOp.request && forUs) || known || awaited) {
        const changed = iface.arp.set(senderIp, senderMac, now);
        if (changed)
          this.trace(
            'arp',
            `ARP cache ${iface.name}: ${formatIpv4(senderIp)} -> ${formatMac(senderMac)}`,
            iface.port,
          );
        if (awaited) this.flushPending(iface, senderIp, senderMac);
      }
    }
    if (op === ArpOp.request && forUs) {
      this.ipCounters.arpRepliesSent++;
      const reply = emitArp({
        op: ArpOp.reply,
        senderMac: iface.mac,
        senderIp: targetIp,
        targetMac: senderMac,
        targetIp: senderIp,
      });
      this.trace(
        'arp',
        `${formatIpv4(senderIp)} asks for ${formatIpv4(targetIp)}: reply ${formatMac(iface.mac)}`,
        iface.port,
      );
      this.sendFrame(iface, senderMac, EtherType.arp, reply);
    }
  }

  private receiveIpv4(iface: IpInterface, frame: Uint8Array, offset: number, linkBroadcast: boolean): void {
    const checked = Ipv4View.check(frame, offset);
    if (!checked.ok) return this.drop(`ipv4-${checked.error.code}`, iface.port, checked.error.message);
    let ip = checked.value;
    if (!ip.checksumOk) return this.drop('ipv4-bad-checksum', iface.port);
    this.ipCounters.received++;
    if (!this.admit(ip, iface)) return;
    ip = this.inbound(ip, iface);
    const dst = ip.dst;
    if (this.ownsAddress(dst) || iface.isBroadcast(dst)) return this.deliverLocal(ip, iface);
    this.forward(ip, iface, linkBroadcast);
  }

  /** Inbound filtering of every IPv4 packet received on `iface`, for this node or passing through (a router's ACLs). */
  protected admit(_ip: Ipv4View, _iface: IpInterface): boolean {
    return true;
  }

  /** Rewrites an admitted packet before it is delivered or forwarded (a NAT translating replies back); by default the packet itself. */
  protected inbound(ip: Ipv4View, _iface: IpInterface): Ipv4View {
    return ip;
  }

  /** Rewrites a packet this node originated before it leaves by `out` (a router's NAT); by default nothing. */
  protected originated(_packet: Uint8Array, _out: IpInterface): void {}

  /** A packet not addressed to this node. */
  protected abstract forward(ip: Ipv4View, from: IpInterface, linkBroadcast: boolean): void;

  protected deliverLocal(ip: Ipv4View, iface: IpInterface | null): void {
    if (ip.protocol !== IpProtocol.udp && this.udp.hasEndpoints && !ip.isFragment) {
      // A bare IP protocol bound as an endpoint (an NVE's GRE): handed over as it is, not counted as delivered.
      const e = this.udp.endpoint(ip.protocol, 0, ip.dst);
      if (e !== undefined) return e.receiver(ip.src, 0, ip.bytes, ip.payloadOffset, ip.end, iface?.port.name);
    }
    if (ip.isFragment) {
      const r = this.reassembler.add(ip);
      if (r.kind === 'dropped') return this.drop(r.reason, iface?.port);
      if (r.kind === 'incomplete') return;
      const whole = Ipv4View.check(r.packet);
      if (!whole.ok) return this.drop(`reassembled-${whole.error.code}`, iface?.port);
      this.ipCounters.reassembled++;
      this.trace(
        'deliver',
        `reassembled ${whole.value.totalLength}-byte datagram id=${ip.id} from ${formatIpv4(ip.src)}`,
        iface?.port,
      );
      return this.deliverLocal(whole.value, iface);
    }
    this.ipCounters.delivered++;
    switch (ip.protocol) {
      case IpProtocol.icmp: {
        const checked = IcmpView.check(ip.bytes, ip.payloadOffset, ip.end);
        if (!checked.ok) return this.drop(`icmp-${checked.error.code}`, iface?.port);
        const icmp = checked.value;
        if (!icmp.checksumOk) return this.drop('icmp-bad-checksum', iface?.port);
        if (icmp.type === IcmpType.echoRequest && icmp.code === 0) {
          if (iface?.isBroadcast(ip.dst)) return this.drop('echo-to-broadcast-ignored', iface.port); // Linux's icmp_echo_ignore_broadcasts
          const reply = emitIcmp({ kind: 'echo-reply', id: icmp.id, seq: icmp.seq, data: icmp.body });
          this.trace(
            'deliver',
            `echo request from ${formatIpv4(ip.src)} id=${icmp.id} seq=${icmp.seq} -> echo reply`,
            iface?.port,
          );
          this.sendIp({ src: ip.dst, dst: ip.src, protocol: IpProtocol.icmp, payload: reply });
          return;
        }
        if (icmp.isError && this.tcpStack !== null) this.tcpIcmpError(ip, icmp);
        return this.onIcmp(ip, icmp);
      }
      case IpProtocol.tcp:
        return this.tcp.receive(ip, this.ownsAddress(ip.dst));
      case IpProtocol.udp: {
        const checked = UdpView.check(ip.bytes, ip.payloadOffset, ip.end);
        if (!checked.ok) return this.drop(`udp-${checked.error.code}`, iface?.port);
        const udp = checked.value;
        if (udp.checksumOk(ip.src, ip.dst) === false) return this.drop('udp-bad-checksum', iface?.port);
        return this.onUdp(ip, udp, iface);
      }
      default:
        this.sendIcmpError(ip, IcmpType.destinationUnreachable, 2);
        this.drop('protocol-unreachable', iface?.port, `IP protocol ${ip.protocol}`);
    }
  }

  // ---- TCP ----

  private tcpStack: TcpStack | null = null;

  /** This node's TCP (created on first use, or when the first TCP segment arrives). */
  get tcp(): TcpStack {
    if (this.tcpStack === null) {
      const node = this;
      this.tcpStack = new TcpStack({
        name: this.name,
        now: () => this.now(),
        setTimer: (delay, fn) => this.setTimer(delay, fn),
        sendIp: (spec) => this.sendIp(spec),
        routeTo: (dst) => {
          const route = this.routes.lookup(dst);
          const iface = route ? this.iface(route.iface) : undefined;
          const src = iface?.primary?.address;
          return iface && src !== undefined ? { src, mtu: iface.mtu } : undefined;
        },
        drop: (reason, why) => this.drop(reason, undefined, why),
        trace: (message) => this.trace('tcp', message),
        get tracing() {
          return node.tracer.enabled;
        },
      });
    }
    return this.tcpStack;
  }

  /** The TCP stack if anything has used it yet (counters without creating one). */
  get tcpStarted(): TcpStack | null {
    return this.tcpStack;
  }

  /** An ICMP error about a TCP segment of ours: the connection's soft error. */
  private tcpIcmpError(ip: Ipv4View, icmp: IcmpView): void {
    const quoted = parseQuotedDatagram(icmp.body);
    if (!quoted.ok || quoted.value.protocol !== IpProtocol.tcp) return;
    this.tcpStack?.icmpError(
      quoted.value.src,
      quoted.value.dst,
      quoted.value.transport,
      `${icmpErrorText(icmp.type, icmp.code, icmp.nextHopMtu)} from ${formatIpv4(ip.src)}`,
    );
  }

  /** ICMP messages other than echo requests (echo replies, errors). */
  protected onIcmp(_ip: Ipv4View, _icmp: IcmpView): void {}

  // ---- UDP sockets ----

  bindUdp(port: number, handler: UdpHandler): void {
    this.udp.bind(port, handler);
  }

  unbindUdp(port: number): void {
    this.udp.unbind(port);
  }

  isBound(port: number): boolean {
    return this.udp.isBound(port);
  }

  /** Sends a datagram from this node's address towards `dst` (false when there is no route). */
  sendUdp(srcPort: number, dst: Ipv4, dstPort: number, payload: Uint8Array): boolean {
    const route = this.routes.lookup(dst);
    const src = route ? this.iface(route.iface)?.primary?.address : undefined;
    if (src === undefined) {
      this.drop('no-route', undefined, `no route to ${formatIpv4(dst)}`);
      return false;
    }
    const datagram = emitUdp({ srcPort, dstPort }, payload, { src, dst });
    return this.sendIp({ src, dst, protocol: IpProtocol.udp, payload: datagram }) === null;
  }

  /**
   * Sends a UDP datagram straight out of `iface` to a MAC (broadcast by default), bypassing the
   * routing table: for DHCP, whose client has no address yet (source 0.0.0.0) and whose server
   * answers on the interface the request came in on.
   */
  sendUdpOnLink(
    iface: IpInterface,
    src: Ipv4,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    payload: Uint8Array,
    dstMac: Mac = MAC_BROADCAST,
  ): void {
    const datagram = emitUdp({ srcPort, dstPort }, payload, { src, dst });
    const packet = this.packet({ src, dst, protocol: IpProtocol.udp, payload: datagram });
    this.ipCounters.sent++;
    this.sendFrame(iface, dstMac, EtherType.ipv4, packet);
  }

  /** UDP datagrams for this node: to the socket bound to the port, else ICMP port unreachable (as a host with no socket answers). */
  protected onUdp(ip: Ipv4View, udp: UdpView, iface: IpInterface | null = null): void {
    if (this.udp.hasEndpoints) {
      const e = this.udp.endpoint(IpProtocol.udp, udp.dstPort, ip.dst);
      if (e !== undefined)
        return e.receiver(ip.src, udp.srcPort, ip.bytes, udp.payloadOffset, udp.end, iface?.port.name);
    }
    const handler = this.udp.handler(udp.dstPort);
    if (!handler) {
      this.sendIcmpError(ip, IcmpType.destinationUnreachable, 3);
      return this.drop('port-unreachable', undefined, `UDP port ${udp.dstPort}`);
    }
    const datagramIface = iface?.name ?? null;
    const datagram: UdpDatagram = {
      time: this.now(),
      src: ip.src,
      srcPort: udp.srcPort,
      dst: ip.dst,
      dstPort: udp.dstPort,
      payload: udp.payload,
      iface: datagramIface,
    };
    this.udp.record(datagram);
    if (this.tracer.enabled)
      this.trace(
        'deliver',
        `UDP ${formatIpv4(ip.src)}:${udp.srcPort} -> port ${udp.dstPort}, ${udp.length - 8} bytes`,
      );
    handler(datagram);
  }

  // ---- datagram endpoints (a tunnel's port) ----

  /**
   * Binds an endpoint: datagrams of `protocol` to `address` (an address of this node) and, for UDP,
   * `port` (0 for a bare IP protocol) go to `receiver` in place, before the UDP sockets: no
   * `UdpDatagram`, no `udpLog`, no copy. An NVE's tunnel port.
   */
  bindDatagrams(protocol: number, address: Ipv4, port: number, receiver: DatagramReceiver): void {
    this.udp.bindEndpoint(protocol, address, port, receiver);
  }

  unbindDatagrams(protocol: number, port: number): void {
    this.udp.unbindEndpoint(protocol, port);
  }

  /**
   * The untraced fast path of a UDP datagram for a bound endpoint: the checks of the receive path
   * (interface, MAC filter, IPv4 header and checksum, UDP) read in place without allocating, then
   * the endpoint's receiver, as the general path would call it. Anything unusual (a bad header, a
   * fragment, a UDP checksum to verify, an inbound ACL or NAT) returns false, for the general path
   * to handle and count.
   */
  private receiveDatagramFast(frame: Uint8Array, port: Port): boolean {
    const k = FAST_KEYS;
    if (readForwardingKeys(frame, k, -1) !== null || k.dstPort < 0 || k.protocol !== IpProtocol.udp)
      return false;
    const e = this.udp.endpoint(IpProtocol.udp, k.dstPort, k.dstIp);
    if (e === undefined || !this.ownsAddress(k.dstIp)) return false;
    // The receive path takes untagged frames and one 802.1Q tag only.
    if (k.tagCount > 1 || (k.tagCount === 1 && readU16(frame, 12) !== EtherType.vlan)) return false;
    const iface = this.interfaceOn(port, k.tagCount === 1 && k.vid !== 0 ? k.vid : -1);
    if (iface === undefined || !iface.up || k.dstMac !== iface.mac || this.filtersInbound(iface))
      return false;
    if (onesComplementSum(frame, k.l3Offset, k.l4Offset) !== 0xffff || readU16(frame, k.l4Offset + 6) !== 0)
      return false;
    this.ipCounters.received++;
    this.ipCounters.delivered++;
    e.receiver(
      k.srcIp,
      k.srcPort,
      frame,
      k.l4Offset + 8,
      k.l4Offset + readU16(frame, k.l4Offset + 4),
      port.name,
    );
    return true;
  }

  /** Whether packets arriving on `iface` pass an inbound filter or translation (a router's ACL or NAT). */
  protected filtersInbound(_iface: IpInterface): boolean {
    return false;
  }

  /** Hook: a packet left by `iface` on an equal-cost choice (a router counts them). */
  protected countEcmp(_iface: string): void {}

  /** The route of a datagram `sendDatagram` sends (chosen among equal-cost ones by its 5-tuple, as `sendIp` would). */
  private datagramRoute(protocol: number, src: Ipv4, dst: Ipv4, srcPort: number, dstPort: number) {
    const flow = DATAGRAM_FLOW;
    flow.src = src;
    flow.dst = dst;
    flow.protocol = protocol;
    writeU16(flow.ports, 0, srcPort);
    writeU16(flow.ports, 2, dstPort);
    return this.routes.lookupMultipathBy(dst, flow, datagramFlowHash, DATAGRAM_CHOICE);
  }

  /** Whether `sendDatagram` would send a datagram with `length` bytes after its UDP header (or IP header, bare). */
  checkDatagram(
    protocol: number,
    src: Ipv4,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    length: number,
  ): DatagramRefusal | null {
    const route = this.datagramRoute(protocol, src, dst, srcPort, dstPort);
    const out = route ? this.iface(route.iface) : undefined;
    if (route === undefined || out === undefined) return NO_ROUTE;
    return datagramFits(out, protocol, length);
  }

  /**
   * Sends `header` + `payload` as a datagram from `src` (an address of this node) with DF set and
   * `ttl`: UDP from `srcPort` to `dstPort` (checksum zero, as tunnels send it over IPv4, RFC 7348 5),
   * or a bare IP payload of `protocol`. Refused without a route or when it exceeds its interface's
   * MTU (nothing is counted then). Untraced, with the next hop's MAC known, the whole frame is
   * built in one buffer; otherwise it takes `sendIp`, which makes the same bytes.
   */
  sendDatagram(
    protocol: number,
    src: Ipv4,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    ttl: number,
    header: Uint8Array,
    payload: Uint8Array,
  ): DatagramRefusal | null {
    const route = this.datagramRoute(protocol, src, dst, srcPort, dstPort);
    const out = route ? this.iface(route.iface) : undefined;
    if (route === undefined || out === undefined) return NO_ROUTE;
    const length = header.length + payload.length;
    const refused = datagramFits(out, protocol, length);
    if (refused !== null) return refused;
    if (DATAGRAM_CHOICE.width > 1) this.countEcmp(out.name);
    if (protocol === IpProtocol.udp && !this.tracer.enabled && out.up && out.vlan === null) {
      const nextHop = route.nextHop ?? dst;
      const mac =
        out.isBroadcast(nextHop) || this.ownsAddress(dst) ? undefined : out.arp.lookup(nextHop, this.now());
      if (mac !== undefined) {
        const wire = allocBytes(Math.max(ETHERNET_MIN_FRAME, 42 + length));
        writeMac(wire, 0, mac);
        writeMac(wire, 6, out.mac);
        writeU16(wire, 12, EtherType.ipv4);
        writeIpv4Header(
          wire,
          14,
          {
            dscp: 0,
            ecn: 0,
            id: this.nextIpId(),
            df: true,
            mf: false,
            fragmentOffset: 0,
            ttl,
            protocol,
            src,
            dst,
            options: NO_OPTIONS,
          },
          8 + length,
        );
        writeUdpHeader(wire, 34, { srcPort, dstPort }, length);
        wire.set(header, 42);
        wire.set(payload, 42 + header.length);
        this.ipCounters.sent++;
        out.port.send(wire);
        return null;
      }
    }
    const udp = protocol === IpProtocol.udp ? 8 : 0;
    const packetPayload = allocBytes(udp + length);
    if (udp > 0) writeUdpHeader(packetPayload, 0, { srcPort, dstPort }, length);
    packetPayload.set(header, udp);
    packetPayload.set(payload, udp + header.length);
    this.sendIp({ src, dst, protocol, payload: packetPayload, df: true, ttl });
    return null;
  }

  // ---- send ----

  /** An IPv4 packet this node originates: a 20-byte header (next identification, TTL 64 unless given) and the payload. */
  private packet(spec: IpPacketSpec & { src: Ipv4 }): Uint8Array {
    const packet = allocBytes(20 + spec.payload.length);
    writeIpv4Header(
      packet,
      0,
      {
        dscp: spec.dscp ?? 0,
        ecn: 0,
        id: this.nextIpId(),
        df: spec.df ?? false,
        mf: false,
        fragmentOffset: 0,
        ttl: spec.ttl ?? DEFAULT_TTL,
        protocol: spec.protocol,
        src: spec.src,
        dst: spec.dst,
        options: NO_OPTIONS,
      },
      spec.payload.length,
    );
    packet.set(spec.payload, 20);
    return packet;
  }

  /** The identification field of the next packet this node originates. */
  protected nextIpId(): number {
    return this.nextId++ & 0xffff;
  }

  /**
   * Routes and sends a packet this node originates. Among equal-cost routes, the choice hashes the
   * given source (0 when the route's interface is to provide it: the source cannot depend on the
   * choice it feeds), destination, protocol and, for TCP/UDP/SCTP, the ports at the payload's start.
   */
  sendIp(spec: IpPacketSpec): SendFailure | null {
    const choice = this.sendChoice;
    const route = this.routes.lookupMultipathBy(spec.dst, spec, originatedFlowHash, choice);
    const width = choice.width;
    const index = choice.index;
    const hash = choice.hash;
    if (route === undefined) {
      this.drop('no-route', undefined, `no route to ${formatIpv4(spec.dst)}`);
      return 'no-route';
    }
    const out = this.iface(route.iface);
    if (!out?.up) return 'interface-down';
    const src = spec.src ?? out.primary?.address;
    if (src === undefined) return 'no-source-address';
    const packet = this.packet({
      src,
      dst: spec.dst,
      protocol: spec.protocol,
      payload: spec.payload,
      ttl: spec.ttl,
      df: spec.df,
      dscp: spec.dscp,
    });
    this.ipCounters.sent++;
    if (this.tracer.enabled) {
      const via = route.nextHop === null ? 'directly connected' : `via gateway ${formatIpv4(route.nextHop)}`;
      this.trace(
        'send',
        `${ipProtocolName(spec.protocol).toUpperCase()} ${formatIpv4(src)} -> ${formatIpv4(spec.dst)}: route ${formatIpv4(route.prefix)}/${route.prefixLength} out ${out.name}, ${via}${width > 1 ? `; ${ecmpText(width, index, hash, route)}` : ''}`,
        out.port,
      );
    }
    if (this.ownsAddress(spec.dst)) {
      // Loopback: a packet to ourselves (a ping of our own address, an ICMP error about our own
      // packet) is delivered as a new event, as Linux's loopback device does: never re-entrantly.
      this.setTimer(0, () => {
        const view = Ipv4View.check(packet);
        if (view.ok) this.deliverLocal(view.value, null);
      });
      return null;
    }
    this.originated(packet, out);
    if (packet.length > out.mtu) {
      // Too big for the first link: fragment, as Linux does for its own packets (RFC 791), unless DF.
      if (spec.df || out.mtu < 28) {
        this.drop(
          'message-too-long',
          out.port,
          `${packet.length}-byte packet, MTU ${out.mtu} on ${out.name}`,
        );
        return 'message-too-long';
      }
      for (const fragment of fragmentIpv4(packet, out.mtu))
        this.transmit(out, route.nextHop ?? spec.dst, fragment);
      return null;
    }
    this.transmit(out, route.nextHop ?? spec.dst, packet);
    return null;
  }

  /** Sends an IP packet to `nextHop` on `iface`, resolving its MAC first (the packet waits if needed). */
  protected transmit(iface: IpInterface, nextHop: Ipv4, packet: Uint8Array): void {
    if (iface.isBroadcast(nextHop)) return this.sendFrame(iface, MAC_BROADCAST, EtherType.ipv4, packet);
    const now = this.now();
    const mac = iface.arp.lookup(nextHop, now);
    if (mac !== undefined) return this.sendFrame(iface, mac, EtherType.ipv4, packet);
    let pending = iface.arp.pending.get(nextHop);
    if (pending === undefined) {
      pending = iface.arp.startResolution(nextHop);
      pending.packets.push(packet);
      this.trace(
        'arp',
        `${formatIpv4(nextHop)} not in ARP cache of ${iface.name}: queue packet, broadcast request`,
        iface.port,
      );
      this.requestArp(iface, nextHop);
      return;
    }
    if (pending.packets.length >= iface.arp.queueLimit) return this.drop('arp-queue-full', iface.port);
    pending.packets.push(packet);
  }

  /**
   * Starts ARP resolution of a neighbour (the `arp` lab step, `arping`): on the interface whose
   * subnet holds `target`, unless it is cached or already being resolved. Returns that interface.
   */
  resolveNeighbor(target: Ipv4): IpInterface | undefined {
    const iface = this.interfaces.find((i) => i.onLink(target));
    if (!iface) return undefined;
    if (iface.arp.has(target, this.now()) || iface.arp.isResolving(target)) return iface;
    iface.arp.startResolution(target);
    this.requestArp(iface, target);
    return iface;
  }

  private requestArp(iface: IpInterface, target: Ipv4): void {
    const pending = iface.arp.pending.get(target);
    if (!pending) return;
    if (pending.attempts >= iface.arp.attempts) {
      iface.arp.endResolution(target);
      this.trace(
        'arp',
        `no ARP reply from ${formatIpv4(target)} after ${pending.attempts} requests: ${pending.packets.length} packet(s) dropped`,
        iface.port,
      );
      for (const packet of pending.packets) {
        this.drop('arp-unresolved', iface.port);
        const view = Ipv4View.check(packet);
        if (view.ok) this.sendIcmpError(view.value, IcmpType.destinationUnreachable, 1);
      }
      return;
    }
    pending.attempts++;
    const src = iface.addresses.find((a) => cidrContains(a, target))?.address ?? iface.primary?.address ?? 0;
    this.ipCounters.arpRequestsSent++;
    this.sendFrame(
      iface,
      MAC_BROADCAST,
      EtherType.arp,
      emitArp({ op: ArpOp.request, senderMac: iface.mac, senderIp: src, targetMac: 0, targetIp: target }),
    );
    pending.timer = this.setTimer(iface.arp.retryInterval, () => this.requestArp(iface, target));
  }

  private flushPending(iface: IpInterface, ip: Ipv4, mac: Mac): void {
    const pending = iface.arp.endResolution(ip);
    if (!pending) return;
    pending.timer?.cancel();
    for (const packet of pending.packets) this.sendFrame(iface, mac, EtherType.ipv4, packet);
  }

  /** Frames a payload for `iface` (tagged if it is a sub-interface) and sends it. */
  protected sendFrame(iface: IpInterface, dst: Mac, type: number, payload: Uint8Array): void {
    const tags =
      iface.vlan === null ? NO_TAGS : [{ tpid: EtherType.vlan, pcp: 0, dei: false, vid: iface.vlan }];
    const header = 14 + 4 * tags.length;
    const frame = allocBytes(Math.max(ETHERNET_MIN_FRAME, header + payload.length));
    writeEthernetHeader(frame, 0, { dst, src: iface.mac, tags, etherType: type });
    frame.set(payload, header);
    iface.port.send(frame);
  }

  /** Announces each address with a gratuitous ARP (RFC 5227 3), as an interface coming up does. */
  announce(): void {
    for (const iface of this.interfaces) {
      for (const a of iface.addresses) {
        this.sendFrame(
          iface,
          MAC_BROADCAST,
          EtherType.arp,
          emitArp({
            op: ArpOp.request,
            senderMac: iface.mac,
            senderIp: a.address,
            targetMac: 0,
            targetIp: a.address,
          }),
        );
      }
    }
  }

  /**
   * Announces the MAC of each interface with a RARP request (RFC 903 op 3, sender and target the
   * interface's own MAC, no IPs), broadcast, as QEMU does for a VM that just migrated: every switch
   * and NVE on the way learns where the MAC is now, and nobody answers.
   */
  announceRarp(): void {
    for (const iface of this.interfaces)
      this.sendFrame(iface, MAC_BROADCAST, EtherType.rarp, emitArp(rarpAnnouncement(iface.mac)));
  }

  /**
   * Sends an ICMP error about `offending` to its source, unless RFC 1812 4.3.2.7 forbids it
   * (icmp-errors.ts).
   */
  protected sendIcmpError(offending: Ipv4View, type: number, code: number, nextHopMtu = 0): void {
    const message = icmpErrorAbout(offending, type, code, nextHopMtu, this.interfaces);
    if (message === null) return;
    const src = offending.src;
    // The source: the address the offending packet was sent to when it is ours (what traceroute and
    // Linux show), else the address of the interface the error leaves by (RFC 1812 4.3.2.4).
    const back = this.routes.lookup(src);
    const from = this.ownsAddress(offending.dst)
      ? offending.dst
      : back
        ? this.iface(back.iface)?.primary?.address
        : undefined;
    if (this.sendIp({ src: from, dst: src, protocol: IpProtocol.icmp, payload: message }) === null)
      this.ipCounters.icmpErrorsSent++;
  }
}

const NO_OPTIONS = new Uint8Array(0);

/**
 * Scratch of the datagram fast paths, shared by every node (a fabric has hundreds of thousands of
 * hosts, and only NVEs' routers use these): each is filled and read within one call, before
 * anything that could send or receive another frame, so no two uses overlap.
 */
const FAST_KEYS = newForwardingKeys();
const DATAGRAM_FLOW: DatagramFlow = { src: 0, dst: 0, protocol: 0, ports: new Uint8Array(4) };
const DATAGRAM_CHOICE: MultipathChoice = newMultipathChoice();

function datagramFlowHash(flow: DatagramFlow): number {
  return ipv4TupleHash(flow.src, flow.dst, flow.protocol, flow.ports);
}

/** A datagram with `length` bytes after its UDP header (or IP header) against `out`'s MTU. */
function datagramFits(out: IpInterface, protocol: number, length: number): DatagramRefusal | null {
  const total = 20 + (protocol === IpProtocol.udp ? 8 : 0) + length;
  return total > out.mtu ? { reason: 'too-big', mtu: out.mtu, iface: out.name, port: out.port.name } : null;
}

const NO_TAGS: never[] = [];

/** The flow hash of a packet about to be sent (closes over nothing: no allocation per lookup). */
function originatedFlowHash(spec: IpPacketSpec): number {
  return ipv4TupleHash(spec.src ?? 0, spec.dst, spec.protocol, spec.payload);
}

/**
 * The trace sentence for an ECMP choice: `ECMP: 4 equal-cost next hops, flow hash 0x1a2b3c4d picks
 * 10.0.0.2 on eth2 (2 of 4)`.
 */
export function ecmpText(width: number, index: number, hash: number, route: Route): string {
  const pick =
    route.nextHop === null
      ? `${route.iface} (directly connected)`
      : `${formatIpv4(route.nextHop)} on ${route.iface}`;
  return `ECMP: ${width} equal-cost next hops, flow hash 0x${(hash >>> 0).toString(16).padStart(8, '0')} picks ${pick} (${index + 1} of ${width})`;
}
