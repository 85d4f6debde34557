/**
 * A Network Virtualization Edge (NVE) with its VTEP: the device that joins local stations to the
 * overlay. It is a set of bridge domains on its access side and, on its fabric side, a VTEP that
 * tunnels over an underlay it is given (underlay.ts), not one it is.
 *
 * In the simulator the underlay is the NVE's own router (`nve.router`), a function in the same box
 * (the device's chassis): it owns the routed uplinks, the loopback with the VTEP address, static
 * and ECMP routes and ARP, and forwards underlay transit traffic as a leaf does. Its ports deliver
 * to it and the access ports to the NVE; both share the box's name, ports and drop counters, so
 * tables, traces and captures read as one device. With an underlay of its own (a real UDP socket),
 * an NVE has no router.
 *
 * Access side: a frame in on an access port is classified into a VAP and so into a BD (tags
 * popped), its source MAC is learned on that VAP, and its destination is looked up in the BD:
 * a local VAP (tags pushed), a remote VTEP (encapsulated), or, for broadcast, unknown unicast and
 * multicast, every other local VAP plus a copy to each VTEP of the BD's flood list (head-end
 * replication). A frame never leaves its BD.
 *
 * Fabric side: a packet to the VTEP address carrying the fabric's encapsulation is decapsulated
 * and its inner frame forwarded in the BD of its VNI, to local VAPs only (split horizon: nothing
 * decapsulated is sent back into the fabric). Unknown VNIs, inner VLAN tags (RFC 7348 6.1) and bad
 * headers are dropped and counted by reason.
 *
 * Control planes, per fabric:
 * - `flood-and-learn`: the inner source MAC of a decapsulated frame is learned against the outer
 *   source IP (its VTEP), with aging (RFC 7348 4.1).
 * - `controller` (EVPN-style): local MACs, and the IPs snooped from local ARP, are advertised to the
 *   fabric's controller, which installs them on every other NVE of the VNI with a MAC mobility
 *   sequence number (RFC 7432 15). Nothing is learned from the data plane, and an ARP request for
 *   a known remote IP is answered by the local NVE (ARP suppression, RFC 9161).
 *
 * Tunnel traffic goes through an `Underlay` (underlay.ts), a datagram service between VTEPs: the
 * NVE writes the tunnel header and hands header and inner frame to `underlay.send`; the underlay
 * delivers the payloads of datagrams for the VTEP on the tunnel's port, which the NVE decapsulates.
 * By default the underlay is the NVE's router (sim-underlay.ts puts an `Underlay` over its IP stack).
 *
 * The outer IPv4 header has the VTEP as source, TTL 64 and DF set: an NVE does not fragment
 * (RFC 7348 4.3), so an inner frame too large for the underlay MTU plus the encapsulation's
 * overhead (50 bytes for VXLAN) is dropped as `overlay-mtu-exceeded`.
 */
import { Device, type DeviceContext } from '../devices/device.js';
import { IpNode } from '../devices/ip/ip-node.js';
import { Router } from '../devices/router/router.js';
import type { Tracer } from '../devices/trace.js';
import type { Port } from '../link/index.js';
import type { Nanos } from '../sim/index.js';
import {
  ArpOp,
  ArpView,
  allocBytes,
  EtherType,
  emitArp,
  flowSourcePort,
  formatIpv4,
  formatMac,
  IpProtocol,
  type Ipv4,
  innerFlowHash,
  isGroupMac,
  isVlanTpid,
  MAC_BROADCAST,
  type Mac,
  readMac,
  readU16,
  readU24,
  writeEthernetHeader,
} from '../wire/index.js';
import { BridgeDomain } from './bridge-domain.js';
import {
  decapsulateGre,
  decapsulateUdp,
  type EncapsulationKind,
  TUNNEL_HEADER_LENGTH,
  writeTunnelHeader,
} from './encapsulation.js';
import { IpNodeUnderlay } from './sim-underlay.js';
import type { Underlay, UnderlayProtocol, UnderlayRefusal } from './underlay.js';
import {
  tagForVap,
  tagKey,
  untagFrame,
  type Vap,
  type VapEncapsulation,
  type VapPortMode,
  type VapRole,
  VapTable,
} from './vap.js';
import { isVni } from './vni.js';
import { vtepOf } from './vtep.js';

export type ControlPlane = 'flood-and-learn' | 'controller';

