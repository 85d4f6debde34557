/**
 * What `vnet serve` runs behind the store: the simulated fabric (a `VpcDataPlane`), and the loop
 * that keeps it equal to the stored intent, as OVN's northd and ovn-controller do together. After
 * each committed change (and once at start, which is how a restart rebuilds the data plane from
 * the stored intent) the intent is compiled with the previous plan (VNIs stay stable) and the
 * plan's diff is applied to the running fabric, then the simulation runs until DHCP and the
 * announcements have settled.
 *
 * It also answers the tenant-facing questions that need the plan or the data plane: the tenant's
 * part of the plan, and reachability (the static analysis, confirmed by a real packet). Another
 * tenant's instance is unknown here as everywhere in the API (404).
 */
import type { IntentHooks } from '../store/store.js';
import { type ApplyReport, createServiceDataPlane, type VpcDataPlane } from '../vpc/apply.js';
import { compile } from '../vpc/compile.js';
import { diffPlans, renderPlanDiff } from '../vpc/diff.js';
import { EMPTY_INTENT, type Intent } from '../vpc/intent.js';
import { EMPTY_PLAN, type Plan, type PlanEntry } from '../vpc/plan.js';
import {
  type PingAnswer,
  type PingQuery,
  pingProbe,
  type TraceAnswer,
  type TraceQuery,
  traceProbe,
} from '../vpc/probe.js';
import type { ReachQuery } from '../vpc/reach.js';
import { type ReachAnswer, reach } from '../vpc/reach-confirm.js';
import { validationHooks } from './intent-checks.js';

export interface ServiceRuntimeOptions {
  readonly spines?: number;
  readonly leaves?: number;
  readonly serversPerLeaf?: number;
  readonly publicPool?: string;
}

/** A plan entry's owner: the tenant of the intent object it came from (`sg-2/ingress[0]` -> sg-2's). */
function ownerIndex(intent: Intent): Map<string, string> {
  const owners = new Map<string, string>();
  for (const list of [
    intent.vpcs,
    intent.subnets,
    intent.routeTables,
    intent.internetGateways,
    intent.elasticIps,
    intent.peerings,
    intent.securityGroups,
    intent.networkAcls,
    intent.instances,
  ])
    for (const o of list) owners.set(o.id, o.tenant);
  return owners;
}

export class ServiceRuntime {
  dataPlane: VpcDataPlane;
  private intent: Intent = EMPTY_INTENT;
  private current: Plan = EMPTY_PLAN;
  /** The last apply's report (what changed on the data plane). */
  lastApply: ApplyReport | null = null;
  /** Why the last apply failed (then the fabric was rebuilt from the whole plan), or null. */
  lastError: string | null = null;

  constructor(private readonly options: ServiceRuntimeOptions = {}) {
    this.dataPlane = createServiceDataPlane(options);
  }

  /** The hypervisors instances can be placed on. */
  hypervisors(): string[] {
    return this.dataPlane.inventory().hypervisors.map((h) => h.name);
  }

  /** The store's hooks: relation checks against this fabric, and compile + apply after each change. */
  hooks(onError?: (error: unknown) => void): IntentHooks {
    return validationHooks(this.dataPlane.inventory(), {
      changed: (intent) => {
        this.sync(intent);
      },
      onError,
    });
  }

  /** Compiles `intent` (VNIs stable against the plan applied last) and applies the difference. */
  sync(intent: Intent): ApplyReport {
    const plan = compile(intent, this.dataPlane.inventory(), this.current);
    let report: ApplyReport;
    try {
      report = this.dataPlane.apply(plan);
      this.dataPlane.settle();
      this.lastError = null;
    } catch (error) {
      // A data plane left half-changed cannot be trusted to take the next diff: rebuild a fresh
      // fabric and apply the whole plan to it (what a restart does), then say so.
      this.lastError = error instanceof Error ? error.message : String(error);
      this.dataPlane = createServiceDataPlane(this.options);
      report = this.dataPlane.apply(plan);
      this.dataPlane.settle();
    }
    this.intent = intent;
    this.current = plan;
    this.lastApply = report;
    if (this.lastError !== null)
      throw new Error(
        `applying the change failed (${this.lastError}); the fabric was rebuilt from the whole plan`,
      );
    return report;
  }

  /** The entries of the applied plan that `tenant`'s objects produced. */
  planOf(tenant: string): PlanEntry[] {
    const owners = ownerIndex(this.intent);
    return this.current.entries.filter((e) => owners.get(e.source.split('/')[0]!) === tenant);
  }

  /** The tenant's plan as a terraform-style listing (every entry as an addition to an empty plan). */
  planText(tenant: string): string[] {
    const entries = this.planOf(tenant);
    return renderPlanDiff(diffPlans(EMPTY_PLAN, { ...EMPTY_PLAN, entries }));
  }

  /**
   * What a change would do to `tenant`'s part of the plan (a dry run): `intent` compiled as it
   * would be, against the plan applied now. Nothing is applied.
   */
  previewPlan(
    tenant: string | null,
    intent: Intent,
  ): { added: number; changed: number; removed: number; text: string[] } {
    const next = compile(intent, this.dataPlane.inventory(), this.current);
    const owners = ownerIndex(this.intent);
    for (const [id, owner] of ownerIndex(intent)) owners.set(id, owner);
    const mine = (e: PlanEntry) => tenant === null || owners.get(e.source.split('/')[0]!) === tenant;
    const diff = diffPlans(
      { ...this.current, entries: this.current.entries.filter(mine) },
      { ...next, entries: next.entries.filter(mine) },
    );
    return {
      added: diff.added.length,
      changed: diff.changed.length,
      removed: diff.removed.length,
      text: renderPlanDiff(diff),
    };
  }

  /** Whether `tenant` owns instance `id`. */
  ownsInstance(tenant: string, id: string): boolean {
    return this.intent.instances.some((i) => i.id === id && i.tenant === tenant);
  }

  /** Reachability between a tenant's instances (or to an address): the analysis and a real packet. */
  reach(query: ReachQuery): ReachAnswer {
    return reach(this.dataPlane, this.intent, this.current, query);
  }

  /** Echo requests from an instance through the running fabric (`ProbeError` when it cannot start). */
  ping(query: PingQuery): PingAnswer {
    return pingProbe(this.dataPlane, this.intent, this.current, query);
  }

  /** One packet from an instance with every device's decision traced (`ProbeError` when it cannot start). */
  trace(query: TraceQuery): TraceAnswer {
    return traceProbe(this.dataPlane, this.intent, this.current, query);
  }
}
