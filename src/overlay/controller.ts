/**
 * The fabric's control plane: which NVEs share which VNIs, and, in `controller` mode, where every
 * station lives.
 *
 * - Flood lists: each BD of each NVE gets the VTEPs of the other NVEs with the same VNI, for
 *   head-end replication (a static peer list in flood-and-learn; what EVPN's inclusive multicast
 *   routes, RFC 7432 11, tell in controller mode).
 * - MAC/IP routes (controller mode, as EVPN type-2 routes, RFC 7432 9): an NVE advertises a station
 *   it learned locally; the controller gives the route a MAC mobility sequence number (0 at first,
 *   one more each time the MAC appears behind another VTEP, RFC 7432 15.1) and installs it, after
 *   the configured propagation delay, on every other NVE with the VNI. When the station has an IP
 *   and its tenant routes with an L3 VNI (symmetric IRB, RFC 9135), every other NVE of the tenant
 *   also gets a host route to it through the station's NVE.
 *
 * - Provisioned stations (configuration: where the fabric placed each VM) are installed the same
 *   way when the fabric starts, with no delay.
 *
 * Deterministic: installs happen in registration order, each after the same delay.
 */
import type { Clock } from '../link/index.js';
import type { Nanos } from '../sim/index.js';
import { formatIpv4, formatMac, type Ipv4, type Mac } from '../wire/index.js';
import type { BridgeDomain } from './bridge-domain.js';
import type { Nve, NveControlPlaneClient } from './nve.js';

export interface MacRoute {
  readonly vni: number;
  readonly mac: Mac;
  ip: Ipv4 | null;
  nve: Nve;
  seq: number;
  /** The BD's tenant (the VRF its host routes go in). */
  readonly tenant: string;
}

export class OverlayController implements NveControlPlaneClient {
  readonly nves: Nve[] = [];
  private readonly routes = new Map<string, MacRoute>();
  /** The routes by VNI and by tenant: what a BD or VRF added later needs, without a scan of all. */
  private readonly routesByVni = new Map<number, Set<MacRoute>>();
  private readonly routesByTenant = new Map<string, Set<MacRoute>>();
  /** Routes advertised and installs made, for `show`. */
  advertisements = 0;
  installs = 0;

  /** Stations placed by configuration (the fabric generator's VMs), installed at `connect`. */
  private readonly provisioned: { nve: Nve; bd: BridgeDomain; mac: Mac; ip: Ipv4 }[] = [];

  constructor(
    private readonly clock: Clock,
    /** How long a route takes to reach the other NVEs (a BGP update's propagation). */
    readonly delay: Nanos = 0,
  ) {}

  register(nve: Nve): void {
    this.nves.push(nve);
    if (nve.controlPlane === 'controller') nve.control = this;
  }

  /**
   * Prepares the fabric once it is built: flood lists, and for each tenant with an L3 VNI every
   * NVE learns where the other NVEs' VRFs are (router MAC and transit address behind their VTEP),
   * as EVPN's type-5/RMAC extended community would tell it.
   */
  connect(): void {
    this.buildFloodLists();
    for (const p of this.provisioned) this.install(p.nve, p.bd, p.mac, p.ip);
    for (const nve of this.nves) {
      for (const vrf of nve.vrfs.values()) {
        if (vrf.l3Vni === null) continue;
        for (const other of this.nves) {
          const far = other.vrfs.get(vrf.tenant);
          if (other === nve || far === undefined || far.l3Vni !== vrf.l3Vni) continue;
          nve.installRemote(vrf.l3Vni, far.routerMac, other.vtep, 0, far.transitIp);
        }
      }
    }
  }