export interface NveOptions {
  /** The VTEP's source address; one of the NVE's interface addresses (often a loopback). */
  readonly vtep: Ipv4;
  readonly encapsulation?: EncapsulationKind;
  readonly controlPlane?: ControlPlane;
  /** Outer IPv4 TTL (default 64). */
  readonly outerTtl?: number;
  /** MAC entries per BD (default 65,536). */
  readonly macTableSize?: number;
  /** Aging of learned MAC entries, ns (default 300 s). */
  readonly agingTime?: Nanos;
  /** The tunnel's UDP port, to send to and listen on (default: the encapsulation's well-known port). */
  readonly udpPort?: number;
  /**
   * The underlay to tunnel over. Default: a router of the NVE's own, in its box (`nve.router`),
   * whose routed uplinks carry the tunnels.
   */
  readonly underlay?: Underlay;
}

/**
 * A filter on a station's VAP (a security group on a hypervisor's port to a VM): `from-station`
 * frames are the station's egress, `to-station` frames its ingress. `check` returns null for a
 * frame it does not judge (not IPv4, DHCP), else the verdict and why (traced, and on a drop counted
 * under `reason`).
 */
export interface VapFilter {
  readonly reason: string;
  check(frame: Uint8Array, direction: 'from-station' | 'to-station', now: Nanos): VapVerdict | null;
}

export interface VapVerdict {
  readonly allow: boolean;
  readonly why: string;
}

/** True for a DHCP message (UDP to port 67 or 68) in an untagged IPv4 frame. */
function isDhcpFrame(frame: Uint8Array): boolean {
  if (frame.length < 42 || readU16(frame, 12) !== EtherType.ipv4 || frame[23] !== IpProtocol.udp)
    return false;
  const l4 = 14 + (frame[14]! & 0x0f) * 4;
  if (frame.length < l4 + 4) return false;
  const dport = readU16(frame, l4 + 2);
  return dport === 67 || dport === 68;
}

/** What an NVE tells its control plane (the fabric's controller) about local stations. */
export interface NveControlPlaneClient {
  advertise(nve: Nve, bd: BridgeDomain, mac: Mac, ip: Ipv4 | null): void;
}

export interface NveCounters {
  /** Frames sent into the fabric (each head-end copy counts). */
  encapsulated: number;
  /** Frames received from the fabric and accepted. */
  decapsulated: number;
  /** BUM frames from local VAPs. */
  bumFrames: number;
  /** Head-end copies of those frames. */
  replicated: number;
  arpSuppressed: number;
  advertised: number;
  installed: number;
}

/** A tenant's VRF on this NVE: a router of its own, joined to the NVE's BDs through VBDIF interfaces. */
export interface VrfAttachment {
  readonly tenant: string;
  readonly router: Router;
  /** The tenant's L3 VNI (symmetric IRB), or null when the VRF routes only between its local BDs. */
  readonly l3Vni: number | null;
  /** The VRF's address on the L3 VNI (the next hop other NVEs route the tenant's hosts through). */
  readonly transitIp: Ipv4;
  /** The VRF's router MAC on the L3 VNI (RFC 9135's Router's MAC). */
  readonly routerMac: Mac;
  /** The VRF router's interface on the L3 VNI. */
  readonly l3Iface: string;
}

export class Nve extends Device {
  readonly kind = 'nve';
  /**
   * The NVE's underlay router, in the same box: routed uplinks, the VTEP's loopback, static and
   * ECMP routes, ARP. Null when the NVE was given an underlay of its own.
   */
  readonly router: Router | null;
  readonly vtep: Ipv4;
  readonly encapsulation: EncapsulationKind;
  readonly controlPlane: ControlPlane;
  readonly vaps = new VapTable();
  readonly counters: NveCounters = {
    encapsulated: 0,
    decapsulated: 0,
    bumFrames: 0,
    replicated: 0,
    arpSuppressed: 0,
    advertised: 0,
    installed: 0,
  };
  /** The fabric's controller, in `controller` mode. */
  control: NveControlPlaneClient | null = null;
  /** Tenant VRFs on this NVE, by tenant. */
  readonly vrfs = new Map<string, VrfAttachment>();
  /** Filters on station VAPs (security groups). */
  private readonly vapFilters = new Map<Vap, VapFilter>();
  private readonly bdById = new Map<number, BridgeDomain>();
  private readonly bdByVni = new Map<number, BridgeDomain>();
  private readonly l3Bds: BridgeDomain[] = [];
  private readonly outerTtl: number;
  private readonly udpPort: number | undefined;
  private readonly ipOverhead: number;
  /** What the NVE tunnels over: datagrams to and from other VTEPs. */
  readonly underlay: Underlay;
  private readonly tunnelProtocol: UnderlayProtocol;
  /** The tunnel header of the frame being encapsulated (the underlay copies it at once). */
  private readonly tunnelHeader = new Uint8Array(TUNNEL_HEADER_LENGTH);

