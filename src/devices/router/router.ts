/**
 * A router: IPv4 interfaces each with its own MAC and addresses (sub-interfaces per VLAN for
 * router-on-a-stick; the same class serves as an L3 switch's routing part with VLANIF
 * interfaces), connected and static routes with longest-prefix match, and forwarding per
 * RFC 1812: TTL decrement with the RFC 1624 checksum update, ICMP time exceeded, network
 * unreachable, fragmentation needed when DF is set and the next link's MTU is too small
 * (fragmentation otherwise), ARP resolution with a pending queue per next hop, and ACLs applied
 * in or out on an interface (a denied packet gets ICMP "administratively prohibited").
 *
 * NAT on an interface (nat.ts): source NAPT and static 1:1 NAT, ICMP errors about translated
 * packets included (their quotes translated, nat-icmp.ts), the router's own errors too.
 *
 * Equal-cost multipath: static routes for one prefix with the same metric are all used, each
 * packet taking the one its flow hash picks (`ipv4FlowHash`: addresses, protocol, ports), so a
 * flow stays on one path and flows spread over all of them (RFC 2991, RFC 2992). The hash is
 * computed only for prefixes with several equal-cost routes.
 */
import {
  allocBytes,
  type Cidr,
  cidrNetwork,
  decrementTtl,
  ETHERNET_MIN_FRAME,
  EtherType,
  formatCidr,
  formatIpv4,
  fragmentIpv4,
  IcmpType,
  IpProtocol,
  type Ipv4,
  Ipv4View,
  ipv4FlowHash,
  readU16,
  readU32,
  writeMac,
  writeU16,
} from '../../wire/index.js';
import type { IpInterface } from '../ip/ip-interface.js';
import { ecmpText, IpNode } from '../ip/ip-node.js';
import { Acl, type AclRuleSpec, type PacketFields } from './acl.js';
import { SourceNat, StaticNat } from './nat.js';
import { icmpErrorQuote } from './nat-icmp.js';
import { type MultipathChoice, newMultipathChoice, type Route } from './route-table.js';

export interface StaticRouteSpec {
  readonly prefix: Cidr;
  readonly nextHop?: Ipv4;
  /** Outgoing interface; found from the next hop when omitted. */
  readonly iface?: string;
  readonly metric?: number;
  /** Drop what the route matches (and count it as `blackhole`) instead of forwarding it. */
  readonly blackhole?: boolean;
}

export class Router extends IpNode {
  readonly kind: string = 'router';
  private readonly acls = new Map<string, Acl>();
  private readonly aclIn = new Map<string, Acl>();
  private readonly aclOut = new Map<string, Acl>();
  /** Packets forwarded by an ECMP choice (a prefix with 2 or more equal-cost routes), per outgoing interface. */
  /** Source NAT per interface (a border's way out of the overlay). */
  readonly nats = new Map<string, SourceNat>();
  /** Static 1:1 NATs by interface (elastic IPs), before the interface's source NAT. */
  readonly staticNats = new Map<string, StaticNat>();
  readonly ecmpChoices: Record<string, number> = {};
  /** Filled by each forwarding lookup (read at once: forwarding may re-enter via ICMP errors). */
  private readonly forwardChoice: MultipathChoice = newMultipathChoice();

  /**
   * Routes that apply only to packets that arrived on one interface (source-based policy routing, as
   * a VPC subnet's own route table): for those packets, such a route is used when its prefix is
   * longer than the main table's match (the main table wins a tie). Kept per interface, few routes.
   */
  private readonly interfaceRoutes = new Map<string, readonly Route[]>();

  /** Sets (or, with an empty list, clears) the routes of packets arriving on `ifaceName`. */
  setInterfaceRoutes(ifaceName: string, routes: readonly Route[]): void {
    if (routes.length === 0) this.interfaceRoutes.delete(ifaceName);
    else this.interfaceRoutes.set(ifaceName, routes);
  }

  interfaceRoutesOf(ifaceName: string): readonly Route[] {
    return this.interfaceRoutes.get(ifaceName) ?? [];
  }

  /** Removes the static (or blackhole) route `spec` names: same prefix, next hop and interface. */
  removeStaticRoute(spec: StaticRouteSpec): boolean {
    const network = cidrNetwork(spec.prefix);
    const source = spec.blackhole ? 'blackhole' : 'static';
    return (
      this.routes.removeAt(
        network,
        spec.prefix.prefixLength,
        (r) =>
          r.source === source &&
          (spec.blackhole ||
            ((spec.iface === undefined || r.iface === spec.iface) && r.nextHop === (spec.nextHop ?? null))),
      ) > 0
    );
  }

