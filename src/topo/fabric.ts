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
 *
 * Built in named steps, in this order (the order fixes every name, MAC and link, so it is part of
 * the output): `buildSpines`, then per leaf `buildLeafNve` (with its servers and VMs) or
 * `buildHypervisorLeaf` (with its NVE servers and VMs), each VM placed by `placeVm` (and, with the
 * controller, provisioned on its NVE); then the border NVE (`border.ts`), the gateways
 * (`buildGateways`: on the border, or anycast on every NVE; see overlay/gateway.ts), and the
 * outside network (`border.ts`). The plan (names, addresses, checks) is in `fabric-plan.ts`.
 */
import type { Host } from '../devices/ip/host.js';
import type { Router } from '../devices/router/router.js';
import type { LinkProperties } from '../link/index.js';
import { type GatewayLayout, gatewayLayout, hasBorder } from '../overlay/gateway.js';
import type { ControlPlane, EncapsulationKind, Nve } from '../overlay/index.js';
import { type Cidr, cidrNetwork } from '../wire/index.js';
import { addBorderL3Vrfs, addBorderNve, addCentralizedGateways, addOutside } from './border.js';
import {
  ANYCAST_GATEWAY_MAC,
  FABRIC_HOST_OFFSET,
  FABRIC_L3VNI_BASE,
  type FabricBuilt,
  type FabricProgress,
  type FabricSpec,
  type FabricVm,
  fabricLoopback,
  fabricTransitIp,
  fabricVmName,
  P2P_LEAF_SERVER,
  type SubnetPlan,
  spineLeafLink,
  subnetPlans,
} from './fabric-plan.js';
import type { Network } from './network.js';

export {
  ANYCAST_GATEWAY_MAC,
  FABRIC_HOST_OFFSET,
  FABRIC_L3VNI_BASE,
  FABRIC_VLAN_BASE,
  FABRIC_VNI_BASE,
  FABRIC_WEB_IP,
  type FabricBuilt,
  type FabricProgress,
  type FabricSpec,
  type FabricTenantSpec,
  type FabricVm,
  fabricGateway,
  fabricNodeNames,
  fabricProblems,
  fabricPublicIp,
  fabricVmName,
} from './fabric-plan.js';

/** A fabric being built: its spec, settings, and what is built so far. */
interface FabricBuild {
  readonly net: Network;
  readonly spec: FabricSpec;
  readonly progress: FabricProgress | undefined;
  readonly gateway: GatewayLayout;
  readonly controlPlane: ControlPlane;
  readonly nveOptions: { readonly encapsulation: EncapsulationKind; readonly controlPlane: ControlPlane };
  readonly underlay: LinkProperties;
  readonly access: LinkProperties;
  readonly plans: readonly SubnetPlan[];
  readonly spines: Router[];
  readonly leaves: Router[];
  readonly nves: Nve[];
  /** For each NVE, the tenants it serves. */
  readonly served: Map<Nve, Set<string>>;
  readonly vms: FabricVm[];
  /** VMs placed so far in each tenant. */
  readonly perTenant: Map<string, number>;
  /** VMs placed so far in the fabric. */
  vmIndex: number;
  readonly totalVms: number;
}

export function buildFabric(net: Network, spec: FabricSpec, progress?: FabricProgress): FabricBuilt {
  const controlPlane = spec.controlPlane ?? 'flood-and-learn';
  const b: FabricBuild = {
    net,
    spec,
    progress,
    gateway: gatewayLayout(spec.gateway),
    controlPlane,
    nveOptions: { encapsulation: spec.encapsulation ?? 'vxlan', controlPlane },
    underlay: { ...spec.link, mtu: spec.underlayMtu ?? 1550 },
    access: { ...spec.link },
    plans: subnetPlans(spec),
    spines: [],
    leaves: [],
    nves: [],
    served: new Map(),
    vms: [],
    perTenant: new Map(),
    vmIndex: 0,
    totalVms: spec.leaves * spec.serversPerLeaf * spec.vmsPerServer,
  };
  buildSpines(b);
  for (let l = 1; l <= spec.leaves; l++) {
    if ((spec.nve ?? 'leaf') === 'leaf') buildLeafNve(b, l);
    else buildHypervisorLeaf(b, l);
    progress?.('leaves', l, spec.leaves);
  }
  let border: Nve | null = null;
  if (hasBorder(spec.gateway, spec.external)) {
    border = addBorderNve(net, spec, b.spines, b.nveOptions, b.underlay);
    b.nves.push(border);
  }
  buildGateways(b, border);
  const outside =
    spec.external && border !== null ? addOutside(net, spec, border, b.nves, b.gateway, b.access) : null;
  return {
    spines: b.spines,
    leaves: b.leaves,
    nves: b.nves,
    border,
    internet: outside?.internet ?? null,
    web: outside?.web ?? null,
    vms: b.vms,
  };
}

