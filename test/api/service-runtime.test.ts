/**
 * The service with its simulated fabric, as `vnet serve` runs it: every committed change is
 * compiled and applied to the data plane; `/v1/plan` shows the tenant's part of the plan and
 * `/v1/reach` answers from the plan and confirms with a real packet. Two tenants with the same
 * CIDRs; another tenant's instance is unknown (404).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ServiceRuntime } from '../../src/api/service-runtime.js';
import type { TestService } from '../helpers/service.js';
import { startFabricService } from '../helpers/tenant-network.js';

let svc: TestService;
let runtime: ServiceRuntime;
const tokens: Record<string, string> = {};
before(async () => {
  ({ svc, runtime } = await startFabricService());
  for (const t of ['acme', 'globex']) tokens[t] = (await svc.tenant(t)).token;
});
after(() => svc.close());

const as = (tenant: string, method: string, path: string, body?: unknown) =>
  svc.request(method, path, { token: tokens[tenant]!, body });

/** A VPC 10.0.0.0/16 with one subnet, a group allowing ICMP and TCP 22 among its members, two instances on two leaves. */
async function network(tenant: string) {
  const vpc = (await as(tenant, 'POST', '/v1/vpcs', { name: 'main', cidrs: ['10.0.0.0/16'] })).body;
  const subnet = (await as(tenant, 'POST', '/v1/subnets', { name: 'apps', vpc: vpc.id, cidr: '10.0.1.0/24' }))
    .body;
  const sg = (
    await as(tenant, 'POST', '/v1/security-groups', {
      name: 'apps',
      vpc: vpc.id,
      ingress: [
        { protocol: 'icmp', cidr: '10.0.0.0/16' },
        { protocol: 'tcp', ports: [22, 22], cidr: '10.0.0.0/16' },
      ],
      egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
    })
  ).body;
  const launch = async (name: string, host: string) => {
    const r = await as(tenant, 'POST', '/v1/instances', {
      name,
      subnet: subnet.id,
      securityGroups: [sg.id],
      host,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  return { vpc, subnet, sg, a: await launch('a', 'leaf1-srv1'), b: await launch('b', 'leaf2-srv1') };
}

test('a change is applied to the fabric: instances get their addresses and reach each other, a closed port is blocked by name', async () => {
  const acme = await network('acme');
  assert.deepEqual([acme.a.ip, acme.b.ip], ['10.0.1.4', '10.0.1.5']);
  // The data plane has the instances, addressed by DHCP from their subnet's gateway.
  const host = runtime.dataPlane.instance(acme.a.id)!;
  assert.equal(host.interfaces[0]!.primary?.address, 0x0a000104);
  const ping = await as('acme', 'POST', '/v1/reach', { src: acme.a.id, dst: acme.b.id, protocol: 'icmp' });
  assert.equal(ping.status, 200, JSON.stringify(ping.body));
  assert.deepEqual([ping.body.allowed, ping.body.delivered, ping.body.agree], [true, true, true]);
  assert.ok(ping.body.trace.length > 0);
  const closed = await as('acme', 'POST', '/v1/reach', {
    src: acme.a.id,
    dst: acme.b.id,
    protocol: 'tcp',
    port: 443,
  });
  assert.deepEqual([closed.body.allowed, closed.body.delivered, closed.body.agree], [false, false, true]);
  const blocked = closed.body.hops.find((h: { verdict: string }) => h.verdict === 'block');
  assert.equal(blocked.source, acme.sg.id);
  assert.ok(
    closed.body.drops.some((d: string) => /security-group/.test(d)),
    JSON.stringify(closed.body.drops),
  );
});

test('tenants with the same CIDRs: each sees only its own plan and instances', async () => {
  const globex = await network('globex');
  const plan = await as('globex', 'GET', '/v1/plan');
  assert.equal(plan.status, 200);
  const sources = new Set(plan.body.entries.map((e: { source: string }) => e.source.split('/')[0]));
  assert.ok(sources.has(globex.vpc.id) && sources.has(globex.a.id));
  const acmeInstances = (await as('acme', 'GET', '/v1/instances')).body.items.map(
    (i: { id: string }) => i.id,
  );
  for (const id of acmeInstances) assert.ok(!sources.has(id), `${id} is acme's`);
  assert.match(plan.body.text.at(-1), /^Plan: \d+ to add, 0 to change, 0 to destroy\.$/);
  // An acme instance is unknown to globex.
  const r = await as('globex', 'POST', '/v1/reach', {
    src: globex.a.id,
    dst: acmeInstances[0],
    protocol: 'icmp',
  });
  assert.equal(r.status, 404);
  // Same addresses, isolated: globex's a reaches globex's b.
  const ok = await as('globex', 'POST', '/v1/reach', {
    src: globex.a.id,
    dst: globex.b.id,
    protocol: 'icmp',
  });
  assert.deepEqual([ok.body.allowed, ok.body.delivered], [true, true]);
});

test('deleting an instance removes it from the data plane', async () => {
  const vpc = (await as('acme', 'POST', '/v1/vpcs', { name: 'temp', cidrs: ['10.50.0.0/16'] })).body;
  const subnet = (await as('acme', 'POST', '/v1/subnets', { name: 't', vpc: vpc.id, cidr: '10.50.1.0/24' }))
    .body;
  const vm = (
    await as('acme', 'POST', '/v1/instances', { name: 'tmp', subnet: subnet.id, host: 'leaf1-srv2' })
  ).body;
  assert.ok(runtime.dataPlane.instance(vm.id));
  assert.equal((await as('acme', 'DELETE', `/v1/instances/${vm.id}`)).status, 204);
  assert.equal(runtime.dataPlane.instance(vm.id), undefined);
  assert.ok(!runtime.dataPlane.net.nodes.has(vm.id));
});

test('a dry run shows what a change would do to the plan, and changes nothing', async () => {
  const vpc = (await as('acme', 'POST', '/v1/vpcs', { name: 'dry', cidrs: ['10.60.0.0/16'] })).body;
  const subnet = (await as('acme', 'POST', '/v1/subnets', { name: 'd', vpc: vpc.id, cidr: '10.60.1.0/24' }))
    .body;
  const nodes = runtime.dataPlane.net.nodes.size;
  const before = (await as('acme', 'GET', '/v1/instances')).body.items.length;
  const r = await as('acme', 'POST', '/v1/instances?dryRun=true', {
    name: 'maybe',
    subnet: subnet.id,
    host: 'leaf2-srv2',
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.dryRun, true);
  assert.equal(r.body.object.ip, '10.60.1.4');
  const text: string[] = r.body.plan.text;
  assert.ok(
    text.some((l) => /^\+ bridge-domain leaf2-srv2\/vni \d+ \(subnet-/.test(l)),
    text.join('\n'),
  );
  assert.ok(text.some((l) => /^\+ mac-ip-route vni \d+\/02:76:6e:/.test(l)));
  assert.equal(text.at(-1), `Plan: ${r.body.plan.added} to add, 0 to change, 0 to destroy.`);
  // Nothing stored, nothing applied, and the allocation was not used up.
  assert.equal((await as('acme', 'GET', '/v1/instances')).body.items.length, before);
  assert.equal(runtime.dataPlane.net.nodes.size, nodes);
  const real = (
    await as('acme', 'POST', '/v1/instances', { name: 'maybe', subnet: subnet.id, host: 'leaf2-srv2' })
  ).body;
  assert.equal(real.ip, '10.60.1.4');
  // Deleting it, dry: the plan loses exactly what the launch added.
  const del = await as('acme', 'DELETE', `/v1/instances/${real.id}?dryRun=true`);
  assert.equal(del.status, 200);
  assert.equal(del.body.plan.removed, r.body.plan.added);
  assert.ok(runtime.dataPlane.instance(real.id), 'still there');
  // A dry run that would fail fails as the change would.
  const inUse = await as('acme', 'DELETE', `/v1/subnets/${subnet.id}?dryRun=true`);
  assert.equal(inUse.status, 409);
  assert.equal((await as('acme', 'POST', `/v1/instances?dryRun=maybe`, {})).status, 400);
  // A dry run with the Idempotency-Key of a create done: what its retry would do, so nothing to plan.
  const keyed = { token: tokens.acme!, headers: { 'idempotency-key': 'launch-2' } };
  const launch = { name: 'keyed', subnet: subnet.id, host: 'leaf2-srv2' };
  const done = await svc.request('POST', '/v1/instances', { ...keyed, body: launch });
  assert.equal(done.status, 201);
  const again = await svc.request('POST', '/v1/instances?dryRun=true', { ...keyed, body: launch });
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.body, {
    dryRun: true,
    object: done.body,
    plan: { added: 0, changed: 0, removed: 0, text: ['No changes.'] },
  });
});

test('an apply that fails half-way: the change stays committed, the fabric is rebuilt from the whole plan, and the plan says why', async () => {
  const vpc = (await as('acme', 'POST', '/v1/vpcs', { name: 'flaky', cidrs: ['10.70.0.0/16'] })).body;
  const subnet = (await as('acme', 'POST', '/v1/subnets', { name: 'f', vpc: vpc.id, cidr: '10.70.1.0/24' }))
    .body;
  const broken = runtime.dataPlane;
  const apply = broken.apply.bind(broken);
  let calls = 0;
  broken.apply = (plan, part) => {
    calls++;
    apply(plan, part);
    throw new Error('injected failure');
  };
  const vm = await as('acme', 'POST', '/v1/instances', {
    name: 'survivor',
    subnet: subnet.id,
    host: 'leaf2-srv1',
  });
  assert.equal(vm.status, 201, 'the change is committed and acknowledged');
  assert.equal(calls, 1);
  assert.notEqual(runtime.dataPlane, broken, 'a fresh fabric');
  assert.ok(runtime.dataPlane.instance(vm.body.id), 'with the whole plan applied');
  const plan = (await as('acme', 'GET', '/v1/plan')).body;
  assert.match(plan.applyError, /injected failure/);
  // The next change applies normally again.
  const other = await as('acme', 'POST', '/v1/instances', {
    name: 'next',
    subnet: subnet.id,
    host: 'leaf1-srv1',
  });
  assert.equal(other.status, 201);
  assert.equal((await as('acme', 'GET', '/v1/plan')).body.applyError, null);
  const r = await as('acme', 'POST', '/v1/reach', { src: vm.body.id, dst: other.body.id, protocol: 'icmp' });
  assert.equal(r.status, 200);
  assert.equal(r.body.agree, true);
});
