/**
 * Applying a compiled plan to the running simulated data plane.
 *
 * `VpcDataPlane` holds a `Network` and its empty service fabric (`buildFabric` with hypervisor
 * NVEs, the controller, distributed gateways, a border and no tenants), gives the compiler its
 * `inventory()`, and `apply(next)` diffs `next` against the plan it applied last (`diffPlans`) and
 * changes only what differs, removals first in reverse kind order, then additions in kind order:
 *
 * - `vrf`: a VRF router `host/vpc` (e.g. `leaf1-srv2/vpc-a1`) on the NVE with the VPC's L3 VNI and
 *   a transit address (169.254.0.n, n the NVE's place in the fabric), and the controller told
 *   (`attachVrf`), so the VRFs of one L3 VNI learn each other's router MAC and VTEP.
 * - `bridge-domain`: the BD (id = VNI) on the NVE, the controller's routes for its VNI installed,
 *   flood lists synced; with the subnet's `anycast-gateway`, a VBDIF `vbdifN` with the gateway's
 *   address and the one anycast MAC, and a DHCP server on it in manual allocation.
 * - `mac-ip-route`: the instance: a host named by its id, cabled to a new port of its hypervisor
 *   (port = instance id, an untagged VAP into the BD), announced to the controller; it gets its
 *   address by DHCP (`dhcp-binding`: a reservation MAC -> IP on the local VRF's DHCP server) once
 *   started at the end of the apply. A changed host is a live migration (src/migration): pre-copy
 *   rounds, the stop, the resume at the new hypervisor, a RARP announcement, so the controller's
 *   route wins with a higher MAC mobility sequence number.
 * - `vrf-route`: local routes as blackhole routes for the VPC's blocks in every VRF of the VPC, those
 *   made only for a peering included (an address of the VPC with no instance goes nowhere; instances are reached by connected and EVPN
 *   host routes, which are longer); a subnet's own routes as routes of the packets arriving on its
 *   VBDIF (blackhole, internet gateway via the border's VRF over the L3 VNI, a peering over the
 *   peering link, an instance: on the same NVE next hop its address on its VBDIF, on another NVE
 *   the VRF beside it over the L3 VNI, whose routes of packets arriving on the L3 VNI send the
 *   destination on to the instance; the routes follow an instance that moves, once it resumes).
 * - peerings (derived from the `peering` routes): on every hypervisor with a VRF of either peered
 *   VPC, the VRFs of both (one added for the peering where the plan has none) and an internal link
 *   `pcx-<peer>` between them (198.18.0.0/15, a /30 per pair); a subnet's peering route sends the
 *   peer's CIDR over it to the peer's VRF, which routes by its own connected and EVPN host routes.
 * - `acl-rule`: the subnet's network ACL on its VBDIF, egress rules inbound, ingress rules outbound
 *   (the router's ACL engine; DHCP to the gateway is always allowed).
 * - `sg-rule`: a `SecurityGroupFilter` on the instance's VAP (stateful, counted as `security-group`).
 * - `snat`: on the border's VRF of the VPC, a link to the `internet` router with the public address,
 *   a default route out, and source NAT (hairpin: a packet from inside for that address goes out
 *   and back in through the NAT).
 * - `static-nat`: the elastic IP as 1:1 NAT on that link (`Router.addStaticNat`), before the source
 *   NAT: the instance's packets leave as it, ports kept; packets for it from the internet get the
 *   instance's address and reach it by the EVPN host route; the internet routes it to the VRF.
 *
 * Derived state is reconciled per subnet, VPC and instance touched by the diff (peering links and
 * VRFs, and the routes of packets arriving on the L3 VNI, against the whole plan each time): a table
 * is replaced only when its content changes, so devices and tables the diff does not touch are left
 * alone.
 */

import type { DhcpServer } from '../devices/dhcp/dhcp-server.js';
import { Host } from '../devices/ip/host.js';
import type { AclRuleSpec } from '../devices/router/acl.js';
import type { Route } from '../devices/router/route-table.js';
import type { Router } from '../devices/router/router.js';
import {
  type LiveMigration,
  type MigrationNetworkReport,
  type PreCopyPlan,
  planTiming,
  preCopy,
} from '../migration/index.js';
import type { Nve, Vap } from '../overlay/index.js';
import { SecurityGroupFilter, type SgFilterRule } from '../overlay/security-group.js';
import type { Nanos } from '../sim/index.js';
import { buildFabric, type FabricBuilt } from '../topo/fabric.js';
import { Network } from '../topo/network.js';
import {
  type Cidr,
  cidr,
  cidrBroadcast,
  cidrNetwork,
  formatCidr,
  formatIpv4,
  IpProtocol,
  type Ipv4,
  ip,
  mac as parseMacText,
} from '../wire/index.js';
import { FABRIC_BLOCKS } from './addresses.js';
import { diffPlans } from './diff.js';
import type { FabricInventory } from './intent.js';
import { PartIndex } from './part-index.js';
import {
  type AclRuleEntry,
  compareEntries,
  EMPTY_PLAN,
  type EntryOf,
  entriesOf,
  entryId,
  type MacIpRouteEntry,
  PLAN_KINDS,
  PLAN_VERSION,
  type Plan,
  type PlanEntry,
  type PlanKind,
} from './plan.js';

export interface ApplyCounts {
  added: number;
  changed: number;
  removed: number;
}

export interface ApplyReport {
  /** Plan entries added, changed and removed (the diff applied). */
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  readonly byKind: Partial<Record<PlanKind, ApplyCounts>>;
  /** What was done to the data plane, in order, one line each. */
  readonly actions: readonly string[];
  /** Entries (by `kind key`) the data plane cannot apply (a static NAT of a VPC with no source NAT...). */
  readonly skipped: readonly string[];
}

/** One instance on the data plane. */
export interface InstanceState {
  readonly id: string;
  readonly host: Host;
  nve: Nve;
  vap: Vap;
  readonly vni: number;
  readonly mac: string;
  readonly ip: string;
  readonly filter: SecurityGroupFilter;
}

export interface VpcDataPlaneOptions {
  /** The border's public pool (default 203.0.113.0/24, TEST-NET-3). */
  readonly publicPool?: string;
}

export interface ServiceFabricOptions extends VpcDataPlaneOptions {
  readonly spines?: number;
  readonly leaves?: number;
  readonly serversPerLeaf?: number;
  readonly seed?: number;
}

