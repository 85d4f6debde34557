/**
 * A tenant's VRF on an NVE and its VBDIFs (the L3 gateway interfaces on the tenant's BDs), built
 * in one place for every caller: lab files and the fabric generator (through `Network.addVrf`,
 * `Network.addVbdif`) and the VPC installer.
 *
 * - A VRF is a router of its own, `NVE/TENANT`. With an L3 VNI (symmetric IRB) it has an interface
 *   `l3vni` with its transit address and router MAC, joined by an internal link to an untagged VAP
 *   `l3vni-TENANT` of the L3 VNI's BD, where its router MAC is a static entry.
 * - A VBDIF is the VRF's interface `vbdif<BD>` with the subnet's gateway address, joined by an
 *   internal link to an untagged gateway VAP of the same name in the BD, where its MAC is a static
 *   entry (configured, never learned). An anycast VBDIF (distributed gateway: the same IP and MAC on
 *   every NVE) is answered locally only; a unique one is announced to the control plane at start.
 *
 * The network around the NVE (naming nodes, MACs, cables) is reached through a `VrfWiring`, so
 * overlay/ never imports topo/. Guarantees: the same calls in the same order build the same
 * devices, ports, MACs and links in the same order, whoever calls.
 */
import type { Device } from '../devices/device.js';
import type { IpInterface } from '../devices/ip/ip-interface.js';
import type { Router } from '../devices/router/router.js';
import type { Link, LinkProperties } from '../link/index.js';
import { type Cidr, type Ipv4, ip, type Mac } from '../wire/index.js';
import type { BridgeDomain } from './bridge-domain.js';
import type { OverlayController } from './controller.js';
import type { Nve } from './nve.js';

/** Internal links inside a box (NVE to its VRFs, VRF to VRF): no delay worth counting, no bandwidth limit. */
export const INTERNAL_LINK = { delay: 0, bandwidth: 1e12 } as const satisfies LinkProperties;

/** What building a VRF needs of the network it lives in (`Network` provides it). */
export interface VrfWiring {
  /** Adds a router with no interfaces, named `name` (throws if the name is taken). */
  addRouter(name: string): Router;
  /** Records a configured MAC as in use (automatic MACs skip it); returns it. */
  claimMac(mac: Mac): Mac;
  /** A fresh automatic MAC. */
  allocateMac(): Mac;
  /** Plugs a cable between `a`'s port `aPort` and `b`'s port `bPort`. */
  connect(a: Device, aPort: string, b: Device, bPort: string, properties: LinkProperties): Link;
  unplug(link: Link): void;
  /** Unplugs a node's links and forgets it. */
  removeNode(name: string): void;
}

export interface VrfSpec {
  /** The tenant's L3 VNI (symmetric IRB) and this VRF's address on it. */
  readonly l3?: { readonly vni: number; readonly transitIp: string | Ipv4; readonly prefixLength?: number };
  readonly routerMac?: Mac;
}

export interface VbdifSpec {
  /** The gateway's address(es) on the BD's subnet, e.g. `10.1.0.1/24`. */
  readonly addresses: readonly Cidr[];
  /** The gateway's MAC (default: a fresh automatic one). An anycast MAC is not claimed as unique. */
  readonly mac?: Mac;
  /** The same IP and MAC on every NVE (distributed gateway), answered locally only. */
  readonly anycast?: boolean;
}

/** The name of the VRF interface (and of its VAP in the BD) that is BD `bdId`'s gateway. */
export function vbdifName(bdId: number): string {
  return `vbdif${bdId}`;
}

/**
 * Adds `tenant`'s VRF to `nve`: a router `NVE/TENANT`, and with `spec.l3` its L3 VNI's BD, its
 * `l3vni` interface and the internal link to it. The VRF is attached to the NVE (not yet to the
 * overlay controller: the caller does that when the controller should route to it).
 */
