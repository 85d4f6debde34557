/**
 * The compiled plan: the fabric's configuration for a VPC intent, as plain JSON-able data.
 *
 * `{ version: 1, entries: PlanEntry[] }`. Every entry has a `kind`, a `key` unique within its
 * kind (the identity `diffPlans` pairs entries by), a `source` (the id of the intent object that
 * produced it, with the rule's place when a rule did: `sg-2/ingress[0]`, `rtb-1/routes[3]`), and
 * flat fields of strings, numbers, null and short arrays. Entries are sorted by `PLAN_KINDS`
 * order, then by key in natural order (digits compared as numbers), so the same intent always
 * gives the same bytes and a diff reads top-down like the configuration.
 *
 * Kinds (hypervisor names and VTEPs come from the `FabricInventory`; a VRF is named by its VPC id):
 * - `l3-vni`           key vpc id: the VPC's L3 VNI (symmetric IRB, RFC 9135).
 * - `l2-vni`           key subnet id: the subnet's VNI, CIDR, VPC and the VPC's L3 VNI.
 * - `anycast-gateway`  key subnet id: the subnet's distributed gateway, address `gw/len` and one
 *                      MAC everywhere (each hypervisor's copy of it is a `vbdif`).
 * - `vrf`              key `host/vpc`: the VPC's VRF on a hypervisor with instances of it, on a
 *                      hypervisor with instances of a peered VPC only (`role: peering`), or on the
 *                      border (`role: border`) when the VPC has an internet gateway; `transit` is its
 *                      address on the L3 VNI (169.254.0.0/16: the NVE's place in the fabric + 1).
 * - `bridge-domain`    key `host/vni N`: the subnet's BD on a hypervisor with running instances in it.
 * - `vbdif`            key `host/vni N`: the subnet's gateway on that hypervisor's VRF: the routed
 *                      interface `vbdifN` of the BD with the anycast address and MAC, and its DHCP
 *                      server (manual allocation: it hands out the bindings, nothing else).
 * - `peering-link`     key `host/a b`: the internal link between the VRFs of two peered VPCs on a
 *                      hypervisor with a VRF of either (198.18.0.0/15, one /30 per pair, the pair's
 *                      index kept while the pair has links): `pcx-<b>` on a's VRF, `pcx-<a>` on b's.
 * - `external-link`    key vpc id: the link between the border's VRF of the VPC (`ext`, with the SNAT
 *                      address as a /32) and the internet router (`to-<vpc>`): 100.64.0.0/10, the /30
 *                      whose number is the SNAT address's place in the public pool.
 * - `vrf-route`        key `vpc destination` (local routes, for every subnet) or
 *                      `vpc/subnet destination` (a route of the table associated with that subnet).
 *                      `target`: local | internet-gateway | peering | instance | blackhole;
 *                      `vni`: the L3 VNI it leaves by (own for the border, the peer's for a peering);
 *                      `nextHop`: border name, peer VPC id, or the instance's IP;
 *                      `via`: the gateway, peering or instance id the route names.
 * - `resolved-route`   key `router/vrf table destination`: a route as a router holds it, next hop and
 *                      interface resolved: `table` is `main`, or the interface whose arriving packets
 *                      it routes (a subnet's `vbdifN`; `l3vni` for packets that came over the L3 VNI
 *                      to an instance here). Local routes (a blackhole per VPC block in every VRF of
 *                      the VPC), the subnets' routes (blackhole; internet gateway: the border VRF's
 *                      transit address over the L3 VNI; peering: the peer's end of the peering link;
 *                      instance: its address on its VBDIF when it is on this hypervisor, else the
 *                      transit address of the VRF beside it, which sends it on from `l3vni`), the
 *                      border VRF's default route out and the internet's routes to public addresses.
 *                      `router` is a hypervisor, the border, or the internet router (`vrf` null).
 * - `mac-ip-route`     key `vni N/mac`: where a running instance lives (EVPN type-2, RFC 7432 7.2),
 *                      for the controller to install on every other NVE.
 * - `dhcp-binding`     key `subnet/mac`: what the subnet's gateway offers the instance (RFC 2131).
 * - `sg-rule`          key `instance/direction/sg[i]/cidr`: a security group rule of a running
 *                      instance, group references expanded to each running member's /32.
 * - `acl-rule`         key `subnet/direction/number`: a network ACL rule of a subnet, with the
 *                      implicit deny written as rule 32767 (AWS shows it as `*`).
 * - `snat`             key vpc id: source NAT on the border for a VPC with an internet gateway.
 * - `static-nat`       key public address: 1:1 NAT for an elastic IP bound to a running instance.
 */
