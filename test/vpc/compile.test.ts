/**
 * `compile`: the golden intent (two tenants with the same 10.0.0.0/16, a peering, an internet
 * gateway, an elastic IP, a stopped instance) onto a 2-leaf / 4-hypervisor inventory, checked byte
 * for byte against test/fixtures/vpc/golden-plan.json; then targeted properties: VNIs unique
 * fabric-wide, every entry's source, nothing for a stopped instance, determinism, purity, and VNIs
 * that stay put as the intent changes (stability).
 *
 * To regenerate the golden plan after a deliberate change of the compiler or the intent, run
 * `VNET_UPDATE_GOLDEN=1 npm test` and review the diff of golden-plan.json before committing it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  compile,
  entriesOf,
  type Intent,
  OBJECT_KINDS,
  type Plan,
  SUBNET_VNI_BASE,
  VPC_L3VNI_BASE,
} from '../../src/vpc/index.js';
import { repoPath } from '../helpers/repo.js';
import { edited, GOLDEN_PLAN_PATH, goldenIntent, goldenInventory } from '../helpers/vpc.js';

const INTENT = goldenIntent();
const FABRIC = goldenInventory();
const PLAN = compile(INTENT, FABRIC);

const vnisOf = (plan: Plan) =>
  Object.fromEntries([...entriesOf(plan, 'l2-vni'), ...entriesOf(plan, 'l3-vni')].map((e) => [e.key, e.vni]));

test('the golden plan, byte for byte', () => {
  const text = `${JSON.stringify(PLAN, null, 2)}\n`;
  if (process.env.VNET_UPDATE_GOLDEN === '1') writeFileSync(repoPath(GOLDEN_PLAN_PATH), text);
  assert.equal(text, readFileSync(repoPath(GOLDEN_PLAN_PATH), 'utf8'));
});

test('the golden plan: how many entries of each kind', () => {
  const counts: Record<string, number> = {};
  for (const e of PLAN.entries) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  assert.deepEqual(counts, {
    'l3-vni': 3,
    'l2-vni': 5,
    'anycast-gateway': 5,
    vrf: 9,
    'bridge-domain': 6,
    vbdif: 6,
    'peering-link': 3,
    'external-link': 1,
    'vrf-route': 6,
    'resolved-route': 17,
    'mac-ip-route': 6,
    'dhcp-binding': 6,
    'sg-rule': 17,
    'acl-rule': 7,
    snat: 1,
    'static-nat': 1,
  });
});

test('VNIs are unique fabric-wide, across tenants with the same CIDRs', () => {
  assert.deepEqual(vnisOf(PLAN), {
    'vpc-a1': 900000,
    'vpc-a2': 900001,
    'vpc-b1': 900002,
    'subnet-a1': 100000,
    'subnet-a2': 100001,
    'subnet-a3': 100002,
    'subnet-b1': 100003,
    'subnet-b2': 100004,
  });
  const all = Object.values(vnisOf(PLAN));
  assert.equal(new Set(all).size, all.length);
  // subnet-a1 and subnet-b1 are both 10.0.1.0/24, with the same gateway address and MAC, in different VNIs.
  const gw = entriesOf(PLAN, 'anycast-gateway');
  const a1 = gw.find((g) => g.subnet === 'subnet-a1')!;
  const b1 = gw.find((g) => g.subnet === 'subnet-b1')!;
  assert.deepEqual([a1.address, a1.mac, a1.vni], ['10.0.1.1/24', '02:ac:00:00:00:01', 100000]);
  assert.deepEqual([b1.address, b1.mac, b1.vni], ['10.0.1.1/24', '02:ac:00:00:00:01', 100003]);
  // i-a1 and i-b1 share 10.0.1.10 and are told apart by their VNI.
  assert.deepEqual(
    entriesOf(PLAN, 'mac-ip-route')
      .filter((r) => r.ip === '10.0.1.10')
      .map((r) => [r.instance, r.vni, r.l3Vni, r.host]),
    [
      ['i-a1', 100000, 900000, 'leaf1-srv1'],
      ['i-b1', 100003, 900002, 'leaf1-srv1'],
    ],
  );
});

test('every entry names the intent object that produced it', () => {
  const ids = new Set<string>();
  for (const k of Object.values(OBJECT_KINDS)) for (const o of INTENT[k.key]) ids.add(o.id);
  for (const e of PLAN.entries) {
    const id = e.source.split('/')[0]!;
    assert.ok(ids.has(id), `${e.kind} ${e.key}: source ${e.source}`);
  }
  const sourcesOf = (kind: Parameters<typeof entriesOf>[1]) => [
    ...new Set(entriesOf(PLAN, kind).map((e) => e.source)),
  ];
  assert.deepEqual(sourcesOf('l3-vni'), ['vpc-a1', 'vpc-a2', 'vpc-b1']);
  assert.deepEqual(sourcesOf('bridge-domain'), [
    'subnet-a1',
    'subnet-b1',
    'subnet-a2',
    'subnet-b2',
    'subnet-a3',
  ]);
  assert.deepEqual(sourcesOf('vrf-route'), [
    'vpc-a1',
    'rtb-a1/routes[0]',
    'rtb-a1/routes[1]',
    'vpc-a2',
    'rtb-a2/routes[0]',
    'vpc-b1',
  ]);
  assert.deepEqual(sourcesOf('acl-rule'), [
    'acl-a1/egress[0]',
    'acl-a1',
    'acl-a1/ingress[1]',
    'acl-a1/ingress[0]',
    'acl-a1/ingress[2]',
    'acl-a1/ingress[3]',
  ]);
  assert.deepEqual(sourcesOf('snat'), ['igw-a1']);
  assert.deepEqual(sourcesOf('static-nat'), ['eip-a1']);
  assert.deepEqual(
    entriesOf(PLAN, 'sg-rule')
      .filter((r) => r.instance === 'i-a3')
      .map((r) => [r.key, r.source]),
    [
      ['i-a3/egress/sg-a2[0]/0.0.0.0/0', 'sg-a2/egress[0]'],
      ['i-a3/ingress/sg-a2[0]/10.0.1.10/32', 'sg-a2/ingress[0]'],
      ['i-a3/ingress/sg-a2[0]/10.0.1.11/32', 'sg-a2/ingress[0]'],
    ],
  );
});

test('a stopped instance gets no MAC/IP route, DHCP binding, rule, NAT or BD of its own', () => {
  const mentions = PLAN.entries.filter(
    (e) => JSON.stringify(e).includes('i-a5') || JSON.stringify(e).includes('10.0.2.11'),
  );
  assert.deepEqual(mentions, []);
  // i-a5 is the only instance of subnet-a2 on leaf1-srv1: no BD there for it.
  assert.equal(
    PLAN.entries.find((e) => e.key === 'leaf1-srv1/vni 100001'),
    undefined,
  );
  // Started, it gets them all, and its elastic IP when it has one.
  const started = compile(
    edited(INTENT, (d) => {
      d.instances.find((i) => i.id === 'i-a5').state = 'running';
    }),
    FABRIC,
  );
  assert.deepEqual(
    started.entries
      .filter((e) => e.source === 'i-a5' || e.key.startsWith('i-a5/'))
      .map((e) => `${e.kind} ${e.key}`),
    [
      'mac-ip-route vni 100001/0a:00:00:00:00:05',
      'dhcp-binding subnet-a2/0a:00:00:00:00:05',
      'sg-rule i-a5/egress/sg-a2[0]/0.0.0.0/0',
      'sg-rule i-a5/ingress/sg-a2[0]/10.0.1.10/32',
      'sg-rule i-a5/ingress/sg-a2[0]/10.0.1.11/32',
    ],
  );
  assert.ok(started.entries.some((e) => e.key === 'leaf1-srv1/vni 100001'));
});

test('deterministic and pure: shuffled lists give the same plan; the intent is left untouched', () => {
  const frozen = structuredClone(INTENT);
  const deepFreeze = (o: unknown): void => {
    if (o !== null && typeof o === 'object') {
      Object.freeze(o);
      for (const v of Object.values(o)) deepFreeze(v);
    }
  };
  deepFreeze(frozen);
  const reversed = Object.fromEntries(
    Object.entries(INTENT).map(([k, v]) => [k, [...(v as unknown[])].reverse()]),
  ) as unknown as Intent;
  const again = compile(frozen, FABRIC);
  assert.deepEqual(again, PLAN);
  assert.deepEqual(compile(reversed, FABRIC), PLAN);
  assert.deepEqual(frozen, INTENT);
  // Compiling with the plan as its own previous plan changes nothing.
  assert.deepEqual(compile(INTENT, FABRIC, PLAN), PLAN);
});

test('stability: a new subnet and instance leave every existing VNI in place', () => {
  const grown = edited(INTENT, (d) => {
    // An id that sorts first: without the previous plan it would take 100000.
    d.subnets.push({ id: 'subnet-a0', tenant: 'tenant-a', vpc: 'vpc-a1', name: 'edge', cidr: '10.0.0.0/24' });
    d.instances.push({
      id: 'i-a0',
      tenant: 'tenant-a',
      subnet: 'subnet-a0',
      name: 'edge1',
      ip: '10.0.0.4',
      mac: '0a:00:00:00:00:08',
      securityGroups: [],
      host: 'leaf2-srv2',
      state: 'running',
    });
    d.vpcs.push({ id: 'vpc-a0', tenant: 'tenant-a', name: 'lab', cidrs: ['10.9.0.0/16'] });
  });
  const next = compile(grown, FABRIC, PLAN);
  assert.deepEqual(vnisOf(next), { ...vnisOf(PLAN), 'subnet-a0': 100005, 'vpc-a0': 900003 });
  // Without the previous plan, ids in order: everything shifts (why `previous` is passed).
  assert.equal(vnisOf(compile(grown, FABRIC))['subnet-a1'], 100001);
});

test('stability: deleting a subnet and a VPC frees only their own VNIs, which new objects may take', () => {
  const shrunk = edited(INTENT, (d) => {
    d.subnets = d.subnets.filter((s) => s.id !== 'subnet-a2');
    d.instances = d.instances.filter((i) => i.subnet !== 'subnet-a2');
    d.vpcs = d.vpcs.filter((v) => v.id !== 'vpc-a2');
    d.subnets = d.subnets.filter((s) => s.id !== 'subnet-a3');
    d.instances = d.instances.filter((i) => i.subnet !== 'subnet-a3');
    d.routeTables = d.routeTables.filter((t) => t.id !== 'rtb-a2');
    d.peerings = [];
    d.routeTables[0].routes.pop();
    d.securityGroups = d.securityGroups.filter((g) => g.id !== 'sg-a3');
  });
  const after = compile(shrunk, FABRIC, PLAN);
  const { 'subnet-a2': _a, 'subnet-a3': _b, 'vpc-a2': _c, ...kept } = vnisOf(PLAN);
  assert.deepEqual(vnisOf(after), kept);
  const refilled = compile(
    edited(shrunk, (d) => {
      d.subnets.push({
        id: 'subnet-a9',
        tenant: 'tenant-a',
        vpc: 'vpc-a1',
        name: 'new',
        cidr: '10.0.9.0/24',
      });
    }),
    FABRIC,
    after,
  );
  assert.equal(vnisOf(refilled)['subnet-a9'], SUBNET_VNI_BASE + 1);
  assert.equal(vnisOf(refilled)['vpc-a1'], VPC_L3VNI_BASE);
});

test('source NAT addresses: from the top of the pool, never an elastic IP, kept across compiles', () => {
  const two = edited(INTENT, (d) => {
    d.internetGateways.push({ id: 'igw-b1', tenant: 'tenant-b', vpc: 'vpc-b1', name: 'out' });
    d.elasticIps.push({ id: 'eip-b1', tenant: 'tenant-b', name: 'taken', address: '203.0.113.253' });
  });
  const plan = compile(two, FABRIC, PLAN);
  assert.deepEqual(
    entriesOf(plan, 'snat').map((e) => [e.vpc, e.publicIp, e.source]),
    [
      ['vpc-a1', '203.0.113.254', 'igw-a1'],
      ['vpc-b1', '203.0.113.252', 'igw-b1'],
    ],
  );
  // Without a border: no border VRF, no NAT, and the default route has no next hop.
  const inside = compile(INTENT, { hypervisors: FABRIC.hypervisors, border: null });
  assert.deepEqual(
    inside.entries.filter((e) => e.kind === 'snat' || e.kind === 'static-nat' || e.key.startsWith('border/')),
    [],
  );
  assert.equal(
    inside.entries.find((e) => e.key === 'vpc-a1/subnet-a1 0.0.0.0/0' && e.kind === 'vrf-route')?.source,
    'rtb-a1/routes[0]',
  );
});

test("peering links are numbered within their tenant: another tenant's peerings never move them", () => {
  const both = edited(INTENT, (d) => {
    d.vpcs.push({ id: 'vpc-b0', tenant: 'tenant-b', name: 'b0', cidrs: ['10.5.0.0/16'] });
    d.subnets.push({ id: 'subnet-b0', tenant: 'tenant-b', vpc: 'vpc-b0', name: 'b0', cidr: '10.5.1.0/24' });
    d.instances.push({
      id: 'i-b0',
      tenant: 'tenant-b',
      subnet: 'subnet-b0',
      name: 'b0',
      ip: '10.5.1.10',
      mac: '0a:00:00:00:00:b0',
      securityGroups: [],
      host: 'leaf2-srv2',
      state: 'running',
    });
    d.peerings.push({ id: 'pcx-b1', tenant: 'tenant-b', name: 'b', vpc: 'vpc-b0', peerVpc: 'vpc-b1' });
    d.routeTables.push({
      id: 'rtb-b1',
      tenant: 'tenant-b',
      vpc: 'vpc-b1',
      name: 'b1',
      routes: [{ destination: '10.5.0.0/16', target: { kind: 'peering', id: 'pcx-b1' } }],
    });
    d.subnets.find((s) => s.id === 'subnet-b1').routeTable = 'rtb-b1';
  });
  const links = (plan: Plan, tenantVpcs: string[]) =>
    entriesOf(plan, 'peering-link')
      .filter((e) => tenantVpcs.includes(e.a))
      .map((e) => `${e.key} ${e.aIface} ${e.aAddress} ${e.bIface} ${e.bAddress}`);
  const whole = compile(both, FABRIC);
  // Each tenant's first pair takes the block's first /30, whoever else is compiled with it.
  assert.deepEqual(links(whole, ['vpc-b0']), [
    'leaf1-srv1/vpc-b0 vpc-b1 pcx-vpc-b1 198.18.0.1/30 pcx-vpc-b0 198.18.0.2/30',
    'leaf1-srv2/vpc-b0 vpc-b1 pcx-vpc-b1 198.18.0.1/30 pcx-vpc-b0 198.18.0.2/30',
    'leaf2-srv2/vpc-b0 vpc-b1 pcx-vpc-b1 198.18.0.1/30 pcx-vpc-b0 198.18.0.2/30',
  ]);
  assert.deepEqual(links(whole, ['vpc-a1']), links(PLAN, ['vpc-a1']));
  assert.equal(links(PLAN, ['vpc-a1'])[0]?.includes('198.18.0.1/30'), true);
});
