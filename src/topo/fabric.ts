/**
 * The spine-leaf fabric generator: one spec expands into the whole topology, underlay and overlay.
 *
 * - Underlay: `spines` plain IPv4 routers (`spine1`, ...) that never look inside the overlay, each
 *   linked to every leaf by a /30 (172.16.0.0/16). Leaves reach every VTEP through every spine:
 *   equal-cost routes, spread by ECMP on the outer 5-tuple (so VXLAN's flow-hashed source port
 *   spreads flows). Spines route each VTEP (or each server's /30) to its leaf.
 * - NVE placement `leaf` (hardware VTEP): each leaf (`leaf1`, ...) is an NVE with a loopback VTEP
 *   (10.255.0.0/16); each server (`leaf1-srv1`, ...) is a plain switch whose VMs sit on access
 *   ports of their subnet's VLAN and whose uplink is a trunk; the leaf binds each VLAN to its BD
 *   (VLAN-binding access).
 * - NVE placement `hypervisor` (software VTEP): leaves are routers; each server is an NVE whose VTEP
 *   is its uplink address (a /30 in 172.17.0.0/16 to its leaf), with one VM per access port, each
 *   an untagged sub-interface into its BD.
 * - Tenants: each has subnets; each subnet is a BD with its own VNI (10000 + n) and, in leaf mode,
 *   VLAN 10 + n. VMs go to tenants in turn (VM v of the fabric to tenant v mod T), and within a
 *   tenant to its subnets in turn. A VM's MAC and IP depend only on its index inside its tenant,
 *   so two tenants with the same subnets reuse the same MACs and IPs: isolation does the rest.
 * - Gateways: `none` (L2 only), `distributed` (every NVE with VMs of a tenant has the tenant's VRF,
 *   an anycast VBDIF per subnet with the same IP and MAC everywhere, symmetric IRB over an L3 VNI
 *   per tenant, 50000 + t; needs the controller), or `centralized` (a `border` NVE on the spines
 *   holds every tenant's VRF and VBDIFs; leaves only bridge).
 */
import type { Host } from '../devices/ip/host.js';
import type { Router } from '../devices/router/router.js';
import type { LinkProperties } from '../link/index.js';
import type { ControlPlane, EncapsulationKind, Nve } from '../overlay/index.js';
import {
  type Cidr,
  cidrContains,
  cidrNetwork,
  cidrSize,
  formatCidr,
  formatIpv4,
  type Ipv4,
  type Mac,
} from '../wire/index.js';
import { cidrsOverlap, overlappingSpecialBlock } from './lab/addresses.js';
import type { Network } from './network.js';

export interface FabricTenantSpec {
  readonly name: string;
  /** The tenant's subnets, each a BD/VNI (e.g. `10.1.0.0/24`). */
  readonly subnets: readonly Cidr[];
}

export interface FabricSpec {
  readonly spines: number;
  readonly leaves: number;
  readonly serversPerLeaf: number;
  readonly vmsPerServer: number;
  readonly tenants: readonly FabricTenantSpec[];
  readonly nve?: 'leaf' | 'hypervisor';
  readonly encapsulation?: EncapsulationKind;
  readonly controlPlane?: ControlPlane;
  readonly gateway?: 'none' | 'distributed' | 'centralized';
  /**
   * An outside network behind the border: a router `internet` with a host `web` (198.51.100.10),
   * reached from every tenant's VRF on the border through its own link and source NAT
   * (tenant t leaves as 100.64.0.4t+2). Needs a gateway (centralized or distributed).
   */
  readonly external?: boolean;
  /** MTU of the underlay links (default 1550: room for VXLAN's 50 bytes around a 1500-byte packet). */
  readonly underlayMtu?: number;
  /** Properties of every link (delay, bandwidth); the underlay's MTU comes from `underlayMtu`. */
  readonly link?: LinkProperties;
  /** Whether each VM sends a gratuitous ARP when the network starts (default true, as a booting VM does). */
  readonly announce?: boolean;
}

export interface FabricVm {
  readonly host: Host;
  readonly tenant: string;
  readonly subnet: number;
  readonly leaf: number;
  readonly server: number;
}