import type { PROTOCOLS } from './intent.js';

export type Protocol = (typeof PROTOCOLS)[number];

export const PLAN_VERSION = 1;

export const PLAN_KINDS = [
  'l3-vni',
  'l2-vni',
  'anycast-gateway',
  'vrf',
  'bridge-domain',
  'vbdif',
  'peering-link',
  'external-link',
  'vrf-route',
  'resolved-route',
  'mac-ip-route',
  'dhcp-binding',
  'sg-rule',
  'acl-rule',
  'snat',
  'static-nat',
] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

interface Base {
  readonly key: string;
  readonly source: string;
}

export interface L3VniEntry extends Base {
  readonly kind: 'l3-vni';
  readonly tenant: string;
  readonly vpc: string;
  readonly vni: number;
}

export interface L2VniEntry extends Base {
  readonly kind: 'l2-vni';
  readonly tenant: string;
  readonly vpc: string;
  readonly subnet: string;
  readonly cidr: string;
  readonly vni: number;
  readonly l3Vni: number;
}

export interface AnycastGatewayEntry extends Base {
  readonly kind: 'anycast-gateway';
  readonly vpc: string;
  readonly subnet: string;
  readonly vni: number;
  /** `gateway/len`, e.g. 10.0.1.1/24. */
  readonly address: string;
  readonly mac: string;
}

export interface VrfEntry extends Base {
  readonly kind: 'vrf';
  readonly role: 'hypervisor' | 'peering' | 'border';
  readonly host: string;
  /** The hypervisor's VTEP; null on the border (the inventory does not give it). */
  readonly vtep: string | null;
  readonly vpc: string;
  readonly l3Vni: number;
  /** The VRF's address on its L3 VNI, `address/16`. */
  readonly transit: string;
}

export interface BridgeDomainEntry extends Base {
  readonly kind: 'bridge-domain';
  readonly host: string;
  readonly vtep: string;
  readonly vpc: string;
  readonly subnet: string;
  readonly vni: number;
}

export interface VbdifEntry extends Base {
  readonly kind: 'vbdif';
  readonly host: string;
  readonly vpc: string;
  readonly subnet: string;
  readonly vni: number;
  /** The interface's name on the VRF: `vbdif<vni>`. */
  readonly iface: string;
  /** `gateway/len`. */
  readonly address: string;
  readonly mac: string;
  /** The DHCP server's pool (manual allocation: only bindings are handed out). */
  readonly dhcpFirst: string;
  readonly dhcpLast: string;
}

export interface PeeringLinkEntry extends Base {
  readonly kind: 'peering-link';
  readonly host: string;
  readonly peering: string;
  /** The two VPCs, in id order, and each side's interface and address (`address/30`). */
  readonly a: string;
  readonly b: string;
  readonly aIface: string;
  readonly aAddress: string;
  readonly bIface: string;
  readonly bAddress: string;
}

export interface ExternalLinkEntry extends Base {
  readonly kind: 'external-link';
  readonly border: string;
  readonly vpc: string;
  readonly vrfIface: string;
  /** The VRF's side, `address/30`, and the SNAT address it also holds as a /32. */
  readonly vrfAddress: string;
  readonly publicIp: string;
  readonly internet: string;
  readonly internetIface: string;
  readonly internetAddress: string;
}