  constructor(
    name: string,
    context: DeviceContext,
    private readonly nveOptions: NveOptions,
  ) {
    super(name, context);
    this.router = nveOptions.underlay === undefined ? new Router(name, { ...context, chassis: this }) : null;
    this.vtep = nveOptions.vtep;
    this.encapsulation = nveOptions.encapsulation ?? 'vxlan';
    this.controlPlane = nveOptions.controlPlane ?? 'flood-and-learn';
    this.outerTtl = nveOptions.outerTtl ?? 64;
    const tunnel = vtepOf(this.vtep, this.encapsulation, nveOptions.udpPort);
    this.udpPort = tunnel.udpPort;
    this.ipOverhead = tunnel.overhead;
    this.tunnelProtocol = tunnel.protocol;
    this.underlay = nveOptions.underlay ?? new IpNodeUnderlay(this.router!, this.vtep, this.outerTtl);
    this.underlay.listen(this.tunnelProtocol, this.udpPort ?? 0, (src, _srcPort, bytes, offset, end, via) =>
      this.fromUnderlay(src, bytes, offset, end, via),
    );
  }

  /** The underlay router (every NVE the simulator builds has one); throws for an NVE given an underlay of its own. */
  underlayRouter(): Router {
    if (this.router === null)
      throw new Error(`${this.name} tunnels over an underlay of its own: it has no router`);
    return this.router;
  }

  // ---- configuration ----

  addBridgeDomain(id: number, vni: number, tenant = 'default'): BridgeDomain {
    if (this.bdById.has(id)) throw new Error(`${this.name} already has bridge domain ${id}`);
    if (this.bdByVni.has(vni))
      throw new Error(`${this.name}: VNI ${vni} is already mapped to a bridge domain`);
    if (!isVni(vni)) throw new Error(`${this.name}: VNI ${vni} is not 1..16777215`);
    const bd = new BridgeDomain(id, vni, tenant, this.nveOptions.macTableSize, this.nveOptions.agingTime);
    this.bdById.set(id, bd);
    this.bdByVni.set(vni, bd);
    return bd;
  }

  bridgeDomain(id: number): BridgeDomain | undefined {
    return this.bdById.get(id);
  }

  bridgeDomainByVni(vni: number): BridgeDomain | undefined {
    return this.bdByVni.get(vni);
  }

  /** An L3 VNI's BD for a tenant's VRF (symmetric IRB): known by its VNI only, id 0. */
  addL3BridgeDomain(vni: number, tenant: string): BridgeDomain {
    if (!isVni(vni)) throw new Error(`${this.name}: VNI ${vni} is not 1..16777215`);
    if (this.bdByVni.has(vni))
      throw new Error(`${this.name}: VNI ${vni} is already mapped to a bridge domain`);
    const bd = new BridgeDomain(0, vni, tenant, this.nveOptions.macTableSize, this.nveOptions.agingTime);
    this.bdByVni.set(vni, bd);
    this.l3Bds.push(bd);
    return bd;
  }

  /** The BDs by id, then the L3 VNIs' BDs. */
  bridgeDomains(): BridgeDomain[] {
    return [...[...this.bdById.values()].sort((a, b) => a.id - b.id), ...this.l3Bds];
  }

  /** Removes BD `id` and its VAPs (the caller unplugs their links). Returns the VAPs removed. */
  removeBridgeDomain(id: number): Vap[] {
    const bd = this.bdById.get(id);
    if (bd === undefined) return [];
    const vaps = [...bd.vaps];
    for (const vap of vaps) this.removeVap(vap);
    this.bdById.delete(id);
    this.bdByVni.delete(bd.vni);
    this.gateways.splice(0, this.gateways.length, ...this.gateways.filter((g) => g.bd !== bd));
    return vaps;
  }