/** The underlay's core: `spines` plain routers. */
function buildSpines(b: FabricBuild): void {
  for (let s = 1; s <= b.spec.spines; s++) b.spines.push(b.net.addRouter(`spine${s}`));
}

/** A /30 from every spine to leaf `l`, and the leaf's equal-cost default routes over them (ECMP). */
function linkToSpines(b: FabricBuild, leaf: Router, l: number): void {
  b.spines.forEach((spine, si) => {
    const base = spineLeafLink(b.spec, si, l);
    const sName = `to-${leaf.name}`;
    const lName = `to-${spine.name}`;
    spine.addInterface({
      name: sName,
      mac: b.net.allocateMac(),
      addresses: [{ address: base + 1, prefixLength: 30 }],
    });
    leaf.addInterface({
      name: lName,
      mac: b.net.allocateMac(),
      addresses: [{ address: base + 2, prefixLength: 30 }],
    });
    b.net.addLink(spine, leaf, { ...b.underlay, aPort: sName, bPort: lName });
    // Every leaf reaches everything through every spine: equal-cost defaults (ECMP).
    leaf.addStaticRoute({
      prefix: { address: 0, prefixLength: 0 },
      nextHop: base + 1,
      iface: lName,
      metric: 1,
    });
  });
}

/** Every spine's route to `prefix` (a VTEP or a server's /30) through leaf `l`. */
function spineRoute(b: FabricBuild, l: number, prefix: Cidr): void {
  b.spines.forEach((spine, si) => {
    const base = spineLeafLink(b.spec, si, l);
    spine.addStaticRoute({ prefix, nextHop: base + 2, iface: `to-leaf${l}`, metric: 1 });
  });
}

/**
 * Places the next VM: the next tenant in turn, the next subnet of that tenant in turn, its address
 * and MAC from its index there. `attach` links it and returns the NVE it sits behind; with the
 * controller, that NVE is told where the VM is.
 */
function placeVm(b: FabricBuild, attach: (host: Host, plan: SubnetPlan) => Nve, l: number, v: number): void {
  const { spec, net } = b;
  const t = spec.tenants[b.vmIndex % spec.tenants.length]!;
  b.vmIndex++;
  const k = b.perTenant.get(t.name) ?? 0;
  b.perTenant.set(t.name, k + 1);
  const own = b.plans.filter((p) => p.tenant === t.name);
  const plan = own[k % own.length]!;
  const slot = Math.floor(k / own.length);
  const address = (cidrNetwork(plan.cidr) + FABRIC_HOST_OFFSET + slot) >>> 0;
  const mac = 0x02_00_00_00_00_00 + (plan.index + 1) * 0x1_0000_0000 + slot + 1;
  const host = net.addHost(fabricVmName(t.name, k), {
    ip: { address, prefixLength: plan.cidr.prefixLength },
    mac,
    gateway: b.gateway.hostsHaveGateway ? (cidrNetwork(plan.cidr) + 1) >>> 0 : undefined,
    announce: spec.announce ?? true,
  });
  const nve = attach(host, plan);
  // The controller knows where the fabric put each VM (the configuration tells every NVE).
  const bd = nve.bridgeDomain(plan.bd);
  if (b.controlPlane === 'controller' && bd) net.overlay.provision(nve, bd, mac, address);
  b.vms.push({ host, tenant: t.name, subnet: plan.index, leaf: l, server: v });
  if (b.vms.length % 1024 === 0) b.progress?.('vms', b.vms.length, b.totalVms);
}

/**
 * Leaf placement (hardware VTEP): leaf `l` is an NVE with every BD; its servers are plain
 * switches, each VM on an access port of its subnet's VLAN, the uplink a trunk of those VLANs,
 * bound to the BDs on the leaf (VLAN-binding access).
 */
