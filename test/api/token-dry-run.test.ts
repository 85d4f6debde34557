/**
 * A dry run of a tenant's token creation or deletion (`?dryRun=true`) is checked and rolled back:
 * no token is made or deleted, and the answer has no secret of a token that does not exist.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ServiceWithTenant, startServiceWithTenant } from '../helpers/service.js';

let service: ServiceWithTenant;
before(async () => {
  service = await startServiceWithTenant('tokens');
});
after(() => service.svc.close());

const as: ServiceWithTenant['as'] = (method, path, body) => service.as(method, path, body);

test("a dry run of a tenant's token creation or deletion makes and deletes none", async () => {
  const before = await service.svc.request('GET', `/v1/tenants/${service.tenant.id}/tokens`);
  const dry = await service.svc.request('POST', `/v1/tenants/${service.tenant.id}/tokens?dryRun=true`, {
    body: { name: 'x' },
  });
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.equal(dry.body.dryRun, true);
  assert.equal(dry.body.object.token, undefined, 'no secret for a token that does not exist');
  const mid = await service.svc.request('GET', `/v1/tenants/${service.tenant.id}/tokens`);
  assert.deepEqual(mid.body.items, before.body.items);
  const id = before.body.items[0].id;
  const del = await service.svc.request(
    'DELETE',
    `/v1/tenants/${service.tenant.id}/tokens/${id}?dryRun=true`,
  );
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assert.equal(del.body.dryRun, true);
  const last = await service.svc.request('GET', `/v1/tenants/${service.tenant.id}/tokens`);
  assert.deepEqual(last.body.items, before.body.items);
  assert.equal((await as('GET', '/v1/vpcs')).status, 200, 'the token still works');
});
