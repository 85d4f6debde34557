/**
 * What the installers (one per plan entry kind, in this folder) share while one plan is applied:
 * the data plane they change, the plan being applied, and the work they leave for the end of the
 * apply (route tables, ACLs and security group filters to set again from the plan, flood lists to
 * bring in line, hosts to start), so each table is set once per apply however many entries changed.
 */
import type { Host } from '../../devices/ip/host.js';
import type { Router } from '../../devices/router/router.js';
import type { LiveMigration, PreCopyPlan } from '../../migration/index.js';
import type { Nve, SecurityGroupFilter, Vap } from '../../overlay/index.js';
import type { FabricBuilt } from '../../topo/fabric.js';
import type { Network } from '../../topo/network.js';
import type { EntryOf, Plan, PlanKind } from '../plan.js';

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

/** The data plane as the installers see it. */
export interface DataPlane {
  readonly net: Network;
  readonly fabric: FabricBuilt;
  readonly instances: Map<string, InstanceState>;
  /** Live migrations under way, by instance, until `settle` ends them. */
  readonly migrations: Map<string, { migration: LiveMigration; plan: PreCopyPlan }>;
  readonly migrationModel: { memoryBytes: number; dirtyRate: number; bandwidth: number };
  nve(name: string): Nve;
  /** The VRF router of `vpc` on the NVE `host`, if there. */
  vrf(host: string, vpc: string): Router | undefined;
  /** A router by the plan's naming: a VRF (`vrf` given) on an NVE, or a router of the fabric (the internet). */
  router(name: string, vrf: string | null): Router | undefined;
}

export interface ApplyContext {
  readonly dp: DataPlane;
  /** The part's plan being applied: what the end-of-apply work reads. */
  readonly next: Plan;
  readonly actions: string[];
  readonly skipped: string[];
  /** VNIs whose BDs or VRFs were added or removed: their flood lists are brought in line. */
  readonly floodVnis: Set<number>;
  /** Route tables (other than main) to set again from the plan: the interfaces, by router. */
  readonly routeTables: Map<Router, Set<string>>;
  /** Subnets whose network ACL is set again on their VBDIFs (all of them, or the ones given). */
  readonly aclSubnets: Map<string, Set<EntryOf<'vbdif'>> | 'all'>;
  /** Instances whose security group rules are set again. */
  readonly filterInstances: Set<string>;
  readonly toStart: Host[];
}

/** What a plan entry of kind K does to the data plane when it appears and when it goes. */
export interface Installer<K extends PlanKind> {
  add(ctx: ApplyContext, e: EntryOf<K>): void;
  remove(ctx: ApplyContext, e: EntryOf<K>): void;
}

/** Entries carried by others (an L3 VNI by its VRFs...): nothing to do on their own. */
export function carried<K extends PlanKind>(): Installer<K> {
  return { add() {}, remove() {} };
}

/** A route table of `router` to set again at the end of the apply. */
export function markTable(ctx: ApplyContext, router: Router, table: string): void {
  const tables = ctx.routeTables.get(router);
  if (tables === undefined) ctx.routeTables.set(router, new Set([table]));
  else tables.add(table);
}
