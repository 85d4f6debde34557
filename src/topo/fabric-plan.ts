/**
 * The spine-leaf fabric's plan, before anything is built: its spec and result types, its names
 * (spine1, leaf1, leaf1-srv1, border, internet, web, TENANT-vmN) and its address plan (underlay
 * /30s, VTEP loopbacks, VNIs, VLANs, tenant VM addresses and MACs, the border's outside links),
 * and the problems a spec can have that its shape cannot show. Pure functions of the spec: the
 * builder (`fabric.ts`, `border.ts`) and the lab checks both read them from here.
 */
import type { Host } from '../devices/ip/host.js';
import type { Router } from '../devices/router/router.js';
import type { LinkProperties } from '../link/index.js';
import { type GatewayMode, gatewayLayout, hasBorder } from '../overlay/gateway.js';
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
  readonly gateway?: GatewayMode;
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
  /**
   * The leaves' routers: in hypervisor placement the leaves themselves, in leaf placement each leaf
   * NVE's underlay router (in the NVE's box: same name and ports).
   */
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

export const P2P_SPINE_LEAF = 0xac10_0000; // 172.16.0.0/16
export const P2P_LEAF_SERVER = 0xac11_0000; // 172.17.0.0/16
export const LOOPBACKS = 0x0aff_0000; // 10.255.0.0/16
export const EXTERNAL_LINKS = 0x6440_0000; // 100.64.0.0/10, a /30 per tenant between its border VRF and the internet
export const EXTERNAL_LINKS_CIDR: Cidr = { address: EXTERNAL_LINKS, prefixLength: 10 };
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
  if (hasBorder(spec.gateway, spec.external)) names.push('border');
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
  const gateway = gatewayLayout(spec.gateway);
  const border = hasBorder(spec.gateway, spec.external) ? 1 : 0;
  if (spec.spines * (spec.leaves + border) > 16384)
    problems.push({
      path: 'fabric',
      message: "at most 16,384 spine-leaf links, the border's included (172.16.0.0/16 in /30s)",
    });
  if (spec.leaves * spec.serversPerLeaf > 16384)
    problems.push({ path: 'fabric', message: 'at most 16,384 servers (172.17.0.0/16 in /30s)' });
  if (gateway.needsController && (spec.controlPlane ?? 'flood-and-learn') !== 'controller')
    problems.push({
      path: 'fabric.gateway',
      message:
        'a distributed gateway needs controlPlane: controller (symmetric IRB routes come from the control plane)',
    });
  if (spec.external && !gateway.reachesOutside)
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

/** One tenant subnet as the fabric lays it out: its BD, VNI and (leaf placement) VLAN. */
export interface SubnetPlan {
  readonly tenant: string;
  readonly tenantIndex: number;
  readonly index: number;
  readonly cidr: Cidr;
  readonly vni: number;
  readonly vlan: number;
  readonly bd: number;
}

/** The VTEP (loopback) of leaf `l` (1-based; the border is leaf `leaves + 1`). */
export function fabricLoopback(l: number): Ipv4 {
  return (LOOPBACKS + l) >>> 0;
}

/** The /30 between spine `si` (0-based) and leaf `l` (1-based): the spine has .1, the leaf .2. */
export function spineLeafLink(spec: FabricSpec, si: number, l: number): Ipv4 {
  return (P2P_SPINE_LEAF + ((si * spec.leaves + (l - 1)) << 2)) >>> 0;
}

/** The /30 between spine `si` (0-based) and the border, after every leaf's: the spine has .1. */
export function spineBorderLink(spec: FabricSpec, si: number): Ipv4 {
  return (P2P_SPINE_LEAF + ((spec.spines * spec.leaves + si) << 2)) >>> 0;
}

/** The /30 between tenant `ti`'s border VRF (.2) and the outside router (.1). */
export function externalLink(ti: number): Ipv4 {
  return (EXTERNAL_LINKS + ti * 4) >>> 0;
}

/** A VRF's transit address on its tenant's L3 VNI: 169.254.0.N for the Nth NVE of the fabric. */
export function fabricTransitIp(n: number): Ipv4 {
  return (0xa9fe_0000 + n) >>> 0;
}

/** Every tenant subnet in order: the Nth has VNI 10000 + N and BD and VLAN 10 + N. */
export function subnetPlans(spec: FabricSpec): SubnetPlan[] {
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
  return plans;
}

/** The gateway address of a fabric subnet (its first address). */
export function fabricGateway(subnet: Cidr): Ipv4 {
  return (cidrNetwork(subnet) + 1) >>> 0;
}