  /** Removes an L3 VNI's BD and its VAPs. Returns the VAPs removed. */
  removeL3BridgeDomain(vni: number): Vap[] {
    const bd = this.bdByVni.get(vni);
    if (bd === undefined || bd.id !== 0) return [];
    const vaps = [...bd.vaps];
    for (const vap of vaps) this.removeVap(vap);
    this.bdByVni.delete(vni);
    this.l3Bds.splice(this.l3Bds.indexOf(bd), 1);
    return vaps;
  }

  /** Removes a sub-interface VAP (and its filter). */
  removeVap(vap: Vap): void {
    this.vapFilters.delete(vap);
    this.vaps.remove(vap);
  }

  /** Sets (or with null removes) the filter of a station VAP. */
  setVapFilter(vap: Vap, filter: VapFilter | null): void {
    if (filter === null) this.vapFilters.delete(vap);
    else this.vapFilters.set(vap, filter);
  }

  vapFilter(vap: Vap): VapFilter | undefined {
    return this.vapFilters.get(vap);
  }

  /** Whether `frame` may pass `vap`'s filter in `direction`; counts and traces a drop. */
  private filterPasses(vap: Vap, frame: Uint8Array, direction: 'from-station' | 'to-station'): boolean {
    const f = this.vapFilters.get(vap);
    if (f === undefined) return true;
    const v = f.check(frame, direction, this.now());
    if (v === null) return true;
    if (!v.allow) {
      this.drop(f.reason, vap.port, v.why);
      return false;
    }
    if (this.tracer.enabled) this.trace(f.reason, v.why, vap.port);
    return true;
  }

  /** The access port named `portName`: added, or taken over from the router (frames on it are the NVE's). */
  private accessPort(portName: string): Port {
    const port = this.port(portName);
    if (port === undefined) return this.addPort(portName);
    this.adoptPort(port);
    return port;
  }

  private bd(id: number): BridgeDomain {
    const bd = this.bdById.get(id);
    if (!bd) throw new Error(`${this.name} has no bridge domain ${id}`);
    return bd;
  }

  /** An L2 sub-interface VAP: `port` + encapsulation into BD `bdId`. */
  addSubinterface(
    portName: string,
    encap: Exclude<VapEncapsulation, { kind: 'vlan-binding' }>,
    bd: number | BridgeDomain,
    role: VapRole = 'station',
  ): Vap {
    return this.vaps.addSubinterface(
      this.accessPort(portName),
      encap,
      typeof bd === 'number' ? this.bd(bd) : bd,
      role,
    );
  }

  /** Gives an access port a VLAN mode (for VLAN-binding access). */
  setPortMode(portName: string, mode: VapPortMode): void {
    this.vaps.setPortMode(this.accessPort(portName), mode);
  }

  /** Binds a VLAN to BD `bdId` on every port with a VLAN mode that carries it. */
  bindVlan(vid: number, bdId: number): void {
    this.vaps.bindVlan(vid, this.bd(bdId));
  }

  /** Gateway interfaces (unique VBDIFs) to announce to the control plane at start: configured, never learned. */
  private readonly gateways: { bd: BridgeDomain; mac: Mac; ip: Ipv4 }[] = [];

  /** Records a gateway interface of a VRF on `bd`; in controller mode it is advertised at start like a station. */
  addGateway(bd: BridgeDomain, mac: Mac, ip: Ipv4): void {
    this.gateways.push({ bd, mac, ip });
  }

  /**
   * Starts the NVE: its services, ARP for its underlay next hops (as a leaf's routing adjacencies
   * come up before traffic), and, in controller mode, the routes of its gateway interfaces.
   */
  start(): void {
    const router = this.router;
    if (router !== null) {
      router.start();
      for (const r of router.routes.routes()) if (r.nextHop !== null) router.resolveNeighbor(r.nextHop);
    }
    if (this.control === null) return;
    for (const g of this.gateways) {
      g.bd.bindIp(g.ip, g.mac, true);
      this.advertise(g.bd, g.mac, g.ip);
    }
  }

  protected override linkChanged(port: Port, up: boolean): void {
    if (up || !this.vaps.isAccessPort(port)) return;
    for (const vap of this.vaps.onPort(port)) vap.bd.flushVap(vap);
  }

  // ---- access side ----

  override setTracer(tracer: Tracer): void {
    super.setTracer(tracer);
    this.router?.setTracer(tracer);
  }

