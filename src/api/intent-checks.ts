/**
 * The service's relation checks: each change to the stored intent is validated with `validate`
 * (src/vpc/validate.ts: subnets inside their VPC, routes to gateways of the same VPC, addresses in
 * use, ...) inside its transaction, and refused (422, every problem with its path) when it brings
 * a problem the intent did not have before. Problems already there (written before a rule existed)
 * do not block other changes: only what a change adds is its fault.
 */
import type { IntentHooks } from '../store/store.js';
import type { FabricInventory, Intent } from '../vpc/intent.js';
import { validate } from '../vpc/validate.js';

const key = (p: { path: string; message: string }) => `${p.path}\n${p.message}`;

export function validationHooks(fabric?: FabricInventory, next: IntentHooks = {}): IntentHooks {
  let known = new Set<string>();
  // The problems of the intent `check` last saw: a committed change is announced to `changed`
  // right after its check, with the same intent, so it is validated once, not twice.
  let checked: Set<string> | null = null;
  return {
    check(intent: Intent) {
      const problems = validate(intent, fabric);
      checked = new Set(problems.map(key));
      const fresh = problems.filter((p) => !known.has(key(p)));
      return [...fresh, ...(next.check?.(intent) ?? [])];
    },
    changed(intent: Intent) {
      known = checked ?? new Set(validate(intent, fabric).map(key));
      checked = null;
      return next.changed?.(intent);
    },
    onError: next.onError,
  };
}