export interface ResolvedRouteEntry extends Base {
  readonly kind: 'resolved-route';
  /** The router: a hypervisor or the border (the VRF of `vrf` on it), or the internet router. */
  readonly router: string;
  readonly vrf: string | null;
  /** `main`, or the interface whose arriving packets the route is for. */
  readonly table: string;
  /** The destination in network form, `address/len`. */
  readonly destination: string;
  readonly blackhole: boolean;
  readonly nextHop: string | null;
  /** The interface it leaves by (`null0` for a blackhole). */
  readonly iface: string;
}

export const ROUTE_TARGETS = ['local', 'internet-gateway', 'peering', 'instance', 'blackhole'] as const;
export type RouteTargetKind = (typeof ROUTE_TARGETS)[number];

export interface VrfRouteEntry extends Base {
  readonly kind: 'vrf-route';
  readonly vpc: string;
  /** The subnet whose route table holds the route; null for the local routes every subnet has. */
  readonly subnet: string | null;
  readonly destination: string;
  readonly target: RouteTargetKind;
  readonly vni: number | null;
  readonly nextHop: string | null;
  /** The intent object the route points at (igw, peering or instance id); null for local and blackhole. */
  readonly via: string | null;
}

export interface MacIpRouteEntry extends Base {
  readonly kind: 'mac-ip-route';
  readonly vpc: string;
  readonly subnet: string;
  readonly instance: string;
  readonly vni: number;
  readonly l3Vni: number;
  readonly mac: string;
  readonly ip: string;
  readonly host: string;
  readonly vtep: string;
}

export interface DhcpBindingEntry extends Base {
  readonly kind: 'dhcp-binding';
  readonly subnet: string;
  readonly instance: string;
  readonly host: string;
  readonly vni: number;
  readonly mac: string;
  readonly ip: string;
  readonly prefixLength: number;
  readonly gateway: string;
}

export type Direction = 'ingress' | 'egress';

export interface SgRuleEntry extends Base {
  readonly kind: 'sg-rule';
  readonly instance: string;
  readonly host: string;
  readonly ip: string;
  readonly direction: Direction;
  readonly group: string;
  readonly protocol: Protocol;
  readonly ports: readonly [number, number] | null;
  /** The remote side: the rule's CIDR, or a member's /32 for a group reference. */
  readonly cidr: string;
  /** The referenced group, when the rule names one. */
  readonly peerGroup: string | null;
}

/** The number the implicit deny of a network ACL gets in the plan (after every real rule). */
export const ACL_IMPLICIT_DENY = 32767;

export interface AclRuleEntry extends Base {
  readonly kind: 'acl-rule';
  readonly subnet: string;
  readonly vni: number;
  readonly acl: string;
  readonly direction: Direction;
  readonly number: number;
  readonly action: 'allow' | 'deny';
  readonly protocol: Protocol;
  readonly ports: readonly [number, number] | null;
  readonly cidr: string;
}

export interface SnatEntry extends Base {
  readonly kind: 'snat';
  readonly border: string;
  readonly vpc: string;
  readonly l3Vni: number;
  readonly inside: readonly string[];
  readonly publicIp: string;
}

export interface StaticNatEntry extends Base {
  readonly kind: 'static-nat';
  readonly border: string;
  readonly vpc: string;
  readonly l3Vni: number;
  readonly instance: string;
  readonly publicIp: string;
  readonly insideIp: string;
}

export type PlanEntry =
  | L3VniEntry
  | L2VniEntry
  | AnycastGatewayEntry
  | VrfEntry
  | BridgeDomainEntry
  | VbdifEntry
  | PeeringLinkEntry
  | ExternalLinkEntry
  | VrfRouteEntry
  | ResolvedRouteEntry
  | MacIpRouteEntry
  | DhcpBindingEntry
  | SgRuleEntry
  | AclRuleEntry
  | SnatEntry
  | StaticNatEntry;