  /**
   * Adds a static route. Several routes for one prefix with the same metric (and different next
   * hops) are all kept and used as equal-cost paths.
   */
  addStaticRoute(spec: StaticRouteSpec): void {
    const network = cidrNetwork(spec.prefix);
    let iface = spec.iface;
    if (spec.blackhole) {
      this.routes.add({
        prefix: network,
        prefixLength: spec.prefix.prefixLength,
        nextHop: null,
        iface: 'null0',
        source: 'blackhole',
        metric: spec.metric ?? 1,
      });
      return;
    }
    if (iface === undefined) {
      if (spec.nextHop === undefined)
        throw new Error(`${this.name}: route ${formatCidr(spec.prefix)} needs a next hop or an interface`);
      iface = this.interfaces.find((i) => i.onLink(spec.nextHop!))?.name;
      if (iface === undefined)
        throw new Error(
          `${this.name}: next hop ${formatIpv4(spec.nextHop)} of ${formatCidr(spec.prefix)} is not on a connected subnet`,
        );
    } else if (!this.iface(iface)) {
      throw new Error(`${this.name}: route ${formatCidr(spec.prefix)} names unknown interface ${iface}`);
    }
    this.routes.add({
      prefix: network,
      prefixLength: spec.prefix.prefixLength,
      nextHop: spec.nextHop ?? null,
      iface,
      source: spec.prefix.prefixLength === 0 ? 'default' : 'static',
      metric: spec.metric ?? 1,
    });
  }

  /**
   * Source NAT on `ifaceName`: packets routed out of it leave from `publicIp` (one of the
   * interface's addresses) with a translated port, and replies to it are translated back.
   */
  enableSnat(ifaceName: string, publicIp: Ipv4): SourceNat {
    const iface = this.iface(ifaceName);
    if (!iface) throw new Error(`${this.name}: no interface named ${ifaceName}`);
    if (!iface.owns(publicIp))
      throw new Error(`${this.name}: NAT address ${formatIpv4(publicIp)} is not an address of ${ifaceName}`);
    const nat = new SourceNat(ifaceName, publicIp);
    this.nats.set(ifaceName, nat);
    return nat;
  }

  /** Source NAT off `ifaceName` again (its mappings go with it). */
  disableSnat(ifaceName: string): boolean {
    return this.nats.delete(ifaceName);
  }

  /**
   * Hairpin NAT (RFC 4787 6): a packet from the inside for the source NAT address of another
   * interface goes out and back in through that NAT: its source translated as it would leave (1:1
   * NAT first), its destination as a reply coming back; undefined when no NAT of this router has it.
   */
  private hairpin(ip: Ipv4View, iface: IpInterface): Ipv4View | undefined {
    for (const [name, nat] of this.nats) {
      if (nat.publicIp !== ip.dst) continue;
      const copy = allocBytes(ip.end - ip.offset);
      copy.set(ip.bytes.subarray(ip.offset, ip.end));
      const one = this.staticNats.get(name);
      if (!(one?.translateOut(copy) ?? false) && !nat.translateOut(copy)) return undefined;
      const back = nat.translateIn(copy, 0, copy.length);
      const view = back === null ? undefined : Ipv4View.check(back);
      if (view === undefined || !view.ok) return undefined;
      if (this.tracer.enabled)
        this.trace(
          'nat',
          `NAT: hairpin through ${name}: ${formatIpv4(ip.src)} -> ${formatIpv4(ip.dst)} is ${formatIpv4(view.value.src)} -> ${formatIpv4(view.value.dst)}`,
          iface.port,
        );
      return view.value;
    }
    return undefined;
  }

  /** Static 1:1 NAT on `ifaceName`: `publicIp` stands for `insideIp` both ways (an elastic IP). */
  addStaticNat(ifaceName: string, publicIp: Ipv4, insideIp: Ipv4): StaticNat {
    if (!this.iface(ifaceName)) throw new Error(`${this.name}: no interface named ${ifaceName}`);
    let nat = this.staticNats.get(ifaceName);
    if (nat === undefined) {
      nat = new StaticNat(ifaceName);
      this.staticNats.set(ifaceName, nat);
    }
    nat.add(publicIp, insideIp);
    return nat;
  }

