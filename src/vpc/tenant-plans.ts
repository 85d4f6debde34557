/**
 * The plan compiled in parts, one per tenant, so a change costs what its tenant holds and not what
 * the whole service holds (as OVN's northd moved from recomputing every logical flow to
 * incremental processing).
 *
 * Why a tenant is a sound part: everything `compile` derives from an object stays inside its
 * tenant (routes, peerings, security group references and elastic IPs all name objects of the same
 * tenant; another tenant's id reads as unknown). Only two things are shared service-wide, and they
 * are passed to each part's compile as reservations (`Reserved`): the VNI space (VNIs are unique
 * fabric-wide) and the border's public pool (SNAT addresses and elastic IPs).
 *
 * Guarantees:
 * - After any sequence of `update`s, the parts hold exactly `compile(part's intent, fabric, part's
 *   previous plan, the others' reservations)` for every tenant, and no VNI or public address is
 *   held by two parts.
 * - A change touching one tenant gives the same plan as compiling the whole intent against the
 *   whole previous plan (`compile(intent, fabric, previous)`): VNIs and SNAT addresses already held
 *   stay, new ones take the lowest free VNI (the highest free SNAT address), whoever else holds
 *   the rest. (Compiling the whole intent at once from nothing allocates in id order across
 *   tenants; here a start allocates tenant by tenant, in tenant id order.)
 * - When a tenant's new elastic IP is an address another tenant uses for SNAT, that tenant is
 *   compiled again too, in the same compile as the changed tenant, and its SNAT moves (the elastic
 *   IP, given by the store, wins) to the address the whole compile gives it.
 * - While the pool has run out, the tenants with a VPC waiting for a SNAT address are compiled
 *   together with each changed tenant, as one intent, so freed addresses go out in VPC id order
 *   across tenants as the whole compile gives them; and a change that frees an address compiles
 *   the waiting tenants even when none was changed.
 */
import { type Allocations, allocationsOf, compile, type Reserved } from './compile.js';
import { EMPTY_INTENT, type FabricInventory, type Intent } from './intent.js';
import { EMPTY_PLAN, entriesOf, naturalCompare, PLAN_VERSION, type Plan, type PlanEntry } from './plan.js';

type IntentKey = keyof Intent;
const INTENT_KEYS = Object.keys(EMPTY_INTENT) as IntentKey[];

/** A mutable intent with empty lists. */
function emptyIntent(): Intent {
  const out: Record<string, unknown[]> = {};
  for (const key of INTENT_KEYS) out[key] = [];
  return out as unknown as Intent;
}

/** The tenant an intent object belongs to (a tenant object is its own). */
function ownerOf(key: IntentKey, object: { id: string; tenant?: string }): string {
  return key === 'tenants' ? object.id : (object.tenant ?? '');
}

/** `intent` split by tenant, each part in the intent's own order. */
export function splitByTenant(intent: Intent): Map<string, Intent> {
  const parts = new Map<string, Intent>();
  for (const key of INTENT_KEYS)
    for (const object of intent[key] as readonly { id: string; tenant?: string }[]) {
      const owner = ownerOf(key, object);
      let part = parts.get(owner);
      if (part === undefined) {
        part = emptyIntent();
        parts.set(owner, part);
      }
      (part[key] as unknown[]).push(object);
    }
  return parts;
}

/** Intents of several tenants as one. */
function mergeIntents(parts: readonly Intent[]): Intent {
  if (parts.length === 1) return parts[0]!;
  const out = emptyIntent() as unknown as Record<string, unknown[]>;
  for (const key of INTENT_KEYS) for (const p of parts) out[key]!.push(...(p[key] as readonly unknown[]));
  return out as unknown as Intent;
}

/** Several parts' allocations as one. */
function mergeAllocations(list: readonly Allocations[]): Allocations {
  if (list.length === 1) return list[0]!;
  return {
    l3Vni: new Map(list.flatMap((a) => [...a.l3Vni])),
    l2Vni: new Map(list.flatMap((a) => [...a.l2Vni])),
    snat: new Map(list.flatMap((a) => [...a.snat])),
  };
}

/** A plan of several tenants split by tenant: each entry goes with the owner of the object that produced it. */
function splitPlan(plan: Plan, intent: Intent): Map<string, Plan> {
  const owner = new Map<string, string>();
  for (const key of INTENT_KEYS)
    for (const o of intent[key] as readonly { id: string; tenant?: string }[])
      owner.set(o.id, ownerOf(key, o));
  const entries = new Map<string, PlanEntry[]>();
  for (const e of plan.entries) {
    const tenant = owner.get(e.source.split('/')[0]!)!;
    const list = entries.get(tenant);
    if (list === undefined) entries.set(tenant, [e]);
    else list.push(e);
  }
  return new Map([...entries].map(([tenant, list]) => [tenant, { version: PLAN_VERSION, entries: list }]));
}

