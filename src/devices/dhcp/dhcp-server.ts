/**
 * A DHCP server (RFC 2131 4.3) on one interface of a router or host: it offers addresses from a
 * pool on the interface's subnet (never the network, broadcast or the server's own address, nor
 * one leased to another client), remembers each client's lease by MAC (a client asking again gets
 * the same address), acknowledges requests for what it offered or leased, refuses (NAK) the rest,
 * and frees released addresses. Replies are broadcast when the client asked for it.
 *
 * Manual allocation (RFC 2131 1: "a client's IP address is assigned by the network administrator"):
 * `reserve(mac, ip)` binds a client to one address, which it always gets and no one else does;
 * with `manualOnly`, a client with no reservation gets nothing (a cloud's DHCP, which hands out only
 * the address the service gave the instance).
 */
import {
  type Cidr,
  cidrBroadcast,
  cidrContains,
  cidrNetwork,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  type DhcpMessage,
  emitDhcp,
  formatIpv4,
  formatMac,
  type Ipv4,
  type Mac,
  parseDhcp,
  prefixMask,
} from '../../wire/index.js';
import type { IpInterface } from '../ip/ip-interface.js';
import type { DhcpServerHost } from './dhcp-host.js';

export interface DhcpServerOptions {
  /** First and last address of the pool (inclusive). */
  readonly first: Ipv4;
  readonly last: Ipv4;
  /** Seconds (default 3600). */
  readonly leaseTime?: number;
  /** Default router handed to clients (default: the server's address on the interface). */
  readonly router?: Ipv4;
  /** Answer only clients with a reservation (manual allocation only). */
  readonly manualOnly?: boolean;
}

interface Lease {
  readonly mac: Mac;
  readonly ip: Ipv4;
  /** ns; an offer not yet requested counts as a short lease. */
  expires: number;
  state: 'offered' | 'bound';
}

const OFFER_HOLD = 60e9;

export class DhcpServer {
  readonly leaseTime: number;
  readonly router: Ipv4;
  private readonly subnet: Cidr;
  private readonly leases = new Map<Mac, Lease>();
  private readonly reservations = new Map<Mac, Ipv4>();
  /** Messages answered, by type. */
  readonly sent: Record<string, number> = {};

  constructor(
    private readonly node: DhcpServerHost,
    /** The interface it serves. */
    readonly iface: IpInterface,
    private readonly options: DhcpServerOptions,
  ) {
    // The pool lives in one of the interface's subnets (the primary or a secondary one).
    const subnet =
      iface.addresses.find((a) => cidrContains(a, options.first) && cidrContains(a, options.last)) ??
      iface.primary;
    if (!subnet) throw new Error(`${node.name}: a DHCP server needs an address on ${iface.name}`);
    if (
      !cidrContains(subnet, options.first) ||
      !cidrContains(subnet, options.last) ||
      options.first > options.last
    ) {
      throw new Error(
        `${node.name}: DHCP pool ${formatIpv4(options.first)}-${formatIpv4(options.last)} is not a range inside ${formatIpv4(cidrNetwork(subnet))}/${subnet.prefixLength}`,
      );
    }
    this.subnet = subnet;
    this.leaseTime = options.leaseTime ?? 3600;
    this.router = options.router ?? subnet.address;
  }

  /** Binds `mac` to `ip` (manual allocation); a lease of `mac` to another address is forgotten. */
  reserve(mac: Mac, ip: Ipv4): void {
    if (!cidrContains(this.subnet, ip))
      throw new Error(`${this.node.name}: reservation ${formatIpv4(ip)} is outside the server's subnet`);
    this.reservations.set(mac, ip);
    const l = this.leases.get(mac);
    if (l !== undefined && l.ip !== ip) this.leases.delete(mac);
  }

  /** Removes `mac`'s reservation and lease. */
  unreserve(mac: Mac): void {
    this.reservations.delete(mac);
    this.leases.delete(mac);
  }

  reservation(mac: Mac): Ipv4 | undefined {
    return this.reservations.get(mac);
  }

  /** A datagram to port 67 of the node: this server answers those that came in on its interface. */
  handle(d: { iface: string | null; payload: Uint8Array }): void {
    if (d.iface !== this.iface.name) return;
    const m = parseDhcp(d.payload);
    if (m.ok && m.value.op === 1) this.receive(m.value);
  }