  protected receive(frame: Uint8Array, port: Port): void {
    if (!this.vaps.isAccessPort(port)) {
      // A port of the box that is neither an access port nor the router's (no VAP on it yet).
      if (this.router !== null) return this.router.receiveFrame(frame, port);
      return this.drop('no-interface', port);
    }
    if (frame.length < 14) return this.drop('runt', port, `${frame.length}-byte frame`);
    const c = this.vaps.classify(port, frame);
    if (!c.ok) return this.drop(c.reason, port, c.why);
    const vap = c.vap;
    const bd = vap.bd;
    const src = readMac(frame, 6);
    if (isGroupMac(src))
      return this.drop('bad-source-mac', port, `source ${formatMac(src)} is a group address`);
    const inner = untagFrame(frame, c.typeOffset);
    if (this.vapFilters.size > 0 && !this.filterPasses(vap, inner, 'from-station')) return;
    const now = this.now();
    bd.counters.fromVaps++;
    const learned = bd.learnLocal(src, vap, now);
    const tracing = this.tracer.enabled;
    let note = tracing
      ? `VAP ${vap.name} -> BD ${bd.label} (VNI ${bd.vni}); ${learned === 'refreshed' ? `${formatMac(src)} known` : learned === 'table-full' ? `BD MAC table full, ${formatMac(src)} not learned` : `${learned} ${formatMac(src)} on ${vap.name}`}`
      : '';
    // A VRF's own interfaces on the L3 VNI and anycast gateways are known to every NVE already.
    const advertising = this.control !== null && vap.role !== 'anycast-gateway' && vap.role !== 'l3-vni';
    if (advertising && (learned === 'learned' || learned === 'moved')) this.advertise(bd, src, null);
    let localOnly = false;
    if (readU16(inner, 12) === EtherType.arp) {
      const handled = this.accessArp(bd, vap, inner, advertising, note);
      if (handled === true) return;
      if (handled !== false) {
        note = handled;
        localOnly = true;
      }
    } else if (bd.anycastGateways.size > 0 && isGroupMac(readMac(inner, 0)) && isDhcpFrame(inner)) {
      // Distributed DHCP (as OVN's): the local anycast gateway answers, so DHCP stays off the fabric.
      localOnly = true;
      if (tracing) note = `${note}; DHCP with an anycast gateway stays local`;
    }
    this.forwardInBd(bd, inner, vap, localOnly, note);
  }

  /**
   * ARP from a local station: snoops its IP (controller mode) and answers requests for known remote
   * IPs itself (ARP suppression). Returns true when the request was answered, a trace note when
   * the request must stay local (it asks for a local station or a local anycast gateway), else false.
   */
  private accessArp(
    bd: BridgeDomain,
    vap: Vap,
    frame: Uint8Array,
    advertising: boolean,
    note: string,
  ): boolean | string {
    const checked = ArpView.check(frame, 14);
    if (!checked.ok) return false;
    const arp = checked.value;
    // Snoop only what the station says of itself: the sender MAC is the frame's source, learned on this VAP.
    if (
      advertising &&
      arp.senderIp !== 0 &&
      arp.senderMac === readMac(frame, 6) &&
      bd.lookup(arp.senderMac, this.now())?.vap === vap
    ) {
      if (bd.bindIp(arp.senderIp, arp.senderMac, true)) this.advertise(bd, arp.senderMac, arp.senderIp);
    }
    if (arp.op !== ArpOp.request || arp.senderIp === arp.targetIp) return false;
    if (bd.anycastGateways.has(arp.targetIp))
      return `${note}; ARP for the anycast gateway ${formatIpv4(arp.targetIp)} stays local`;
    if (this.controlPlane !== 'controller') return false;
    const binding = bd.arp.get(arp.targetIp);
    if (binding === undefined) return false;
    if (binding.local) return `${note}; ARP for local ${formatIpv4(arp.targetIp)} not sent to the fabric`;
    // ARP suppression: reply on behalf of the remote station, as its NVE told us its MAC.
    const reply = allocBytes(60);
    writeEthernetHeader(reply, 0, {
      dst: arp.senderMac,
      src: binding.mac,
      tags: [],
      etherType: EtherType.arp,
    });
    reply.set(
      emitArp({
        op: ArpOp.reply,
        senderMac: binding.mac,
        senderIp: arp.targetIp,
        targetMac: arp.senderMac,
        targetIp: arp.senderIp,
      }),
      14,
    );
    bd.counters.arpSuppressed++;
    this.counters.arpSuppressed++;
    if (this.tracer.enabled)
      this.trace(
        'arp-suppress',
        `${note}; ARP request for ${formatIpv4(arp.targetIp)} answered by the NVE: ${formatMac(binding.mac)} (ARP suppression, not flooded)`,
        vap.port,
      );
    vap.port.send(tagForVap(reply, vap));
    return true;
  }

