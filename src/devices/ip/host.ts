/**
 * A host: NICs with addresses, a default gateway, the shared IPv4 stack (ARP as Linux does it,
 * ICMP echo replies, ICMP errors), and applications: ping, UDP sockets and a UDP echo service.
 * A host does not forward packets that are not for it (IP forwarding off): it drops them.
 */
import {
  emitIcmp,
  formatIpv4,
  IcmpType,
  type IcmpView,
  IpProtocol,
  type Ipv4,
  type Ipv4View,
  parseQuotedDatagram,
  readU16,
} from '../../wire/index.js';
import type { DeviceContext } from '../device.js';
import { DhcpClient } from '../dhcp/dhcp-client.js';
import { TcpDiscardServer, TcpEchoServer } from '../tcp/tcp-apps.js';
import { icmpErrorText } from './icmp-errors.js';
import type { IpInterface } from './ip-interface.js';
import { IpNode, type IpNodeOptions } from './ip-node.js';
import { type PingOptions, PingRun } from './ping.js';

export interface HostOptions extends IpNodeOptions {
  /** Send a gratuitous ARP for each address at `start()` (default true). */
  readonly announce?: boolean;
  /** Get eth0's address, mask and gateway by DHCP at `start()`. */
  readonly dhcp?: boolean;
}

export class Host extends IpNode {
  readonly kind = 'host';
  gateway: Ipv4 | null = null;
  private readonly pings = new Map<number, PingRun>();
  private nextPingId = 1;

  constructor(
    name: string,
    context: DeviceContext,
    private readonly hostOptions: HostOptions = {},
  ) {
    super(name, context, hostOptions);
  }

  /** Sets the default gateway (a default route through the interface whose subnet holds it). */
  setGateway(gateway: Ipv4): void {
    const iface = this.interfaces.find((i) => i.onLink(gateway));
    if (!iface)
      throw new Error(`${this.name}: gateway ${formatIpv4(gateway)} is not on any interface's subnet`);
    this.routes.removeAt(0, 0, (r) => r.source === 'default');
    this.routes.add({
      prefix: 0,
      prefixLength: 0,
      nextHop: gateway,
      iface: iface.name,
      source: 'default',
      metric: 0,
    });
    this.gateway = gateway;
  }

  /** The DHCP client of eth0, when the host gets its address by DHCP. */
  dhcpClient: DhcpClient | null = null;

  /** Brings the host up: announces its addresses unless told not to, starts DHCP servers and the DHCP client. */
  override start(): void {
    super.start();
    if (this.hostOptions.announce !== false) this.announce();
    if (this.hostOptions.dhcp) {
      const eth0 = this.interfaces[0];
      if (!eth0) throw new Error(`${this.name}: DHCP needs an interface`);
      this.dhcpClient = new DhcpClient(this, eth0);
      this.dhcpClient.start();
    }
  }

  protected forward(ip: Ipv4View, from: IpInterface, _linkBroadcast: boolean): void {
    this.drop('not-for-me', from.port, `packet for ${formatIpv4(ip.dst)} (IP forwarding is off)`);
  }

  // ---- ping ----

  ping(destination: Ipv4, options: PingOptions = {}): PingRun {
    const count = options.count ?? 4;
    const interval = options.interval ?? 1e9;
    const timeout = options.timeout ?? 1e9;
    const size = options.size ?? 56;
    const id = this.nextPingId++ & 0xffff;
    const run = new PingRun(this.name, formatIpv4(destination), id, count);
    this.pings.set(id, run);
    run.whenDone(() => this.pings.delete(id));
    const data = Uint8Array.from({ length: size }, (_, i) => (0x10 + i) & 0xff);
    const sendOne = (seq: number) => {
      run.sent(seq, this.now()); // before sending: a reply to ourselves may come back in the same instant
      const failure = this.sendIp({
        dst: destination,
        protocol: IpProtocol.icmp,
        payload: emitIcmp({ kind: 'echo-request', id, seq, data }),
        ttl: options.ttl,
      });
      if (failure) {
        run.unsent(seq);
        run.settle({
          seq,
          status: 'not-sent',
          message: failure === 'no-route' ? 'Network is unreachable' : failure,
        });
      } else {
        this.setTimer(timeout, () => run.settle({ seq, status: 'timeout' }));
      }
      if (seq < count) this.setTimer(interval, () => sendOne(seq + 1));
    };
    sendOne(1);
    return run;
  }

  protected override onIcmp(ip: Ipv4View, icmp: IcmpView): void {
    if (icmp.type === IcmpType.echoReply) {
      const run = this.pings.get(icmp.id);
      const sent = run?.sentTime(icmp.seq);
      if (!run || sent === undefined) return this.drop('unexpected-echo-reply');
      run.settle({
        seq: icmp.seq,
        status: 'reply',
        rtt: this.now() - sent,
        ttl: ip.ttl,
        from: formatIpv4(ip.src),
      });
      if (this.tracer.enabled) {
        this.trace(
          'deliver',
          `echo reply from ${formatIpv4(ip.src)} id=${icmp.id} seq=${icmp.seq} ttl=${ip.ttl}, ${(this.now() - sent) / 1000} us after the request`,
        );
      }
      return;
    }
    if (!icmp.isError) return this.drop('icmp-ignored');
    const quoted = parseQuotedDatagram(icmp.body);
    if (
      !quoted.ok ||
      quoted.value.protocol !== IpProtocol.icmp ||
      quoted.value.icmpType !== IcmpType.echoRequest
    )
      return;
    const t = quoted.value.transport;
    const id = readU16(t, 4);
    const seq = readU16(t, 6);
    const run = this.pings.get(id);
    if (!run) return;
    const message = icmpErrorText(icmp.type, icmp.code, icmp.nextHopMtu);
    run.settle({ seq, status: 'error', from: formatIpv4(ip.src), message });
  }

  /** Echoes every datagram back to its sender (RFC 862), on port 7 by default. */
  enableUdpEcho(port = 7): void {
    this.bindUdp(port, (d) => this.sendUdp(d.dstPort, d.src, d.srcPort, d.payload));
  }

  /** A TCP echo service (RFC 862), on port 7 by default. */
  enableTcpEcho(port = 7): TcpEchoServer {
    return new TcpEchoServer(this.tcp, port);
  }

  /** A TCP discard service (RFC 863), on port 9 by default: the sink of bulk transfers. */
  enableTcpDiscard(port = 9): TcpDiscardServer {
    return new TcpDiscardServer(this.tcp, port);
  }
}
