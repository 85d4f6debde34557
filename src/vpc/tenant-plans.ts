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
 *   compiled again too, and its SNAT moves (the elastic IP, given by the store, wins).
 */
import { compile, type Reserved } from './compile.js';
import { EMPTY_INTENT, type FabricInventory, type Intent } from './intent.js';
import { EMPTY_PLAN, entriesOf, naturalCompare, type Plan } from './plan.js';

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

/** The public addresses a tenant's part holds: its SNAT addresses and its elastic IPs. */
function publicAddresses(intent: Intent, plan: Plan): string[] {
  return [...entriesOf(plan, 'snat').map((e) => e.publicIp), ...intent.elasticIps.map((e) => e.address)];
}

function vnisOf(plan: Plan): number[] {
  return [...entriesOf(plan, 'l3-vni').map((e) => e.vni), ...entriesOf(plan, 'l2-vni').map((e) => e.vni)];
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

  constructor(private readonly fabric: FabricInventory) {}

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
  private reservedFor(tenant: string): Reserved {
    return {
      vni: (v) => {
        const owner = this.vniOwner.get(v);
        return owner !== undefined && owner !== tenant;
      },
      publicIp: (a) => {
        const owner = this.publicOwner.get(a);
        return owner !== undefined && owner !== tenant;
      },
    };
  }

  /**
   * Compiles `tenant`'s part as it would be with `intent` (its objects only), without keeping it:
   * what a dry run shows.
   */
  preview(tenant: string, intent: Intent): Plan {
    return compile(intent, this.fabric, this.planOf(tenant), this.reservedFor(tenant));
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
    while (queue.length > 0) {
      const tenant = queue.shift()!;
      const part = scope.has(tenant) ? (incoming.get(tenant) ?? EMPTY_INTENT) : this.intentOf(tenant);
      const before = this.planOf(tenant);
      this.release(tenant);
      const after =
        part === EMPTY_INTENT ? EMPTY_PLAN : compile(part, this.fabric, before, this.reservedFor(tenant));
      if (part === EMPTY_INTENT) this.parts.delete(tenant);
      else this.parts.set(tenant, { intent: part, plan: after });
      for (const v of vnisOf(after)) this.vniOwner.set(v, tenant);
      for (const a of publicAddresses(part, after)) {
        const holder = this.publicOwner.get(a);
        // An elastic IP given where another tenant had its SNAT: that tenant's SNAT moves.
        if (holder !== undefined && holder !== tenant && !queue.includes(holder)) queue.push(holder);
        this.publicOwner.set(a, tenant);
      }
      changes.set(tenant, { tenant, before: changes.get(tenant)?.before ?? before, after });
    }
    return [...changes.values()].sort((a, b) => naturalCompare(a.tenant, b.tenant));
  }

  /** Frees what `tenant`'s part holds (before it is compiled again). */
  private release(tenant: string): void {
    const part = this.parts.get(tenant);
    if (part === undefined) return;
    for (const v of vnisOf(part.plan)) if (this.vniOwner.get(v) === tenant) this.vniOwner.delete(v);
    for (const a of publicAddresses(part.intent, part.plan))
      if (this.publicOwner.get(a) === tenant) this.publicOwner.delete(a);
  }
}
