/**
 * A DHCP client (RFC 2131 4.4) on one interface of a host: DISCOVER, OFFER, REQUEST, ACK on the
 * wire (broadcast, with the broadcast flag set, as a client without an address must), then the
 * address, mask and default router configured and announced with a gratuitous ARP; renewal by
 * unicast REQUEST at T1 (half the lease). A lost DISCOVER is retried every 4 s; a NAK starts over.
 */
import type { Timer } from '../../sim/index.js';
import {
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  type DhcpMessage,
  emitDhcp,
  formatIpv4,
  type Ipv4,
  maskPrefixLength,
  parseDhcp,
} from '../../wire/index.js';
import type { IpInterface } from '../ip/ip-interface.js';
import type { DhcpClientHost } from './dhcp-host.js';

export type DhcpClientState = 'init' | 'selecting' | 'requesting' | 'bound' | 'renewing';

const RETRY = 4e9;

export class DhcpClient {
  state: DhcpClientState = 'init';
  address: Ipv4 | null = null;
  prefixLength = 0;
  router: Ipv4 | null = null;
  server: Ipv4 | null = null;
  leaseTime = 0;
  boundAt = 0;
  private xid: number;
  private timer: Timer | null = null;
  /** Messages sent, by type, for counters. */
  readonly sent: Record<string, number> = {};

  constructor(
    private readonly host: DhcpClientHost,
    private readonly iface: IpInterface,
  ) {
    this.xid = (iface.mac % 0x1_0000_0000) ^ 0x5a5a5a5a;
  }

  start(): void {
    this.host.bindUdp(DHCP_CLIENT_PORT, (d) => {
      const m = parseDhcp(d.payload);
      if (m.ok) this.receive(m.value);
    });
    this.discover();
  }

  private send(
    m: Omit<DhcpMessage, 'op' | 'xid' | 'secs' | 'chaddr' | 'siaddr' | 'giaddr' | 'yiaddr'> & {
      yiaddr?: Ipv4;
    },
    unicastTo?: Ipv4,
  ): void {
    const message: DhcpMessage = {
      op: 1,
      xid: this.xid,
      secs: 0,
      chaddr: this.iface.mac,
      siaddr: 0,
      giaddr: 0,
      yiaddr: 0,
      ...m,
    };
    this.sent[m.type] = (this.sent[m.type] ?? 0) + 1;
    const payload = emitDhcp(message);
    if (unicastTo !== undefined && this.address !== null) {
      this.host.sendUdp(DHCP_CLIENT_PORT, unicastTo, DHCP_SERVER_PORT, payload);
    } else {
      this.host.sendUdpOnLink(
        this.iface,
        this.address ?? 0,
        0xffff_ffff,
        DHCP_CLIENT_PORT,
        DHCP_SERVER_PORT,
        payload,
      );
    }
  }

  private discover(): void {
    this.state = 'selecting';
    this.xid = (this.xid + 1) >>> 0;
    this.host.traceEvent('dhcp', `DHCPDISCOVER on ${this.iface.name} (xid 0x${this.xid.toString(16)})`);
    this.send({ type: 'discover', broadcast: true, ciaddr: 0 });
    this.retry(() => this.discover());
  }

  private retry(fn: () => void, after = RETRY): void {
    this.timer?.cancel();
    this.timer = this.host.setTimer(after, fn);
  }

  private receive(m: DhcpMessage): void {
    if (m.op !== 2 || m.xid !== this.xid || m.chaddr !== this.iface.mac) return;
    if (m.type === 'offer' && this.state === 'selecting') {
      this.state = 'requesting';
      this.host.traceEvent(
        'dhcp',
        `DHCPOFFER of ${formatIpv4(m.yiaddr)} from ${formatIpv4(m.serverId ?? 0)}: request it`,
      );
      this.send({
        type: 'request',
        broadcast: true,
        ciaddr: 0,
        requestedAddress: m.yiaddr,
        serverId: m.serverId,
      });
      this.retry(() => this.discover());
      return;
    }
    if (m.type === 'ack' && (this.state === 'requesting' || this.state === 'renewing')) {
      this.bind(m);
      return;
    }
    if (m.type === 'nak') {
      this.host.traceEvent('dhcp', `DHCPNAK from ${formatIpv4(m.serverId ?? 0)}: start over`);
      this.release();
      this.discover();
    }
  }

  private bind(m: DhcpMessage): void {
    const prefixLength = m.subnetMask === undefined ? 24 : (maskPrefixLength(m.subnetMask) ?? 24);
    const renewing = this.state === 'renewing' && this.address === m.yiaddr;
    this.state = 'bound';
    this.server = m.serverId ?? null;
    this.leaseTime = m.leaseTime ?? 86400;
    this.boundAt = this.host.now();
    if (!renewing) {
      this.host.clearAddresses(this.iface);
      this.address = m.yiaddr;
      this.prefixLength = prefixLength;
      this.host.assignAddress(this.iface, { address: m.yiaddr, prefixLength });
      // A router outside the new subnet cannot be a gateway (RFC 2131 leaves it to the client): ignore it.
      this.router = m.router !== undefined && this.iface.onLink(m.router) ? m.router : null;
      if (this.router !== null) this.host.setGateway(this.router);
      else if (m.router !== undefined)
        this.host.traceEvent(
          'dhcp',
          `router ${formatIpv4(m.router)} is not on ${formatIpv4(m.yiaddr)}/${prefixLength}: ignored`,
        );
      this.host.announce();
    }
    this.host.traceEvent(
      'dhcp',
      `DHCPACK: ${formatIpv4(m.yiaddr)}/${prefixLength}${this.router !== null ? ` router ${formatIpv4(this.router)}` : ''}, lease ${this.leaseTime} s`,
    );
    this.retry(() => this.renew(), (m.renewalTime ?? this.leaseTime / 2) * 1e9);
  }

  private renew(): void {
    if (this.address === null || this.server === null) return this.discover();
    this.state = 'renewing';
    this.send({ type: 'request', broadcast: false, ciaddr: this.address }, this.server);
    // No answer by the end of the lease: the address is lost and discovery starts over (RFC 2131 4.4.5, without REBINDING).
    this.retry(
      () => {
        this.release();
        this.discover();
      },
      (this.leaseTime / 2) * 1e9,
    );
  }

  private release(): void {
    this.host.clearAddresses(this.iface);
    this.address = null;
    this.state = 'init';
  }

  status(): {
    interface: string;
    state: DhcpClientState;
    address: string | null;
    router: string | null;
    server: string | null;
    leaseTime: number;
  } {
    return {
      interface: this.iface.name,
      state: this.state,
      address: this.address === null ? null : `${formatIpv4(this.address)}/${this.prefixLength}`,
      router: this.router === null ? null : formatIpv4(this.router),
      server: this.server === null ? null : formatIpv4(this.server),
      leaseTime: this.leaseTime,
    };
  }
}
