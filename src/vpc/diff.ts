/**
 * Plan diffs: what `apply` has to change to go from one plan to the next, and its text in the
 * style of a terraform plan.
 *
 * Entries are paired by identity (`kind` and `key`); a pair whose fields differ (its source
 * included) is changed, with the fields that differ listed in the entry's field order. The three
 * lists follow the plans' own order (kind order, then natural key order), so the same pair of plans
 * always gives the same diff and the same text.
 */
import { compareEntries, entryId, type Plan, type PlanEntry } from './plan.js';

export interface PlanChange {
  readonly kind: PlanEntry['kind'];
  readonly key: string;
  readonly before: PlanEntry;
  readonly after: PlanEntry;
  /** The fields that differ, in the entry's field order. */
  readonly fields: readonly string[];
}

export interface PlanDiff {
  readonly added: readonly PlanEntry[];
  readonly removed: readonly PlanEntry[];
  readonly changed: readonly PlanChange[];
}

function fieldText(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : v.map(fieldText).join(',');
  return String(v);
}

/** Entry fields are strings, numbers, null and short arrays of those. */
function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
  for (let k = 0; k < x.length; k++) if (!sameValue(x[k], y[k])) return false;
  return true;
}

/** Whether two entries have the same fields with the same values (most pairs of a diff do). */
function sameEntry(x: Record<string, unknown>, y: Record<string, unknown>): boolean {
  let count = 0;
  for (const key in x) {
    if (!sameValue(x[key], y[key])) return false;
    count++;
  }
  for (const _ in y) count--;
  return count === 0;
}

export function diffPlans(old: Plan, next: Plan): PlanDiff {
  const before = new Map(old.entries.map((e) => [entryId(e), e] as const));
  const after = new Map(next.entries.map((e) => [entryId(e), e] as const));
  const added: PlanEntry[] = [];
  const removed: PlanEntry[] = [];
  const changed: PlanChange[] = [];
  for (const [id, e] of after) {
    const b = before.get(id);
    if (b === undefined) {
      added.push(e);
      continue;
    }
    const x = b as unknown as Record<string, unknown>;
    const y = e as unknown as Record<string, unknown>;
    if (sameEntry(x, y)) continue;
    const names = [...new Set([...Object.keys(b), ...Object.keys(e)])];
    const fields = names.filter((n) => !sameValue(x[n], y[n]));
    if (fields.length > 0) changed.push({ kind: e.kind, key: e.key, before: b, after: e, fields });
  }
  for (const [id, e] of before) if (!after.has(id)) removed.push(e);
  added.sort(compareEntries);
  removed.sort(compareEntries);
  changed.sort((x, y) => compareEntries(x.after, y.after));
  return { added, removed, changed };
}

/**
 * The diff as lines: `+ kind key (source)` to add, `~ kind key (source): field a -> b, ...` to
 * change, `- kind key (source)` to destroy, in that order, then the summary
 * `Plan: 3 to add, 1 to change, 0 to destroy.` (or `No changes.`).
 */
export function renderPlanDiff(diff: PlanDiff): string[] {
  const lines: string[] = [];
  for (const e of diff.added) lines.push(`+ ${entryId(e)} (${e.source})`);
  for (const c of diff.changed) {
    const b = c.before as unknown as Record<string, unknown>;
    const a = c.after as unknown as Record<string, unknown>;
    const parts = c.fields.map((f) => `${f} ${fieldText(b[f])} -> ${fieldText(a[f])}`);
    lines.push(`~ ${entryId(c.after)} (${c.after.source}): ${parts.join(', ')}`);
  }
  for (const e of diff.removed) lines.push(`- ${entryId(e)} (${e.source})`);
  const { added, changed, removed } = diff;
  if (added.length + changed.length + removed.length === 0) lines.push('No changes.');
  else lines.push(`Plan: ${added.length} to add, ${changed.length} to change, ${removed.length} to destroy.`);
  return lines;
}
