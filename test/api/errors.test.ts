/** Validation errors with every problem's path, conflicts (409), pagination and idempotency keys. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startService, type TestService } from '../helpers/service.js';

let svc: TestService;
let token: string;
before(async () => {
  svc = await startService();
  ({ token } = await svc.tenant('acme'));
});
after(() => svc.close());

const as = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  svc.request(method, path, { token, body, headers });

test('a bad body: 400 with every problem and its path, nothing stored', async () => {
  const r = await as('POST', '/v1/security-groups', {
    name: '-bad',
    vpc: 'VPC 1',
    ingress: [
      { protocol: 'tcp', ports: [443, 80], cidr: '0.0.0.0/0' },
      { protocol: 'udp', cidr: '10.0.0.0/8', group: 'sg-1' },
      { protocol: 'sctp', cidr: '10.0.0.0/8' },
    ],
    colour: 'blue',
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'invalid-request');
  assert.equal(r.body.error.message, 'the request body has 6 problems');
  assert.deepEqual(r.body.error.problems.map((p: { path: string }) => p.path).sort(), [
    'colour',
    'ingress[0].ports',
    'ingress[1]',
    'ingress[2].protocol',
    'name',
    'vpc',
  ]);
  const byPath = Object.fromEntries(
    r.body.error.problems.map((p: { path: string; message: string }) => [p.path, p.message]),
  );
  assert.equal(byPath.colour, 'unknown field');
  assert.equal(byPath['ingress[0].ports'], 'the first port must not exceed the last');
  assert.equal(byPath['ingress[1]'], 'give exactly one of cidr or group');
  assert.equal(byPath.vpc, 'an id like vpc-0a1b2c');
  assert.equal((await as('GET', '/v1/security-groups')).body.items.length, 0);
});

test('a route target of the wrong shape is reported inside the target', async () => {
  const vpc = (await as('POST', '/v1/vpcs', { name: 'rt', cidrs: ['10.9.0.0/16'] })).body;
  const r = await as('POST', '/v1/route-tables', {
    name: 'rt',
    vpc: vpc.id,
    routes: [{ destination: '0.0.0.0/0', target: { kind: 'internet-gateway' } }],
  });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.error.problems, [
    { path: 'routes[0].target.id', message: 'Invalid input: expected string, received undefined' },
  ]);
});

test('no body, invalid JSON, unknown query parameters, bad limit: 400 in the same error shape', async () => {
  const none = await as('POST', '/v1/vpcs');
  assert.equal(none.status, 400);
  assert.equal(none.body.error.code, 'invalid-request');
  const broken = await svc.request('POST', '/v1/vpcs', { token, raw: '{"name": ' });
  assert.equal(broken.status, 400);
  assert.equal(broken.body.error.code, 'invalid-request');
  assert.deepEqual(broken.body.error.problems, []);
  const q = await as('GET', '/v1/vpcs?limit=0&colour=blue');
  assert.equal(q.status, 400);
  assert.deepEqual(q.body.error.problems, [
    { path: 'limit', message: 'an integer from 1 to 1000' },
    { path: 'colour', message: 'unknown query parameter (limit, cursor, name)' },
  ]);
  const cursor = await as('GET', '/v1/vpcs?cursor=nonsense');
  assert.equal(cursor.status, 400);
  assert.equal(cursor.body.error.problems[0].path, 'cursor');
  const route = await as('GET', '/v1/nothing');
  assert.equal(route.status, 404);
  assert.equal(route.body.error.message, 'no route GET /v1/nothing');
});

test('references to objects that do not exist (or are of another kind): 400 with their paths', async () => {
  const vpc = (await as('POST', '/v1/vpcs', { name: 'refs', cidrs: ['10.8.0.0/16'] })).body;
  const r = await as('POST', '/v1/subnets', {
    name: 'a',
    vpc: vpc.id,
    cidr: '10.8.0.0/24',
    routeTable: 'rtb-000000000000',
    networkAcl: vpc.id,
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'invalid-reference');
  assert.deepEqual(r.body.error.problems, [
    { path: 'routeTable', message: 'no route table rtb-000000000000' },
    { path: 'networkAcl', message: `no network ACL ${vpc.id}` },
  ]);
});

test('409: the same name twice in its scope; deleting a VPC with subnets, a subnet with instances, an SG in use', async () => {
  const vpc = (await as('POST', '/v1/vpcs', { name: 'conflicts', cidrs: ['10.7.0.0/16'] })).body;
  const dup = await as('POST', '/v1/vpcs', { name: 'conflicts', cidrs: ['10.6.0.0/16'] });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, 'name-taken');
  assert.equal(dup.body.error.message, `a VPC named "conflicts" already exists in this tenant (${vpc.id})`);
  // Subnet names are unique per VPC: another VPC may reuse one.
  const subnet = (await as('POST', '/v1/subnets', { name: 'web', vpc: vpc.id, cidr: '10.7.1.0/24' })).body;
  const dupSubnet = await as('POST', '/v1/subnets', { name: 'web', vpc: vpc.id, cidr: '10.7.2.0/24' });
  assert.equal(dupSubnet.status, 409);
  assert.equal(
    dupSubnet.body.error.message,
    `a subnet named "web" already exists in vpc ${vpc.id} (${subnet.id})`,
  );
  const other = (await as('POST', '/v1/vpcs', { name: 'other', cidrs: ['10.5.0.0/16'] })).body;
  assert.equal(
    (await as('POST', '/v1/subnets', { name: 'web', vpc: other.id, cidr: '10.5.1.0/24' })).status,
    201,
  );
  // Renaming into a taken name is a conflict too.
  assert.equal((await as('PATCH', `/v1/vpcs/${other.id}`, { name: 'conflicts' })).status, 409);

  const sg = (await as('POST', '/v1/security-groups', { name: 'web', vpc: vpc.id })).body;
  const vm1 = (await as('POST', '/v1/instances', { name: 'c1', subnet: subnet.id, securityGroups: [sg.id] }))
    .body;
  const vm2 = (await as('POST', '/v1/instances', { name: 'c2', subnet: subnet.id })).body;

  const delVpc = await as('DELETE', `/v1/vpcs/${vpc.id}`);
  assert.equal(delVpc.status, 409);
  assert.equal(delVpc.body.error.code, 'in-use');
  assert.equal(
    delVpc.body.error.message,
    `cannot delete VPC ${vpc.id} (conflicts): still used by 1 subnet (${subnet.id} (web)) and 1 security group (${sg.id} (web)); delete or change them first`,
  );
  const delSubnet = await as('DELETE', `/v1/subnets/${subnet.id}`);
  assert.equal(delSubnet.status, 409);
  assert.match(delSubnet.body.error.message, /still used by 2 instances \(i-\w+ \(c1\), i-\w+ \(c2\)\)/);
  assert.deepEqual(
    delSubnet.body.error.problems.map((p: { path: string }) => p.path),
    [`${vm1.id}.subnet`, `${vm2.id}.subnet`],
  );
  const delSg = await as('DELETE', `/v1/security-groups/${sg.id}`);
  assert.equal(delSg.status, 409);
  assert.match(delSg.body.error.message, /still used by 1 instance/);
  // Once the instance leaves the group, the group can go.
  assert.equal((await as('PATCH', `/v1/instances/${vm1.id}`, { securityGroups: [] })).status, 200);
  assert.equal((await as('DELETE', `/v1/security-groups/${sg.id}`)).status, 204);
  // Tenants with objects cannot be deleted either.
  const tenants = await svc.request('GET', '/v1/tenants');
  const delTenant = await svc.request('DELETE', `/v1/tenants/${tenants.body.items[0].id}`);
  assert.equal(delTenant.status, 409);
  assert.match(delTenant.body.error.message, /it still has \d+ VPCs, \d+ subnets, 2 instances/);
});

test('pagination: 25 VPCs in pages of 10, stable order, a cursor that survives deletes', async () => {
  const fresh = await svc.tenant('pager');
  const req = (method: string, path: string, body?: unknown) =>
    svc.request(method, path, { token: fresh.token, body });
  const ids: string[] = [];
  for (let i = 0; i < 25; i++)
    ids.push((await req('POST', '/v1/vpcs', { name: `vpc${i}`, cidrs: [`10.${i}.0.0/16`] })).body.id);
  const seen: string[] = [];
  let cursor: string | null = null;
  const sizes: number[] = [];
  do {
    const page: { body: { items: { id: string }[]; next: string | null } } = await req(
      'GET',
      `/v1/vpcs?limit=10${cursor ? `&cursor=${cursor}` : ''}`,
    );
    sizes.push(page.body.items.length);
    seen.push(...page.body.items.map((v) => v.id));
    cursor = page.body.next;
    // Deleting an already-seen VPC while paging moves nothing.
    if (seen.length === 10) assert.equal((await req('DELETE', `/v1/vpcs/${seen[9]}`)).status, 204);
  } while (cursor);
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.deepEqual(seen, ids);
  assert.equal((await req('GET', '/v1/vpcs')).body.items.length, 24);
  assert.equal((await req('GET', '/v1/vpcs?limit=24')).body.next, null);
});

test('idempotency: the same key and body twice gives the same object, stored once; another body is a 422', async () => {
  const headers = { 'idempotency-key': 'create-vpc-42' };
  const body = { name: 'idem', cidrs: ['10.42.0.0/16'] };
  const first = await as('POST', '/v1/vpcs', body, headers);
  assert.equal(first.status, 201);
  assert.equal(first.headers.get('idempotent-replayed'), 'false');
  // The same request, its keys in another order: the same answer, replayed.
  const second = await as('POST', '/v1/vpcs', { cidrs: ['10.42.0.0/16'], name: 'idem' }, headers);
  assert.equal(second.status, 201);
  assert.equal(second.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(second.body, first.body);
  assert.equal((await as('GET', '/v1/vpcs?name=idem')).body.items.length, 1);
  const other = await as('POST', '/v1/vpcs', { name: 'idem2', cidrs: ['10.43.0.0/16'] }, headers);
  assert.equal(other.status, 422);
  assert.equal(other.body.error.code, 'idempotency-key-reused');
  assert.equal((await as('GET', '/v1/vpcs?name=idem2')).body.items.length, 0);
  // The same key on another collection is another request too.
  assert.equal(
    (await as('POST', '/v1/internet-gateways', { name: 'g', vpc: first.body.id }, headers)).status,
    422,
  );
  // A failed create is not remembered: retrying it with its key works once it can.
  const failing = await as(
    'POST',
    '/v1/vpcs',
    { name: 'idem', cidrs: ['10.44.0.0/16'] },
    { 'idempotency-key': 'k2' },
  );
  assert.equal(failing.status, 409);
  await as('PATCH', `/v1/vpcs/${first.body.id}`, { name: 'idem-renamed' });
  const retried = await as(
    'POST',
    '/v1/vpcs',
    { name: 'idem', cidrs: ['10.44.0.0/16'] },
    { 'idempotency-key': 'k2' },
  );
  assert.equal(retried.status, 201);
  // Keys belong to their tenant: another tenant's same key is its own.
  const b = await svc.tenant('idem-b');
  const theirs = await svc.request('POST', '/v1/vpcs', { token: b.token, body, headers });
  assert.equal(theirs.status, 201);
  assert.notEqual(theirs.body.id, first.body.id);
});

test('ten creates of the same name at once: exactly one 201, nine 409', async () => {
  const results = await Promise.all(
    Array.from({ length: 10 }, () => as('POST', '/v1/vpcs', { name: 'race', cidrs: ['10.77.0.0/16'] })),
  );
  assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
  assert.equal((await as('GET', '/v1/vpcs?name=race')).body.items.length, 1);
});

test('a dry-run create with an Idempotency-Key: never consumes nor records it; a key it would replay answers the replay', async () => {
  const body = { name: 'dry-idem', cidrs: ['10.45.0.0/16'] };
  const key = { 'idempotency-key': 'dry-45' };
  // An unused key: the create is previewed, the key stays free.
  const dry = await as('POST', '/v1/vpcs?dryRun=true', body, key);
  assert.equal(dry.status, 200);
  assert.equal(dry.headers.get('idempotent-replayed'), 'false');
  assert.deepEqual([dry.body.dryRun, dry.body.object.name, dry.body.plan], [true, 'dry-idem', null]);
  assert.deepEqual((await as('GET', '/v1/vpcs?name=dry-idem')).body.items, []);
  // So the real create with it creates (not a replay of the dry run), and a retry replays that.
  const real = await as('POST', '/v1/vpcs', body, key);
  assert.equal(real.status, 201);
  assert.equal(real.headers.get('idempotent-replayed'), 'false');
  assert.notEqual(real.body.id, dry.body.object.id);
  // Now a dry run with the key answers what a retry would: the first response, nothing new.
  await as('PATCH', `/v1/vpcs/${real.body.id}`, { name: 'dry-idem-renamed' });
  const replay = await as('POST', '/v1/vpcs?dryRun=true', body, key);
  assert.equal(replay.status, 200);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(replay.body, { dryRun: true, object: real.body, plan: null });
  const retry = await as('POST', '/v1/vpcs', body, key);
  assert.deepEqual([retry.status, retry.headers.get('idempotent-replayed')], [201, 'true']);
  assert.deepEqual(retry.body, real.body);
  // The key with another request: the 422 the real request would get, dry or not.
  const other = await as('POST', '/v1/vpcs?dryRun=true', { name: 'dry-other', cidrs: ['10.46.0.0/16'] }, key);
  assert.equal(other.status, 422);
  assert.equal(other.body.error.code, 'idempotency-key-reused');
  assert.equal(
    other.body.error.message,
    'the Idempotency-Key "dry-45" was used for a different request; use a new key for a new request',
  );
  // A malformed key is refused as for a real create.
  const long = await as('POST', '/v1/vpcs?dryRun=true', body, { 'idempotency-key': 'k'.repeat(256) });
  assert.equal(long.status, 400);
  assert.deepEqual(long.body.error.problems, [{ path: 'Idempotency-Key', message: '1 to 255 characters' }]);
  // A dry run that fails records nothing either: the key is free for a real create that succeeds.
  const failing = await as(
    'POST',
    '/v1/vpcs?dryRun=true',
    { ...body, name: 'dry-idem-renamed' },
    { 'idempotency-key': 'dry-47' },
  );
  assert.equal(failing.status, 409);
  const after = await as(
    'POST',
    '/v1/vpcs',
    { name: 'dry-47', cidrs: ['10.47.0.0/16'] },
    { 'idempotency-key': 'dry-47' },
  );
  assert.deepEqual([after.status, after.headers.get('idempotent-replayed')], [201, 'false']);
  assert.deepEqual(
    (await as('GET', '/v1/vpcs')).body.items
      .filter((v: { name: string }) => v.name.startsWith('dry'))
      .map((v: { name: string }) => v.name),
    ['dry-idem-renamed', 'dry-47'],
  );
});