  /** An address no one holds: not network, broadcast, the server's own, or leased to another MAC. */
  private freeAddress(mac: Mac): Ipv4 | undefined {
    const reserved = this.reservations.get(mac);
    if (reserved !== undefined) return reserved;
    if (this.options.manualOnly) return undefined;
    const now = this.node.now();
    const taken = new Set<Ipv4>();
    for (const l of this.leases.values()) if (l.mac !== mac && l.expires > now) taken.add(l.ip);
    for (const [m, ip] of this.reservations) if (m !== mac) taken.add(ip);
    for (let a = this.options.first; a <= this.options.last; a++) {
      if (
        a === cidrNetwork(this.subnet) ||
        a === cidrBroadcast(this.subnet) ||
        this.iface.owns(a) ||
        taken.has(a)
      )
        continue;
      return a;
    }
    return undefined;
  }

  private reply(request: DhcpMessage, type: 'offer' | 'ack' | 'nak', yiaddr: Ipv4): void {
    const serverId = this.subnet.address;
    const message: DhcpMessage =
      type === 'nak'
        ? {
            op: 2,
            xid: request.xid,
            secs: 0,
            broadcast: true,
            ciaddr: 0,
            yiaddr: 0,
            siaddr: 0,
            giaddr: 0,
            chaddr: request.chaddr,
            type,
            serverId,
          }
        : {
            op: 2,
            xid: request.xid,
            secs: 0,
            broadcast: request.broadcast,
            ciaddr: request.ciaddr,
            yiaddr,
            siaddr: serverId,
            giaddr: 0,
            chaddr: request.chaddr,
            type,
            serverId,
            leaseTime: this.leaseTime,
            subnetMask: prefixMask(this.subnet.prefixLength),
            router: this.router,
          };
    this.sent[type] = (this.sent[type] ?? 0) + 1;
    const payload = emitDhcp(message);
    // RFC 2131 4.1: broadcast when the client asked or has no address; else unicast to it.
    if (request.broadcast || request.ciaddr === 0) {
      this.node.sendUdpOnLink(this.iface, serverId, 0xffff_ffff, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, payload);
    } else {
      this.node.sendUdpOnLink(
        this.iface,
        serverId,
        request.ciaddr,
        DHCP_SERVER_PORT,
        DHCP_CLIENT_PORT,
        payload,
        request.chaddr,
      );
    }
  }

  private receive(m: DhcpMessage): void {
    const now = this.node.now();
    const known = this.leases.get(m.chaddr);
    switch (m.type) {
      case 'discover': {
        const address = known && known.expires > now ? known.ip : this.freeAddress(m.chaddr);
        if (address === undefined)
          return this.node.traceEvent(
            'dhcp',
            `DHCPDISCOVER from ${formatMac(m.chaddr)}: ${this.options.manualOnly ? 'no reservation, not answered' : 'pool exhausted'}`,
          );
        this.leases.set(m.chaddr, {
          mac: m.chaddr,
          ip: address,
          expires: Math.max(known?.expires ?? 0, now + OFFER_HOLD),
          state: known?.state ?? 'offered',
        });
        this.node.traceEvent(
          'dhcp',
          `DHCPDISCOVER from ${formatMac(m.chaddr)}: offer ${formatIpv4(address)}`,
        );
        return this.reply(m, 'offer', address);
      }
      case 'request': {
        if (m.serverId !== undefined && m.serverId !== this.subnet.address) {
          if (known?.state === 'offered') this.leases.delete(m.chaddr); // the client chose another server
          return;
        }
        const wanted = m.requestedAddress ?? m.ciaddr;
        if (!known || known.ip !== wanted || known.expires <= now) {
          this.node.traceEvent(
            'dhcp',
            `DHCPREQUEST from ${formatMac(m.chaddr)} for ${formatIpv4(wanted)}: not ours to give, NAK`,
          );
          return this.reply(m, 'nak', 0);
        }
        known.state = 'bound';
        known.expires = now + this.leaseTime * 1e9;
        this.node.traceEvent(
          'dhcp',
          `DHCPREQUEST from ${formatMac(m.chaddr)}: ACK ${formatIpv4(wanted)} for ${this.leaseTime} s`,
        );
        return this.reply(m, 'ack', wanted);
      }
      case 'release':
        if (known && known.ip === m.ciaddr) this.leases.delete(m.chaddr);
        return;
      default:
        return;
    }
  }

  /** Leases (offers included) for `show dhcp`. */
  table(): { mac: string; ip: string; state: string; expiresIn: number }[] {
    const now = this.node.now();
    return [...this.leases.values()]
      .filter((l) => l.expires > now)
      .sort((a, b) => a.ip - b.ip)
      .map((l) => ({
        mac: formatMac(l.mac),
        ip: formatIpv4(l.ip),
        state: l.state,
        expiresIn: Math.round((l.expires - now) / 1e9),
      }));
  }
}
