/**
 * What `vnet serve` runs behind the store: the simulated fabric (a `VpcDataPlane`), and the loop
 * that keeps it equal to the stored intent, as OVN's northd and ovn-controller do together. After
 * each committed change (and once at start, which is how a restart rebuilds the data plane from
 * the stored intent) the intent is compiled with the previous plan (VNIs stay stable) and the
 * plan's diff is applied to the running fabric, then the simulation runs until DHCP and the
 * announcements have settled. At start (and when a failed apply makes the fabric be rebuilt) every
 * tenant's part is applied to a fresh fabric and settled in turn, tenant by tenant.
 *
 * It also answers the tenant-facing questions that need the plan or the data plane: the tenant's
 * part of the plan, and reachability (the static analysis, confirmed by a real packet). Another
 * tenant's instance is unknown here as everywhere in the API (404).
 */
import type { AllocationChanges, AllocationKind, IntentHooks } from '../store/store.js';
import {
  type ApplyCounts,
  type ApplyReport,
  createServiceDataPlane,
  type VpcDataPlane,
} from '../vpc/apply.js';
import { type Allocations, allocationsOf } from '../vpc/compile.js';
import { diffPlans, renderPlanDiff } from '../vpc/diff.js';
import { EMPTY_INTENT, type Intent } from '../vpc/intent.js';
import { compareEntries, EMPTY_PLAN, PLAN_VERSION, type Plan, type PlanEntry } from '../vpc/plan.js';
import {
  type PingAnswer,
  type PingQuery,
  pingProbeSteps,
  type TraceAnswer,
  type TraceQuery,
  traceProbeSteps,
} from '../vpc/probe.js';
import { type ProbeSteps, runProbe } from '../vpc/probe-steps.js';
import type { ReachQuery } from '../vpc/reach.js';
import { type ReachAnswer, reachSteps } from '../vpc/reach-confirm.js';
import { type PartChange, splitByTenant, TenantPlans } from '../vpc/tenant-plans.js';
import { validationHooks } from './intent-checks.js';

export interface ServiceRuntimeOptions {
  readonly spines?: number;
  readonly leaves?: number;
  readonly serversPerLeaf?: number;
  readonly publicPool?: string;
}

/** Several parts' reports as one (counts summed, actions in part order). */
function mergeReports(reports: readonly ApplyReport[]): ApplyReport {
  const byKind: Record<string, ApplyCounts> = {};
  for (const r of reports)
    for (const [kind, c] of Object.entries(r.byKind)) {
      const sum = byKind[kind] ?? { added: 0, changed: 0, removed: 0 };
      sum.added += c.added;
      sum.changed += c.changed;
      sum.removed += c.removed;
      byKind[kind] = sum;
    }
  return {
    added: reports.reduce((n, r) => n + r.added, 0),
    changed: reports.reduce((n, r) => n + r.changed, 0),
    removed: reports.reduce((n, r) => n + r.removed, 0),
    byKind,
    actions: reports.flatMap((r) => r.actions),
    skipped: reports.flatMap((r) => r.skipped),
  };
}

/** Plans of several tenants as one, in plan order. */
function mergePlans(parts: readonly Plan[]): Plan {
  if (parts.length === 0) return EMPTY_PLAN;
  if (parts.length === 1) return parts[0]!;
  return { version: PLAN_VERSION, entries: parts.flatMap((p) => p.entries).sort(compareEntries) };
}

export class ServiceRuntime {
  dataPlane: VpcDataPlane;
  private readonly plans: TenantPlans;
  /** The tenant of each instance, and each tenant's instances (the API's ownership question, without a scan). */
  private readonly instanceOwner = new Map<string, string>();
  private readonly instancesOf = new Map<string, string[]>();
  /** The last apply's report (what changed on the data plane). */
  lastApply: ApplyReport | null = null;
  /** How long the last change took to compile, apply and settle, in ms (what the benchmark samples). */
  lastSyncMs = 0;
  /** Why the last apply failed (then the fabric was rebuilt from the whole plan), or null: the service's log. */
  lastError: string | null = null;
  /**
   * Why the last apply of each tenant's part failed, while its part has not been applied since.
   * Tenants are walls: what failed names the objects of the part being applied, so a tenant is
   * told of its own part's failure only (`applyErrorOf`), never of another's.
   */
  private readonly applyErrors = new Map<string, string>();

  constructor(private readonly options: ServiceRuntimeOptions = {}) {
    this.dataPlane = createServiceDataPlane(options);
    this.plans = new TenantPlans(this.dataPlane.inventory());
  }

  /** Where each change's allocations go (`persistAllocations`), or nowhere. */
  private saveAllocations: ((changes: AllocationChanges) => void) | null = null;

