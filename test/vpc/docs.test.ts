/** docs/vpc.md stays true: its plan diff example is what `renderPlanDiff` prints for the change it describes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compile, diffPlans, renderPlanDiff } from '../../src/vpc/index.js';
import { repoPath } from '../helpers/repo.js';
import { DB3, edited, goldenIntent, goldenInventory } from '../helpers/vpc.js';

test('docs/vpc.md: the plan diff example', () => {
  const intent = goldenIntent();
  const fabric = goldenInventory();
  const plan = compile(intent, fabric);
  const next = compile(
    edited(intent, (d) => {
      d.instances.push({ ...DB3 });
      d.securityGroups.find((g) => g.id === 'sg-a1').ingress[0].ports = [8443, 8443];
      d.instances.find((i) => i.id === 'i-b2').state = 'stopped';
    }),
    fabric,
    plan,
  );
  const doc = readFileSync(repoPath('docs/vpc.md'), 'utf8');
  const block = /<!-- plan-diff-example -->\n```text\n([\s\S]*?)\n```/.exec(doc);
  assert.ok(block, 'the example block is in docs/vpc.md');
  assert.deepEqual(block[1]!.split('\n'), renderPlanDiff(diffPlans(plan, next)));
});