export interface FabricBuilt {
  readonly spines: Router[];
  /** Leaves: NVEs in leaf placement, routers in hypervisor placement. */
  readonly leaves: Router[];
  readonly nves: Nve[];
  readonly border: Nve | null;
  /** The outside router and its host, with `external`. */
  readonly internet: Router | null;
  readonly web: Host | null;
  readonly vms: FabricVm[];
}

export type FabricProgress = (phase: string, done: number, total: number) => void;

/** Where each generated thing lives: the names and numbers a lab or a test can refer to. */
export const FABRIC_VNI_BASE = 10000;
export const FABRIC_L3VNI_BASE = 50000;
export const FABRIC_VLAN_BASE = 10;
export const ANYCAST_GATEWAY_MAC: Mac = 0x02_ac_00_00_00_01;
/** A VM's address in its subnet: network + 10 + its index there (the first ten are the gateway's and spares). */
export const FABRIC_HOST_OFFSET = 10;

const P2P_SPINE_LEAF = 0xac10_0000; // 172.16.0.0/16
const P2P_LEAF_SERVER = 0xac11_0000; // 172.17.0.0/16
const LOOPBACKS = 0x0aff_0000; // 10.255.0.0/16
const EXTERNAL_LINKS = 0x6440_0000; // 100.64.0.0/10, a /30 per tenant between its border VRF and the internet
const EXTERNAL_LINKS_CIDR: Cidr = { address: EXTERNAL_LINKS, prefixLength: 10 };
/** The outside host's address, with `external`. */
export const FABRIC_WEB_IP = 0xc633_640a; // 198.51.100.10

/** The address a tenant's traffic leaves the fabric from (source NAT on the border). */
export function fabricPublicIp(tenantIndex: number): Ipv4 {
  return (EXTERNAL_LINKS + tenantIndex * 4 + 2) >>> 0;
}

export function fabricVmName(tenant: string, index: number): string {
  return `${tenant}-vm${index + 1}`;
}

/** Names of every node the fabric creates (for lab cross-checks), in creation order. */
export function fabricNodeNames(spec: FabricSpec): string[] {
  const names: string[] = [];
  for (let s = 1; s <= spec.spines; s++) names.push(`spine${s}`);
  for (let l = 1; l <= spec.leaves; l++) {
    names.push(`leaf${l}`);
    for (let v = 1; v <= spec.serversPerLeaf; v++) names.push(`leaf${l}-srv${v}`);
  }
  if ((spec.gateway ?? 'none') === 'centralized' || spec.external) names.push('border');
  if (spec.external) names.push('internet', 'web');
  const perTenant = new Map<string, number>();
  const total = spec.leaves * spec.serversPerLeaf * spec.vmsPerServer;
  for (let g = 0; g < total; g++) {
    const t = spec.tenants[g % spec.tenants.length]!;
    const k = perTenant.get(t.name) ?? 0;
    perTenant.set(t.name, k + 1);
    names.push(fabricVmName(t.name, k));
  }
  return names;
}

