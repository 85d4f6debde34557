/**
 * A dry run of a tenant's token creation or deletion (`?dryRun=true`) is checked and rolled back:
 * no token is made or deleted, and the answer has no secret of a token that does not exist.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ServiceRuntime } from '../../src/api/service-runtime.js';
import { startService, type TestService } from '../helpers/service.js';

let svc: TestService;
let runtime: ServiceRuntime;
let tenant: { id: string; token: string };
before(async () => {
  runtime = new ServiceRuntime();
  svc = await startService({ runtime, hooks: runtime.hooks(), hypervisors: runtime.hypervisors() });
  svc.store.publish();
  tenant = await svc.tenant('tokens');
});
after(() => svc.close());

const as = (method: string, path: string, body?: unknown) =>
  svc.request(method, path, { token: tenant.token, body });

test("a dry run of a tenant's token creation or deletion makes and deletes none", async () => {
  const before = await svc.request('GET', `/v1/tenants/${tenant.id}/tokens`);
  const dry = await svc.request('POST', `/v1/tenants/${tenant.id}/tokens?dryRun=true`, {
    body: { name: 'x' },
  });
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.equal(dry.body.dryRun, true);
  assert.equal(dry.body.object.token, undefined, 'no secret for a token that does not exist');
  const mid = await svc.request('GET', `/v1/tenants/${tenant.id}/tokens`);
  assert.deepEqual(mid.body.items, before.body.items);
  const id = before.body.items[0].id;
  const del = await svc.request('DELETE', `/v1/tenants/${tenant.id}/tokens/${id}?dryRun=true`);
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assert.equal(del.body.dryRun, true);
  const last = await svc.request('GET', `/v1/tenants/${tenant.id}/tokens`);
  assert.deepEqual(last.body.items, before.body.items);
  assert.equal((await as('GET', '/v1/vpcs')).status, 200, 'the token still works');
});
