/** The VPC golden intent and inventory (test/fixtures/vpc/), parsed with the intent's own schemas. */
import { readFileSync } from 'node:fs';
import { type FabricInventory, type Intent, OBJECT_KINDS } from '../../src/vpc/index.js';
import { repoPath } from './repo.js';

export const GOLDEN_INTENT_PATH = 'test/fixtures/vpc/golden-intent.json';
export const GOLDEN_PLAN_PATH = 'test/fixtures/vpc/golden-plan.json';

export function goldenIntent(): Intent {
  const raw = JSON.parse(readFileSync(repoPath(GOLDEN_INTENT_PATH), 'utf8'));
  const out: Record<string, unknown[]> = {};
  for (const k of Object.values(OBJECT_KINDS))
    out[k.key] = (raw[k.key] ?? []).map((o: unknown) => k.schema.parse(o));
  return out as unknown as Intent;
}

export function goldenInventory(): FabricInventory {
  return JSON.parse(readFileSync(repoPath('test/fixtures/vpc/inventory.json'), 'utf8'));
}

/** An intent being edited by a test: every list open to any change. */
// biome-ignore lint/suspicious/noExplicitAny: tests edit drafts freely, broken ones included
export type Draft = { -readonly [K in keyof Intent]: any[] };

/** A copy of `intent` with `edit` applied to a deep clone. */
export function edited(intent: Intent, edit: (draft: Draft) => void): Intent {
  const draft = structuredClone(intent) as unknown as Draft;
  edit(draft);
  return draft as unknown as Intent;
}

/** An instance the golden intent does not have (db3 in subnet-a2, on leaf2-srv2): what the diff and docs tests add. */
export const DB3 = {
  id: 'i-a6',
  tenant: 'tenant-a',
  subnet: 'subnet-a2',
  name: 'db3',
  ip: '10.0.2.12',
  mac: '0a:00:00:00:00:08',
  securityGroups: ['sg-a2'],
  host: 'leaf2-srv2',
  state: 'running',
} as const;