  /**
   * Keeps the compiler's allocations (VNIs, SNAT addresses) across restarts: `saved` are those
   * stored before (the start's compile gives every object what it had), and each change's new or
   * released ones go to `save` (`vnet serve` stores them in the database). Call before the first sync.
   */
  persistAllocations(saved: Allocations, save: (changes: AllocationChanges) => void): void {
    this.plans.restore(saved);
    this.saveAllocations = save;
  }

  /** The hypervisors instances can be placed on. */
  hypervisors(): string[] {
    return this.dataPlane.inventory().hypervisors.map((h) => h.name);
  }

  /** The store's hooks: relation checks against this fabric, and compile + apply after each change. */
  hooks(onError?: (error: unknown) => void): IntentHooks {
    return validationHooks(this.dataPlane.inventory(), {
      changed: (intent, tenants) => {
        this.sync(intent, tenants);
      },
      onError,
    });
  }

  /**
   * Compiles the tenants in `tenants` with their objects in `intent` (VNIs stable against the
   * plans applied last; `tenants` null: `intent` is the whole intent) and applies each tenant's
   * difference to the data plane, then settles it (the whole intent: each part settled in turn).
   */
  sync(intent: Intent, tenants: ReadonlySet<string> | null = null): ApplyReport {
    const started = performance.now();
    const changes = this.plans.update(intent, tenants);
    this.index(changes);
    this.persist(changes);
    let report: ApplyReport;
    // The parts whose apply (or the settling after it) a failure is blamed on.
    let applying: readonly string[] = [];
    try {
      if (tenants === null) report = this.applyEach(changes, (tenant) => (applying = [tenant]));
      else {
        report = mergeReports(
          changes.map((c) => {
            applying = [c.tenant];
            return this.dataPlane.apply(c.after, c.tenant);
          }),
        );
        applying = changes.map((c) => c.tenant);
        this.dataPlane.settle();
      }
      this.lastError = null;
      for (const c of changes) this.applyErrors.delete(c.tenant);
    } catch (error) {
      // A data plane left half-changed cannot be trusted to take the next diff: rebuild a fresh
      // fabric and apply every tenant's plan to it (what a restart does), then say so.
      this.lastError = error instanceof Error ? error.message : String(error);
      // Every part is applied again to the fresh fabric: only the failed one's error stands.
      this.applyErrors.clear();
      for (const tenant of applying) this.applyErrors.set(tenant, this.lastError);
      this.dataPlane = createServiceDataPlane(this.options);
      report = this.applyEach(this.plans.plans());
    }
    this.lastApply = report;
    this.lastSyncMs = performance.now() - started;
    if (this.lastError !== null)
      throw new Error(
        `applying the change failed (${this.lastError}); the fabric was rebuilt from the whole plan`,
      );
    return report;
  }

  /**
   * Every tenant's part (a start, or a fabric rebuilt), each applied and settled before the next,
   * as the changes that made it were: its instances get their addresses by DHCP and are announced
   * while only its own frames are in flight. (Applying every part and then settling once started
   * every instance's DHCP at the same instant: at 100,000 instances the broadcasts' copies for the
   * other hypervisors of each subnet overflowed the transmit queues between hypervisors and leaves,
   * 771,854 frames dropped, and the frames of 100,000 exchanges in memory at once cost the restart
   * a quarter of its time in collections: 59 s against 44 s.)
   */
  private applyEach(changes: readonly PartChange[], applying?: (tenant: string) => void): ApplyReport {
    const reports: ApplyReport[] = [];
    for (const c of changes) {
      applying?.(c.tenant);
      reports.push(this.dataPlane.apply(c.after, c.tenant));
      this.dataPlane.settle();
    }
    return mergeReports(reports);
  }

  /** Hands what the changed parts allocated or released to `saveAllocations`. */
  private persist(changes: readonly PartChange[]): void {
    if (this.saveAllocations === null) return;
    const set: { object: string; kind: AllocationKind; value: string | number }[] = [];
    const drop: { object: string; kind: AllocationKind }[] = [];
    for (const { before, after } of changes) {
      const was = allocationsOf(before);
      const now = allocationsOf(after);
      for (const [kind, a, b] of [
        ['l3-vni', was.l3Vni, now.l3Vni],
        ['l2-vni', was.l2Vni, now.l2Vni],
        ['snat', was.snat, now.snat],
      ] as const) {
        for (const [object, value] of b as ReadonlyMap<string, string | number>)
          if ((a as ReadonlyMap<string, string | number>).get(object) !== value)
            set.push({ object, kind, value });
        for (const object of a.keys()) if (!b.has(object)) drop.push({ object, kind });
      }
    }
    if (set.length + drop.length > 0) this.saveAllocations({ set, drop });
  }

