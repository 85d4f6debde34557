/**
 * The plan compiled per tenant (src/vpc/tenant-plans.ts) against the plan compiled whole: after
 * every change to one tenant, the parts together are exactly what `compile` gives for the whole
 * intent against the whole previous plan; no VNI or public address is held twice; and the data
 * plane applied part by part holds the same plan.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import fc from 'fast-check';
import { createServiceDataPlane } from '../../src/vpc/apply.js';
import { allocationsOf, compile } from '../../src/vpc/compile.js';
import { EMPTY_INTENT, type FabricInventory, type Intent } from '../../src/vpc/intent.js';
import { compareEntries, EMPTY_PLAN, entriesOf, PLAN_VERSION, type Plan } from '../../src/vpc/plan.js';
import { splitByTenant, TenantPlans } from '../../src/vpc/tenant-plans.js';
import { goldenInventory } from '../helpers/vpc.js';

const HOSTS = ['leaf1-srv1', 'leaf1-srv2', 'leaf2-srv1', 'leaf2-srv2'];

/** One tenant's objects, drawn small: VPCs with subnets, instances, an internet gateway, elastic IPs. */
const tenantArb = fc.record({
  vpcs: fc.array(
    fc.record({
      subnets: fc.integer({ min: 0, max: 3 }),
      igw: fc.boolean(),
      instances: fc.array(
        fc.record({ subnet: fc.nat(2), host: fc.nat(3), running: fc.boolean(), eip: fc.boolean() }),
        { maxLength: 4 },
      ),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});
type TenantDraft = typeof tenantArb extends fc.Arbitrary<infer T> ? T : never;

/** The intent of tenants `t0`, `t1`, ... (null: that tenant does not exist). */
function intentOf(drafts: readonly (TenantDraft | null)[]): Intent {
  const out: Record<string, unknown[]> = {};
  for (const key of Object.keys(EMPTY_INTENT)) out[key] = [];
  drafts.forEach((d, t) => {
    if (d === null) return;
    const tenant = `t${t}`;
    out.tenants!.push({ id: tenant, name: tenant });
    d.vpcs.forEach((v, k) => {
      const vpc = `${tenant}-vpc-${k}`;
      out.vpcs!.push({ id: vpc, tenant, name: `v${k}`, cidrs: [`10.${k}.0.0/16`] });
      if (v.igw) out.internetGateways!.push({ id: `${vpc}-igw`, tenant, vpc, name: 'out' });
      for (let s = 0; s < v.subnets; s++)
        out.subnets!.push({ id: `${vpc}-sub-${s}`, tenant, vpc, name: `s${s}`, cidr: `10.${k}.${s}.0/24` });
      v.instances.forEach((i, n) => {
        if (i.subnet >= v.subnets) return;
        const id = `${vpc}-i-${n}`;
        out.instances!.push({
          id,
          tenant,
          subnet: `${vpc}-sub-${i.subnet}`,
          name: `vm${n}`,
          ip: `10.${k}.${i.subnet}.${10 + n}`,
          mac: `0a:00:00:${t.toString(16).padStart(2, '0')}:${k.toString(16).padStart(2, '0')}:${(n + 1).toString(16).padStart(2, '0')}`,
          securityGroups: [],
          host: HOSTS[i.host]!,
          state: i.running ? 'running' : 'stopped',
        });
        if (i.eip && v.igw)
          out.elasticIps!.push({
            id: `${id}-eip`,
            tenant,
            name: `eip${n}`,
            address: `203.0.113.${1 + t * 20 + k * 5 + n}`,
            instance: id,
          });
      });
    });
  });
  return out as unknown as Intent;
}

function merged(plans: TenantPlans): Plan {
  const entries = plans.tenants().flatMap((t) => plans.planOf(t).entries);
  return { version: PLAN_VERSION, entries: [...entries].sort(compareEntries) };
}

/**
 * Single-tenant changes replayed on `TenantPlans`, each checked against the whole compile (the
 * parts together equal `compile(whole intent, fabric, whole previous plan)`); `step` returns what
 * the change compiled.
 */
function replayer(inventory: FabricInventory) {
  const plans = new TenantPlans(inventory);
  const drafts: (TenantDraft | null)[] = [null, null, null, null];
  let whole: Plan = EMPTY_PLAN;
  const step = (t: number, draft: TenantDraft | null) => {
    drafts[t] = draft;
    const intent = intentOf(drafts);
    const tenant = `t${t}`;
    const changes = plans.update(splitByTenant(intent).get(tenant) ?? EMPTY_INTENT, new Set([tenant]));
    whole = compile(intent, inventory, whole);
    assert.deepEqual(merged(plans), whole);
    return changes;
  };
  return { plans, step };
}

test('splitByTenant: each tenant gets its own object and what it owns, in the intent order', () => {
  const intent = intentOf([
    { vpcs: [{ subnets: 1, igw: true, instances: [{ subnet: 0, host: 0, running: true, eip: true }] }] },
    { vpcs: [{ subnets: 1, igw: false, instances: [] }] },
  ]);
  const parts = splitByTenant(intent);
  assert.deepEqual([...parts.keys()], ['t0', 't1']);
  assert.deepEqual(
    parts.get('t0')!.tenants.map((t) => t.id),
    ['t0'],
  );
  assert.deepEqual(
    parts.get('t0')!.instances.map((i) => i.id),
    ['t0-vpc-0-i-0'],
  );
  assert.deepEqual(
    parts.get('t1')!.subnets.map((s) => s.id),
    ['t1-vpc-0-sub-0'],
  );
  assert.equal(parts.get('t1')!.instances.length, 0);
});

/**
 * Random sequences of changes, each to one tenant: after every step the parts together are
 * `compile(whole intent, fabric, whole previous plan)`, and no VNI or SNAT address is held twice.
 * With `onlyTouched`, each update also reports exactly the touched tenant's part (with a pool that
 * runs out, a tenant waiting for an address may be compiled too).
 */
function assertPartsAreTheWholeCompile(inventory: FabricInventory, numRuns: number, onlyTouched: boolean) {
  fc.assert(
    fc.property(
      fc.array(fc.record({ tenant: fc.nat(3), draft: fc.option(tenantArb, { freq: 5 }) }), {
        minLength: 1,
        maxLength: 8,
      }),
      (steps) => {
        const replay = replayer(inventory);
        for (const step of steps) {
          const tenant = `t${step.tenant}`;
          const changes = replay.step(step.tenant, step.draft);
          if (onlyTouched) {
            assert.deepEqual(
              changes.map((c) => c.tenant),
              [tenant],
            );
            assert.deepEqual(changes[0]!.after, replay.plans.planOf(tenant));
          }
        }
        // The parts are the whole compile (checked at every step): its VNIs and addresses, each once.
        const whole = merged(replay.plans);
        const vnis = [...entriesOf(whole, 'l2-vni'), ...entriesOf(whole, 'l3-vni')].map((e) => e.vni);
        assert.equal(new Set(vnis).size, vnis.length, 'no VNI twice');
        const publicIps = entriesOf(whole, 'snat').map((e) => e.publicIp);
        assert.equal(new Set(publicIps).size, publicIps.length, 'no SNAT address twice');
      },
    ),
    { numRuns },
  );
}

test('property: changing one tenant at a time, the parts are the whole compile against the whole previous plan', () => {
  assertPartsAreTheWholeCompile(goldenInventory(), 150, true);
});

test('an elastic IP given where another tenant had its SNAT address moves that SNAT', () => {
  const inventory = goldenInventory();
  const plans = new TenantPlans(inventory);
  const a = intentOf([{ vpcs: [{ subnets: 1, igw: true, instances: [] }] }]);
  plans.update(a, new Set(['t0']));
  const snat = entriesOf(plans.planOf('t0'), 'snat')[0]!.publicIp;
  assert.equal(snat, '203.0.113.254', 'SNAT from the top of the pool');
  const b = intentOf([null, { vpcs: [{ subnets: 1, igw: true, instances: [] }] }]);
  const bIntent = structuredClone(splitByTenant(b).get('t1')!) as unknown as Record<string, unknown[]>;
  bIntent.elasticIps!.push({ id: 'eip-x', tenant: 't1', name: 'x', address: snat });
  const changes = plans.update(bIntent as unknown as Intent, new Set(['t1']));
  assert.deepEqual(
    changes.map((c) => c.tenant),
    ['t0', 't1'],
    't0 compiled again',
  );
  const whole = Object.fromEntries(
    Object.keys(EMPTY_INTENT).map((k) => [
      k,
      [...(a as unknown as Record<string, unknown[]>)[k]!, ...bIntent[k]!],
    ]),
  ) as unknown as Intent;
  assert.deepEqual(merged(plans), compile(whole, inventory, compile(a, inventory)));
  // Both VPCs need an address: they take them in VPC id order, as the whole compile gives them.
  assert.equal(entriesOf(plans.planOf('t0'), 'snat')[0]!.publicIp, '203.0.113.253');
  assert.equal(entriesOf(plans.planOf('t1'), 'snat')[0]!.publicIp, '203.0.113.252');
});

test('the data plane applied per tenant: a change to one tenant touches only its part', () => {
  const inventory = createServiceDataPlane().inventory();
  const dp = createServiceDataPlane();
  const plans = new TenantPlans(inventory);
  const drafts: TenantDraft[] = [
    {
      vpcs: [
        {
          subnets: 2,
          igw: true,
          instances: [
            { subnet: 0, host: 0, running: true, eip: true },
            { subnet: 1, host: 2, running: true, eip: false },
          ],
        },
      ],
    },
    { vpcs: [{ subnets: 1, igw: false, instances: [{ subnet: 0, host: 0, running: true, eip: false }] }] },
  ];
  for (const c of plans.update(intentOf(drafts), null)) dp.apply(c.after, c.tenant);
  dp.settle();
  assert.deepEqual(dp.plan, compile(intentOf(drafts), inventory, dp.plan), 'the parts make the whole plan');
  const t1Before = dp.planOf('t1');
  // t0's second instance moves to leaf1-srv2: only t0's part changes on the data plane.
  drafts[0]!.vpcs[0]!.instances[1]!.host = 1;
  const changes = plans.update(splitByTenant(intentOf(drafts)).get('t0')!, new Set(['t0']));
  const report = dp.apply(changes[0]!.after, 't0');
  dp.settle();
  assert.equal(dp.planOf('t1'), t1Before, "t1's part is untouched");
  assert.ok(report.actions.length > 0);
  for (const line of report.actions) assert.doesNotMatch(line, /t1-/, line);
  assert.equal(dp.instance('t0-vpc-0-i-1')?.name, 't0-vpc-0-i-1');
  assert.equal(dp.instances.get('t0-vpc-0-i-1')?.nve.name, 'leaf1-srv2', 'migrated');
  // Deleting tenant t1 empties its part and removes its instance.
  const gone = plans.update(EMPTY_INTENT, new Set(['t1']));
  dp.apply(gone[0]!.after, 't1');
  assert.equal(dp.planOf('t1'), EMPTY_PLAN);
  assert.equal(dp.instance('t1-vpc-0-i-0'), undefined);
  assert.ok(dp.instance('t0-vpc-0-i-0'));
});

test('an address freed by one tenant goes to another tenant waiting for one, as the whole compile gives it', () => {
  // A pool with two usable addresses and three VPCs with an internet gateway: the third waits.
  const golden = goldenInventory();
  const inventory = { ...golden, border: { ...golden.border!, publicPool: '203.0.113.0/30' } };
  const { plans, step } = replayer(inventory);
  for (const t of [0, 1, 2]) step(t, { vpcs: [{ subnets: 1, igw: true, instances: [] }] });
  assert.equal(entriesOf(plans.planOf('t2'), 'snat').length, 0, 't2 waits: the pool is exhausted');
  // t0 drops its internet gateway: its address is free, and t2's VPC gets it.
  step(0, { vpcs: [{ subnets: 1, igw: false, instances: [] }] });
  assert.equal(entriesOf(plans.planOf('t2'), 'snat').length, 1);
});
test('property, with a public pool that runs out: the parts are still the whole compile against the whole previous plan', () => {
  const golden = goldenInventory();
  assertPartsAreTheWholeCompile(
    { ...golden, border: { ...golden.border!, publicPool: '203.0.113.0/29' } },
    300,
    false,
  );
});

test('restored allocations: every object keeps what it had, and a new object takes none of them', () => {
  const inventory = goldenInventory();
  const drafts: (TenantDraft | null)[] = [
    { vpcs: [{ subnets: 2, igw: true, instances: [] }] },
    { vpcs: [{ subnets: 2, igw: true, instances: [] }] },
  ];
  // History: t0 then t1 compiled, then t0's first subnet deleted (its VNI free again).
  const history = new TenantPlans(inventory);
  history.update(intentOf(drafts), null);
  const t0 = splitByTenant(intentOf(drafts)).get('t0')!;
  const withoutFirst = { ...t0, subnets: t0.subnets.filter((s) => s.id !== 't0-vpc-0-sub-0') };
  history.update(withoutFirst as Intent, new Set(['t0']));
  const before = merged(history);
  const saved = allocationsOf(before);
  // A restart: every tenant compiled from nothing, with the saved allocations, and t0 has a new
  // subnet that was never saved (the process died before): it must not take t1's VNIs.
  const restarted = new TenantPlans(inventory);
  restarted.restore(saved);
  const intent = intentOf(drafts) as unknown as { subnets: unknown[] };
  intent.subnets = (intent.subnets as { id: string }[]).filter((s) => s.id !== 't0-vpc-0-sub-0');
  (intent.subnets as object[]).push({
    id: 't0-vpc-0-sub-9',
    tenant: 't0',
    vpc: 't0-vpc-0',
    name: 's9',
    cidr: '10.0.9.0/24',
  });
  restarted.update(intent as unknown as Intent, null);
  const after = merged(restarted);
  const vni = (plan: Plan, kind: 'l2-vni' | 'l3-vni', key: string) =>
    (plan.entries.find((e) => e.kind === kind && e.key === key) as { vni: number } | undefined)?.vni;
  for (const [key, v] of saved.l2Vni) assert.equal(vni(after, 'l2-vni', key), v, key);
  for (const [key, v] of saved.l3Vni) assert.equal(vni(after, 'l3-vni', key), v, key);
  assert.deepEqual(allocationsOf(after).snat, saved.snat);
  assert.equal(vni(after, 'l2-vni', 't0-vpc-0-sub-9'), 100000, 'the VNI the deleted subnet freed');
  // Once every tenant has been compiled, the restored allocations no longer hold anything back.
  const t1 = splitByTenant(intent as unknown as Intent).get('t1')!;
  restarted.update({ ...t1, subnets: [] } as Intent, new Set(['t1']));
  const t0Part = splitByTenant(intent as unknown as Intent).get('t0')!;
  restarted.update(
    {
      ...t0Part,
      subnets: [
        ...t0Part.subnets,
        { id: 't0-vpc-0-sub-8', tenant: 't0', vpc: 't0-vpc-0', name: 's8', cidr: '10.0.8.0/24' },
      ],
    } as Intent,
    new Set(['t0']),
  );
  assert.equal(
    vni(merged(restarted), 'l2-vni', 't0-vpc-0-sub-8'),
    Math.min(...[...saved.l2Vni].filter(([k]) => k.startsWith('t1')).map(([, v]) => v)),
  );
});

test('the pool run out: a freed address goes to the smallest waiting VPC, not to the changed tenant first (as the whole compile)', () => {
  const golden = goldenInventory();
  const inventory = { ...golden, border: { ...golden.border!, publicPool: '203.0.113.0/29' } };
  const withIgw = (n: number) => ({
    vpcs: Array.from({ length: n }, () => ({ subnets: 0, igw: true, instances: [] })),
  });
  const steps: [number, TenantDraft][] = [
    [3, withIgw(1)],
    [2, withIgw(2)],
    [0, withIgw(2)],
    [1, withIgw(2)], // t1-vpc-1 finds the pool (6 addresses) empty and waits
    [
      3,
      {
        vpcs: [
          { subnets: 0, igw: false, instances: [] },
          { subnets: 0, igw: true, instances: [] },
        ],
      },
    ],
  ];
  const { plans, step } = replayer(inventory);
  for (const [t, draft] of steps) step(t, draft);
  // t3-vpc-0 gave up .6; t1-vpc-1 (a smaller id than t3-vpc-1) has it, t3-vpc-1 waits.
  const snat = Object.fromEntries(entriesOf(merged(plans), 'snat').map((e) => [e.vpc, e.publicIp]));
  assert.equal(snat['t1-vpc-1'], '203.0.113.6');
  assert.equal(snat['t3-vpc-1'], undefined);
});

test("the pool run out: a SNAT address moved by another tenant's elastic IP and a waiting VPC take freed addresses in VPC id order (as the whole compile)", () => {
  // fast-check seed 1774339786, shrunk: t0's change frees addresses while t2-vpc-0 waits, and its
  // new elastic IP is t1-vpc-0's SNAT address. The whole compile gives t1-vpc-0 (the smaller id)
  // the higher free address; t1 compiled after t0 and the waiting t2 got the lower one.
  const golden = goldenInventory();
  const inventory = { ...golden, border: { ...golden.border!, publicPool: '203.0.113.0/29' } };
  const stopped = { subnet: 0, host: 0, running: false, eip: true };
  const steps: [number, TenantDraft][] = [
    [
      1,
      {
        vpcs: [
          { subnets: 0, igw: true, instances: [] },
          { subnets: 0, igw: true, instances: [] },
        ],
      },
    ], // t1-vpc-0 .6, t1-vpc-1 .5
    [0, { vpcs: [{ subnets: 1, igw: true, instances: [stopped, stopped, stopped] }] }], // eips .1-.3, SNAT .4
    [
      2,
      {
        vpcs: [
          { subnets: 0, igw: true, instances: [] },
          { subnets: 0, igw: false, instances: [] },
        ],
      },
    ], // t2-vpc-0 finds the pool empty and waits
    [
      0,
      {
        vpcs: [
          { subnets: 0, igw: false, instances: [] },
          { subnets: 1, igw: true, instances: [stopped] },
        ],
      },
    ], // .1-.4 freed; t0-vpc-1's elastic IP is .6, t1-vpc-0's SNAT address
  ];
  const { plans, step } = replayer(inventory);
  for (const [t, draft] of steps) step(t, draft);
  const snat = Object.fromEntries(entriesOf(merged(plans), 'snat').map((e) => [e.vpc, e.publicIp]));
  assert.deepEqual(snat, {
    't0-vpc-1': '203.0.113.4',
    't1-vpc-0': '203.0.113.3',
    't1-vpc-1': '203.0.113.5',
    't2-vpc-0': '203.0.113.2',
  });
});

test('property, elastic IPs anywhere in a small pool: SNAT addresses moved, freed and waited for are still the whole compile', () => {
  // The drafts above give elastic IPs low addresses, which rarely meet a SNAT address: here they
  // are drawn from the whole pool (unique across tenants, as the store gives them), without instances.
  const golden = goldenInventory();
  const inventory = { ...golden, border: { ...golden.border!, publicPool: '203.0.113.0/29' } };
  const draftArb = fc.record({
    vpcs: fc.array(fc.record({ igw: fc.boolean(), subnet: fc.boolean() }), { minLength: 1, maxLength: 3 }),
    eips: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { maxLength: 3 }),
  });
  type Draft = typeof draftArb extends fc.Arbitrary<infer T> ? T : never;
  const intentOfDrafts = (drafts: readonly (Draft | null)[]): Intent => {
    const out: Record<string, unknown[]> = {};
    for (const key of Object.keys(EMPTY_INTENT)) out[key] = [];
    drafts.forEach((d, t) => {
      if (d === null) return;
      const tenant = `t${t}`;
      out.tenants!.push({ id: tenant, name: tenant });
      d.vpcs.forEach((v, k) => {
        const vpc = `${tenant}-vpc-${k}`;
        out.vpcs!.push({ id: vpc, tenant, name: `v${k}`, cidrs: [`10.${k}.0.0/16`] });
        if (v.igw) out.internetGateways!.push({ id: `${vpc}-igw`, tenant, vpc, name: 'out' });
        if (v.subnet) out.subnets!.push({ id: `${vpc}-sub`, tenant, vpc, name: 's', cidr: `10.${k}.0.0/24` });
      });
      for (const a of d.eips)
        out.elasticIps!.push({ id: `${tenant}-eip-${a}`, tenant, name: `e${a}`, address: `203.0.113.${a}` });
    });
    return out as unknown as Intent;
  };
  fc.assert(
    fc.property(
      fc.array(fc.record({ tenant: fc.nat(3), draft: fc.option(draftArb, { freq: 5 }) }), {
        minLength: 1,
        maxLength: 10,
      }),
      (steps) => {
        const plans = new TenantPlans(inventory);
        const drafts: (Draft | null)[] = [null, null, null, null];
        let whole: Plan = EMPTY_PLAN;
        for (const step of steps) {
          const others = new Set(drafts.flatMap((d, t) => (d === null || t === step.tenant ? [] : d.eips)));
          drafts[step.tenant] =
            step.draft === null
              ? null
              : { ...step.draft, eips: step.draft.eips.filter((a) => !others.has(a)) };
          const intent = intentOfDrafts(drafts);
          const tenant = `t${step.tenant}`;
          plans.update(splitByTenant(intent).get(tenant) ?? EMPTY_INTENT, new Set([tenant]));
          whole = compile(intent, inventory, whole);
          assert.deepEqual(merged(plans), whole);
        }
        const publicIps = entriesOf(whole, 'snat').map((e) => e.publicIp);
        assert.equal(new Set(publicIps).size, publicIps.length, 'no SNAT address twice');
      },
    ),
    { numRuns: 300 },
  );
});