/**
 * An empty service fabric, started and settled, under a `VpcDataPlane`: spines, leaves, hypervisor
 * NVEs `leafN-srvM` (default 2 spines, 2 leaves, 2 hypervisors per leaf), the controller, a border
 * NVE, the `internet` router and its `web` host (198.51.100.10, UDP echo on port 7); no tenant.
 */
export function createServiceDataPlane(options: ServiceFabricOptions = {}): VpcDataPlane {
  const net = new Network({ seed: options.seed ?? 1 });
  const fabric = buildFabric(net, {
    spines: options.spines ?? 2,
    leaves: options.leaves ?? 2,
    serversPerLeaf: options.serversPerLeaf ?? 2,
    vmsPerServer: 0,
    tenants: [],
    nve: 'hypervisor',
    controlPlane: 'controller',
    gateway: 'distributed',
    external: true,
  });
  net.start();
  net.run({ until: net.scheduler.now() + 10e6 });
  return new VpcDataPlane(net, fabric, options);
}

/** The internal links inside a box (NVE to VRF), as `Network.addVrf` makes them. */
const INTERNAL_LINK = { delay: 0, bandwidth: 1e12 } as const;
/** The VRFs' transit addresses on their L3 VNI: 169.254.0.0/16, the NVE's place in the fabric + 1. */
const TRANSIT_BASE = cidr(FABRIC_BLOCKS.transit.cidr).address;
/** Links between the border's VRFs and the internet router: 100.64.0.0/10 in /30s, one per VPC. */
const EXTERNAL_LINKS = cidr(FABRIC_BLOCKS.external.cidr).address;
/** Peering links between the two VPCs' VRFs on one hypervisor: 198.18.0.0/15 in /30s, one per peering pair. */
const PEERING_LINKS = cidr(FABRIC_BLOCKS.peering.cidr).address;

/** The two VPCs of a peering, in order, and their key `a|b`. */
function peeringPair(x: string, y: string): { key: string; a: string; b: string } {
  const [a, b] = x < y ? [x, y] : [y, x];
  return { key: `${a}|${b}`, a, b };
}

const ACL_PROTOCOL: Record<string, number | undefined> = {
  tcp: IpProtocol.tcp,
  udp: IpProtocol.udp,
  icmp: IpProtocol.icmp,
  all: undefined,
};

export class VpcDataPlane {
  /**
   * The plans applied, by part (the service applies one part per tenant, see tenant-plans.ts; a
   * caller with one whole plan uses the part ''). A part holds whole tenants: everything its
   * entries name (subnets, VPCs, instances, peered VPCs) is in the same part, so a part's apply
   * and its reconciliation read only that part's plan and cost what the part holds.
   */
  private readonly parts = new Map<string, Plan>();
  private readonly nves = new Map<string, Nve>();
  readonly instances = new Map<string, InstanceState>();
  private readonly dhcp = new Map<string, { router: Router; server: DhcpServer }>();
  private readonly publicPool: string;
  /** Border VRF external links, by VPC: the /30 index used. */
  private readonly external = new Map<string, number>();
  /** VRFs (`host/vpc`) the data plane added only to carry a peering (the plan has no VRF there), and their part. */
  private readonly peeringVrfs = new PartIndex<string>();
  /** The part of each peering pair with an index. */
  private readonly peeringPairs = new PartIndex<string>();
  /** Peering pairs (`a|b`): the /30 index of their links (unique over every part). */
  private readonly peeringIndex = new Map<string, number>();
  /** Peering links made, `host/a|b`, and the part they belong to. */
  private readonly peeringLinks = new PartIndex<string>();

  constructor(
    readonly net: Network,
    readonly fabric: FabricBuilt,
    options: VpcDataPlaneOptions = {},
  ) {
    for (const n of fabric.nves) this.nves.set(n.name, n);
    this.publicPool = options.publicPool ?? '203.0.113.0/24';
    for (const n of net.nodes.values()) if (n instanceof Host) this.fabricHosts.push(n);
  }

  /** The hosts of the fabric itself (the internet's `web`), not instances: there from the start. */
  readonly fabricHosts: Host[] = [];

  /** The plan applied: every part's entries, in plan order. */
  get plan(): Plan {
    if (this.parts.size === 0) return EMPTY_PLAN;
    if (this.parts.size === 1) return [...this.parts.values()][0]!;
    const entries = [...this.parts.values()].flatMap((p) => p.entries).sort(compareEntries);
    return { version: PLAN_VERSION, entries };
  }

  /** The plan applied for `part`. */
  planOf(part: string): Plan {
    return this.parts.get(part) ?? EMPTY_PLAN;
  }

  /** What the compiler needs of this fabric: hypervisors with VTEPs and leaves, the border and its pool. */
  inventory(): FabricInventory {
    const border = this.fabric.border;
    return {
      hypervisors: this.fabric.nves
        .filter((n) => n !== border)
        .map((n) => ({ name: n.name, vtep: formatIpv4(n.vtep), leaf: n.name.split('-')[0]! })),
      border: border === null ? null : { name: border.name, publicPool: this.publicPool },
    };
  }

  nve(name: string): Nve {
    const n = this.nves.get(name);
    if (n === undefined) throw new Error(`no NVE named ${name} in this fabric`);
    return n;
  }

  /** The VRF router of `vpc` on `host`, if applied. */
  vrf(host: string, vpc: string): Router | undefined {
    return this.nves.get(host)?.vrfs.get(vpc)?.router;
  }

  /** The host of an instance, if applied. */
  instance(id: string): Host | undefined {
    return this.instances.get(id)?.host;
  }

  private transitIp(nve: Nve): Ipv4 {
    return (TRANSIT_BASE + this.fabric.nves.indexOf(nve) + 1) >>> 0;
  }

  /** Runs the simulation for `ns` (default 50 ms): DHCP and announcements settle. */
  settle(ns = 50e6): void {
    const now = this.net.scheduler.now();
    // Long enough for every live migration under way to resume and converge, plus `ns`.
    let until = now + ns;
    for (const { plan } of this.migrations.values()) until = Math.max(until, now + plan.totalTime + ns);
    this.net.run({ until });
    for (const done of this.afterMigrations.splice(0)) done();
    if (this.migrations.size > 0) this.net.run({ until: this.net.scheduler.now() + ns });
    if (this.migrations.size === 0) return;
    this.migrated.clear();
    for (const [id, { migration, plan }] of this.migrations) {
      migration.finish();
      this.migrated.set(id, { ...migration.report(), totalTime: plan.totalTime, pagesSent: plan.pagesSent });
    }
    this.migrations.clear();
  }