export type EntryOf<K extends PlanKind> = Extract<PlanEntry, { kind: K }>;

export interface Plan {
  readonly version: typeof PLAN_VERSION;
  readonly entries: readonly PlanEntry[];
}

export const EMPTY_PLAN: Plan = { version: PLAN_VERSION, entries: [] };

/** Compares strings with runs of digits compared as numbers (`rule 20` before `rule 100`). */
export function naturalCompare(a: string, b: string): number {
  // Tokens are maximal runs of digits or of other characters, compared in turn: two digit runs by
  // value (then the shorter first: "01" after "1"), anything else as strings. Scanned in place,
  // without splitting: this compare sorts every plan and diff.
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const digitsA = isDigit(a.charCodeAt(i));
    const digitsB = isDigit(b.charCodeAt(j));
    let endA = i + 1;
    while (endA < a.length && isDigit(a.charCodeAt(endA)) === digitsA) endA++;
    let endB = j + 1;
    while (endB < b.length && isDigit(b.charCodeAt(endB)) === digitsB) endB++;
    const order = compareTokens(a, i, endA, b, j, endB, digitsA && digitsB);
    if (order !== 0) return order;
    i = endA;
    j = endB;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Two tokens, `a[i, endA)` and `b[j, endB)`: by value when both are digit runs, else as strings. */
function compareTokens(
  a: string,
  i: number,
  endA: number,
  b: string,
  j: number,
  endB: number,
  digits: boolean,
): number {
  const lengthA = endA - i;
  const lengthB = endB - j;
  let k = 0;
  while (k < lengthA && k < lengthB && a.charCodeAt(i + k) === b.charCodeAt(j + k)) k++;
  if (k === lengthA && k === lengthB) return 0;
  if (digits) {
    const d = Number(a.slice(i, endA)) - Number(b.slice(j, endB));
    return d !== 0 ? d : lengthA - lengthB;
  }
  if (k === lengthA) return -1;
  if (k === lengthB) return 1;
  return a.charCodeAt(i + k) < b.charCodeAt(j + k) ? -1 : 1;
}

const KIND_ORDER = new Map<string, number>(PLAN_KINDS.map((k, n) => [k, n]));

export function compareEntries(a: PlanEntry, b: PlanEntry): number {
  return KIND_ORDER.get(a.kind)! - KIND_ORDER.get(b.kind)! || naturalCompare(a.key, b.key);
}

const NO_ENTRIES: readonly PlanEntry[] = [];
/** Each plan's entries by kind, made at the first `entriesOf` (a plan's entries never change). */
const byKindCache = new WeakMap<Plan, Map<PlanKind, readonly PlanEntry[]>>();

/**
 * The entries of one kind, in plan order. The lists are made once per plan (one pass sorting every
 * entry by kind) and shared by later calls: applying a tenant's part reads each kind of its plan
 * once per subnet, VPC and instance reconciled, which filtered the whole plan each time.
 */
export function entriesOf<K extends PlanKind>(plan: Plan, kind: K): readonly EntryOf<K>[] {
  let byKind = byKindCache.get(plan);
  if (byKind === undefined) {
    const lists = new Map<PlanKind, PlanEntry[]>();
    for (const e of plan.entries) {
      const list = lists.get(e.kind);
      if (list === undefined) lists.set(e.kind, [e]);
      else list.push(e);
    }
    byKind = lists;
    byKindCache.set(plan, byKind);
  }
  return (byKind.get(kind) ?? NO_ENTRIES) as readonly EntryOf<K>[];
}

/** `kind key`, the entry's identity in a plan. */
export function entryId(e: Pick<PlanEntry, 'kind' | 'key'>): string {
  return `${e.kind} ${e.key}`;
}
