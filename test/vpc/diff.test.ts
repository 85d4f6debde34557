/**
 * `diffPlans` / `renderPlanDiff`: the exact diff and text for three changes of the golden intent
 * (an instance added, a security group rule changed, a subnet deleted), an unchanged plan, and the
 * summary line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compile, diffPlans, EMPTY_PLAN, entryId, renderPlanDiff } from '../../src/vpc/index.js';
import { naturalCompare } from '../../src/vpc/plan.js';
import { DB3, edited, goldenIntent, goldenInventory } from '../helpers/vpc.js';

const INTENT = goldenIntent();
const FABRIC = goldenInventory();
const PLAN = compile(INTENT, FABRIC);

test('adding an instance: its BD and VRF on a new hypervisor, its routes, binding and rules', () => {
  const next = compile(
    edited(INTENT, (d) => {
      d.instances.push({ ...DB3 });
    }),
    FABRIC,
    PLAN,
  );
  const diff = diffPlans(PLAN, next);
  assert.deepEqual(diff.removed, []);
  assert.deepEqual(diff.changed, []);
  assert.deepEqual(
    diff.added.map((e) => [entryId(e), e.source]),
    [
      ['vrf leaf2-srv2/vpc-a1', 'vpc-a1'],
      ['vrf leaf2-srv2/vpc-a2', 'pcx-a1'],
      ['bridge-domain leaf2-srv2/vni 100001', 'subnet-a2'],
      ['vbdif leaf2-srv2/vni 100001', 'subnet-a2'],
      ['peering-link leaf2-srv2/vpc-a1 vpc-a2', 'pcx-a1'],
      ['resolved-route leaf2-srv2/vpc-a1 main 10.0.0.0/16', 'vpc-a1'],
      ['resolved-route leaf2-srv2/vpc-a2 main 10.1.0.0/16', 'vpc-a2'],
      ['mac-ip-route vni 100001/0a:00:00:00:00:08', 'i-a6'],
      ['dhcp-binding subnet-a2/0a:00:00:00:00:08', 'i-a6'],
      ['sg-rule i-a6/egress/sg-a2[0]/0.0.0.0/0', 'sg-a2/egress[0]'],
      ['sg-rule i-a6/ingress/sg-a2[0]/10.0.1.10/32', 'sg-a2/ingress[0]'],
      ['sg-rule i-a6/ingress/sg-a2[0]/10.0.1.11/32', 'sg-a2/ingress[0]'],
    ],
  );
  assert.deepEqual(renderPlanDiff(diff), [
    '+ vrf leaf2-srv2/vpc-a1 (vpc-a1)',
    '+ vrf leaf2-srv2/vpc-a2 (pcx-a1)',
    '+ bridge-domain leaf2-srv2/vni 100001 (subnet-a2)',
    '+ vbdif leaf2-srv2/vni 100001 (subnet-a2)',
    '+ peering-link leaf2-srv2/vpc-a1 vpc-a2 (pcx-a1)',
    '+ resolved-route leaf2-srv2/vpc-a1 main 10.0.0.0/16 (vpc-a1)',
    '+ resolved-route leaf2-srv2/vpc-a2 main 10.1.0.0/16 (vpc-a2)',
    '+ mac-ip-route vni 100001/0a:00:00:00:00:08 (i-a6)',
    '+ dhcp-binding subnet-a2/0a:00:00:00:00:08 (i-a6)',
    '+ sg-rule i-a6/egress/sg-a2[0]/0.0.0.0/0 (sg-a2/egress[0])',
    '+ sg-rule i-a6/ingress/sg-a2[0]/10.0.1.10/32 (sg-a2/ingress[0])',
    '+ sg-rule i-a6/ingress/sg-a2[0]/10.0.1.11/32 (sg-a2/ingress[0])',
    'Plan: 12 to add, 0 to change, 0 to destroy.',
  ]);
});

test('changing a security group rule: the expanded rules of each member change in place', () => {
  const next = compile(
    edited(INTENT, (d) => {
      d.securityGroups.find((g) => g.id === 'sg-a1').ingress[0].ports = [8443, 8443];
    }),
    FABRIC,
    PLAN,
  );
  const diff = diffPlans(PLAN, next);
  assert.deepEqual([diff.added, diff.removed], [[], []]);
  assert.deepEqual(
    diff.changed.map((c) => [c.kind, c.key, c.fields, c.before.source, c.after.source]),
    [
      ['sg-rule', 'i-a1/ingress/sg-a1[0]/0.0.0.0/0', ['ports'], 'sg-a1/ingress[0]', 'sg-a1/ingress[0]'],
      ['sg-rule', 'i-a2/ingress/sg-a1[0]/0.0.0.0/0', ['ports'], 'sg-a1/ingress[0]', 'sg-a1/ingress[0]'],
    ],
  );
  assert.deepEqual(renderPlanDiff(diff), [
    '~ sg-rule i-a1/ingress/sg-a1[0]/0.0.0.0/0 (sg-a1/ingress[0]): ports 443,443 -> 8443,8443',
    '~ sg-rule i-a2/ingress/sg-a1[0]/0.0.0.0/0 (sg-a1/ingress[0]): ports 443,443 -> 8443,8443',
    'Plan: 0 to add, 2 to change, 0 to destroy.',
  ]);
});

test('deleting a subnet (and its instance): everything it produced goes, nothing else', () => {
  const next = compile(
    edited(INTENT, (d) => {
      d.subnets = d.subnets.filter((s) => s.id !== 'subnet-b2');
      d.instances = d.instances.filter((i) => i.id !== 'i-b2');
    }),
    FABRIC,
    PLAN,
  );
  const diff = diffPlans(PLAN, next);
  assert.deepEqual([diff.added, diff.changed], [[], []]);
  assert.deepEqual(renderPlanDiff(diff), [
    '- l2-vni subnet-b2 (subnet-b2)',
    '- anycast-gateway subnet-b2 (subnet-b2)',
    '- vrf leaf1-srv2/vpc-b1 (vpc-b1)',
    '- bridge-domain leaf1-srv2/vni 100004 (subnet-b2)',
    '- vbdif leaf1-srv2/vni 100004 (subnet-b2)',
    '- resolved-route leaf1-srv2/vpc-b1 main 10.0.0.0/16 (vpc-b1)',
    '- mac-ip-route vni 100004/0a:00:00:00:00:07 (i-b2)',
    '- dhcp-binding subnet-b2/0a:00:00:00:00:07 (i-b2)',
    '- sg-rule i-b2/egress/sg-b1[0]/0.0.0.0/0 (sg-b1/egress[0])',
    '- sg-rule i-b2/ingress/sg-b1[0]/10.0.0.0/16 (sg-b1/ingress[0])',
    '- sg-rule i-b2/ingress/sg-b1[1]/10.0.0.0/16 (sg-b1/ingress[1])',
    'Plan: 0 to add, 0 to change, 11 to destroy.',
  ]);
});

test('moving an instance and renaming a gateway: one line per entry, every changed field', () => {
  const next = compile(
    edited(INTENT, (d) => {
      d.instances.find((i) => i.id === 'i-a4').host = 'leaf2-srv2';
      d.internetGateways[0].id = 'igw-a9';
      d.routeTables[0].routes[0].target.id = 'igw-a9';
    }),
    FABRIC,
    PLAN,
  );
  assert.deepEqual(renderPlanDiff(diffPlans(PLAN, next)), [
    '+ vrf leaf2-srv2/vpc-a1 (pcx-a1)',
    '+ vrf leaf2-srv2/vpc-a2 (vpc-a2)',
    '+ bridge-domain leaf2-srv2/vni 100002 (subnet-a3)',
    '+ vbdif leaf2-srv2/vni 100002 (subnet-a3)',
    '+ peering-link leaf2-srv2/vpc-a1 vpc-a2 (pcx-a1)',
    '+ resolved-route leaf2-srv2/vpc-a1 main 10.0.0.0/16 (vpc-a1)',
    '+ resolved-route leaf2-srv2/vpc-a2 main 10.1.0.0/16 (vpc-a2)',
    '+ resolved-route leaf2-srv2/vpc-a2 vbdif100002 10.0.0.0/16 (rtb-a2/routes[0])',
    '~ vrf border/vpc-a1 (igw-a9): source igw-a1 -> igw-a9',
    '~ vrf leaf2-srv1/vpc-a2 (pcx-a1): source vpc-a2 -> pcx-a1, role hypervisor -> peering',
    '~ external-link vpc-a1 (igw-a9): source igw-a1 -> igw-a9',
    '~ vrf-route vpc-a1/subnet-a1 0.0.0.0/0 (rtb-a1/routes[0]): via igw-a1 -> igw-a9',
    '~ resolved-route border/vpc-a1 main 0.0.0.0/0 (igw-a9): source igw-a1 -> igw-a9',
    '~ resolved-route internet main 203.0.113.254/32 (igw-a9): source igw-a1 -> igw-a9',
    '~ mac-ip-route vni 100002/0a:00:00:00:00:04 (i-a4): host leaf2-srv1 -> leaf2-srv2, vtep 172.17.0.10 -> 172.17.0.14',
    '~ dhcp-binding subnet-a3/0a:00:00:00:00:04 (i-a4): host leaf2-srv1 -> leaf2-srv2',
    '~ sg-rule i-a4/egress/sg-a3[0]/0.0.0.0/0 (sg-a3/egress[0]): host leaf2-srv1 -> leaf2-srv2',
    '~ sg-rule i-a4/ingress/sg-a3[0]/10.0.1.0/24 (sg-a3/ingress[0]): host leaf2-srv1 -> leaf2-srv2',
    '~ snat vpc-a1 (igw-a9): source igw-a1 -> igw-a9',
    '- bridge-domain leaf2-srv1/vni 100002 (subnet-a3)',
    '- vbdif leaf2-srv1/vni 100002 (subnet-a3)',
    '- resolved-route leaf2-srv1/vpc-a2 vbdif100002 10.0.0.0/16 (rtb-a2/routes[0])',
    'Plan: 8 to add, 11 to change, 3 to destroy.',
  ]);
});

test('no changes, and everything from nothing', () => {
  assert.deepEqual(renderPlanDiff(diffPlans(PLAN, compile(INTENT, FABRIC, PLAN))), ['No changes.']);
  const all = diffPlans(EMPTY_PLAN, PLAN);
  assert.equal(all.added.length, PLAN.entries.length);
  assert.equal(renderPlanDiff(all).at(-1), `Plan: ${PLAN.entries.length} to add, 0 to change, 0 to destroy.`);
  assert.equal(
    renderPlanDiff(diffPlans(PLAN, EMPTY_PLAN)).at(-1),
    `Plan: 0 to add, 0 to change, ${PLAN.entries.length} to destroy.`,
  );
});

/** The first version of naturalCompare (split with a regular expression), kept as the reference. */
function naturalCompareReference(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!;
    const y = rb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

test('naturalCompare orders as the reference does (digit runs by value), on fixed and random keys', () => {
  const keys = [
    'vni 100000/0a:00',
    'vni 99999/0a:00',
    'subnet-10',
    'subnet-9',
    'subnet-09',
    'a',
    'a1',
    'a01',
    '1a',
    '',
    '10.0.0.0/16',
    '10.0.0.0/8',
    'vpc-1 10.0.0.0/16',
  ];
  const sorted = [...keys].sort(naturalCompare);
  assert.deepEqual(sorted, [...keys].sort(naturalCompareReference));
  assert.deepEqual(sorted.slice(0, 4), ['', '1a', '10.0.0.0/8', '10.0.0.0/16']);
  const keyArb = fc.stringMatching(/^[a-c0-9 ./-]{0,12}$/);
  fc.assert(
    fc.property(keyArb, keyArb, (a, b) => {
      assert.equal(Math.sign(naturalCompare(a, b)), Math.sign(naturalCompareReference(a, b)), `${a} vs ${b}`);
    }),
    { numRuns: 2000 },
  );
});