  /**
   * Makes the data plane match `next` for `part` (default: the one whole plan), changing only what
   * differs from the part's plan applied before.
   */
  apply(next: Plan, part = ''): ApplyReport {
    const diff = diffPlans(this.planOf(part), next);
    const actions: string[] = [];
    const skipped: string[] = [];
    const byKind: Partial<Record<PlanKind, ApplyCounts>> = {};
    const count = (kind: PlanKind, what: keyof ApplyCounts) => {
      const c = byKind[kind] ?? { added: 0, changed: 0, removed: 0 };
      byKind[kind] = c;
      c[what]++;
    };
    for (const e of diff.added) count(e.kind, 'added');
    for (const e of diff.removed) count(e.kind, 'removed');
    for (const c of diff.changed) count(c.kind, 'changed');

    const ctx: Ctx = {
      next,
      part,
      floodVnis: new Set(),
      actions,
      skipped,
      dirtySubnets: new Set(),
      dirtyVpcs: new Set(),
      dirtyInstances: new Set(),
      toStart: [],
      flood: false,
    };
    // A change is a removal and an addition, except where the data plane can change in place.
    const removals: PlanEntry[] = [...diff.removed];
    const additions: PlanEntry[] = [...diff.added];
    const moves: { before: MacIpRouteEntry; after: MacIpRouteEntry }[] = [];
    for (const c of diff.changed) {
      const inPlace = c.fields.every((f) => f === 'source' || f === 'host' || f === 'vtep');
      if (c.kind === 'mac-ip-route' && inPlace)
        moves.push({ before: c.before as MacIpRouteEntry, after: c.after as MacIpRouteEntry });
      else if (c.kind === 'vrf-route' || c.kind === 'acl-rule' || c.kind === 'sg-rule') {
        this.markDirty(ctx, c.before);
        this.markDirty(ctx, c.after);
      } else {
        removals.push(c.before);
        additions.push(c.after);
      }
    }
    const order = (e: PlanEntry) => PLAN_KINDS.indexOf(e.kind);
    removals.sort((a, b) => order(b) - order(a));
    additions.sort((a, b) => order(a) - order(b));
    // While instances live-migrate, they run at their old place until their stop: what the plan
    // removes (a BD or VRF they leave behind) goes once they have resumed, in `settle`.
    const now = moves.length > 0 ? [] : removals;
    for (const e of now) this.remove(ctx, e);
    for (const e of additions) this.add(ctx, e);
    for (const m of moves) this.move(ctx, m.before, m.after);
    if (next.entries.length === 0) this.parts.delete(part);
    else this.parts.set(part, next);
    this.finishChanges(ctx);
    if (moves.length > 0 && removals.length > 0)
      this.afterMigrations.push(() => {
        const later: Ctx = { ...ctx, toStart: [], flood: false, floodVnis: new Set() };
        for (const e of removals) this.remove(later, e);
        this.finishChanges(later);
      });
    return {
      added: diff.added.length,
      changed: diff.changed.length,
      removed: diff.removed.length,
      byKind,
      actions,
      skipped,
    };
  }

  /** Routes, rules and filters of what changed; flood lists; hosts to start. */
  private finishChanges(ctx: Ctx): void {
    this.reconcile(ctx);
    if (ctx.flood) {
      const f = this.net.overlay.syncFloodLists(ctx.floodVnis);
      if (f.added + f.removed > 0) ctx.actions.push(`flood lists: +${f.added} -${f.removed} VTEPs`);
    }
    for (const h of ctx.toStart) h.start();
  }

  /**
   * A VRF added or removed: its L3 VNI's flood lists are brought in line too (as the whole sync did,
   * which went over every BD, L3 VNI ones included).
   */
  private floodL3(ctx: Ctx, vni: number): void {
    ctx.flood = true;
    ctx.floodVnis.add(vni);
  }

  /** Removals waiting for the live migrations under way to resume (run by `settle`). */
  private readonly afterMigrations: (() => void)[] = [];

  // ---- per kind ----

  private markDirty(ctx: Ctx, e: PlanEntry): void {
    switch (e.kind) {
      case 'vrf-route':
        if (e.subnet === null) ctx.dirtyVpcs.add(e.vpc);
        else ctx.dirtySubnets.add(e.subnet);
        return;
      case 'acl-rule':
        ctx.dirtySubnets.add(e.subnet);
        return;
      case 'sg-rule':
        ctx.dirtyInstances.add(e.instance);
        return;
      default:
        return;
    }
  }

  private remove(ctx: Ctx, e: PlanEntry): void {
    switch (e.kind) {
      case 'vrf-route':
      case 'acl-rule':
      case 'sg-rule':
        return this.markDirty(ctx, e);
      case 'mac-ip-route':
        return this.removeInstance(ctx, e);
      case 'dhcp-binding': {
        const d = this.dhcp.get(`${e.host}/${e.vni}`);
        if (d !== undefined && d.server.reservation(parseMacText(e.mac)) !== undefined) {
          d.server.unreserve(parseMacText(e.mac));
          ctx.actions.push(`- dhcp ${d.router.name} vbdif${e.vni}: reservation ${e.mac} (${e.instance})`);
        }
        return;
      }
      case 'bridge-domain':
        return this.removeBridgeDomain(ctx, e);
      case 'vrf': {
        const nve = this.nve(e.host);
        if (!nve.vrfs.has(e.vpc)) return;
        this.net.removeVrf(nve, e.vpc);
        this.floodL3(ctx, e.l3Vni);
        this.external.delete(e.role === 'border' ? e.vpc : '');
        ctx.actions.push(`- vrf ${e.host}/${e.vpc}`);
        return;
      }
      case 'snat':
        return this.removeSnat(ctx, e);
      case 'static-nat':
        return this.removeStaticNat(ctx, e);
      default:
        return; // l3-vni, l2-vni, anycast-gateway: carried by the VRFs and BDs
    }
  }

