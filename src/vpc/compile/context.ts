/**
 * What every stage of the compiler reads: the intent's objects that resolve (owned by a tenant of
 * the intent, their references inside that tenant), in id order, the fabric's inventory, and the
 * plan's entries as the stages push them. Built once per compile; the stages never change it
 * except through `push` and the maps a stage fills for the later ones (`l3`, `l2`, `igwOfVpc`).
 */

import type { FabricInventory, Instance, Intent, Subnet, Vpc } from '../intent.js';
import { naturalCompare, type PlanEntry } from '../plan.js';
import type { Allocations, Reserved } from './allocations.js';
import { transitAddresses } from './transit.js';

const byId = <T extends { id: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => naturalCompare(a.id, b.id));

export interface CompileContext {
  readonly intent: Intent;
  readonly fabric: FabricInventory;
  readonly previous: Allocations;
  readonly reserved: Reserved;
  readonly owned: <T extends { tenant: string }>(it: T) => boolean;
  readonly byId: typeof byId;
  readonly vpcs: readonly Vpc[];
  readonly vpcOf: (tenant: string, id: string) => Vpc | undefined;
  readonly subnets: readonly Subnet[];
  readonly subnetOf: (i: Instance) => Subnet | undefined;
  readonly instances: readonly Instance[];
  readonly instanceById: ReadonlyMap<string, Instance>;
  /** Running instances on a hypervisor of the inventory. */
  readonly running: readonly Instance[];
  readonly hosts: ReadonlyMap<string, FabricInventory['hypervisors'][number]>;
  /** Each NVE's transit address (dotted), by name. */
  readonly transit: ReadonlyMap<string, string>;
  /** Each VPC's L3 VNI and each subnet's VNI (filled by the `vnis` stage). */
  readonly l3: Map<string, number>;
  readonly l2: Map<string, number>;
  /** The internet gateway of each VPC that has one (the first by id). */
  readonly igwOfVpc: Map<string, string>;
  readonly entries: PlanEntry[];
  readonly push: (e: PlanEntry) => void;
}

export function compileContext(
  intent: Intent,
  fabric: FabricInventory,
  previous: Allocations,
  reserved: Reserved,
): CompileContext {
  const tenants = new Set(intent.tenants.map((t) => t.id));
  const owned = <T extends { tenant: string }>(it: T) => tenants.has(it.tenant);
  const vpcs = byId(intent.vpcs.filter(owned));
  const vpcById = new Map(vpcs.map((v) => [v.id, v] as const));
  const vpcOf = (tenant: string, id: string): Vpc | undefined => {
    const v = vpcById.get(id);
    return v?.tenant === tenant ? v : undefined;
  };
  const subnets = byId(intent.subnets.filter((s) => owned(s) && vpcOf(s.tenant, s.vpc) !== undefined));
  const subnetById = new Map(subnets.map((s) => [s.id, s] as const));
  const subnetOf = (i: Instance): Subnet | undefined => {
    const s = subnetById.get(i.subnet);
    return s?.tenant === i.tenant ? s : undefined;
  };
  const hosts = new Map(fabric.hypervisors.map((h) => [h.name, h] as const));
  const instances = byId(intent.instances.filter((i) => owned(i) && subnetOf(i) !== undefined));
  const entries: PlanEntry[] = [];
  return {
    intent,
    fabric,
    previous,
    reserved,
    owned,
    byId,
    vpcs,
    vpcOf,
    subnets,
    subnetOf,
    instances,
    instanceById: new Map(instances.map((i) => [i.id, i] as const)),
    running: instances.filter((i) => i.state === 'running' && hosts.has(i.host)),
    hosts,
    transit: transitAddresses(fabric),
    l3: new Map(),
    l2: new Map(),
    igwOfVpc: new Map(),
    entries,
    push: (e) => entries.push(e),
  };
}