/** Problems with a spec that its shape cannot show (sizes that do not fit the address plan). */
export function fabricProblems(spec: FabricSpec): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const vms = spec.leaves * spec.serversPerLeaf * spec.vmsPerServer;
  const border = (spec.gateway ?? 'none') === 'centralized' || spec.external ? 1 : 0;
  if (spec.spines * (spec.leaves + border) > 16384)
    problems.push({
      path: 'fabric',
      message: "at most 16,384 spine-leaf links, the border's included (172.16.0.0/16 in /30s)",
    });
  if (spec.leaves * spec.serversPerLeaf > 16384)
    problems.push({ path: 'fabric', message: 'at most 16,384 servers (172.17.0.0/16 in /30s)' });
  if ((spec.gateway ?? 'none') === 'distributed' && (spec.controlPlane ?? 'flood-and-learn') !== 'controller')
    problems.push({
      path: 'fabric.gateway',
      message:
        'a distributed gateway needs controlPlane: controller (symmetric IRB routes come from the control plane)',
    });
  if (spec.external && (spec.gateway ?? 'none') === 'none')
    problems.push({
      path: 'fabric.external',
      message: 'the outside is reached through a gateway: set gateway',
    });
  if (spec.external && spec.tenants.length > 1 << 20)
    problems.push({
      path: 'fabric.external',
      message: 'at most 1,048,576 tenants reach the outside (100.64.0.0/10 in /30s)',
    });
  let subnets = 0;
  const names = new Set<string>();
  spec.tenants.forEach((t, i) => {
    if (names.has(t.name))
      problems.push({ path: `fabric.tenants[${i}].name`, message: `tenant ${t.name} is named twice` });
    names.add(t.name);
    subnets += t.subnets.length;
    // A VM's MAC is 02:0s:..: with s = subnet index + 1 in one octet (the 02 keeps it unicast, locally administered).
    if (t.subnets.length > 255)
      problems.push({ path: `fabric.tenants[${i}].subnets`, message: 'at most 255 subnets per tenant' });
    t.subnets.forEach((a, j) => {
      for (let k = 0; k < j; k++) {
        const b = t.subnets[k]!;
        const shorter = Math.min(a.prefixLength, b.prefixLength);
        const m = shorter === 0 ? 0 : (0xffff_ffff << (32 - shorter)) >>> 0;
        if ((a.address & m) >>> 0 === (b.address & m) >>> 0) {
          problems.push({
            path: `fabric.tenants[${i}].subnets[${j}]`,
            message: `overlaps subnets[${k}] of the same tenant (tenants may overlap each other, not themselves)`,
          });
          break;
        }
      }
    });
    const share = Math.ceil(vms / spec.tenants.length);
    const perSubnet = Math.ceil(share / Math.max(1, t.subnets.length));
    t.subnets.forEach((s, j) => {
      const problem = tenantSubnetProblem(s, perSubnet, spec.external === true);
      if (problem) problems.push({ path: `fabric.tenants[${i}].subnets[${j}]`, message: problem });
    });
  });
  if ((spec.nve ?? 'leaf') === 'leaf' && subnets > 4094 - FABRIC_VLAN_BASE)
    problems.push({
      path: 'fabric.tenants',
      message: 'leaf placement maps each subnet to a VLAN: at most 4084 subnets',
    });
  return problems;
}

/**
 * Why the generator cannot use `s` as a tenant subnet holding `vms` VMs, or undefined. Its gateway
 * is the first address and its VMs start at the eleventh, so the subnet needs room for those; the
 * addresses it gives out must be ones an interface can have (RFC 1122 3.2.1.3), and with an outside
 * network it must not hold the outside host (its VMs would ARP for it) or the border's NAT links.
 */
function tenantSubnetProblem(s: Cidr, vms: number, external: boolean): string | undefined {
  const text = formatCidr({ address: cidrNetwork(s), prefixLength: s.prefixLength });
  if (s.prefixLength === 0) return `${text} is every address, not one segment's subnet (e.g. 10.1.0.0/24)`;
  const special = overlappingSpecialBlock(s);
  if (special)
    return `${text} overlaps ${formatCidr(special.cidr)} (${special.what}): its VMs would get addresses no interface can have (RFC 1122 3.2.1.3)`;
  if (cidrSize(s) - FABRIC_HOST_OFFSET - 1 < vms)
    return `${formatIpv4(cidrNetwork(s))}/${s.prefixLength} cannot hold ${vms} VMs after its first ${FABRIC_HOST_OFFSET} addresses`;
  if (external && cidrContains(s, FABRIC_WEB_IP))
    return `${text} holds the outside host web ${formatIpv4(FABRIC_WEB_IP)}: its VMs would look for it on their own segment`;
  if (external && cidrsOverlap(s, EXTERNAL_LINKS_CIDR))
    return `${text} overlaps ${formatCidr(EXTERNAL_LINKS_CIDR)}, the links between the border and the outside`;
  return undefined;
}

interface SubnetPlan {
  readonly tenant: string;
  readonly tenantIndex: number;
  readonly index: number;
  readonly cidr: Cidr;
  readonly vni: number;
  readonly vlan: number;
  readonly bd: number;
}