  private add(ctx: Ctx, e: PlanEntry): void {
    switch (e.kind) {
      case 'vrf-route':
        return this.markDirty(ctx, e);
      case 'acl-rule':
      case 'sg-rule':
        return this.markDirty(ctx, e);
      case 'vrf':
        return this.addVrf(ctx, e);
      case 'bridge-domain':
        return this.addBridgeDomain(ctx, e);
      case 'mac-ip-route':
        return this.addInstance(ctx, e);
      case 'dhcp-binding': {
        const d = this.dhcp.get(`${e.host}/${e.vni}`);
        if (d === undefined) {
          ctx.skipped.push(entryId(e));
          return;
        }
        d.server.reserve(parseMacText(e.mac), ip(e.ip));
        ctx.actions.push(
          `+ dhcp ${d.router.name} vbdif${e.vni}: reserve ${e.mac} -> ${e.ip} (${e.instance})`,
        );
        return;
      }
      case 'snat':
        return this.addSnat(ctx, e);
      case 'static-nat':
        return this.addStaticNat(ctx, e);
      default:
        return;
    }
  }

  private addVrf(ctx: Ctx, e: EntryOf<'vrf'>): void {
    const nve = this.nve(e.host);
    if (this.peeringVrfs.delete(`${e.host}/${e.vpc}`) && nve.vrfs.has(e.vpc)) {
      ctx.dirtyVpcs.add(e.vpc);
      ctx.actions.push(`~ vrf ${e.host}/${e.vpc}: made for a peering, now in the plan`);
      return;
    }
    const transitIp = this.transitIp(nve);
    const router = this.net.addVrf(nve, e.vpc, { l3: { vni: e.l3Vni, transitIp, prefixLength: 16 } });
    this.net.overlay.attachVrf(nve, e.vpc);
    this.forgetOldRouterMac(nve, e.vpc);
    this.floodL3(ctx, e.l3Vni);
    ctx.dirtyVpcs.add(e.vpc);
    ctx.actions.push(`+ vrf ${router.name}: L3 VNI ${e.l3Vni}, transit ${formatIpv4(transitIp)}/16`);
  }

  /**
   * A VRF made again where one was removed has the same transit address and a new router MAC: the
   * other VRFs of its L3 VNI forget the old MAC in their ARP caches and ask again (the NVEs' ARP
   * suppression answers with the new one).
   */
  private forgetOldRouterMac(nve: Nve, vpc: string): void {
    const transit = this.transitIp(nve);
    for (const other of this.nves.values()) {
      const v = other === nve ? undefined : other.vrfs.get(vpc);
      v?.router.iface(v.l3Iface)?.arp.delete(transit);
    }
  }

  private addBridgeDomain(ctx: Ctx, e: EntryOf<'bridge-domain'>): void {
    const nve = this.nve(e.host);
    const bd = nve.addBridgeDomain(e.vni, e.vni, e.vpc);
    this.net.overlay.syncBridgeDomain(nve, bd);
    ctx.flood = true;
    ctx.floodVnis.add(e.vni);
    ctx.dirtySubnets.add(e.subnet);
    ctx.actions.push(`+ bridge-domain ${e.host} BD ${e.vni} (VNI ${e.vni}, ${e.subnet})`);
    const gw = entriesOf(ctx.next, 'anycast-gateway').find((g) => g.subnet === e.subnet);
    const router = nve.vrfs.get(e.vpc)?.router;
    if (gw === undefined || router === undefined) return;
    const name = `vbdif${e.vni}`;
    const address = cidr(gw.address);
    const mac = parseMacText(gw.mac);
    const iface = router.iface(name);
    if (iface === undefined) router.addInterface({ name, mac, addresses: [address] });
    else router.assignAddress(iface, address);
    bd.addStatic(mac, nve.addSubinterface(name, { kind: 'untagged' }, bd, 'anycast-gateway'));
    bd.anycastGateways.add(address.address);
    this.net.addLink(nve, router, { aPort: name, bPort: name, ...INTERNAL_LINK });
    // Distributed DHCP: the local gateway hands out what the service reserved, and nothing else.
    const key = `${e.host}/${e.vni}`;
    const known = this.dhcp.get(key);
    if (known === undefined || known.router !== router) {
      const net = cidrNetwork(address);
      const server = router.enableDhcpServer(name, {
        first: (net + 4) >>> 0,
        last: (cidrBroadcast(address) - 1) >>> 0,
        router: address.address,
        manualOnly: true,
      });
      router.start();
      this.dhcp.set(key, { router, server });
    }
    ctx.actions.push(
      `+ anycast-gateway ${router.name} ${name} ${gw.address} ${gw.mac}, DHCP (manual allocation)`,
    );
  }

  private removeBridgeDomain(ctx: Ctx, e: EntryOf<'bridge-domain'>): void {
    const nve = this.nve(e.host);
    if (nve.bridgeDomain(e.vni) === undefined) return;
    const router = nve.vrfs.get(e.vpc)?.router;
    const name = `vbdif${e.vni}`;
    const iface = router?.iface(name);
    if (router !== undefined && iface !== undefined) {
      const link = router.port(name)?.link;
      if (link) this.net.unplug(link);
      router.clearAddresses(iface);
      router.setInterfaceRoutes(name, []);
      router.unapplyAcl(name, 'in');
      router.unapplyAcl(name, 'out');
    }
    for (const vap of nve.removeBridgeDomain(e.vni)) {
      const link = vap.port.link;
      if (link) this.net.unplug(link);
    }
    ctx.flood = true;
    ctx.floodVnis.add(e.vni);
    ctx.actions.push(`- bridge-domain ${e.host} BD ${e.vni} (${e.subnet})`);
  }

  private addInstance(ctx: Ctx, e: MacIpRouteEntry): void {
    const nve = this.nve(e.host);
    const bd = nve.bridgeDomainByVni(e.vni);
    if (bd === undefined) throw new Error(`${e.host} has no BD for VNI ${e.vni} (apply the plan whole)`);
    const mac = parseMacText(e.mac);
    const host = this.net.addHost(e.instance, { mac, dhcp: true });
    const vap = nve.addSubinterface(e.instance, { kind: 'untagged' }, bd);
    this.net.addLink(host, nve, { bPort: e.instance });
    const filter = new SecurityGroupFilter(e.instance);
    nve.setVapFilter(vap, filter);
    this.net.overlay.announce(nve, bd, mac, ip(e.ip));
    this.instances.set(e.instance, {
      id: e.instance,
      host,
      nve,
      vap,
      vni: e.vni,
      mac: e.mac,
      ip: e.ip,
      filter,
    });
    ctx.dirtyInstances.add(e.instance);
    ctx.toStart.push(host);
    ctx.actions.push(
      `+ instance ${e.instance} on ${e.host} port ${e.instance} (BD ${e.vni}), ${e.mac}; controller: ${e.ip} behind ${e.vtep}`,
    );
  }

