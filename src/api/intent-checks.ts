/**
 * The service's relation checks: each change to the stored intent is validated with `validate`
 * (src/vpc/validate.ts: subnets inside their VPC, routes to gateways of the same VPC, addresses in
 * use, ...) inside its transaction, and refused (422, every problem with its path) when it brings
 * a problem the intent did not have before. Problems already there (written before a rule existed)
 * do not block other changes: only what a change adds is its fault.
 *
 * A change is validated over the tenants it touched only (the store hands over their objects):
 * every rule of `validate` relates objects of one tenant, and what must be unique across tenants
 * (tenant names, instance MACs, elastic IP addresses, ids) is kept so by the database's unique
 * indexes. So the problems known before are kept per tenant.
 */
import type { IntentHooks } from '../store/store.js';
import type { FabricInventory, Intent } from '../vpc/intent.js';
import { splitByTenant } from '../vpc/tenant-plans.js';
import { validate } from '../vpc/validate.js';

const key = (p: { path: string; message: string }) => `${p.path}\n${p.message}`;

export function validationHooks(fabric?: FabricInventory, next: IntentHooks = {}): IntentHooks {
  /** The problems each tenant's objects have now (committed). */
  const known = new Map<string, Set<string>>();
  // The problems `check` last saw, for the tenants it saw: a committed change is announced to
  // `changed` right after its check, with the same intent, so it is validated once, not twice.
  let checked: { tenants: ReadonlySet<string>; problems: Set<string> } | null = null;
  const remember = (intent: Intent, tenants: ReadonlySet<string> | null) => {
    if (tenants !== null && tenants.size === 1 && checked !== null && sameSet(checked.tenants, tenants)) {
      known.set([...tenants][0]!, checked.problems);
      return;
    }
    // Several tenants (or the whole intent at start): each tenant's problems on its own.
    if (tenants === null) known.clear();
    const parts = splitByTenant(intent);
    for (const tenant of tenants ?? parts.keys()) {
      const part = parts.get(tenant);
      if (part === undefined) known.delete(tenant);
      else known.set(tenant, new Set(validate(part, fabric).map(key)));
    }
  };
  return {
    check(intent: Intent, tenants: ReadonlySet<string>) {
      const problems = validate(intent, fabric);
      checked = { tenants, problems: new Set(problems.map(key)) };
      const before = [...tenants].map((t) => known.get(t));
      const fresh = problems.filter((p) => !before.some((set) => set?.has(key(p))));
      return [...fresh, ...(next.check?.(intent, tenants) ?? [])];
    },
    changed(intent: Intent, tenants: ReadonlySet<string> | null) {
      remember(intent, tenants);
      checked = null;
      return next.changed?.(intent, tenants);
    },
    onError: next.onError,
  };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
