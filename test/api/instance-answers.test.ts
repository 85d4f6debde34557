/**
 * What the fabric's routes answer about instances is about the caller's own and this request only:
 * `POST /v1/instances/:id/migrate` reports this migration (none for a stopped instance, never an
 * earlier one's report), and `POST /v1/reach` to an address finds the caller's instance there,
 * never another tenant's with the same address.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ServiceWithTenant, startServiceWithTenant } from '../helpers/service.js';

let service: ServiceWithTenant;
before(async () => {
  service = await startServiceWithTenant('answers');
});
after(() => service.svc.close());

const as: ServiceWithTenant['as'] = (method, path, body) => service.as(method, path, body);

test('migrating a stopped instance answers no migration, not the report of an earlier one', async () => {
  const vpc = (await as('POST', '/v1/vpcs', { name: 'm', cidrs: ['10.9.0.0/16'] })).body;
  const subnet = (await as('POST', '/v1/subnets', { name: 'm', vpc: vpc.id, cidr: '10.9.1.0/24' })).body;
  const i = (await as('POST', '/v1/instances', { name: 'vm', subnet: subnet.id, host: 'leaf1-srv1' })).body;
  const live = await as('POST', `/v1/instances/${i.id}/migrate`, { host: 'leaf2-srv1' });
  assert.equal(live.status, 200, JSON.stringify(live.body));
  assert.notEqual(live.body.migration, null);
  assert.equal((await as('POST', `/v1/instances/${i.id}/stop`)).status, 200);
  const cold = await as('POST', `/v1/instances/${i.id}/migrate`, { host: 'leaf1-srv2' });
  assert.equal(cold.status, 200, JSON.stringify(cold.body));
  assert.equal(cold.body.host, 'leaf1-srv2');
  assert.equal(cold.body.migration, null, 'a stopped instance is not live-migrated');
});

test("reach to an address finds the tenant's own instance, never another tenant's with the same address", async () => {
  const first = await service.svc.tenant('first');
  const second = await service.svc.tenant('second');
  const ids: Record<string, string[]> = {};
  for (const t of [first, second]) {
    const call = (method: string, path: string, body?: unknown) =>
      service.svc.request(method, path, { token: t.token, body });
    const vpc = (await call('POST', '/v1/vpcs', { name: 'v', cidrs: ['10.5.0.0/16'] })).body;
    const subnet = (await call('POST', '/v1/subnets', { name: 's', vpc: vpc.id, cidr: '10.5.1.0/24' })).body;
    const sg = (
      await call('POST', '/v1/security-groups', {
        name: 'g',
        vpc: vpc.id,
        ingress: [{ protocol: 'icmp', cidr: '10.5.0.0/16' }],
        egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
      })
    ).body;
    ids[t.id] = [];
    for (const [name, host] of [
      ['a', 'leaf1-srv1'],
      ['b', 'leaf2-srv2'],
    ]) {
      const r = await call('POST', '/v1/instances', {
        name,
        subnet: subnet.id,
        securityGroups: [sg.id],
        host,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids[t.id]!.push(r.body.id);
    }
  }
  const [a] = ids[second.id]!;
  const r = await service.svc.request('POST', '/v1/reach', {
    token: second.token,
    body: { src: a, dst: '10.5.1.5', protocol: 'icmp' },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  for (const other of ids[first.id]!) assert.ok(!JSON.stringify(r.body).includes(other), r.body.outcome);
  assert.deepEqual([r.body.allowed, r.body.delivered, r.body.agree], [true, true, true], r.body.outcome);
});