  private removeInstance(ctx: Ctx, e: MacIpRouteEntry): void {
    const s = this.instances.get(e.instance);
    if (s === undefined) return;
    s.nve.removeVap(s.vap);
    this.net.removeNode(s.host.name);
    this.net.overlay.withdraw(s.vni, parseMacText(s.mac));
    this.instances.delete(e.instance);
    ctx.dirtyInstances.add(e.instance);
    ctx.actions.push(`- instance ${e.instance} from ${s.nve.name}; controller: route ${e.key} withdrawn`);
  }

  /** Unplug and re-plug: the instance keeps its address; the controller's route moves (seq + 1). */
  /**
   * A changed host is a live migration (src/migration): the memory model's pre-copy timing, the VM
   * unplugged at its stop and plugged at the destination's new VAP (same VNI, the same security
   * group filter) at its resume, announced by RARP; the controller moves its route with MAC mobility.
   * `settle` runs the simulation until every migration has resumed and converged.
   */
  private move(ctx: Ctx, before: MacIpRouteEntry, after: MacIpRouteEntry): void {
    const s = this.instances.get(after.instance);
    if (s === undefined) return this.addInstance(ctx, after);
    const to = this.nve(after.host);
    const bd = to.bridgeDomainByVni(after.vni);
    if (bd === undefined) throw new Error(`${after.host} has no BD for VNI ${after.vni}`);
    const plan = preCopy(this.migrationModel);
    const migration = this.net.migrate(s.host, to, { timing: planTiming(plan), port: after.instance });
    const port = to.port(after.instance);
    const vap = port === undefined ? undefined : to.vaps.onPort(port).find((v) => v.bd === bd);
    if (vap === undefined) throw new Error(`${after.host}: no VAP was made for ${after.instance}`);
    to.setVapFilter(vap, s.filter);
    const old = { nve: s.nve, vap: s.vap };
    migration.onResumed(() => {
      old.nve.removeVap(old.vap);
      s.nve = to;
      s.vap = vap;
      this.net.overlay.announce(to, bd, parseMacText(after.mac), ip(after.ip));
    });
    this.migrations.set(after.instance, { migration, plan });
    // Once it has resumed, the routes to it follow it.
    this.afterMigrations.push(() => {
      this.reconcile({
        ...ctx,
        toStart: [],
        flood: false,
        floodVnis: new Set(),
        dirtySubnets: new Set(),
        dirtyVpcs: new Set(),
        dirtyInstances: new Set([after.instance]),
      });
    });
    ctx.actions.push(
      `~ instance ${after.instance} live-migrating ${before.host} -> ${after.host} (pre-copy: ${plan.rounds.length} live round${plan.rounds.length === 1 ? '' : 's'}, ${(plan.downtime / 1e6).toFixed(3)} ms down)`,
    );
  }

  /** Live migrations started by the last applies, by instance, until `settle` ends them. */
  private readonly migrations = new Map<string, { migration: LiveMigration; plan: PreCopyPlan }>();
  /** The reports of the migrations the last `settle` that had any finished, by instance. */
  readonly migrated = new Map<string, MigrationNetworkReport & { totalTime: Nanos; pagesSent: number }>();

  /** The memory model of an instance's migration (the intent has no memory size: 1 GiB, 10,000 dirty pages/s, 10 Gbit/s). */
  migrationModel = { memoryBytes: 2 ** 30, dirtyRate: 10_000, bandwidth: 10e9 };

  private addSnat(ctx: Ctx, e: EntryOf<'snat'>): void {
    const border = this.fabric.border;
    const internet = this.fabric.internet;
    const vrf = border?.vrfs.get(e.vpc)?.router;
    if (border === null || internet === null || vrf === undefined) {
      ctx.skipped.push(entryId(e));
      return;
    }
    let n = 0;
    const used = new Set(this.external.values());
    while (used.has(n)) n++;
    this.external.set(e.vpc, n);
    const base = (EXTERNAL_LINKS + n * 4) >>> 0;
    const publicIp = ip(e.publicIp);
    const outside = `to-${e.vpc}`;
    if (internet.iface(outside) === undefined)
      internet.addInterface({ name: outside, mac: this.net.allocateMac(), addresses: [] });
    const out = internet.iface(outside)!;
    internet.assignAddress(out, { address: base + 1, prefixLength: 30 });
    vrf.addInterface({
      name: 'ext',
      mac: this.net.allocateMac(),
      addresses: [
        { address: base + 2, prefixLength: 30 },
        { address: publicIp, prefixLength: 32 },
      ],
    });
    this.net.addLink(vrf, internet, { aPort: 'ext', bPort: outside });
    vrf.addStaticRoute({ prefix: { address: 0, prefixLength: 0 }, nextHop: base + 1, iface: 'ext' });
    vrf.enableSnat('ext', publicIp);
    internet.addStaticRoute({
      prefix: { address: publicIp, prefixLength: 32 },
      nextHop: base + 2,
      iface: outside,
    });
    ctx.actions.push(`+ snat ${vrf.name} ext: ${e.inside.join(',')} leave as ${e.publicIp}`);
    // The VPC's elastic IPs applied before (a changed source NAT is a removal and an addition).
    for (const s of entriesOf(ctx.next, 'static-nat'))
      if (s.vpc === e.vpc && this.staticNatsApplied.has(s.publicIp)) this.installStaticNat(s);
  }

  /** Elastic IPs on the border, by public address. */
  private readonly staticNatsApplied = new Set<string>();

  /** 1:1 NAT on the border VRF's `ext` of the VPC, and the internet's route to the public address. */
  private installStaticNat(e: EntryOf<'static-nat'>): boolean {
    const internet = this.fabric.internet;
    const vrf = this.fabric.border?.vrfs.get(e.vpc)?.router;
    const n = this.external.get(e.vpc);
    if (internet === null || internet === undefined || vrf === undefined || n === undefined) return false;
    if (vrf.iface('ext') === undefined) return false;
    const publicIp = ip(e.publicIp);
    vrf.addStaticNat('ext', publicIp, ip(e.insideIp));
    internet.routes.removeAt(publicIp, 32);
    internet.addStaticRoute({
      prefix: { address: publicIp, prefixLength: 32 },
      nextHop: (EXTERNAL_LINKS + n * 4 + 2) >>> 0,
      iface: `to-${e.vpc}`,
    });
    return true;
  }