  /**
   * Forwards an untagged BD frame that came from `from` (a local VAP, or null from the fabric).
   * `localOnly` keeps a BUM frame off the fabric.
   */
  private forwardInBd(
    bd: BridgeDomain,
    frame: Uint8Array,
    from: Vap | null,
    localOnly: boolean,
    note: string,
    fabricVia?: string,
  ): void {
    const dst = readMac(frame, 0);
    const tracing = this.tracer.enabled;
    // The port, for traces only: from the fabric, the underlay port the packet came in by.
    const port = tracing ? (from?.port ?? this.viaPort(fabricVia)) : undefined;
    if (!isGroupMac(dst)) {
      const e = bd.lookup(dst, this.now());
      if (e !== undefined) {
        if (e.vap !== null) {
          if (e.vap === from) {
            if (tracing)
              this.trace(
                'filter',
                `${note}; dst ${formatMac(dst)} is on ${e.vap.name}, where it came from -> filtered`,
                port,
              );
            return;
          }
          if (tracing)
            this.trace(
              'forward',
              `${note}; dst ${formatMac(dst)} on ${e.vap.name} -> out port ${e.vap.port.name}`,
              port,
            );
          if (this.vapFilters.size > 0 && !this.filterPasses(e.vap, frame, 'to-station')) return;
          e.vap.port.send(tagForVap(frame, e.vap));
          return;
        }
        if (from === null) {
          // Split horizon: a frame from the fabric is never sent back into it.
          return this.drop(
            'split-horizon',
            undefined,
            `${note}; dst ${formatMac(dst)} is behind VTEP ${formatIpv4(e.vtep)}, not here`,
          );
        }
        if (tracing)
          this.trace(
            'forward',
            `${note}; dst ${formatMac(dst)} behind VTEP ${formatIpv4(e.vtep)} (${e.fromController ? `controller, seq ${e.seq}` : 'learned'}) -> encapsulate`,
            port,
          );
        this.encapsulateTo(bd, frame, e.vtep);
        return;
      }
    }
    bd.counters.bum++;
    const toFabric = from !== null && !localOnly;
    if (from !== null) this.counters.bumFrames++;
    const sent: string[] = [];
    // VAPs that tag alike share one copy (a frame is not modified once sent).
    let key = -1;
    let copy = frame;
    for (const vap of bd.vaps) {
      if (vap === from || !vap.port.isUp) continue;
      if (this.vapFilters.size > 0 && !this.filterPasses(vap, frame, 'to-station')) continue;
      const k = tagKey(vap);
      if (k !== key) {
        copy = tagForVap(frame, vap);
        key = k;
      }
      vap.port.send(copy);
      if (tracing) sent.push(vap.name);
    }
    if (tracing) {
      const why = dst === MAC_BROADCAST ? 'broadcast' : isGroupMac(dst) ? 'multicast' : 'unknown';
      const remote = toFabric
        ? bd.floodList.length > 0
          ? `; head-end replication to ${bd.floodList.length} VTEP${bd.floodList.length === 1 ? '' : 's'} ${bd.floodList.map(formatIpv4).join(',')}`
          : '; no remote VTEP in the flood list'
        : '';
      this.trace(
        'flood',
        `${note}; dst ${formatMac(dst)} ${why} -> flood VAPs ${sent.join(',') || '(none)'}${remote}`,
        port,
      );
    }
    if (!toFabric || bd.floodList.length === 0) return;
    const hash = innerFlowHash(frame); // one flow, whatever the VTEP: hashed once for every copy
    for (const vtep of bd.floodList) {
      bd.counters.replicated++;
      this.counters.replicated++;
      this.encapsulateTo(bd, frame, vtep, hash);
    }
  }

