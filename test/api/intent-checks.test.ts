/**
 * The service refuses a change that makes the intent invalid (422, every new problem with its
 * path, nothing stored), with the relation rules of src/vpc/validate.ts wired in as `vnet serve`
 * wires them; problems the intent already had do not block unrelated changes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { validationHooks } from '../../src/api/intent-checks.js';
import { startService, type TestService } from '../helpers/service.js';

let svc: TestService;
let token: string;
before(async () => {
  svc = await startService({ hooks: validationHooks() });
  svc.store.publish();
  ({ token } = await svc.tenant('acme'));
});
after(() => svc.close());

const as = (method: string, path: string, body?: unknown) => svc.request(method, path, { token, body });

test('a subnet outside its VPC, and overlapping subnets: 422 with the paths, nothing stored', async () => {
  const vpc = (await as('POST', '/v1/vpcs', { name: 'main', cidrs: ['10.0.0.0/16'] })).body;
  const outside = await as('POST', '/v1/subnets', { name: 'far', vpc: vpc.id, cidr: '10.9.0.0/24' });
  assert.equal(outside.status, 422);
  assert.equal(outside.body.error.code, 'invalid-intent');
  assert.equal(outside.body.error.problems.length, 1);
  assert.match(outside.body.error.problems[0].path, /^subnets\[subnet-[0-9a-z]+\]\.cidr$/);
  assert.match(outside.body.error.problems[0].message, /10\.9\.0\.0\/24 is outside every CIDR of vpc-/);
  const first = await as('POST', '/v1/subnets', { name: 'a', vpc: vpc.id, cidr: '10.0.1.0/24' });
  assert.equal(first.status, 201);
  const overlapping = await as('POST', '/v1/subnets', { name: 'b', vpc: vpc.id, cidr: '10.0.1.128/25' });
  assert.equal(overlapping.status, 422);
  assert.ok(overlapping.body.error.problems.some((p: { message: string }) => /overlap/.test(p.message)));
  const listed = (await as('GET', `/v1/subnets?vpc=${vpc.id}`)).body.items.map(
    (s: { name: string }) => s.name,
  );
  assert.deepEqual(listed, ['a']);
});

test("a route to another VPC's internet gateway is refused at its path", async () => {
  const a = (await as('POST', '/v1/vpcs', { name: 'va', cidrs: ['10.1.0.0/16'] })).body;
  const b = (await as('POST', '/v1/vpcs', { name: 'vb', cidrs: ['10.2.0.0/16'] })).body;
  const igw = (await as('POST', '/v1/internet-gateways', { name: 'gw', vpc: a.id })).body;
  const r = await as('POST', '/v1/route-tables', {
    name: 'rt',
    vpc: b.id,
    routes: [{ destination: '0.0.0.0/0', target: { kind: 'internet-gateway', id: igw.id } }],
  });
  assert.equal(r.status, 422);
  assert.deepEqual(
    r.body.error.problems.map((p: { path: string }) => p.path.replace(/rtb-[0-9a-z]+/, 'rtb-X')),
    ['routeTables[rtb-X].routes[0].target'],
  );
});

test("a VPC block overlapping the fabric's own link blocks: 422 at the block's path, nothing stored", async () => {
  const r = await as('POST', '/v1/vpcs', { name: 'links', cidrs: ['10.60.0.0/16', '198.18.0.0/16'] });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.code, 'invalid-intent');
  assert.deepEqual(
    r.body.error.problems.map((p: { path: string; message: string }) => [
      p.path.replace(/vpc-[0-9a-z]+/, 'vpc-X'),
      p.message,
    ]),
    [
      [
        'vpcs[vpc-X].cidrs[1]',
        '198.18.0.0/16 overlaps 198.18.0.0/15, which the fabric reserves for the peering links',
      ],
    ],
  );
  assert.deepEqual((await as('GET', '/v1/vpcs?name=links')).body.items, []);
  // Adding such a block to a VPC later is refused the same way.
  const vpc = (await as('POST', '/v1/vpcs', { name: 'grows', cidrs: ['10.61.0.0/16'] })).body;
  const grown = await as('PATCH', `/v1/vpcs/${vpc.id}`, { cidrs: ['10.61.0.0/16', '169.254.0.0/16'] });
  assert.equal(grown.status, 422);
  assert.deepEqual(grown.body.error.problems, [
    {
      path: `vpcs[${vpc.id}].cidrs[1]`,
      message:
        "169.254.0.0/16 overlaps 169.254.0.0/16, which the fabric reserves for the VRFs' transit addresses on their L3 VNI",
    },
  ]);
});