  private addStaticNat(ctx: Ctx, e: EntryOf<'static-nat'>): void {
    if (!this.installStaticNat(e)) {
      ctx.skipped.push(entryId(e));
      return;
    }
    this.staticNatsApplied.add(e.publicIp);
    ctx.actions.push(
      `+ static-nat ${e.border}/${e.vpc} ext: ${e.publicIp} <-> ${e.insideIp} (${e.instance})`,
    );
  }

  private removeStaticNat(ctx: Ctx, e: EntryOf<'static-nat'>): void {
    if (!this.staticNatsApplied.delete(e.publicIp)) return;
    const publicIp = ip(e.publicIp);
    this.fabric.border?.vrfs.get(e.vpc)?.router.removeStaticNat('ext', publicIp);
    this.fabric.internet?.routes.removeAt(publicIp, 32);
    ctx.actions.push(`- static-nat ${e.border}/${e.vpc} ext: ${e.publicIp} (${e.instance})`);
  }

  private removeSnat(ctx: Ctx, e: EntryOf<'snat'>): void {
    const internet = this.fabric.internet;
    const vrf = this.fabric.border?.vrfs.get(e.vpc)?.router;
    const outside = `to-${e.vpc}`;
    if (internet !== null) {
      internet.routes.remove((r) => r.iface === outside);
      const out = internet.iface(outside);
      if (out !== undefined) internet.clearAddresses(out);
      const link = internet.port(outside)?.link;
      if (link) this.net.unplug(link);
    }
    if (vrf !== undefined) {
      vrf.nats.delete('ext');
      vrf.staticNats.delete('ext');
      vrf.routes.remove((r) => r.iface === 'ext');
      const ext = vrf.iface('ext');
      if (ext !== undefined) vrf.clearAddresses(ext);
    }
    this.external.delete(e.vpc);
    ctx.actions.push(`- snat ${e.border}/${e.vpc}`);
  }

  // ---- reconciliation of derived tables ----

  /**
   * Peerings: for each pair of peered VPCs (a peering route in either), on every hypervisor with a
   * VRF of either VPC, both VPCs' VRFs (one added for the peering when the plan has none there) and
   * an internal link between them, `pcx-<peer>` on each side. A subnet's peering route sends the
   * peer's CIDR over that link into the peer's VRF on the same hypervisor, which reaches the peer's
   * instances by its own connected and EVPN host routes over its L3 VNI. The packets from the link
   * are routed by the VRF's main table only, so only a subnet whose table has the route gets across.
   */
  private reconcilePeerings(ctx: Ctx): void {
    const next = ctx.next;
    const l3 = new Map(entriesOf(next, 'l3-vni').map((e) => [e.vpc, e.vni] as const));
    const hostsOf = (vpc: string) =>
      entriesOf(next, 'vrf')
        .filter((v) => v.vpc === vpc && v.role === 'hypervisor')
        .map((v) => v.host);
    const pairs = new Map<string, { a: string; b: string }>();
    for (const r of entriesOf(next, 'vrf-route'))
      if (r.target === 'peering' && r.nextHop !== null && l3.has(r.vpc) && l3.has(r.nextHop)) {
        const p = peeringPair(r.vpc, r.nextHop);
        pairs.set(p.key, p);
      }
    const wantVrfs = new Set<string>();
    const wantLinks = new Set<string>();
    for (const [key, { a, b }] of [...pairs].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      const ha = hostsOf(a);
      const hb = hostsOf(b);
      if (ha.length === 0 || hb.length === 0) continue; // one side has no instance: nothing to carry
      let n = this.peeringIndex.get(key);
      if (n === undefined) {
        const used = new Set(this.peeringIndex.values());
        n = 0;
        while (used.has(n)) n++;
        this.peeringIndex.set(key, n);
        this.peeringPairs.set(key, ctx.part);
      }
      for (const host of [...new Set([...ha, ...hb])].sort()) {
        const nve = this.nve(host);
        for (const vpc of [a, b]) {
          const k = `${host}/${vpc}`;
          if (!nve.vrfs.has(vpc)) {
            const router = this.net.addVrf(nve, vpc, {
              l3: { vni: l3.get(vpc)!, transitIp: this.transitIp(nve), prefixLength: 16 },
            });
            this.net.overlay.attachVrf(nve, vpc);
            this.forgetOldRouterMac(nve, vpc);
            this.floodL3(ctx, l3.get(vpc)!);
            this.peeringVrfs.set(k, ctx.part);
            ctx.actions.push(`+ vrf ${router.name}: L3 VNI ${l3.get(vpc)}, for peering ${a} <-> ${b}`);
            ctx.dirtyVpcs.add(vpc); // its local blackhole routes
          }
          if (this.peeringVrfs.has(k)) wantVrfs.add(k);
        }
        wantLinks.add(`${host}/${key}`);
        this.wirePeering(ctx, host, a, b, n);
      }
    }
    for (const link of this.peeringLinks.keysOf(ctx.part).sort()) {
      if (wantLinks.has(link)) continue;
      const [host, key] = [link.slice(0, link.indexOf('/')), link.slice(link.indexOf('/') + 1)];
      const [a, b] = key.split('|') as [string, string];
      this.unwirePeering(host, a, b);
      this.peeringLinks.delete(link);
      this.markPeeringSubnets(ctx, a, b);
      ctx.actions.push(`- peering link ${host}: ${a} <-> ${b}`);
    }
    for (const k of this.peeringVrfs.keysOf(ctx.part).sort()) {
      if (wantVrfs.has(k)) continue;
      const [host, vpc] = k.split('/') as [string, string];
      const l3Vni = this.nve(host).vrfs.get(vpc)?.l3Vni;
      this.net.removeVrf(this.nve(host), vpc);
      if (l3Vni !== undefined && l3Vni !== null) this.floodL3(ctx, l3Vni);
      this.peeringVrfs.delete(k);
      ctx.actions.push(`- vrf ${k} (made for a peering)`);
    }
    for (const key of this.peeringPairs.keysOf(ctx.part))
      if (!pairs.has(key)) {
        this.peeringIndex.delete(key);
        this.peeringPairs.delete(key);
      }
  }