  /** Wraps a BD frame for `vtep` and hands it to the underlay. */
  private encapsulateTo(bd: BridgeDomain, frame: Uint8Array, vtep: Ipv4, flowHash?: number): void {
    const hash = flowHash ?? innerFlowHash(frame);
    // The UDP source port carries the inner flow's hash, for the underlay's ECMP (RFC 7348 5).
    const srcPort = this.udpPort === undefined ? 0 : flowSourcePort(hash);
    const dstPort = this.udpPort ?? 0;
    const header = this.tunnelHeader;
    writeTunnelHeader(this.encapsulation, bd.vni, hash, header);
    if (this.tracer.enabled) {
      // Said before the underlay's own trace of the packet, once it is known to be taken.
      const refused = this.underlay.check(
        this.tunnelProtocol,
        vtep,
        srcPort,
        dstPort,
        header.length + frame.length,
      );
      if (refused !== null) return this.refused(refused, frame, vtep);
      const how =
        this.udpPort !== undefined
          ? `UDP ${srcPort} -> ${this.udpPort} (source port from flow hash 0x${(hash >>> 0).toString(16).padStart(8, '0')})`
          : `GRE FlowID ${hash & 0xff}`;
      this.trace(
        'encap',
        `${this.encapsulation.toUpperCase()} VNI ${bd.vni}: outer ${formatIpv4(this.vtep)} -> ${formatIpv4(vtep)}, ${how}, TTL ${this.outerTtl}, DF`,
      );
    }
    const refused = this.underlay.send(this.tunnelProtocol, vtep, srcPort, dstPort, header, frame);
    if (refused !== null) return this.refused(refused, frame, vtep);
    this.counters.encapsulated++;
  }

  /** Counts and traces a frame the underlay would not take for `vtep`. */
  private refused(r: UnderlayRefusal, frame: Uint8Array, vtep: Ipv4): void {
    if (r.reason === 'no-route')
      return this.drop('no-route-to-vtep', undefined, `no underlay route to VTEP ${formatIpv4(vtep)}`);
    if (r.reason === 'send-failed')
      return this.drop('underlay-send-failed', undefined, `to VTEP ${formatIpv4(vtep)}: ${r.why}`);
    const outerLength = frame.length + this.ipOverhead;
    this.drop(
      'overlay-mtu-exceeded',
      this.port(r.port),
      `${frame.length}-byte frame + ${this.ipOverhead + 14} bytes of ${this.encapsulation.toUpperCase()} = ${outerLength}-byte outer packet, MTU ${r.mtu} on ${r.iface}`,
    );
  }

  // ---- fabric side ----

  /** The port a datagram from the underlay came in by (undefined when sent to ourselves). */
  private viaPort(via: string | undefined): Port | undefined {
    return via === undefined ? undefined : this.port(via);
  }

  /**
   * A datagram for the VTEP from the underlay: `bytes[offset, end)` is its VXLAN or GENEVE payload,
   * or its GRE packet. The tunnel header is checked (a bad one dropped by reason), then the inner frame
   * goes into the BD of its VNI.
   */
  private fromUnderlay(
    src: Ipv4,
    bytes: Uint8Array,
    offset: number,
    end: number,
    via: string | undefined,
  ): void {
    // VXLAN read in place (the checks of VxlanView.check: 8 bytes, the I flag); anything else in full.
    if (this.encapsulation === 'vxlan' && end - offset >= 8 && (bytes[offset]! & 0x08) !== 0)
      return this.decapsulateFrame(src, bytes, readU24(bytes, offset + 4), offset + 8, end, via);
    const d =
      this.encapsulation === 'nvgre'
        ? decapsulateGre(bytes, offset, end)
        : decapsulateUdp(this.encapsulation, bytes, offset, end);
    if (!d.ok) return this.drop(d.reason, this.viaPort(via), d.why);
    this.decapsulateFrame(src, bytes, d.vni, d.innerOffset, d.end, via);
  }