/** The public addresses a tenant's part holds: its SNAT addresses and its elastic IPs. */
function publicAddresses(intent: Intent, plan: Plan): string[] {
  return [...entriesOf(plan, 'snat').map((e) => e.publicIp), ...intent.elasticIps.map((e) => e.address)];
}

function vnisOf(plan: Plan): number[] {
  return [...entriesOf(plan, 'l3-vni').map((e) => e.vni), ...entriesOf(plan, 'l2-vni').map((e) => e.vni)];
}

/** The smallest VPC of the part with an internet gateway and a VNI but no SNAT address, if any. */
function waitingVpc(intent: Intent, plan: Plan): string | undefined {
  if (intent.internetGateways.length === 0) return undefined;
  const withVni = new Set(entriesOf(plan, 'l3-vni').map((e) => e.vpc));
  const served = new Set(entriesOf(plan, 'snat').map((e) => e.vpc));
  let first: string | undefined;
  for (const g of intent.internetGateways)
    if (withVni.has(g.vpc) && !served.has(g.vpc) && (first === undefined || naturalCompare(g.vpc, first) < 0))
      first = g.vpc;
  return first;
}

export interface PartChange {
  readonly tenant: string;
  readonly before: Plan;
  readonly after: Plan;
}

export class TenantPlans {
  private readonly parts = new Map<string, { intent: Intent; plan: Plan }>();
  private readonly vniOwner = new Map<number, string>();
  private readonly publicOwner = new Map<string, string>();
  /**
   * Tenants with a VPC that has an internet gateway and no SNAT address (the pool was exhausted
   * when it was compiled), and the smallest such VPC id: when an update frees a public address, the
   * whole compile would give it to the smallest waiting VPC, so that VPC's tenant is compiled again.
   */
  private readonly waiting = new Map<string, string>();

  /**
   * Allocations stored before a restart, by object id: what a tenant compiled for the first time
   * since the start keeps (so its VNIs and SNAT addresses are the ones it had).
   */
  private restored: Allocations | null = null;

  constructor(private readonly fabric: FabricInventory) {}

  /** Allocations from before a restart, for the tenants not compiled yet. */
  restore(allocations: Allocations): void {
    this.restored = allocations;
    this.restoredOwners = {
      vni: new Map([...allocations.l3Vni, ...allocations.l2Vni].map(([object, vni]) => [vni, object])),
      publicIp: new Map([...allocations.snat].map(([vpc, address]) => [address, vpc])),
    };
  }

  /** The tenants with a part, in id order. */
  tenants(): string[] {
    return [...this.parts.keys()].sort(naturalCompare);
  }

  /** The tenant's intent (empty when unknown). */
  intentOf(tenant: string): Intent {
    return this.parts.get(tenant)?.intent ?? EMPTY_INTENT;
  }

  /** The tenant's plan (empty when unknown). */
  planOf(tenant: string): Plan {
    return this.parts.get(tenant)?.plan ?? EMPTY_PLAN;
  }

  /** Every part's plan, for a fabric rebuilt from nothing. */
  plans(): PartChange[] {
    return this.tenants().map((tenant) => ({ tenant, before: EMPTY_PLAN, after: this.planOf(tenant) }));
  }

  /** What others hold, seen from `tenant`'s compile. */
  private reservedFor(tenants: ReadonlySet<string>, part?: Intent): Reserved {
    // Until every tenant has been compiled since a restart, what the others had before it is
    // theirs too: a new object of this tenant must not take a VNI or address they will keep.
    const restored = this.restoredOwners;
    const mine = new Set(
      restored === null || part === undefined
        ? []
        : [...part.vpcs.map((v) => v.id), ...part.subnets.map((x) => x.id)],
    );
    const heldBefore = (object: string | undefined) => object !== undefined && !mine.has(object);
    return {
      vni: (v) => {
        const owner = this.vniOwner.get(v);
        if (owner !== undefined) return !tenants.has(owner);
        return restored !== null && heldBefore(restored.vni.get(v));
      },
      publicIp: (a) => {
        const owner = this.publicOwner.get(a);
        if (owner !== undefined) return !tenants.has(owner);
        return restored !== null && heldBefore(restored.publicIp.get(a));
      },
    };
  }

  /** The restored allocations by value: which object had each VNI and SNAT address. */
  private restoredOwners: { vni: Map<number, string>; publicIp: Map<string, string> } | null = null;

  /**
   * Compiles `tenant`'s part as it would be with `intent` (its objects only), without keeping it:
   * what a dry run shows.
   */
  preview(tenant: string, intent: Intent): Plan {
    return compile(intent, this.fabric, this.planOf(tenant), this.reservedFor(new Set([tenant])));
  }