export function installVrf(wiring: VrfWiring, nve: Nve, tenant: string, spec: VrfSpec = {}): Router {
  const router = wiring.addRouter(`${nve.name}/${tenant}`);
  const routerMac = spec.routerMac !== undefined ? wiring.claimMac(spec.routerMac) : wiring.allocateMac();
  let transitIp = 0;
  if (spec.l3) {
    transitIp = typeof spec.l3.transitIp === 'string' ? ip(spec.l3.transitIp) : spec.l3.transitIp;
    const bd = nve.addL3BridgeDomain(spec.l3.vni, tenant);
    router.addInterface({
      name: 'l3vni',
      mac: routerMac,
      addresses: [{ address: transitIp, prefixLength: spec.l3.prefixLength ?? 16 }],
    });
    const port = `l3vni-${tenant}`;
    bd.addStatic(routerMac, nve.addSubinterface(port, { kind: 'untagged' }, bd, 'l3-vni'));
    wiring.connect(nve, port, router, 'l3vni', INTERNAL_LINK);
  }
  nve.attachVrf({ tenant, router, l3Vni: spec.l3?.vni ?? null, transitIp, routerMac, l3Iface: 'l3vni' });
  return router;
}

/**
 * Removes `tenant`'s VRF from `nve` (its BDs and VBDIFs removed first): the other NVEs forget its
 * router MAC, its L3 VNI's BD goes, and its router leaves the network. Nothing if there is none.
 */
export function uninstallVrf(wiring: VrfWiring, overlay: OverlayController, nve: Nve, tenant: string): void {
  const vrf = nve.vrfs.get(tenant);
  if (vrf === undefined) return;
  overlay.detachVrf(nve, tenant);
  if (vrf.l3Vni !== null) nve.removeL3BridgeDomain(vrf.l3Vni);
  nve.detachVrf(tenant);
  wiring.removeNode(vrf.router.name);
}

/**
 * Adds a VBDIF of `tenant`'s VRF on `bd` (a BD or its id): interface `vbdif<BD id>` with the
 * addresses (added to the interface if it is left from `uninstallVbdif`, else a new interface
 * with `spec.mac`), a gateway VAP of that name in the BD with the MAC as a static entry, the
 * gateway recorded (anycast: on the BD, answered locally; else on the NVE, announced at start),
 * and the internal link. Returns the VRF's interface.
 */
export function installVbdif(
  wiring: VrfWiring,
  nve: Nve,
  tenant: string,
  bd: number | BridgeDomain,
  spec: VbdifSpec,
): IpInterface {
  const vrf = nve.vrfs.get(tenant);
  if (!vrf) throw new Error(`${nve.name} has no VRF for tenant ${tenant}`);
  const domain = typeof bd === 'number' ? nve.bridgeDomain(bd) : bd;
  if (!domain) throw new Error(`${nve.name} has no bridge domain ${bd}`);
  const name = vbdifName(domain.id);
  // An anycast gateway MAC repeats on every NVE by design: it is not claimed as unique.
  const mac =
    spec.mac !== undefined ? (spec.anycast ? spec.mac : wiring.claimMac(spec.mac)) : wiring.allocateMac();
  let iface = vrf.router.iface(name);
  if (iface === undefined) iface = vrf.router.addInterface({ name, mac, addresses: [...spec.addresses] });
  else for (const a of spec.addresses) vrf.router.assignAddress(iface, a);
  // The gateway's MAC is configured, not learned: it is known on its VAP from the start.
  domain.addStatic(
    mac,
    nve.addSubinterface(name, { kind: 'untagged' }, domain, spec.anycast ? 'anycast-gateway' : 'gateway'),
  );
  for (const a of spec.addresses)
    if (spec.anycast) domain.anycastGateways.add(a.address);
    else nve.addGateway(domain, mac, a.address);
  wiring.connect(nve, name, vrf.router, name, INTERNAL_LINK);
  return iface;
}

/**
 * Takes down the VBDIF of `tenant`'s VRF on BD `bdId`: unplugs its internal link, clears its
 * addresses, its interface routes and its ACLs (both ways). The interface itself stays (a later
 * `installVbdif` reuses it, with its MAC), and so do the BD's gateway VAP and gateway records: they
 * go with the BD (`Nve.removeBridgeDomain`). Nothing if the VRF or the interface is missing.
 */
export function uninstallVbdif(wiring: VrfWiring, nve: Nve, tenant: string, bdId: number): void {
  const router = nve.vrfs.get(tenant)?.router;
  const name = vbdifName(bdId);
  const iface = router?.iface(name);
  if (router === undefined || iface === undefined) return;
  const link = router.port(name)?.link;
  if (link) wiring.unplug(link);
  router.clearAddresses(iface);
  router.setInterfaceRoutes(name, []);
  router.unapplyAcl(name, 'in');
  router.unapplyAcl(name, 'out');
}