  /** Keeps the ownership indexes in line with the changed parts. */
  private index(changes: readonly PartChange[]): void {
    for (const { tenant } of changes) {
      for (const id of this.instancesOf.get(tenant) ?? []) this.instanceOwner.delete(id);
      const ids = this.plans.intentOf(tenant).instances.map((i) => i.id);
      for (const id of ids) this.instanceOwner.set(id, tenant);
      if (ids.length > 0) this.instancesOf.set(tenant, ids);
      else this.instancesOf.delete(tenant);
    }
  }

  /** Why the last apply of `tenant`'s part failed (the fabric was rebuilt then), or null: another tenant's failure is not its. */
  applyErrorOf(tenant: string): string | null {
    return this.applyErrors.get(tenant) ?? null;
  }

  /** The entries of the applied plan that `tenant`'s objects produced. */
  planOf(tenant: string): PlanEntry[] {
    return [...this.plans.planOf(tenant).entries];
  }

  /** The tenant's plan as a terraform-style listing (every entry as an addition to an empty plan). */
  planText(tenant: string): string[] {
    return renderPlanDiff(diffPlans(EMPTY_PLAN, this.plans.planOf(tenant)));
  }

  /**
   * What a change would do to the plan (a dry run): `intent` holds the touched tenants' objects as
   * they would be, each compiled against the plan applied now; shown for `tenant`'s part (every
   * touched tenant's for an admin, `tenant` null). Nothing is applied.
   */
  previewPlan(
    tenant: string | null,
    intent: Intent,
    tenants: ReadonlySet<string>,
  ): { added: number; changed: number; removed: number; text: string[] } {
    const shown = [...tenants].filter((t) => tenant === null || t === tenant).sort();
    const before = mergePlans(shown.map((t) => this.plans.planOf(t)));
    const parts = splitByTenant(intent);
    const after = shown.map((t) => {
      const part = parts.get(t);
      return part === undefined ? EMPTY_PLAN : this.plans.preview(t, part);
    });
    const diff = diffPlans(before, mergePlans(after));
    return {
      added: diff.added.length,
      changed: diff.changed.length,
      removed: diff.removed.length,
      text: renderPlanDiff(diff),
    };
  }

  /** Whether `tenant` owns instance `id`. */
  ownsInstance(tenant: string, id: string): boolean {
    return this.instanceOwner.get(id) === tenant;
  }

  /**
   * The intent and plan a probe from instance `src` reads: its tenant's only. Tenants are walls:
   * another tenant's elastic IP is an address on the internet to this probe (the analysis ends at
   * the border, the packet says whether it answers, and the trace folds the other side into one
   * opaque hop, see `TenantView`).
   */
  private scope(src: string): { intent: Intent; plan: Plan } {
    const tenant = this.instanceOwner.get(src);
    if (tenant === undefined) return { intent: EMPTY_INTENT, plan: EMPTY_PLAN };
    return { intent: this.plans.intentOf(tenant), plan: this.plans.planOf(tenant) };
  }

  /** Reachability between a tenant's instances (or to an address): the analysis and a real packet. */
  reach(query: ReachQuery): ReachAnswer {
    return runProbe(this.dataPlane.net, this.reachSteps(query));
  }

  /** Echo requests from an instance through the running fabric (`ProbeError` when it cannot start). */
  ping(query: PingQuery): PingAnswer {
    return runProbe(this.dataPlane.net, this.pingSteps(query));
  }

  /** One packet from an instance with every device's decision traced (`ProbeError` when it cannot start). */
  trace(query: TraceQuery): TraceAnswer {
    return runProbe(this.dataPlane.net, this.traceSteps(query));
  }

  /** `reach` as steps, for a driver that runs the simulation in slices (src/api/fabric-queue.ts). */
  reachSteps(query: ReachQuery): ProbeSteps<ReachAnswer> {
    const { intent, plan } = this.scope(query.src);
    return reachSteps(this.dataPlane, intent, plan, query);
  }

  /** `ping` as steps. */
  pingSteps(query: PingQuery): ProbeSteps<PingAnswer> {
    const { intent, plan } = this.scope(query.from);
    return pingProbeSteps(this.dataPlane, intent, plan, query);
  }

  /** `trace` as steps. */
  traceSteps(query: TraceQuery): ProbeSteps<TraceAnswer> {
    const { intent, plan } = this.scope(query.from);
    return traceProbeSteps(this.dataPlane, intent, plan, query);
  }
}