  /** The inner frame at [innerOffset, end) of `bytes`, from VTEP `src` with segment `vni`, into its BD. */
  private decapsulateFrame(
    vtep: Ipv4,
    bytes: Uint8Array,
    vni: number,
    innerOffset: number,
    end: number,
    via: string | undefined,
  ): void {
    const bd = this.bdByVni.get(vni);
    if (bd === undefined)
      return this.drop(
        'unknown-vni',
        this.viaPort(via),
        `VNI ${vni} from ${formatIpv4(vtep)} has no bridge domain here`,
      );
    if (end - innerOffset < 14) return this.drop('inner-runt', this.viaPort(via));
    const inner = bytes.subarray(innerOffset, end);
    if (isVlanTpid(readU16(inner, 12)))
      return this.drop(
        'inner-vlan-tag',
        this.viaPort(via),
        'decapsulated frame carries a VLAN tag (RFC 7348 6.1)',
      );
    const src = readMac(inner, 6);
    if (isGroupMac(src))
      return this.drop(
        'bad-source-mac',
        this.viaPort(via),
        `inner source ${formatMac(src)} is a group address`,
      );
    this.counters.decapsulated++;
    bd.counters.fromFabric++;
    let note = '';
    if (this.controlPlane === 'flood-and-learn') {
      const r = bd.learnRemote(src, vtep, this.now());
      if (this.tracer.enabled)
        note = `; ${r === 'refreshed' || r === 'kept' ? `${formatMac(src)} known` : r === 'table-full' ? 'BD MAC table full' : `${r} ${formatMac(src)} -> VTEP ${formatIpv4(vtep)}`}`;
    }
    const tracing = this.tracer.enabled;
    const head = tracing
      ? `decapsulate ${this.encapsulation.toUpperCase()} VNI ${vni} from VTEP ${formatIpv4(vtep)} -> BD ${bd.label}${note}`
      : '';
    this.forwardInBd(bd, inner, null, true, head, via);
  }

  // ---- control plane ----

  private advertise(bd: BridgeDomain, mac: Mac, ip: Ipv4 | null): void {
    this.counters.advertised++;
    this.control?.advertise(this, bd, mac, ip);
  }

  /** A controller's MAC (and IP) route for a station behind `vtep`; returns whether it was installed. */
  installRemote(vni: number, mac: Mac, vtep: Ipv4, seq: number, ip: Ipv4 | null): boolean {
    const bd = this.bdByVni.get(vni);
    if (bd === undefined) return false;
    if (!bd.installRemote(mac, vtep, seq, this.now())) return false;
    if (ip !== null) bd.bindIp(ip, mac, false);
    else for (const b of bd.arp.values()) if (b.mac === mac && b.local) b.local = false;
    this.counters.installed++;
    if (this.tracer.enabled)
      this.trace(
        'control',
        `controller: ${formatMac(mac)}${ip !== null ? ` (${formatIpv4(ip)})` : ''} in VNI ${vni} is behind VTEP ${formatIpv4(vtep)}, seq ${seq}`,
      );
    return true;
  }

  /** Forgets `tenant`'s VRF (its L3 BD is removed with `removeL3BridgeDomain`). */
  detachVrf(tenant: string): VrfAttachment | undefined {
    const v = this.vrfs.get(tenant);
    this.vrfs.delete(tenant);
    return v;
  }

  attachVrf(vrf: VrfAttachment): void {
    if (this.vrfs.has(vrf.tenant)) throw new Error(`${this.name} already has a VRF for tenant ${vrf.tenant}`);
    this.vrfs.set(vrf.tenant, vrf);
  }

  /** Symmetric IRB: routes `ip` (a station of `tenant` behind `remote`) over the L3 VNI to `remote`'s VRF. */
  installHostRoute(tenant: string, ip: Ipv4, remote: Nve): void {
    const local = this.vrfs.get(tenant);
    const far = remote.vrfs.get(tenant);
    if (local === undefined || far === undefined || local.l3Vni === null || far.l3Vni !== local.l3Vni) return;
    this.removeHostRoute(tenant, ip);
    local.router.routes.add({
      prefix: ip,
      prefixLength: 32,
      nextHop: far.transitIp,
      iface: local.l3Iface,
      source: 'evpn',
      metric: 0,
    });
  }

  /** Removes the host route to `ip` in `tenant`'s VRF (the station is local now, or gone). */
  removeHostRoute(tenant: string, ip: Ipv4): void {
    const local = this.vrfs.get(tenant);
    if (local === undefined || local.l3Vni === null) return;
    local.router.routes.removeAt(ip, 32, (r) => r.source === 'evpn');
  }
}

/**
 * The router of a node: the node itself, or an NVE's underlay router (its box's routing function);
 * undefined for a node that does not route (a host, a switch, an NVE over a real underlay).
 */
export function routerOf(node: Device): Router | undefined {
  if (node instanceof Nve) return node.router ?? undefined;
  return node instanceof Router ? node : undefined;
}

/** The IPv4 stack of a node: a host's or router's own, an NVE's underlay router's; undefined for an L2 device. */
export function ipStackOf(node: Device): IpNode | undefined {
  if (node instanceof Nve) return node.router ?? undefined;
  return node instanceof IpNode ? node : undefined;
}