  /**
   * The VPC's local routes as blackhole routes in each of its VRFs, the plan's and those made only
   * for a peering alike: an address of the VPC with no instance goes nowhere (instances are reached
   * by longer connected and EVPN host routes), wherever the packet for it arrives.
   */
  private syncLocalBlackholes(ctx: Ctx, vpc: string): void {
    const want = entriesOf(ctx.next, 'vrf-route')
      .filter((r) => r.vpc === vpc && r.subnet === null && r.target === 'local')
      .map((r) => cidr(r.destination))
      .sort((a, b) => a.address - b.address || a.prefixLength - b.prefixLength);
    const hosts = new Set(
      entriesOf(ctx.next, 'vrf')
        .filter((v) => v.vpc === vpc)
        .map((v) => v.host),
    );
    for (const k of this.peeringVrfs.keysOf(ctx.part))
      if (k.endsWith(`/${vpc}`)) hosts.add(k.slice(0, -vpc.length - 1));
    for (const host of [...hosts].sort()) {
      const router = this.vrf(host, vpc);
      if (router === undefined) continue;
      const have = router.routes
        .routesWhere((r) => r.source === 'blackhole')
        .map((r) => ({ address: r.prefix, prefixLength: r.prefixLength }))
        .sort((a, b) => a.address - b.address || a.prefixLength - b.prefixLength);
      if (JSON.stringify(have) === JSON.stringify(want)) continue;
      router.routes.remove((r) => r.source === 'blackhole');
      for (const c of want) router.addStaticRoute({ prefix: c, blackhole: true });
      ctx.actions.push(
        `~ routes ${router.name}: local ${want.map(formatCidr).join(', ')} (no instance: dropped)`,
      );
    }
  }

  private wirePeering(ctx: Ctx, host: string, a: string, b: string, n: number): void {
    const ra = this.vrf(host, a)!;
    const rb = this.vrf(host, b)!;
    const pa = ra.port(`pcx-${b}`);
    const pb = rb.port(`pcx-${a}`);
    const link = pa?.link;
    if (link !== null && link !== undefined && (link.a === pb || link.b === pb)) return;
    this.unwirePeering(host, a, b);
    const base = (PEERING_LINKS + n * 4) >>> 0;
    for (const [router, name, address] of [
      [ra, `pcx-${b}`, base + 1],
      [rb, `pcx-${a}`, base + 2],
    ] as const) {
      const iface = router.iface(name);
      if (iface === undefined)
        router.addInterface({
          name,
          mac: this.net.allocateMac(),
          addresses: [{ address, prefixLength: 30 }],
        });
      else router.assignAddress(iface, { address, prefixLength: 30 });
    }
    this.net.addLink(ra, rb, { aPort: `pcx-${b}`, bPort: `pcx-${a}`, ...INTERNAL_LINK });
    // A side made anew (a VRF removed and made again) has a new MAC: the other side asks again.
    ra.iface(`pcx-${b}`)!.arp.delete(base + 2);
    rb.iface(`pcx-${a}`)!.arp.delete(base + 1);
    this.peeringLinks.set(`${host}/${a}|${b}`, ctx.part);
    this.markPeeringSubnets(ctx, a, b);
    ctx.actions.push(
      `+ peering link ${host}: ${ra.name} pcx-${b} ${formatIpv4(base + 1)}/30 <-> ${rb.name} pcx-${a} ${formatIpv4(base + 2)}/30`,
    );
  }

  /** The subnets with a route across the peering of `a` and `b`: their routes follow the links. */
  private markPeeringSubnets(ctx: Ctx, a: string, b: string): void {
    for (const r of entriesOf(ctx.next, 'vrf-route'))
      if (
        r.target === 'peering' &&
        r.subnet !== null &&
        peeringPair(r.vpc, r.nextHop ?? '').key === `${a}|${b}`
      )
        ctx.dirtySubnets.add(r.subnet);
  }

  private unwirePeering(host: string, a: string, b: string): void {
    for (const [router, name] of [
      [this.vrf(host, a), `pcx-${b}`],
      [this.vrf(host, b), `pcx-${a}`],
    ] as const) {
      if (router === undefined) continue;
      const link = router.port(name)?.link;
      if (link) this.net.unplug(link);
      const iface = router.iface(name);
      if (iface !== undefined) router.clearAddresses(iface);
    }
  }

  private reconcile(ctx: Ctx): void {
    const next = ctx.next;
    this.reconcilePeerings(ctx);
    // Routes to an instance follow it: the subnets routing to an instance added, moved or removed.
    for (const r of entriesOf(next, 'vrf-route'))
      if (r.target === 'instance' && r.subnet !== null && ctx.dirtyInstances.has(r.via ?? ''))
        ctx.dirtySubnets.add(r.subnet);
    this.syncApplianceRoutes(ctx);
    for (const vpc of [...ctx.dirtyVpcs].sort()) this.syncLocalBlackholes(ctx, vpc);
    for (const subnet of [...ctx.dirtySubnets].sort()) {
      for (const b of entriesOf(next, 'bridge-domain').filter((x) => x.subnet === subnet)) {
        const router = this.vrf(b.host, b.vpc);
        const name = `vbdif${b.vni}`;
        if (router === undefined || router.iface(name) === undefined) continue;
        this.syncSubnetRoutes(ctx, router, b.host, b.vpc, subnet, name);
        this.syncSubnetAcl(ctx, router, subnet, name);
      }
    }
    for (const id of [...ctx.dirtyInstances].sort()) {
      const s = this.instances.get(id);
      if (s === undefined) continue;
      const rules: SgFilterRule[] = entriesOf(next, 'sg-rule')
        .filter((r) => r.instance === id)
        .map((r) => ({
          direction: r.direction,
          protocol: r.protocol,
          ports: r.ports,
          cidr: r.cidr,
          source: r.source,
        }));
      if (JSON.stringify(rules) === JSON.stringify(s.filter.ruleList)) continue;
      s.filter.setRules(rules);
      ctx.actions.push(`~ security groups of ${id} on ${s.nve.name} port ${id}: ${rules.length} rules`);
    }
  }