function buildLeafNve(b: FabricBuild, l: number): void {
  const { net, spec } = b;
  const leaf = net.addNve(`leaf${l}`, { ...b.nveOptions, vtep: fabricLoopback(l) });
  b.leaves.push(leaf.underlayRouter());
  b.nves.push(leaf);
  linkToSpines(b, leaf.underlayRouter(), l);
  spineRoute(b, l, { address: fabricLoopback(l), prefixLength: 32 });
  for (const p of b.plans) leaf.addBridgeDomain(p.bd, p.vni, p.tenant);
  const tenantsHere = new Set<string>();
  for (let v = 1; v <= spec.serversPerLeaf; v++) {
    const server = net.addSwitch(`leaf${l}-srv${v}`);
    const vlans = new Set<number>();
    let nextPort = 1;
    for (let m = 0; m < spec.vmsPerServer; m++) {
      placeVm(
        b,
        (host, plan) => {
          const port = String(nextPort++);
          server.addPort(port);
          server.configurePort(port, { mode: 'access', vlan: plan.vlan });
          net.addLink(host, server, { ...b.access, bPort: port });
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
    net.addLink(server, leaf, { ...b.access, aPort: 'uplink', bPort: leafPort });
  }
  for (const p of b.plans) leaf.bindVlan(p.vlan, p.bd);
  b.served.set(leaf, tenantsHere);
}

/**
 * Hypervisor placement (software VTEP): leaf `l` is a router; each server is an NVE whose VTEP is
 * its uplink's address (a /30 to the leaf), with the BDs of its VMs, each VM an untagged
 * sub-interface into its BD.
 */
function buildHypervisorLeaf(b: FabricBuild, l: number): void {
  const { net, spec } = b;
  const leaf = net.addRouter(`leaf${l}`);
  b.leaves.push(leaf);
  linkToSpines(b, leaf, l);
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
      ...b.nveOptions,
      vtep: base + 2,
      interfaces: [{ name: 'eth0', addresses: [{ address: base + 2, prefixLength: 30 }] }],
    });
    server
      .underlayRouter()
      .addStaticRoute({ prefix: { address: 0, prefixLength: 0 }, nextHop: base + 1, iface: 'eth0' });
    net.addLink(leaf, server, { ...b.underlay, aPort: lName, bPort: 'eth0' });
    spineRoute(b, l, { address: base, prefixLength: 30 });
    b.nves.push(server);
    const tenantsHere = new Set<string>();
    const bds = new Set<number>();
    for (let j = 0; j < spec.vmsPerServer; j++) {
      placeVm(
        b,
        (host, plan) => {
          if (!bds.has(plan.bd)) {
            server.addBridgeDomain(plan.bd, plan.vni, plan.tenant);
            bds.add(plan.bd);
          }
          const port = `vm${j + 1}`;
          server.addSubinterface(port, { kind: 'untagged' }, plan.bd);
          net.addLink(host, server, { ...b.access, bPort: port });
          tenantsHere.add(plan.tenant);
          return server;
        },
        l,
        v,
      );
    }
    b.served.set(server, tenantsHere);
  }
}

/**
 * The L3 gateways, as the gateway mode lays them out (overlay/gateway.ts): every tenant's VRF and
 * VBDIFs on the border (centralized), or on every NVE serving the tenant an L3 VNI VRF with an
 * anycast VBDIF per subnet, and on the border an L3 VNI VRF per tenant (distributed).
 */
function buildGateways(b: FabricBuild, border: Nve | null): void {
  const { net, spec } = b;
  if (b.gateway.vbdifs === 'border') {
    if (border !== null) addCentralizedGateways(net, spec, border, b.plans);
    return;
  }
  if (b.gateway.vbdifs !== 'anycast-on-every-nve') return;
  b.nves.forEach((nve, i) => {
    if (nve === border) return; // the border is the last NVE: its VRFs come after every other's
    for (const t of spec.tenants) {
      if (!b.served.get(nve)?.has(t.name)) continue;
      const ti = spec.tenants.indexOf(t);
      net.addVrf(nve, t.name, {
        l3: { vni: FABRIC_L3VNI_BASE + ti, transitIp: fabricTransitIp(i + 1), prefixLength: 16 },
      });
      for (const p of b.plans) {
        if (p.tenant !== t.name) continue;
        if (!nve.bridgeDomain(p.bd)) nve.addBridgeDomain(p.bd, p.vni, p.tenant);
        net.addVbdif(nve, t.name, p.bd, {
          addresses: [{ address: (cidrNetwork(p.cidr) + 1) >>> 0, prefixLength: p.cidr.prefixLength }],
          mac: ANYCAST_GATEWAY_MAC,
          anycast: true,
        });
      }
    }
  });
  if (border !== null) addBorderL3Vrfs(net, spec, border, b.nves.indexOf(border) + 1);
}
