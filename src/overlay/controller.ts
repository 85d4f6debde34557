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
}

export class OverlayController implements NveControlPlaneClient {
  readonly nves: Nve[] = [];
  private readonly routes = new Map<string, MacRoute>();
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
      route = { vni: bd.vni, mac, ip, nve, seq: 0 };
      this.routes.set(key, route);
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