export function buildFabric(net: Network, spec: FabricSpec, progress?: FabricProgress): FabricBuilt {
  const placement = spec.nve ?? 'leaf';
  const gateway = spec.gateway ?? 'none';
  const encapsulation = spec.encapsulation ?? 'vxlan';
  const controlPlane = spec.controlPlane ?? 'flood-and-learn';
  const underlay: LinkProperties = { ...spec.link, mtu: spec.underlayMtu ?? 1550 };
  const access: LinkProperties = { ...spec.link };
  const plans: SubnetPlan[] = [];
  spec.tenants.forEach((t, ti) => {
    t.subnets.forEach((c, si) => {
      const n = plans.length;
      plans.push({
        tenant: t.name,
        tenantIndex: ti,
        index: si,
        cidr: c,
        vni: FABRIC_VNI_BASE + n,
        vlan: FABRIC_VLAN_BASE + n,
        bd: FABRIC_VLAN_BASE + n,
      });
    });
  });
  const subnetsOf = (tenant: string) => plans.filter((p) => p.tenant === tenant);
  const nveOptions = { encapsulation, controlPlane };

  const spines: Router[] = [];
  for (let s = 1; s <= spec.spines; s++) spines.push(net.addRouter(`spine${s}`));
  const leaves: Router[] = [];
  const nves: Nve[] = [];
  /** For each NVE, the tenants it serves. */
  const served = new Map<Nve, Set<string>>();
  const vtepOfLeaf = (l: number) => (LOOPBACKS + l) >>> 0;
  const total = spec.leaves * spec.serversPerLeaf * spec.vmsPerServer;
  const vms: FabricVm[] = [];
  const perTenant = new Map<string, number>();
  let vmIndex = 0;

  const linkSpineToLeaf = (leaf: Router, l: number) => {
    spines.forEach((spine, si) => {
      const base = (P2P_SPINE_LEAF + ((si * spec.leaves + (l - 1)) << 2)) >>> 0;
      const sName = `to-${leaf.name}`;
      const lName = `to-${spine.name}`;
      spine.addInterface({
        name: sName,
        mac: net.allocateMac(),
        addresses: [{ address: base + 1, prefixLength: 30 }],
      });
      leaf.addInterface({
        name: lName,
        mac: net.allocateMac(),
        addresses: [{ address: base + 2, prefixLength: 30 }],
      });
      net.addLink(spine, leaf, { ...underlay, aPort: sName, bPort: lName });
      // Every leaf reaches everything through every spine: equal-cost defaults (ECMP).
      leaf.addStaticRoute({
        prefix: { address: 0, prefixLength: 0 },
        nextHop: base + 1,
        iface: lName,
        metric: 1,
      });
    });
  };
  const spineRoute = (l: number, prefix: Cidr) => {
    spines.forEach((spine, si) => {
      const base = (P2P_SPINE_LEAF + ((si * spec.leaves + (l - 1)) << 2)) >>> 0;
      spine.addStaticRoute({ prefix, nextHop: base + 2, iface: `to-leaf${l}`, metric: 1 });
    });
  };

  /** Places the next VM; `attach` links it and returns the NVE it sits behind. */
  const placeVm = (attach: (host: Host, plan: SubnetPlan) => Nve, l: number, v: number) => {
    const t = spec.tenants[vmIndex % spec.tenants.length]!;
    vmIndex++;
    const k = perTenant.get(t.name) ?? 0;
    perTenant.set(t.name, k + 1);
    const own = subnetsOf(t.name);
    const plan = own[k % own.length]!;
    const slot = Math.floor(k / own.length);
    const address = (cidrNetwork(plan.cidr) + FABRIC_HOST_OFFSET + slot) >>> 0;
    const mac = 0x02_00_00_00_00_00 + (plan.index + 1) * 0x1_0000_0000 + slot + 1;
    const host = net.addHost(fabricVmName(t.name, k), {
      ip: { address, prefixLength: plan.cidr.prefixLength },
      mac,
      gateway: gateway === 'none' ? undefined : (cidrNetwork(plan.cidr) + 1) >>> 0,
      announce: spec.announce ?? true,
    });
    const nve = attach(host, plan);
    // The controller knows where the fabric put each VM (the configuration tells every NVE).
    const bd = nve.bridgeDomain(plan.bd);
    if (controlPlane === 'controller' && bd) net.overlay.provision(nve, bd, mac, address);
    vms.push({ host, tenant: t.name, subnet: plan.index, leaf: l, server: v });
    if (vms.length % 1024 === 0) progress?.('vms', vms.length, total);
  };

  for (let l = 1; l <= spec.leaves; l++) {
    if (placement === 'leaf') {
      const leaf = net.addNve(`leaf${l}`, { ...nveOptions, vtep: vtepOfLeaf(l) });
      leaves.push(leaf);
      nves.push(leaf);
      linkSpineToLeaf(leaf, l);
      spineRoute(l, { address: vtepOfLeaf(l), prefixLength: 32 });
      for (const p of plans) leaf.addBridgeDomain(p.bd, p.vni, p.tenant);
      const tenantsHere = new Set<string>();
      for (let v = 1; v <= spec.serversPerLeaf; v++) {
        const server = net.addSwitch(`leaf${l}-srv${v}`);
        const vlans = new Set<number>();
        let nextPort = 1;
        for (let m = 0; m < spec.vmsPerServer; m++) {
          placeVm(
            (host, plan) => {
              const port = String(nextPort++);
              server.addPort(port);
              server.configurePort(port, { mode: 'access', vlan: plan.vlan });
              net.addLink(host, server, { ...access, bPort: port });
              vlans.add(plan.vlan);
              tenantsHere.add(plan.tenant);
              return leaf;
            },
            l,
            v,
          );
        }
        server.addPort('uplink');
        server.configurePort('uplink', {
          mode: 'trunk',
          allowed: vlans.size > 0 ? [...vlans] : [1],
          native: null,
        });
        const leafPort = `srv${v}`;
        leaf.setPortMode(leafPort, {
          mode: 'trunk',
          allowed: vlans.size > 0 ? [...vlans] : [1],
          native: null,
        });
        net.addLink(server, leaf, { ...access, aPort: 'uplink', bPort: leafPort });
      }
      for (const p of plans) leaf.bindVlan(p.vlan, p.bd);
      served.set(leaf, tenantsHere);
    } else {
      const leaf = net.addRouter(`leaf${l}`);
      leaves.push(leaf);
      linkSpineToLeaf(leaf, l);
      for (let v = 1; v <= spec.serversPerLeaf; v++) {
        const m = (l - 1) * spec.serversPerLeaf + (v - 1);
        const base = (P2P_LEAF_SERVER + (m << 2)) >>> 0;
        const lName = `to-srv${v}`;
        leaf.addInterface({
          name: lName,
          mac: net.allocateMac(),
          addresses: [{ address: base + 1, prefixLength: 30 }],
        });
        const server = net.addNve(`leaf${l}-srv${v}`, {
          ...nveOptions,
          vtep: base + 2,
          interfaces: [{ name: 'eth0', addresses: [{ address: base + 2, prefixLength: 30 }] }],
        });
        server.addStaticRoute({ prefix: { address: 0, prefixLength: 0 }, nextHop: base + 1, iface: 'eth0' });
        net.addLink(leaf, server, { ...underlay, aPort: lName, bPort: 'eth0' });
        spineRoute(l, { address: base, prefixLength: 30 });
        nves.push(server);
        const tenantsHere = new Set<string>();
        const bds = new Set<number>();
        for (let j = 0; j < spec.vmsPerServer; j++) {
          placeVm(
            (host, plan) => {
              if (!bds.has(plan.bd)) {
                server.addBridgeDomain(plan.bd, plan.vni, plan.tenant);
                bds.add(plan.bd);
              }
              const port = `vm${j + 1}`;
              server.addSubinterface(port, { kind: 'untagged' }, plan.bd);
              net.addLink(host, server, { ...access, bPort: port });
              tenantsHere.add(plan.tenant);
              return server;
            },
            l,
            v,
          );
        }
        served.set(server, tenantsHere);
      }
    }
    progress?.('leaves', l, spec.leaves);
  }

  let border: Nve | null = null;
  if (gateway === 'centralized' || spec.external) {
    const l = spec.leaves + 1; // the border hangs off the spines like one more leaf
    border = net.addNve('border', { ...nveOptions, vtep: vtepOfLeaf(l) });
    spines.forEach((spine, si) => {
      const base = (P2P_SPINE_LEAF + ((spec.spines * spec.leaves + si) << 2)) >>> 0;
      spine.addInterface({
        name: 'to-border',
        mac: net.allocateMac(),
        addresses: [{ address: base + 1, prefixLength: 30 }],
      });
      border!.addInterface({
        name: `to-${spine.name}`,
        mac: net.allocateMac(),
        addresses: [{ address: base + 2, prefixLength: 30 }],
      });
      net.addLink(spine, border!, { ...underlay, aPort: 'to-border', bPort: `to-${spine.name}` });
      border!.addStaticRoute({
        prefix: { address: 0, prefixLength: 0 },
        nextHop: base + 1,
        iface: `to-${spine.name}`,
      });
      spine.addStaticRoute({
        prefix: { address: vtepOfLeaf(l), prefixLength: 32 },
        nextHop: base + 2,
        iface: 'to-border',
      });
    });
    nves.push(border);
  }
  if (border !== null && gateway === 'centralized') {
    for (const t of spec.tenants) {
      net.addVrf(border, t.name);
      for (const p of subnetsOf(t.name)) {
        border.addBridgeDomain(p.bd, p.vni, p.tenant);
        net.addVbdif(border, t.name, p.bd, {
          addresses: [{ address: (cidrNetwork(p.cidr) + 1) >>> 0, prefixLength: p.cidr.prefixLength }],
        });
      }
    }
  } else if (gateway === 'distributed') {
    let n = 0;
    for (const nve of nves) {
      n++;
      for (const t of spec.tenants) {
        if (nve === border) {
          // The border routes each tenant over its L3 VNI only: it has no VMs and no subnet of its own.
          net.addVrf(nve, t.name, {
            l3: {
              vni: FABRIC_L3VNI_BASE + spec.tenants.indexOf(t),
              transitIp: (0xa9fe_0000 + n) >>> 0,
              prefixLength: 16,
            },
          });
          continue;
        }
        if (!served.get(nve)?.has(t.name)) continue;
        const ti = spec.tenants.indexOf(t);
        net.addVrf(nve, t.name, {
          l3: { vni: FABRIC_L3VNI_BASE + ti, transitIp: (0xa9fe_0000 + n) >>> 0, prefixLength: 16 },
        });
        for (const p of subnetsOf(t.name)) {
          if (!nve.bridgeDomain(p.bd)) nve.addBridgeDomain(p.bd, p.vni, p.tenant);
          net.addVbdif(nve, t.name, p.bd, {
            addresses: [{ address: (cidrNetwork(p.cidr) + 1) >>> 0, prefixLength: p.cidr.prefixLength }],
            mac: ANYCAST_GATEWAY_MAC,
            anycast: true,
          });
        }
      }
    }
  }
  let internet: Router | null = null;
  let web: Host | null = null;
  if (spec.external && border !== null) {
    internet = net.addRouter('internet', [
      { name: 'to-web', addresses: [{ address: FABRIC_WEB_IP - 9, prefixLength: 24 }] },
    ]);
    web = net.addHost('web', {
      ip: { address: FABRIC_WEB_IP, prefixLength: 24 },
      gateway: FABRIC_WEB_IP - 9,
    });
    web.enableUdpEcho();
    net.addLink(internet, web, { ...access, aPort: 'to-web' });
    const borderTransit = (0xa9fe_0000 + nves.indexOf(border) + 1) >>> 0;
    spec.tenants.forEach((t, ti) => {
      const vrf = border!.vrfs.get(t.name)!.router;
      const base = (EXTERNAL_LINKS + ti * 4) >>> 0;
      const outside = `to-${t.name}`;
      internet!.addInterface({
        name: outside,
        mac: net.allocateMac(),
        addresses: [{ address: base + 1, prefixLength: 30 }],
      });
      vrf.addInterface({
        name: 'ext',
        mac: net.allocateMac(),
        addresses: [{ address: base + 2, prefixLength: 30 }],
      });
      net.addLink(vrf, internet!, { ...access, aPort: 'ext', bPort: outside });
      vrf.addStaticRoute({ prefix: { address: 0, prefixLength: 0 }, nextHop: base + 1, iface: 'ext' });
      vrf.enableSnat('ext', fabricPublicIp(ti));
      if (gateway === 'distributed') {
        // Every other VRF of the tenant sends what is not in the fabric to the border, over the L3 VNI.
        for (const nve of nves) {
          const leafVrf = nve === border ? undefined : nve.vrfs.get(t.name);
          if (leafVrf)
            leafVrf.router.addStaticRoute({
              prefix: { address: 0, prefixLength: 0 },
              nextHop: borderTransit,
              iface: 'l3vni',
            });
        }
      }
    });
  }
  return { spines, leaves, nves, border, internet, web, vms };
}

/** The gateway address of a fabric subnet (its first address). */
export function fabricGateway(subnet: Cidr): Ipv4 {
  return (cidrNetwork(subnet) + 1) >>> 0;
}