  /**
   * Brings the flood lists in line with the BDs the NVEs have now (BDs added or removed after
   * `connect`): each BD's list becomes exactly the VTEPs of the other NVEs with its VNI. Returns
   * how many entries were added and removed.
   */
  syncFloodLists(vnis?: ReadonlySet<number>): { added: number; removed: number } {
    let added = 0;
    let removed = 0;
    if (vnis !== undefined) {
      // Only these VNIs' BDs: the NVEs holding each, and each holder's list from the others.
      for (const vni of vnis) {
        const holders = this.nves.filter((n) => n.bridgeDomainByVni(vni) !== undefined);
        for (const nve of holders) {
          const r = this.syncFloodList(nve, nve.bridgeDomainByVni(vni)!, holders);
          added += r.added;
          removed += r.removed;
        }
      }
      return { added, removed };
    }
    for (const nve of this.nves) {
      for (const bd of nve.bridgeDomains()) {
        const r = this.syncFloodList(nve, bd, this.nves);
        added += r.added;
        removed += r.removed;
      }
    }
    return { added, removed };
  }

  /** `bd` of `nve`'s flood list becomes the VTEPs of the other NVEs among `candidates` with its VNI. */
  private syncFloodList(
    nve: Nve,
    bd: BridgeDomain,
    candidates: readonly Nve[],
  ): { added: number; removed: number } {
    let added = 0;
    let removed = 0;
    const want = new Set<Ipv4>();
    for (const other of candidates)
      if (other !== nve && other.vtep !== nve.vtep && other.bridgeDomainByVni(bd.vni)) want.add(other.vtep);
    for (const v of [...bd.floodList])
      if (!want.has(v)) {
        bd.removeFloodTarget(v);
        removed++;
      }
    for (const v of want)
      if (!bd.floodList.includes(v)) {
        bd.addFloodTarget(v);
        added++;
      }
    return { added, removed };
  }

  /**
   * A BD added to `nve` after `connect`: the MAC/IP routes the controller holds for its VNI are
   * installed on it (as BGP sends its table to a new peer).
   */
  syncBridgeDomain(nve: Nve, bd: BridgeDomain): void {
    if (nve.controlPlane !== 'controller') return;
    for (const r of this.routesByVni.get(bd.vni) ?? [])
      if (r.nve !== nve && nve.installRemote(r.vni, r.mac, r.nve.vtep, r.seq, r.ip)) this.installs++;
  }

  /**
   * A VRF added to `nve` after `connect` (what `connect` does for every VRF, for this one): the other
   * NVEs' VRFs of the tenant on the same L3 VNI and this one learn each other's router MAC and
   * transit address, and each gets host routes to the stations behind the other.
   */
  attachVrf(nve: Nve, tenant: string): void {
    const vrf = nve.vrfs.get(tenant);
    if (vrf === undefined || vrf.l3Vni === null) return;
    for (const other of this.nves) {
      const far = other.vrfs.get(tenant);
      if (other === nve || far === undefined || far.l3Vni !== vrf.l3Vni) continue;
      nve.installRemote(vrf.l3Vni, far.routerMac, other.vtep, 0, far.transitIp);
      other.installRemote(vrf.l3Vni, vrf.routerMac, nve.vtep, 0, vrf.transitIp);
    }
    for (const r of this.routesByTenant.get(tenant) ?? []) {
      if (r.ip === null) continue;
      if (r.nve !== nve) nve.installHostRoute(tenant, r.ip, r.nve);
    }
  }

  /** The VRF of `tenant` leaves `nve`: the other NVEs forget its router MAC. Call before detaching it. */
  detachVrf(nve: Nve, tenant: string): void {
    const vrf = nve.vrfs.get(tenant);
    if (vrf === undefined || vrf.l3Vni === null) return;
    for (const other of this.nves) {
      if (other === nve) continue;
      const bd = other.bridgeDomainByVni(vrf.l3Vni);
      if (bd === undefined) continue;
      bd.remove(vrf.routerMac);
      const b = bd.arp.get(vrf.transitIp);
      if (b !== undefined && b.mac === vrf.routerMac) bd.arp.delete(vrf.transitIp);
    }
  }

  /**
   * Configuration, after `connect`: station (mac, ip) of `bd` is behind `nve` from now on (a VM
   * placed, or moved: the route then wins with a higher sequence number), installed at once.
   */
  announce(nve: Nve, bd: BridgeDomain, mac: Mac, ip: Ipv4): void {
    this.install(nve, bd, mac, ip);
  }