  /**
   * The tenants in `tenants` now hold exactly their objects in `intent` (a tenant with none is
   * gone). With `tenants` null, `intent` is the whole intent and every part is replaced. Returns
   * each part whose plan was compiled, with its plan before and after, in tenant id order.
   */
  update(intent: Intent, tenants: ReadonlySet<string> | null): PartChange[] {
    const incoming = splitByTenant(intent);
    const scope = tenants === null ? new Set([...this.parts.keys(), ...incoming.keys()]) : new Set(tenants);
    const queue = [...scope].sort(naturalCompare);
    const changes = new Map<string, PartChange>();
    const freed = new Set<string>();
    let served: string | undefined;
    for (;;) {
      if (queue.length === 0) {
        // An address freed and not taken again: the VPC waiting for one that the whole compile
        // would serve first (the smallest id) gets it. A tenant still waiting after that compile
        // found no free address: the others would not either.
        if (served !== undefined && this.waiting.has(served)) break;
        const free = [...freed].some((a) => !this.publicOwner.has(a));
        served = free ? this.firstWaiting() : undefined;
        if (served === undefined) break;
        queue.push(served);
      }
      const first = queue.shift()!;
      // With the pool run out, the tenants waiting for a SNAT address are compiled together with
      // this one, as one intent: the whole compile hands freed addresses out in VPC id order across
      // tenants, and so does a compile of the group (what it costs grows with the waiting tenants
      // only, and only while the pool is exhausted).
      const group = [first, ...[...this.waiting.keys()].filter((t) => t !== first)];
      const intentFor = (t: string) => (scope.has(t) ? (incoming.get(t) ?? EMPTY_INTENT) : this.intentOf(t));
      // An elastic IP given where another tenant has its SNAT address: that tenant's SNAT moves, and
      // it is compiled in this group too, not after it. The whole compile gives the VPC that lost its
      // address a new one in VPC id order together with the others that need one (this tenant's new
      // VPCs, the waiting VPCs); compiled after the group, it would get what the group left, after
      // a waiting VPC with a larger id had taken a higher address.
      for (let k = 0; k < group.length; k++)
        for (const e of intentFor(group[k]!).elasticIps) {
          const holder = this.publicOwner.get(e.address);
          if (holder !== undefined && !group.includes(holder)) group.push(holder);
        }
      for (const t of group.slice(1)) {
        const k = queue.indexOf(t);
        if (k >= 0) queue.splice(k, 1);
      }
      const parts = new Map(group.map((t) => [t, intentFor(t)] as const));
      const befores = new Map(group.map((t) => [t, this.planOf(t)] as const));
      const previous = mergeAllocations(
        group.map((t) =>
          this.parts.has(t) || this.restored === null ? allocationsOf(befores.get(t)!) : this.restored!,
        ),
      );
      for (const t of group) for (const a of this.release(t)) freed.add(a);
      const live = group.filter((t) => parts.get(t) !== EMPTY_INTENT);
      const merged = mergeIntents(live.map((t) => parts.get(t)!));
      const plan =
        live.length === 0
          ? EMPTY_PLAN
          : compile(merged, this.fabric, previous, this.reservedFor(new Set(live), merged));
      const afters = live.length === 1 ? new Map([[live[0]!, plan]]) : splitPlan(plan, merged);
      for (const tenant of group) {
        const part = parts.get(tenant)!;
        const before = befores.get(tenant)!;
        const after = afters.get(tenant) ?? EMPTY_PLAN;
        if (part === EMPTY_INTENT) this.parts.delete(tenant);
        else this.parts.set(tenant, { intent: part, plan: after });
        const waits = this.fabric.border === null ? undefined : waitingVpc(part, after);
        if (waits === undefined) this.waiting.delete(tenant);
        else this.waiting.set(tenant, waits);
        for (const v of vnisOf(after)) this.vniOwner.set(v, tenant);
        // (Whoever held one of these addresses before is in the group: see above.)
        for (const a of publicAddresses(part, after)) this.publicOwner.set(a, tenant);
        changes.set(tenant, { tenant, before: changes.get(tenant)?.before ?? before, after });
      }
    }
    // Every tenant compiled (a start): the restored allocations have all been taken up.
    if (tenants === null) {
      this.restored = null;
      this.restoredOwners = null;
    }
    return [...changes.values()].sort((a, b) => naturalCompare(a.tenant, b.tenant));
  }

  /** The tenant of the smallest VPC waiting for a SNAT address, if any. */
  private firstWaiting(): string | undefined {
    let first: { tenant: string; vpc: string } | undefined;
    for (const [tenant, vpc] of this.waiting)
      if (first === undefined || naturalCompare(vpc, first.vpc) < 0) first = { tenant, vpc };
    return first?.tenant;
  }

  /** Frees what `tenant`'s part holds (before it is compiled again); returns the public addresses freed. */
  private release(tenant: string): string[] {
    const part = this.parts.get(tenant);
    if (part === undefined) return [];
    for (const v of vnisOf(part.plan)) if (this.vniOwner.get(v) === tenant) this.vniOwner.delete(v);
    const freed: string[] = [];
    for (const a of publicAddresses(part.intent, part.plan))
      if (this.publicOwner.get(a) === tenant) {
        this.publicOwner.delete(a);
        freed.push(a);
      }
    return freed;
  }
}