  removeStaticNat(ifaceName: string, publicIp: Ipv4): boolean {
    const nat = this.staticNats.get(ifaceName);
    if (nat === undefined) return false;
    const removed = nat.remove(publicIp);
    if (nat.size === 0) this.staticNats.delete(ifaceName);
    return removed;
  }

  protected override inbound(ip: Ipv4View, iface: IpInterface): Ipv4View {
    const one = this.staticNats.get(iface.name);
    if (one !== undefined && one.insideOf(ip.dst) !== undefined) {
      const inside = one.translateIn(ip.bytes, ip.offset, ip.end);
      const view = inside === null ? undefined : Ipv4View.check(inside);
      if (view?.ok) {
        if (this.tracer.enabled)
          this.trace(
            'nat',
            `NAT: ${formatIpv4(ip.dst)} is ${formatIpv4(view.value.dst)} inside (1:1 NAT)`,
            iface.port,
          );
        return view.value;
      }
    }
    const nat = this.nats.get(iface.name);
    if (nat === undefined && one === undefined) {
      const hairpin = this.hairpin(ip, iface);
      if (hairpin !== undefined) return hairpin;
    }
    if (nat === undefined || ip.dst !== nat.publicIp) return ip;
    const inside = nat.translateIn(ip.bytes, ip.offset, ip.end);
    if (inside === null) return ip;
    const view = Ipv4View.check(inside);
    if (!view.ok) return ip;
    if (this.tracer.enabled)
      this.trace(
        'nat',
        `NAT: ${formatIpv4(ip.dst)} is ${formatIpv4(view.value.dst)} inside (a reply to a translated flow)`,
        iface.port,
      );
    return view.value;
  }

  /**
   * The router's own ICMP errors leaving by a NAT interface (about a packet translated on its way
   * in) quote that packet as the outside sent it (RFC 5508 4.2); their source stays the router's.
   */
  protected override originated(packet: Uint8Array, out: IpInterface): void {
    const one = this.staticNats.get(out.name);
    const nat = this.nats.get(out.name);
    if ((one === undefined && nat === undefined) || icmpErrorQuote(packet) === undefined) return;
    const translated =
      (one?.translateOut(packet, true) ?? false) || (nat?.translateOut(packet, true) ?? false);
    if (translated && this.tracer.enabled)
      this.trace('nat', `NAT: own ICMP error leaves ${out.name} with its quote translated`, out.port);
  }

  defineAcl(name: string, rules: readonly AclRuleSpec[]): Acl {
    const acl = new Acl(name, rules);
    this.acls.set(name, acl);
    return acl;
  }

  applyAcl(ifaceName: string, aclName: string, direction: 'in' | 'out'): void {
    const acl = this.acls.get(aclName);
    if (!acl) throw new Error(`${this.name}: no ACL named ${aclName}`);
    if (!this.iface(ifaceName)) throw new Error(`${this.name}: no interface named ${ifaceName}`);
    (direction === 'in' ? this.aclIn : this.aclOut).set(ifaceName, acl);
  }

  /** Takes the ACL off an interface in one direction (the ACL stays defined). */
  unapplyAcl(ifaceName: string, direction: 'in' | 'out'): void {
    (direction === 'in' ? this.aclIn : this.aclOut).delete(ifaceName);
  }

  /** The ACL applied on an interface in one direction, if any. */
  appliedAcl(ifaceName: string, direction: 'in' | 'out'): Acl | undefined {
    return (direction === 'in' ? this.aclIn : this.aclOut).get(ifaceName);
  }

  acl(name: string): Acl | undefined {
    return this.acls.get(name);
  }

  aclNames(): IterableIterator<string> {
    return this.acls.keys();
  }

  /** Adds a host route for each interface address, as routers list their own addresses (the lecture's /32 rows). */
  protected override interfaceAdded(iface: IpInterface): void {
    for (const a of iface.addresses) {
      if (a.prefixLength < 32)
        this.routes.add({
          prefix: a.address,
          prefixLength: 32,
          nextHop: null,
          iface: iface.name,
          source: 'local',
          metric: 0,
        });
    }
  }

