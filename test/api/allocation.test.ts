/** The service's allocations over the API: instance IPs (the AWS rule), MACs, placement, elastic IPs. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startService, type TestService } from '../helpers/service.js';

let svc: TestService;
let token: string;
let subnet: string;
before(async () => {
  svc = await startService({ hypervisors: ['hv1', 'hv2', 'hv3'], publicPool: '198.51.100.0/30' });
  ({ token } = await svc.tenant('alloc'));
  const vpc = (await as('POST', '/v1/vpcs', { name: 'v', cidrs: ['10.0.0.0/16'] })).body;
  subnet = (await as('POST', '/v1/subnets', { name: 's', vpc: vpc.id, cidr: '10.0.1.0/24' })).body.id;
});
after(() => svc.close());

function as(method: string, path: string, body?: unknown) {
  return svc.request(method, path, { token, body });
}

test('instance IPs: the first gets .4 in a /24, then the lowest free; a fixed IP is honoured', async () => {
  const first = await as('POST', '/v1/instances', { name: 'a1', subnet });
  assert.equal(first.body.ip, '10.0.1.4');
  const fixed = await as('POST', '/v1/instances', { name: 'a2', subnet, ip: '10.0.1.5' });
  assert.equal(fixed.status, 201);
  assert.equal(fixed.body.ip, '10.0.1.5');
  assert.equal((await as('POST', '/v1/instances', { name: 'a3', subnet })).body.ip, '10.0.1.6');
  // A freed address is the lowest free again.
  await as('DELETE', `/v1/instances/${first.body.id}`);
  assert.equal((await as('POST', '/v1/instances', { name: 'a4', subnet })).body.ip, '10.0.1.4');
});

test('reserved addresses are refused (400, path ip); a taken one is a 409; outside the subnet a 400', async () => {
  for (const [ip, why] of [
    ['10.0.1.0', 'is the network address of 10.0.1.0/24'],
    ['10.0.1.1', "is reserved for the subnet's gateway (.1 of 10.0.1.0/24)"],
    ['10.0.1.2', 'is reserved for DNS (.2 of 10.0.1.0/24)'],
    ['10.0.1.3', 'is reserved for future use (.3 of 10.0.1.0/24)'],
    ['10.0.1.255', 'is the broadcast address of 10.0.1.0/24'],
    ['10.0.2.9', "is not inside the subnet's 10.0.1.0/24"],
  ]) {
    const r = await as('POST', '/v1/instances', { name: 'r', subnet, ip });
    assert.equal(r.status, 400, ip);
    assert.deepEqual(r.body.error.problems, [{ path: 'ip', message: `${ip} ${why}` }]);
  }
  const taken = await as('POST', '/v1/instances', { name: 'r', subnet, ip: '10.0.1.5' });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error.code, 'ip-taken');
  assert.match(taken.body.error.message, /^10\.0\.1\.5 is already used by instance i-\w+ \(a2\)$/);
  const bad = await as('POST', '/v1/instances', { name: 'r', subnet, ip: '10.0.1.300' });
  assert.deepEqual(bad.body.error.problems, [{ path: 'ip', message: 'not an IPv4 address (a.b.c.d)' }]);
});

test('a /28 holds 11 instances (16 less 5 reserved); the 12th is a 409', async () => {
  const vpc = (await as('POST', '/v1/vpcs', { name: 'small', cidrs: ['192.168.0.0/24'] })).body;
  const small = (await as('POST', '/v1/subnets', { name: 's28', vpc: vpc.id, cidr: '192.168.0.16/28' })).body
    .id;
  const ips: string[] = [];
  for (let i = 0; i < 11; i++)
    ips.push((await as('POST', '/v1/instances', { name: `s${i}`, subnet: small })).body.ip);
  assert.equal(ips[0], '192.168.0.20');
  assert.equal(ips[10], '192.168.0.30');
  const full = await as('POST', '/v1/instances', { name: 's11', subnet: small });
  assert.equal(full.status, 409);
  assert.equal(full.body.error.code, 'exhausted');
  assert.match(full.body.error.message, /has no free address left/);
});

test('MACs are locally administered unicast and unique; placement is least-loaded or pinned', async () => {
  const all = (await as('GET', '/v1/instances?limit=1000')).body.items as { mac: string; host: string }[];
  const macs = all.map((i) => i.mac);
  assert.equal(new Set(macs).size, macs.length);
  for (const mac of macs) {
    const first = Number.parseInt(mac.slice(0, 2), 16);
    assert.equal(first & 1, 0, `${mac} unicast`);
    assert.equal(first & 2, 2, `${mac} locally administered`);
  }
  const load = new Map<string, number>();
  for (const i of all) load.set(i.host, (load.get(i.host) ?? 0) + 1);
  const counts = [...load.values()];
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `balanced: ${JSON.stringify([...load])}`);
  const pinned = await as('POST', '/v1/instances', { name: 'pinned', subnet, host: 'hv3' });
  assert.equal(pinned.body.host, 'hv3');
  const unknown = await as('POST', '/v1/instances', { name: 'nowhere', subnet, host: 'hv9' });
  assert.equal(unknown.status, 400);
  assert.deepEqual(unknown.body.error.problems, [
    { path: 'host', message: 'no hypervisor "hv9" (the fabric has hv1, hv2, hv3)' },
  ]);
  const fabric = await svc.request('GET', '/v1/fabric');
  assert.deepEqual(
    fabric.body.hypervisors.map((h: { name: string }) => h.name),
    ['hv1', 'hv2', 'hv3'],
  );
});

test('elastic IPs come from the public pool, never its network or broadcast; a full pool is a 409', async () => {
  const e1 = await as('POST', '/v1/elastic-ips', { name: 'e1' });
  const e2 = await as('POST', '/v1/elastic-ips', { name: 'e2' });
  assert.deepEqual([e1.body.address, e2.body.address], ['198.51.100.1', '198.51.100.2']);
  const e3 = await as('POST', '/v1/elastic-ips', { name: 'e3' });
  assert.equal(e3.status, 409);
  assert.equal(e3.body.error.message, 'the public address pool is exhausted');
  // Elastic IPs cannot be set by the tenant.
  const set = await as('POST', '/v1/elastic-ips', { name: 'e4', address: '198.51.100.3' });
  assert.deepEqual(set.body.error.problems, [{ path: 'address', message: 'unknown field' }]);
});
