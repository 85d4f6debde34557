/**
 * Applying a compiled plan to the running simulated data plane: the installer. The compiler
 * decided everything (addresses, interfaces, routes resolved to next hop and interface); this
 * module only diffs and installs, and allocates nothing.
 *
 * `VpcDataPlane` holds a `Network` and its empty service fabric (`buildFabric` with hypervisor
 * NVEs, the controller, distributed gateways, a border and no tenants), gives the compiler its
 * `inventory()`, and `apply(next)` diffs `next` against the plan it applied last (`diffPlans`) and
 * changes only what differs: removals first in reverse kind order, then additions in kind order,
 * each by the installer of its kind (apply/, one file per kind). A changed entry is a removal and an
 * addition, except where the data plane changes in place: a VRF whose role alone changed stays; an
 * instance whose host changed live-migrates (apply/instance.ts). Tables a device takes whole (an
 * interface's routes, an ACL, a security group filter) are set once at the end of the apply, from
 * the plan. While instances live-migrate, they run at their old place until their stop: what the
 * plan removes, and the route tables that follow them, change once they have resumed (`settle`).
 */
import { Host } from '../devices/ip/host.js';
import type { Router } from '../devices/router/router.js';
import type { LiveMigration, MigrationNetworkReport, PreCopyPlan } from '../migration/index.js';
import { type Nve, routerOf } from '../overlay/index.js';
import type { Nanos } from '../sim/index.js';
import { buildFabric, type FabricBuilt } from '../topo/fabric.js';
import { Network } from '../topo/network.js';
import { formatIpv4 } from '../wire/index.js';
import {
  type ApplyContext,
  type DataPlane,
  INSTALLERS,
  type InstanceState,
  moveInstance,
  setMarkedAcls,
  setMarkedFilters,
  setMarkedTables,
} from './apply/index.js';
import { diffPlans } from './diff.js';
import type { FabricInventory } from './intent.js';
import {
  compareEntries,
  EMPTY_PLAN,
  type MacIpRouteEntry,
  PLAN_KINDS,
  PLAN_VERSION,
  type Plan,
  type PlanEntry,
  type PlanKind,
} from './plan.js';

export type { InstanceState } from './apply/index.js';

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

export class VpcDataPlane implements DataPlane {
  /**
   * The plans applied, by part (the service applies one part per tenant, see tenant-plans.ts; a
   * caller with one whole plan uses the part ''). A part holds whole tenants: everything its
   * entries name is in the same part, so a part's apply reads only that part's plan.
   */
  private readonly parts = new Map<string, Plan>();
  private readonly nves = new Map<string, Nve>();
  readonly instances = new Map<string, InstanceState>();
  private readonly publicPool: string;

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

