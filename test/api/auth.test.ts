/** Tokens: none, bad, revoked; tenants see and change only their own objects (another's is a 404); admin routes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startService, type TestService } from '../helpers/service.js';

let svc: TestService;
let a: { id: string; token: string };
let b: { id: string; token: string };
before(async () => {
  svc = await startService();
  a = await svc.tenant('tenant-a');
  b = await svc.tenant('tenant-b');
});
after(() => svc.close());

test('no token and a bad token: 401 with WWW-Authenticate; the OpenAPI document and health need none', async () => {
  const none = await svc.request('GET', '/v1/vpcs', { token: null });
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.deepEqual(none.body.error, {
    code: 'unauthorized',
    message: 'no token: send "Authorization: Bearer <token>"',
    problems: [],
  });
  const bad = await svc.request('GET', '/v1/vpcs', { token: 'vnet_not-a-token' });
  assert.equal(bad.status, 401);
  assert.match(bad.body.error.message, /the token is not valid/);
  const basic = await svc.request('GET', '/v1/vpcs', {
    token: null,
    headers: { authorization: 'Basic Zm9vOmJhcg==' },
  });
  assert.equal(basic.status, 401);
  assert.equal((await svc.request('GET', '/openapi.json', { token: null })).status, 200);
  assert.equal((await svc.request('GET', '/healthz', { token: null })).status, 200);
});

test("tenant A can neither see nor change tenant B's VPC: 404, as if it did not exist", async () => {
  const vpcB = await svc.request('POST', '/v1/vpcs', {
    token: b.token,
    body: { name: 'secret', cidrs: ['10.0.0.0/16'] },
  });
  assert.equal(vpcB.status, 201);
  const missing = await svc.request('GET', '/v1/vpcs/vpc-000000000000', { token: a.token });
  for (const [method, path, body] of [
    ['GET', `/v1/vpcs/${vpcB.body.id}`, undefined],
    ['PATCH', `/v1/vpcs/${vpcB.body.id}`, { name: 'mine' }],
    ['PUT', `/v1/vpcs/${vpcB.body.id}`, { name: 'mine', cidrs: ['10.0.0.0/16'] }],
    ['DELETE', `/v1/vpcs/${vpcB.body.id}`, undefined],
  ] as const) {
    const r = await svc.request(method, path, { token: a.token, body });
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(r.body.error.code, 'not-found');
    assert.equal(r.body.error.message, `no VPC ${vpcB.body.id}`);
  }
  assert.equal(missing.body.error.message, 'no VPC vpc-000000000000');
  // A's list does not show it; A cannot hang a subnet on it (the reference names nothing A has).
  assert.deepEqual((await svc.request('GET', '/v1/vpcs', { token: a.token })).body.items, []);
  assert.equal(
    (await svc.request('GET', `/v1/subnets?vpc=${vpcB.body.id}`, { token: a.token })).body.items.length,
    0,
  );
  const sub = await svc.request('POST', '/v1/subnets', {
    token: a.token,
    body: { name: 'sneaky', vpc: vpcB.body.id, cidr: '10.0.1.0/24' },
  });
  assert.equal(sub.status, 400);
  assert.deepEqual(sub.body.error.problems, [{ path: 'vpc', message: `no VPC ${vpcB.body.id}` }]);
  // B's VPC is untouched; both tenants may use the same names.
  const still = await svc.request('GET', `/v1/vpcs/${vpcB.body.id}`, { token: b.token });
  assert.equal(still.body.name, 'secret');
  assert.equal(still.body.version, 1);
  assert.equal(
    (
      await svc.request('POST', '/v1/vpcs', {
        token: a.token,
        body: { name: 'secret', cidrs: ['10.0.0.0/16'] },
      })
    ).status,
    201,
  );
});

test('tenant tokens cannot use admin routes (403), the admin token cannot use tenant collections (403)', async () => {
  for (const path of ['/v1/tenants', `/v1/tenants/${a.id}/tokens`, '/v1/fabric']) {
    const r = await svc.request('GET', path, { token: a.token });
    assert.equal(r.status, 403, path);
    assert.equal(r.body.error.code, 'forbidden');
  }
  const admin = await svc.request('GET', '/v1/vpcs');
  assert.equal(admin.status, 403);
  assert.match(admin.body.error.message, /use a tenant's token/);
  const who = await svc.request('GET', '/v1/whoami', { token: a.token });
  assert.deepEqual(who.body.tenant, { id: a.id, name: 'tenant-a' });
});

test('tokens: returned once, listed without secrets, stored hashed, revocable', async () => {
  const made = await svc.request('POST', `/v1/tenants/${a.id}/tokens`, { body: { name: 'ci' } });
  assert.equal(made.status, 201);
  assert.match(made.body.token, /^vnet_[A-Za-z0-9_-]{43}$/);
  const list = await svc.request('GET', `/v1/tenants/${a.id}/tokens`);
  assert.deepEqual(
    list.body.items.map((t: { name: string }) => t.name),
    ['test', 'ci'],
  );
  assert.ok(
    list.body.items.every((t: Record<string, unknown>) => t.token === undefined && t.hash === undefined),
  );
  svc.store.close(); // flush the WAL into the file, then reopen: the secret is nowhere in the database
  const bytes = readFileSync(svc.dbPath).toString('latin1');
  assert.equal(bytes.includes(made.body.token), false);
  assert.equal(bytes.includes(svc.adminToken), false);
  const { Store } = await import('../../src/store/store.js');
  const reopened = Store.open(svc.dbPath);
  assert.equal(reopened.authenticate(made.body.token)?.kind, 'tenant');
  reopened.close();
  // (the service's own store is closed: the rest of this suite uses a new one)
  await svc.close();
  svc = await (await import('../helpers/service.js')).startService({ dbPath: svc.dbPath });
  assert.equal((await svc.request('GET', '/v1/vpcs', { token: made.body.token })).status, 200);
  const revoke = await svc.request('DELETE', `/v1/tenants/${a.id}/tokens/${made.body.id}`);
  assert.equal(revoke.status, 204);
  assert.equal((await svc.request('GET', '/v1/vpcs', { token: made.body.token })).status, 401);
  // The first token still works.
  assert.equal((await svc.request('GET', '/v1/vpcs', { token: a.token })).status, 200);
});

test('deleting an empty tenant removes its tokens', async () => {
  const c = await svc.tenant('tenant-c');
  assert.equal((await svc.request('GET', '/v1/vpcs', { token: c.token })).status, 200);
  assert.equal((await svc.request('DELETE', `/v1/tenants/${c.id}`)).status, 204);
  assert.equal((await svc.request('GET', '/v1/vpcs', { token: c.token })).status, 401);
  assert.equal((await svc.request('GET', `/v1/tenants/${c.id}`)).status, 404);
});
