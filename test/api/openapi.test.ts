/** GET /openapi.json: an OpenAPI 3.1 document with every route and the request schemas the server enforces. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KINDS } from '../../src/store/kinds.js';
import { startService, type TestService } from '../helpers/service.js';

let svc: TestService;
before(async () => {
  svc = await startService();
});
after(() => svc.close());

test('the OpenAPI document lists every collection and action, with schemas from the zod definitions', async () => {
  const r = await svc.request('GET', '/openapi.json', { token: null });
  assert.equal(r.status, 200);
  const doc = r.body;
  assert.equal(doc.openapi, '3.1.0');
  for (const spec of Object.values(KINDS)) {
    const base = `/v1/${spec.collection}`;
    assert.deepEqual(Object.keys(doc.paths[base]).sort(), ['get', 'post'], base);
    assert.deepEqual(Object.keys(doc.paths[`${base}/{id}`]).sort(), [
      'delete',
      'get',
      'parameters',
      'patch',
      'put',
    ]);
    for (const suffix of ['', 'Create', 'Update', 'Patch', 'List'])
      assert.ok(doc.components.schemas[`${spec.schemaName}${suffix}`], `${spec.schemaName}${suffix}`);
  }
  for (const path of [
    '/v1/instances/{id}/start',
    '/v1/instances/{id}/stop',
    '/v1/instances/{id}/migrate',
    '/v1/reach',
    '/v1/ping',
    '/v1/trace',
    '/v1/plan',
    '/v1/tenants/{id}/tokens',
  ])
    assert.ok(doc.paths[path], path);
  // The probes' bodies and answers come from their zod schemas too.
  const ping = doc.components.schemas.PingRequest;
  assert.deepEqual(ping.required.sort(), ['from', 'to']);
  assert.deepEqual(Object.keys(ping.properties).sort(), [
    'count',
    'from',
    'intervalMs',
    'size',
    'timeoutMs',
    'to',
  ]);
  assert.deepEqual([ping.properties.count.minimum, ping.properties.count.maximum], [1, 100]);
  assert.equal(ping.additionalProperties, false);
  assert.deepEqual(doc.components.schemas.TraceRequest.properties.protocol.enum, ['tcp', 'udp', 'icmp']);
  assert.ok(doc.components.schemas.PingAnswer.properties.summary.properties.lossPercent);
  assert.deepEqual(doc.paths['/v1/ping'].post.requestBody.content['application/json'].schema, {
    $ref: '#/components/schemas/PingRequest',
  });
  assert.deepEqual(doc.paths['/v1/trace'].post.responses['200'].content['application/json'].schema, {
    $ref: '#/components/schemas/TraceAnswer',
  });
  const create = doc.components.schemas.InstanceCreate;
  assert.deepEqual(create.required.sort(), ['name', 'subnet']);
  assert.equal(create.additionalProperties, false);
  assert.deepEqual(Object.keys(create.properties).sort(), ['host', 'ip', 'name', 'securityGroups', 'subnet']);
  const instance = doc.components.schemas.Instance;
  assert.ok(instance.required.includes('mac') && instance.required.includes('version'));
  assert.equal(doc.components.schemas.VpcCreate.properties.cidrs.maxItems, 5);
  assert.deepEqual(doc.components.schemas.SubnetPatch.properties.routeTable.anyOf.at(-1), { type: 'null' });
  assert.deepEqual(doc.components.securitySchemes.tenantToken, {
    type: 'http',
    scheme: 'bearer',
    description: "a tenant's token: its own objects only",
  });
  // Every $ref resolves.
  const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[A-Za-z]+"/g) ?? [];
  for (const ref of new Set(refs)) assert.ok(doc.components.schemas[ref.slice(22, -1)], ref);
});