  /**
   * What the compiler needs of this fabric: hypervisors with VTEPs and leaves, the border, its pool
   * and the internet router, in the fabric's NVE order (which numbers their transit addresses).
   */
  inventory(): FabricInventory {
    const border = this.fabric.border;
    return {
      hypervisors: this.fabric.nves
        .filter((n) => n !== border)
        .map((n) => ({ name: n.name, vtep: formatIpv4(n.vtep), leaf: n.name.split('-')[0]! })),
      border:
        border === null
          ? null
          : {
              name: border.name,
              publicPool: this.publicPool,
              ...(this.fabric.internet === null ? {} : { internet: this.fabric.internet.name }),
            },
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

  router(name: string, vrf: string | null): Router | undefined {
    if (vrf !== null) return this.vrf(name, vrf);
    const node = this.net.nodes.get(name);
    return node === undefined ? undefined : routerOf(node);
  }

  /** The host of an instance, if applied. */
  instance(id: string): Host | undefined {
    return this.instances.get(id)?.host;
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
    const byKind: Partial<Record<PlanKind, ApplyCounts>> = {};
    const count = (kind: PlanKind, what: keyof ApplyCounts) => {
      const c = byKind[kind] ?? { added: 0, changed: 0, removed: 0 };
      byKind[kind] = c;
      c[what]++;
    };
    for (const e of diff.added) count(e.kind, 'added');
    for (const e of diff.removed) count(e.kind, 'removed');
    for (const c of diff.changed) count(c.kind, 'changed');

    const ctx = this.context(next, [], []);
    const removals: PlanEntry[] = [...diff.removed];
    const additions: PlanEntry[] = [...diff.added];
    const moves: { before: MacIpRouteEntry; after: MacIpRouteEntry }[] = [];
    for (const c of diff.changed) {
      const only = (fields: readonly string[]) => c.fields.every((f) => fields.includes(f));
      // Only the naming object changed (a gateway renamed...): the data plane has nothing to do,
      // except a security group rule, whose source the filter shows in traces.
      if (only(['source']) && c.kind !== 'sg-rule') continue;
      if (c.kind === 'mac-ip-route' && only(['source', 'host', 'vtep']))
        moves.push({ before: c.before as MacIpRouteEntry, after: c.after as MacIpRouteEntry });
      else if (c.kind === 'vrf' && only(['source', 'role'])) additions.push(c.after);
      else {
        removals.push(c.before);
        additions.push(c.after);
      }
    }
    const order = (e: PlanEntry) => PLAN_KINDS.indexOf(e.kind);
    removals.sort((a, b) => order(b) - order(a));
    additions.sort((a, b) => order(a) - order(b));
    // While instances live-migrate, they run at their old place until their stop: what the plan
    // removes (a BD or VRF they leave behind), and the route tables that follow them, change once
    // they have resumed, in `settle`.
    const later = moves.length > 0 ? this.context(next, ctx.actions, ctx.skipped) : null;
    if (later === null) for (const e of removals) this.install(ctx, e, 'remove');
    for (const e of additions) this.install(ctx, e, 'add');
    for (const m of moves) moveInstance(ctx, m.before, m.after);
    if (next.entries.length === 0) this.parts.delete(part);
    else this.parts.set(part, next);
    if (later !== null) {
      // The route tables the additions marked wait too (they follow the instances).
      for (const [router, tables] of ctx.routeTables) later.routeTables.set(router, tables);
      ctx.routeTables.clear();
      for (const m of moves) later.filterInstances.add(m.after.instance);
      this.afterMigrations.push(() => {
        for (const e of removals) this.install(later, e, 'remove');
        this.finish(later);
      });
    }
    this.finish(ctx);
    return {
      added: diff.added.length,
      changed: diff.changed.length,
      removed: diff.removed.length,
      byKind,
      actions: ctx.actions,
      skipped: ctx.skipped,
    };
  }

  private context(next: Plan, actions: string[], skipped: string[]): ApplyContext {
    return {
      dp: this,
      next,
      actions,
      skipped,
      floodVnis: new Set(),
      routeTables: new Map(),
      aclSubnets: new Map(),
      filterInstances: new Set(),
      toStart: [],
    };
  }

  private install(ctx: ApplyContext, e: PlanEntry, what: 'add' | 'remove'): void {
    const installer = INSTALLERS[e.kind] as {
      add(ctx: ApplyContext, e: PlanEntry): void;
      remove(ctx: ApplyContext, e: PlanEntry): void;
    };
    installer[what](ctx, e);
  }

  /** The tables the apply marked, set from the plan; flood lists; hosts to start. */
  private finish(ctx: ApplyContext): void {
    setMarkedTables(ctx);
    setMarkedAcls(ctx);
    setMarkedFilters(ctx);
    if (ctx.floodVnis.size > 0) {
      const f = this.net.overlay.syncFloodLists(ctx.floodVnis);
      if (f.added + f.removed > 0) ctx.actions.push(`flood lists: +${f.added} -${f.removed} VTEPs`);
    }
    for (const h of ctx.toStart) h.start();
  }

  /** Removals waiting for the live migrations under way to resume (run by `settle`). */
  private readonly afterMigrations: (() => void)[] = [];
  /** Live migrations started by the last applies, by instance, until `settle` ends them. */
  readonly migrations = new Map<string, { migration: LiveMigration; plan: PreCopyPlan }>();
  /** The reports of the migrations the last `settle` that had any finished, by instance. */
  readonly migrated = new Map<string, MigrationNetworkReport & { totalTime: Nanos; pagesSent: number }>();

  /** The memory model of an instance's migration (the intent has no memory size: 1 GiB, 10,000 dirty pages/s, 10 Gbit/s). */
  migrationModel = { memoryBytes: 2 ** 30, dirtyRate: 10_000, bandwidth: 10e9 };
}