  /** Withdraws the route of `mac` in `vni` (the station is gone): every NVE forgets it, with its host routes. */
  withdraw(vni: number, mac: Mac): boolean {
    const key = `${vni}/${mac}`;
    const route = this.routes.get(key);
    if (route === undefined) return false;
    this.routes.delete(key);
    this.routesByVni.get(route.vni)?.delete(route);
    this.routesByTenant.get(route.tenant)?.delete(route);
    for (const nve of this.nves) {
      const bd = nve.bridgeDomainByVni(vni);
      if (bd !== undefined) {
        bd.remove(mac);
        if (route.ip !== null && bd.arp.get(route.ip)?.mac === mac) bd.arp.delete(route.ip);
      }
      if (route.ip !== null) nve.removeHostRoute(route.tenant, route.ip);
    }
    return true;
  }

  /** Fills every BD's flood list with the VTEPs of the other NVEs that have its VNI. */
  buildFloodLists(): void {
    for (const nve of this.nves) {
      for (const bd of nve.bridgeDomains()) {
        for (const other of this.nves) {
          if (other !== nve && other.vtep !== nve.vtep && other.bridgeDomainByVni(bd.vni))
            bd.addFloodTarget(other.vtep);
        }
      }
    }
  }

  /**
   * Configuration: station (mac, ip) of `bd` sits behind `nve`, as a cloud's controller knows
   * where it placed each VM (OVN's northbound database does). In controller mode it is installed on
   * every NVE of the VNI when the fabric starts, before the station says anything; traffic then
   * only refreshes it, and a move still wins with a higher sequence number.
   */
  provision(nve: Nve, bd: BridgeDomain, mac: Mac, ip: Ipv4): void {
    this.provisioned.push({ nve, bd, mac, ip });
  }

  private install(nve: Nve, bd: BridgeDomain, mac: Mac, ip: Ipv4): void {
    if (nve.controlPlane !== 'controller') return;
    bd.bindIp(ip, mac, true);
    this.advertise(nve, bd, mac, ip, true);
  }

  advertise(nve: Nve, bd: BridgeDomain, mac: Mac, ip: Ipv4 | null, now = false): void {
    const key = `${bd.vni}/${mac}`;
    const known = this.routes.get(key);
    let route: MacRoute;
    if (known === undefined) {
      route = { vni: bd.vni, mac, ip, nve, seq: 0, tenant: bd.tenant };
      this.routes.set(key, route);
      indexed(this.routesByVni, route.vni).add(route);
      indexed(this.routesByTenant, route.tenant).add(route);
    } else if (known.nve !== nve) {
      known.nve = nve; // the station moved: the new location wins with a higher sequence number
      known.seq++;
      if (ip !== null) known.ip = ip;
      route = known;
    } else if (ip !== null && known.ip !== ip) {
      known.ip = ip;
      route = known;
    } else {
      return;
    }
    this.advertisements++;
    const { vni, seq } = route;
    const vtep = nve.vtep;
    const routeIp = route.ip;
    const tenant = bd.tenant;
    const send = () => {
      for (const other of this.nves) {
        if (other === nve) {
          if (routeIp !== null) other.removeHostRoute(tenant, routeIp);
          continue;
        }
        if (other.installRemote(vni, mac, vtep, seq, routeIp)) this.installs++;
        if (routeIp !== null) other.installHostRoute(tenant, routeIp, nve);
      }
    };
    if (this.delay > 0 && !now) this.clock.setTimer(this.delay, send);
    else send();
  }

  /** Every MAC route, by VNI then MAC. */
  table(): { vni: number; mac: string; ip: string | null; vtep: string; nve: string; seq: number }[] {
    return [...this.routes.values()]
      .sort((a, b) => a.vni - b.vni || a.mac - b.mac)
      .map((r) => ({
        vni: r.vni,
        mac: formatMac(r.mac),
        ip: r.ip === null ? null : formatIpv4(r.ip),
        vtep: formatIpv4(r.nve.vtep),
        nve: r.nve.name,
        seq: r.seq,
      }));
  }
}

function indexed<K>(index: Map<K, Set<MacRoute>>, key: K): Set<MacRoute> {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  return set;
}