  /**
   * Routes to an instance from a subnet on another hypervisor arrive over the L3 VNI at the VRF
   * beside the instance: there, routes of the packets arriving on the L3 VNI send each such
   * destination on to the instance (on its VBDIF, next hop its address). The main table's routes
   * (the VPC's own addresses) are longer, so only the routed destinations take them; when two
   * subnets route one destination to two instances on one hypervisor, the first route (by key) wins.
   */
  private syncApplianceRoutes(ctx: Ctx): void {
    for (const v of entriesOf(ctx.next, 'vrf')) {
      if (v.role !== 'hypervisor') continue;
      const vrf = this.nve(v.host).vrfs.get(v.vpc);
      if (vrf === undefined || vrf.l3Vni === null) continue;
      const routes: Route[] = [];
      for (const r of entriesOf(ctx.next, 'vrf-route')) {
        if (r.vpc !== v.vpc || r.subnet === null || r.target !== 'instance' || r.nextHop === null) continue;
        const target = this.instances.get(r.via ?? '');
        if (target === undefined || target.nve.name !== v.host) continue;
        const c = cidr(r.destination);
        const prefix = cidrNetwork(c);
        if (routes.some((x) => x.prefix === prefix && x.prefixLength === c.prefixLength)) continue;
        routes.push({
          prefix,
          prefixLength: c.prefixLength,
          metric: 1,
          nextHop: ip(r.nextHop),
          iface: `vbdif${target.vni}`,
          source: 'static',
        });
      }
      const router = vrf.router;
      if (JSON.stringify(routes) === JSON.stringify(router.interfaceRoutesOf(vrf.l3Iface))) continue;
      router.setInterfaceRoutes(vrf.l3Iface, routes);
      ctx.actions.push(
        `~ routes ${router.name} from ${vrf.l3Iface} (to instances here): ${routes.map((r) => `${formatIpv4(r.prefix)}/${r.prefixLength} via ${formatIpv4(r.nextHop ?? 0)}`).join(', ') || 'none'}`,
      );
    }
  }

  private syncSubnetRoutes(
    ctx: Ctx,
    router: Router,
    host: string,
    vpc: string,
    subnet: string,
    iface: string,
  ) {
    const routes: Route[] = [];
    for (const r of entriesOf(ctx.next, 'vrf-route')) {
      if (r.subnet !== subnet) continue;
      const c = cidr(r.destination);
      const base = { prefix: cidrNetwork(c), prefixLength: c.prefixLength, metric: 1 };
      if (r.target === 'blackhole')
        routes.push({ ...base, nextHop: null, iface: 'null0', source: 'blackhole' });
      else if (r.target === 'internet-gateway') {
        const border = this.fabric.border;
        if (border === null || !border.vrfs.has(vpc)) continue;
        routes.push({ ...base, nextHop: this.transitIp(border), iface: 'l3vni', source: 'static' });
      } else if (r.target === 'peering' && r.nextHop !== null) {
        const p = peeringPair(vpc, r.nextHop);
        const n = this.peeringIndex.get(p.key);
        if (n === undefined || this.vrf(host, r.nextHop) === undefined) continue;
        const peerIp = (PEERING_LINKS + n * 4 + (vpc === p.a ? 2 : 1)) >>> 0;
        routes.push({ ...base, nextHop: peerIp, iface: `pcx-${r.nextHop}`, source: 'static' });
      } else if (r.target === 'instance' && r.nextHop !== null) {
        const target = this.instances.get(r.via ?? '');
        if (target === undefined) continue;
        if (target.nve.name === host)
          routes.push({ ...base, nextHop: ip(r.nextHop), iface: `vbdif${target.vni}`, source: 'static' });
        else {
          // Over the L3 VNI to the VRF beside the instance, which sends it on to the instance.
          const far = target.nve.vrfs.get(vpc);
          if (far === undefined || far.l3Vni === null) continue;
          routes.push({ ...base, nextHop: far.transitIp, iface: far.l3Iface, source: 'static' });
        }
      }
    }
    if (JSON.stringify(routes) === JSON.stringify(router.interfaceRoutesOf(iface))) return;
    router.setInterfaceRoutes(iface, routes);
    ctx.actions.push(
      `~ routes ${router.name} from ${iface} (${subnet}): ${routes.map((r) => `${formatIpv4(r.prefix)}/${r.prefixLength} ${r.source === 'blackhole' ? 'blackhole' : `via ${formatIpv4(r.nextHop ?? 0)}`}`).join(', ') || 'none'}`,
    );
  }

  private syncSubnetAcl(ctx: Ctx, router: Router, subnet: string, iface: string) {
    const rules = entriesOf(ctx.next, 'acl-rule')
      .filter((r) => r.subnet === subnet)
      .sort((a, b) => a.number - b.number);
    for (const direction of ['egress', 'ingress'] as const) {
      const mine = rules.filter((r) => r.direction === direction);
      const way = direction === 'egress' ? 'in' : 'out';
      const specs = mine.map((r) => aclSpec(r));
      // DHCP to the gateway (from an instance with no address yet) is never filtered.
      if (direction === 'egress' && specs.length > 0)
        specs.unshift({
          action: 'permit',
          protocol: IpProtocol.udp,
          dstPorts: { from: 67, to: 67 },
          label: 'dhcp',
        });
      const name = `${mine[0]?.acl ?? 'acl'}/${direction}/${subnet}`;
      const current = router.appliedAcl(iface, way);
      if (specs.length === 0) {
        if (current !== undefined) {
          router.unapplyAcl(iface, way);
          ctx.actions.push(`- acl ${router.name} ${iface} ${way}`);
        }
        continue;
      }
      if (
        current !== undefined &&
        current.name === name &&
        JSON.stringify(current.rules) === JSON.stringify(specs)
      )
        continue;
      router.defineAcl(name, specs);
      router.applyAcl(iface, name, way);
      ctx.actions.push(`~ acl ${router.name} ${iface} ${way}: ${name}, ${mine.length} rules`);
    }
  }
}

interface Ctx {
  /** The part's plan being applied: everything the reconciliation reads. */
  readonly next: Plan;
  readonly part: string;
  /** The VNIs whose BDs were added or removed: their flood lists are brought in line. */
  readonly floodVnis: Set<number>;
  readonly actions: string[];
  readonly skipped: string[];
  readonly dirtySubnets: Set<string>;
  readonly dirtyVpcs: Set<string>;
  readonly dirtyInstances: Set<string>;
  readonly toStart: Host[];
  flood: boolean;
}

function aclSpec(r: AclRuleEntry): AclRuleSpec {
  const c: Cidr = cidr(r.cidr);
  const protocol = ACL_PROTOCOL[r.protocol];
  const ports =
    r.ports !== null && (r.protocol === 'tcp' || r.protocol === 'udp')
      ? { dstPorts: { from: r.ports[0], to: r.ports[1] } }
      : {};
  const where = r.direction === 'egress' ? { dst: c } : { src: c };
  return {
    action: r.action === 'allow' ? 'permit' : 'deny',
    ...(protocol === undefined ? {} : { protocol }),
    ...where,
    ...ports,
    label: String(r.number),
  };
}