  private fields(ip: Ipv4View): PacketFields {
    const l4 = ip.payloadOffset;
    const hasPorts =
      (ip.protocol === IpProtocol.tcp || ip.protocol === IpProtocol.udp) &&
      ip.fragmentOffset === 0 &&
      ip.end - l4 >= 4;
    return hasPorts
      ? {
          src: ip.src,
          dst: ip.dst,
          protocol: ip.protocol,
          srcPort: readU16(ip.bytes, l4),
          dstPort: readU16(ip.bytes, l4 + 2),
        }
      : { src: ip.src, dst: ip.dst, protocol: ip.protocol };
  }

  /** Whether packets arriving on `iface` pass an inbound ACL or a NAT before delivery. */
  protected override filtersInbound(iface: IpInterface): boolean {
    return this.aclIn.has(iface.name) || this.nats.has(iface.name) || this.staticNats.has(iface.name);
  }

  /** An inbound ACL filters every packet entering its interface, those for the router itself included (as Cisco's `ip access-group in`). */
  protected override admit(ip: Ipv4View, from: IpInterface): boolean {
    const aclIn = this.aclIn.get(from.name);
    if (!aclIn) return true;
    const d = aclIn.evaluate(this.fields(ip));
    if (d.action === 'permit') return true;
    this.drop('acl-deny', from.port, `${d.text} in on ${from.name}`);
    this.sendIcmpError(ip, IcmpType.destinationUnreachable, 13);
    return false;
  }

