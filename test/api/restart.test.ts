/**
 * `vnet serve` as a process: SIGKILL it at any moment and start it again on the same database:
 * every acknowledged change is there, and the data plane is rebuilt from it (reachability answers,
 * real packets included, are unchanged). SIGTERM stops it cleanly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, serveProcess } from '../helpers/serve-process.js';
import { tempDb } from '../helpers/service.js';

test('kill -9 the server, start it again: tenants, tokens, objects and allocations are all back', async () => {
  const db = tempDb('vnet-restart-');
  const first = await serveProcess(['--db', db]);
  assert.match(first.stdout(), /state in .*vnet\.db \(SQLite wal, synchronous=FULL, schema 3\)/);
  const admin = first.adminToken;
  assert.ok(admin, 'the first start prints the admin token');
  const tenant = (await call(first.url, admin, 'POST', '/v1/tenants', { name: 'acme' })).body;
  const token = (await call(first.url, admin, 'POST', `/v1/tenants/${tenant.id}/tokens`, {})).body
    .token as string;
  const vpc = (await call(first.url, token, 'POST', '/v1/vpcs', { name: 'prod', cidrs: ['10.0.0.0/16'] }))
    .body;
  const subnet = (
    await call(first.url, token, 'POST', '/v1/subnets', { name: 'web', vpc: vpc.id, cidr: '10.0.1.0/24' })
  ).body;
  // A burst of creates in flight together; each one acknowledged must survive the kill.
  const burst = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      call(first.url, token, 'POST', '/v1/instances', { name: `vm${i}`, subnet: subnet.id }),
    ),
  );
  assert.ok(burst.every((r) => r.status === 201));
  const stopped = await call(first.url, token, 'POST', `/v1/instances/${burst[0]!.body.id}/stop`);
  assert.equal(stopped.body.state, 'stopped');
  // Reachability on the data plane before the kill: a group that lets ICMP in, on two instances.
  const sg = (
    await call(first.url, token, 'POST', '/v1/security-groups', {
      name: 'icmp',
      vpc: vpc.id,
      ingress: [{ protocol: 'icmp', cidr: '10.0.0.0/16' }],
      egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
    })
  ).body;
  const pair = await Promise.all(
    ['leaf1-srv1', 'leaf2-srv2'].map(
      async (host, i) =>
        (
          await call(first.url, token, 'POST', '/v1/instances', {
            name: `pinger${i}`,
            subnet: subnet.id,
            securityGroups: [sg.id],
            host,
          })
        ).body,
    ),
  );
  const queries = [
    { src: pair[0].id, dst: pair[1].id, protocol: 'icmp' },
    { src: pair[0].id, dst: pair[1].id, protocol: 'tcp', port: 22 },
    { src: burst[1]!.body.id, dst: pair[1].id, protocol: 'icmp' },
  ];
  const answers = async (url: string) =>
    Promise.all(
      queries.map(async (q) => {
        const r = (await call(url, token, 'POST', '/v1/reach', q)).body;
        return [
          r.allowed,
          r.delivered,
          r.agree,
          r.hops.map((h: { step: string; verdict: string }) => `${h.step} ${h.verdict}`),
        ];
      }),
    );
  // A subnet made and deleted between two others: the later one holds VNI 100002 with 100001 free,
  // which a compile from nothing would hand out differently; the stored allocations keep it.
  const gone = (
    await call(first.url, token, 'POST', '/v1/subnets', { name: 'gone', vpc: vpc.id, cidr: '10.0.2.0/24' })
  ).body;
  const kept = (
    await call(first.url, token, 'POST', '/v1/subnets', { name: 'kept', vpc: vpc.id, cidr: '10.0.3.0/24' })
  ).body;
  assert.equal((await call(first.url, token, 'DELETE', `/v1/subnets/${gone.id}`)).status, 204);
  const vnis = async (url: string) =>
    Object.fromEntries(
      (await call(url, token, 'GET', '/v1/plan')).body.entries
        .filter((e: { kind: string }) => e.kind === 'l2-vni' || e.kind === 'l3-vni')
        .map((e: { key: string; vni: number }) => [e.key, e.vni]),
    );
  const vnisBefore = await vnis(first.url);
  assert.deepEqual(vnisBefore, { [vpc.id]: 900000, [subnet.id]: 100000, [kept.id]: 100002 });
  const planBefore = (await call(first.url, token, 'GET', '/v1/plan')).body.text;
  const before = await answers(first.url);
  assert.deepEqual(
    before.map((a) => a.slice(0, 3)),
    [
      [true, true, true],
      [false, false, true],
      [false, false, true],
    ],
  );
  first.child.kill('SIGKILL');
  assert.equal((await first.exited()).signal, 'SIGKILL');

  const second = await serveProcess(['--db', db]);
  try {
    assert.equal(second.adminToken, undefined, 'the admin token is printed on the first start only');
    assert.equal((await call(second.url, admin, 'GET', '/v1/tenants')).body.items[0].id, tenant.id);
    assert.deepEqual((await call(second.url, token, 'GET', `/v1/vpcs/${vpc.id}`)).body, vpc);
    const instances = (await call(second.url, token, 'GET', '/v1/instances?limit=100')).body.items;
    assert.equal(instances.length, 42);
    // The data plane is rebuilt from the stored intent: the same answers, packets included, and
    // the same plan (every VNI as it was).
    assert.deepEqual(await answers(second.url), before);
    assert.deepEqual(await vnis(second.url), vnisBefore);
    assert.deepEqual((await call(second.url, token, 'GET', '/v1/plan')).body.text, planBefore);
    assert.deepEqual(
      instances.map((i: { id: string }) => i.id).sort(),
      [...burst.map((r) => r.body.id), ...pair.map((p) => p.id)].sort(),
    );
    assert.equal(instances.find((i: { id: string }) => i.id === burst[0]!.body.id).state, 'stopped');
    assert.equal(new Set(instances.map((i: { ip: string }) => i.ip)).size, 42);
    // Allocation carries on where it was: the next address, a MAC never handed out before.
    const next = (
      await call(second.url, token, 'POST', '/v1/instances', { name: 'after', subnet: subnet.id })
    ).body;
    assert.equal(next.ip, '10.0.1.46');
    assert.equal(next.mac, '02:76:6e:00:00:2b');
  } finally {
    second.child.kill('SIGTERM');
    const exit = await second.exited();
    assert.equal(exit.code, 0, second.stdout());
    assert.match(second.stdout(), /SIGTERM: finishing requests in flight, closing the database/);
  }
});

test('VNET_ADMIN_TOKEN is the admin token (stored hashed, nothing printed); a short one is refused', async () => {
  const db = tempDb('vnet-restart-');
  const admin = 'vnet_test_admin_token_0123456789abcdef';
  const s = await serveProcess(['--db', db], { VNET_ADMIN_TOKEN: admin });
  try {
    assert.equal(s.adminToken, undefined);
    assert.equal((await call(s.url, admin, 'GET', '/v1/tenants')).status, 200);
  } finally {
    s.child.kill('SIGTERM');
    await s.exited();
  }
  await assert.rejects(
    serveProcess(['--db', db], { VNET_ADMIN_TOKEN: 'short' }),
    /VNET_ADMIN_TOKEN is too short/,
  );
});