  protected forward(ip: Ipv4View, from: IpInterface, linkBroadcast: boolean): void {
    const tracing = this.tracer.enabled;
    // RFC 1812 5.3.4: a unicast packet that arrived in a link-layer broadcast is not forwarded (nor answered with errors).
    if (linkBroadcast)
      return this.drop(
        'link-broadcast',
        from.port,
        `packet for ${formatIpv4(ip.dst)} arrived in a broadcast frame`,
      );
    // RFC 1812 5.3.7 (martians) and 4.2.2.11: no forwarding to or from 0/8, 127/8, class E, nor to multicast (no multicast routing here).
    const dstTop = ip.dst >>> 24;
    const srcTop = ip.src >>> 24;
    if (dstTop === 0 || dstTop === 127 || dstTop >= 224 || srcTop === 127 || srcTop >= 224) {
      return this.drop(
        'martian',
        from.port,
        `${formatIpv4(ip.src)} -> ${formatIpv4(ip.dst)} is not routable`,
      );
    }
    if (ip.ttl <= 1) {
      this.drop(
        'ttl-exceeded',
        from.port,
        `TTL ${ip.ttl} from ${formatIpv4(ip.src)} to ${formatIpv4(ip.dst)}`,
      );
      return this.sendIcmpError(ip, IcmpType.timeExceeded, 0);
    }
    const choice = this.forwardChoice;
    let route = this.routes.lookupMultipathBy(ip.dst, ip, packetFlowHash, choice);
    let width = choice.width;
    let index = choice.index;
    let hash = choice.hash;
    let candidates = tracing ? this.routes.explain(ip.dst).candidates : 0;
    const own = this.interfaceRoutes.size === 0 ? undefined : this.interfaceRoutes.get(from.name);
    if (own !== undefined) {
      let best: Route | undefined;
      for (const r of own) {
        const mask = r.prefixLength === 0 ? 0 : (0xffff_ffff << (32 - r.prefixLength)) >>> 0;
        if ((ip.dst & mask) >>> 0 !== r.prefix) continue;
        if (tracing) candidates++;
        if (best === undefined || r.prefixLength > best.prefixLength) best = r;
      }
      if (best !== undefined && (route === undefined || best.prefixLength > route.prefixLength)) {
        route = best;
        width = 1;
        index = 0;
        hash = -1;
      }
    }
    if (route === undefined) {
      this.drop('no-route', from.port, `no route to ${formatIpv4(ip.dst)}`);
      return this.sendIcmpError(ip, IcmpType.destinationUnreachable, 0);
    }
    if (route.source === 'blackhole')
      return this.drop(
        'blackhole',
        from.port,
        `${formatIpv4(ip.dst)} matches ${formatIpv4(route.prefix)}/${route.prefixLength} -> blackhole`,
      );
    const out = this.iface(route.iface);
    if (!out?.up) return this.drop('interface-down', from.port, `route via ${route.iface}, which is down`);
    const aclOut = this.aclOut.get(out.name);
    if (aclOut) {
      const d = aclOut.evaluate(this.fields(ip));
      if (d.action === 'deny') {
        this.drop('acl-deny', out.port, `${d.text} out on ${out.name}`);
        return this.sendIcmpError(ip, IcmpType.destinationUnreachable, 13);
      }
    }
    if (route.nextHop === null && out.isBroadcast(ip.dst)) {
      // RFC 2644: directed broadcasts are not forwarded onto their subnet by default (smurf attacks).
      return this.drop(
        'directed-broadcast',
        from.port,
        `${formatIpv4(ip.dst)} is the broadcast address of ${out.name}`,
      );
    }
    if (out.mtu < ip.headerLength + 8)
      return this.drop('mtu-too-small', out.port, `MTU ${out.mtu} on ${out.name} cannot carry any fragment`);
    const nextHop = route.nextHop ?? ip.dst;
    const length = ip.end - ip.offset;
    // The common case in one copy: the packet fits and its next hop's MAC is known, so it goes
    // straight into the outgoing frame (the received frame is never modified).
    const mac =
      length <= out.mtu && out.vlan === null && !out.isBroadcast(nextHop)
        ? out.arp.lookup(nextHop, this.now())
        : undefined;
    const frame = mac === undefined ? undefined : allocBytes(Math.max(ETHERNET_MIN_FRAME, 14 + length));
    // Otherwise a copy of the packet alone, from the slab (`slice` would cost an ArrayBuffer per packet).
    const packet = frame === undefined ? allocBytes(length) : frame.subarray(14, 14 + length);
    packet.set(ip.bytes.subarray(ip.offset, ip.end));
    decrementTtl(packet);
    const one = this.staticNats.get(out.name);
    const nat = this.nats.get(out.name);
    if (one?.translateOut(packet)) {
      if (tracing)
        this.trace(
          'nat',
          `NAT: source ${formatIpv4(ip.src)} leaves ${out.name} as ${formatIpv4(readU32(packet, 12))} (1:1 NAT)`,
          from.port,
        );
    } else if (nat?.translateOut(packet) && tracing)
      this.trace(
        'nat',
        `NAT: source ${formatIpv4(ip.src)} leaves ${out.name} as ${formatIpv4(nat.publicIp)}`,
        from.port,
      );
    if (packet.length > out.mtu) {
      if (ip.df) {
        this.drop(
          'fragmentation-needed',
          out.port,
          `${packet.length}-byte packet with DF, MTU ${out.mtu} on ${out.name}`,
        );
        return this.sendIcmpError(ip, IcmpType.destinationUnreachable, 4, out.mtu);
      }
      const fragments = fragmentIpv4(packet, out.mtu);
      this.ipCounters.forwarded++;
      if (width > 1) this.countEcmp(out.name);
      if (tracing)
        this.trace(
          'route',
          `${formatIpv4(ip.dst)} -> ${out.name} via ${formatIpv4(nextHop)}, ${packet.length} bytes > MTU ${out.mtu}: ${fragments.length} fragments${width > 1 ? `; ${ecmpText(width, index, hash, route)}` : ''}`,
          from.port,
        );
      for (const f of fragments) this.transmit(out, nextHop, f);
      return;
    }
    this.ipCounters.forwarded++;
    if (width > 1) this.countEcmp(out.name);
    if (tracing) {
      const via = route.nextHop === null ? 'directly connected' : `next hop ${formatIpv4(route.nextHop)}`;
      this.trace(
        'route',
        `${formatIpv4(ip.dst)} matches ${formatIpv4(route.prefix)}/${route.prefixLength} (longest of ${candidates} candidate${candidates === 1 ? '' : 's'}) -> ${out.name}, ${via}; TTL ${ip.ttl} -> ${ip.ttl - 1}${width > 1 ? `; ${ecmpText(width, index, hash, route)}` : ''}`,
        from.port,
      );
    }
    if (frame === undefined) return this.transmit(out, nextHop, packet);
    writeMac(frame, 0, mac!);
    writeMac(frame, 6, out.mac);
    writeU16(frame, 12, EtherType.ipv4);
    out.port.send(frame);
  }

  protected override countEcmp(iface: string): void {
    this.ecmpChoices[iface] = (this.ecmpChoices[iface] ?? 0) + 1;
  }
}

/** The flow hash of a packet being forwarded (closes over nothing: no allocation per lookup). */
function packetFlowHash(ip: Ipv4View): number {
  return ipv4FlowHash(ip.bytes, ip.offset, ip.end);
}
