/**
 * `POST /v1/ping` and `POST /v1/trace` over real HTTP against the service's running fabric: echo
 * requests answered (or lost, with the drop that ended them), a packet traced across overlay and
 * underlay, another tenant's instance unknown (404), a stopped end refused (409), and every body
 * problem with its path (400).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ServiceRuntime } from '../../src/api/service-runtime.js';
import { startService, type TestService } from '../helpers/service.js';

let svc: TestService;
const tokens: Record<string, string> = {};
// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field
let acme: Record<string, any>;
// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field
let globex: Record<string, any>;

const as = (tenant: string, method: string, path: string, body?: unknown) =>
  svc.request(method, path, { token: tokens[tenant]!, body });

/**
 * VPC 10.0.0.0/16, subnet 10.0.1.0/24; group `open` (ICMP and TCP 22 from the VPC, all out) on a
 * (leaf1-srv1) and b (leaf2-srv1); group `closed` (TCP 5432 only) on c (leaf2-srv2); d stopped.
 */
async function network(tenant: string) {
  const vpc = (await as(tenant, 'POST', '/v1/vpcs', { name: 'main', cidrs: ['10.0.0.0/16'] })).body;
  const subnet = (await as(tenant, 'POST', '/v1/subnets', { name: 'apps', vpc: vpc.id, cidr: '10.0.1.0/24' }))
    .body;
  const group = async (name: string, ingress: unknown[]) =>
    (
      await as(tenant, 'POST', '/v1/security-groups', {
        name,
        vpc: vpc.id,
        ingress,
        egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
      })
    ).body;
  const open = await group('open', [
    { protocol: 'icmp', cidr: '10.0.0.0/16' },
    { protocol: 'tcp', ports: [22, 22], cidr: '10.0.0.0/16' },
  ]);
  const closed = await group('closed', [{ protocol: 'tcp', ports: [5432, 5432], cidr: '10.0.0.0/16' }]);
  const launch = async (name: string, host: string, sg: string) => {
    const r = await as(tenant, 'POST', '/v1/instances', {
      name,
      subnet: subnet.id,
      securityGroups: [sg],
      host,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  const a = await launch('a', 'leaf1-srv1', open.id);
  const b = await launch('b', 'leaf2-srv1', open.id);
  const c = await launch('c', 'leaf2-srv2', closed.id);
  const d = await launch('d', 'leaf1-srv2', open.id);
  assert.equal((await as(tenant, 'POST', `/v1/instances/${d.id}/stop`)).status, 200);
  return { vpc, subnet, open, closed, a, b, c, d };
}

before(async () => {
  const runtime = new ServiceRuntime();
  svc = await startService({ runtime, hooks: runtime.hooks(), hypervisors: runtime.hypervisors() });
  svc.store.publish();
  for (const t of ['acme', 'globex']) tokens[t] = (await svc.tenant(t)).token;
  acme = await network('acme');
  globex = await network('globex');
});
after(() => svc.close());

test('ping: four echo requests across the fabric, each answered, with ping summary', async () => {
  const r = await as('acme', 'POST', '/v1/ping', { from: acme.a.id, to: acme.b.id });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    [r.body.from, r.body.to, r.body.address, r.body.size],
    [acme.a.id, acme.b.id, '10.0.1.5', 56],
  );
  const probes = r.body.probes;
  assert.deepEqual(
    probes.map((p: Record<string, unknown>) => [p.seq, p.status, p.from, p.ttl, p.message, p.dropped]),
    [1, 2, 3, 4].map((seq) => [seq, 'reply', '10.0.1.5', 64, null, null]),
  );
  const rtts: number[] = probes.map((p: { rttUs: number }) => p.rttUs);
  // The first request waits for ARP; the others take the same path in the same simulated time.
  assert.ok(rtts[0]! > rtts[1]!, rtts.join(' '));
  assert.deepEqual(rtts.slice(1), [rtts[1], rtts[1], rtts[1]]);
  const avg = Math.round(((rtts[0]! + 3 * rtts[1]!) / 4) * 1000) / 1000;
  assert.deepEqual(
    { ...r.body.summary, rttAvgUs: Math.round(r.body.summary.rttAvgUs * 1000) / 1000, rttMdevUs: undefined },
    {
      transmitted: 4,
      received: 4,
      errors: 0,
      lossPercent: 0,
      rttMinUs: rtts[1],
      rttAvgUs: avg,
      rttMaxUs: rtts[0],
      rttMdevUs: undefined,
    },
  );
});

test('ping: count, size and interval as asked; the same addresses in another tenant reach its own instance', async () => {
  const r = await as('globex', 'POST', '/v1/ping', {
    from: globex.a.id,
    to: '10.0.1.5',
    count: 2,
    size: 1000,
    intervalMs: 10,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.size, 1000);
  assert.deepEqual(
    r.body.probes.map((p: Record<string, unknown>) => [p.seq, p.status, p.from]),
    [
      [1, 'reply', '10.0.1.5'],
      [2, 'reply', '10.0.1.5'],
    ],
  );
  assert.deepEqual([r.body.summary.transmitted, r.body.summary.received], [2, 2]);
});

test('ping: a group without ICMP loses every request, each with the drop that ended it', async () => {
  const r = await as('acme', 'POST', '/v1/ping', { from: acme.a.id, to: acme.c.id, count: 3 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const reason = `leaf2-srv2: drop (security-group): security group of ${acme.c.id}: no ingress rule of ${acme.closed.id} allows icmp 10.0.1.4 -> 10.0.1.6`;
  assert.deepEqual(
    r.body.probes,
    [1, 2, 3].map((seq) => ({
      seq,
      status: 'timeout',
      from: null,
      rttUs: null,
      ttl: null,
      message: null,
      dropped: reason,
    })),
  );
  assert.deepEqual(r.body.summary, {
    transmitted: 3,
    received: 0,
    errors: 0,
    lossPercent: 100,
    rttMinUs: null,
    rttAvgUs: null,
    rttMaxUs: null,
    rttMdevUs: null,
  });
});

test("ping and trace: another tenant's instance is unknown (404), a stopped one refused (409)", async () => {
  for (const route of ['/v1/ping', '/v1/trace']) {
    const to = await as('acme', 'POST', route, { from: acme.a.id, to: globex.b.id });
    assert.equal(to.status, 404, route);
    assert.deepEqual(to.body.error, {
      code: 'not-found',
      message: `no instance ${globex.b.id}`,
      problems: [{ path: 'to', message: `no instance ${globex.b.id}` }],
    });
    const from = await as('acme', 'POST', route, { from: globex.a.id, to: acme.b.id });
    assert.equal(from.status, 404, route);
    assert.deepEqual(from.body.error.problems, [{ path: 'from', message: `no instance ${globex.a.id}` }]);
    const stopped = await as('acme', 'POST', route, { from: acme.d.id, to: acme.a.id });
    assert.equal(stopped.status, 409, route);
    assert.equal(stopped.body.error.code, 'not-running');
    assert.deepEqual(stopped.body.error.problems, [
      { path: 'from', message: `${acme.d.id} is not on the data plane (stopped or unknown)` },
    ]);
    const toStopped = await as('acme', 'POST', route, { from: acme.a.id, to: acme.d.id });
    assert.equal(toStopped.status, 409, route);
    assert.deepEqual(toStopped.body.error.problems, [
      { path: 'to', message: `${acme.d.id} is not on the data plane (stopped)` },
    ]);
  }
});

test('ping: every body problem at once, with its path (400)', async () => {
  const r = await as('acme', 'POST', '/v1/ping', {
    from: 'a',
    to: 'nowhere',
    count: 0,
    size: 70000,
    intervalMs: 1.5,
    colour: 'blue',
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'invalid-request');
  assert.equal(r.body.error.message, 'the request body has 6 problems');
  assert.deepEqual(r.body.error.problems.map((p: { path: string }) => p.path).sort(), [
    'colour',
    'count',
    'from',
    'intervalMs',
    'size',
    'to',
  ]);
  const problem = (path: string) =>
    r.body.error.problems.find((p: { path: string }) => p.path === path).message as string;
  assert.equal(problem('from'), 'an instance id like i-0a1b2c3d4e5f');
  assert.equal(problem('to'), 'an instance id like i-0a1b2c3d4e5f or an IPv4 address');
  assert.equal((await as('acme', 'POST', '/v1/ping')).status, 400);
});

test('trace: one echo request across the fabric, every decision of overlay and underlay', async () => {
  const r = await as('acme', 'POST', '/v1/trace', { from: acme.a.id, to: acme.b.id });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.protocol, r.body.port, r.body.delivered, r.body.drops], ['icmp', null, true, []]);
  assert.match(r.body.outcome, /^echo reply from 10\.0\.1\.5 after \d+\.\d{3} us$/);
  assert.equal(r.body.trace.length, r.body.hops.length);
  const messages: string[] = r.body.hops.map((h: { message: string }) => h.message);
  const nodes = new Set(r.body.hops.map((h: { node: string }) => h.node));
  for (const n of [acme.a.id, 'leaf1-srv1', 'leaf1', 'leaf2', 'leaf2-srv1', acme.b.id])
    assert.ok(nodes.has(n), n);
  assert.ok(nodes.has('spine1') || nodes.has('spine2'), [...nodes].join(' '));
  const expected = [
    new RegExp(
      `^security group of ${acme.a.id}: ${acme.open.id}/egress\\[0\\] allows icmp 10\\.0\\.1\\.4 -> 10\\.0\\.1\\.5`,
    ),
    /^VAP i-[0-9a-f]+ -> BD \d+ \(VNI \d+\); /,
    /^VXLAN VNI \d+: outer 172\.17\.0\.2 -> 172\.17\.0\.10, UDP \d+ -> 4789 \(source port from flow hash 0x[0-9a-f]+\)/,
    /ECMP: 2 equal-cost next hops, flow hash 0x[0-9a-f]+ picks/,
    /^decapsulate VXLAN VNI \d+ from VTEP 172\.17\.0\.2 -> BD /,
    new RegExp(
      `^security group of ${acme.b.id}: ${acme.open.id}/ingress\\[0\\] allows icmp 10\\.0\\.1\\.4 -> 10\\.0\\.1\\.5`,
    ),
    /^echo reply from 10\.0\.1\.5 id=\d+ seq=1 ttl=64/,
  ];
  for (const re of expected)
    assert.ok(
      messages.some((m) => re.test(m)),
      `${re} in\n${r.body.trace.join('\n')}`,
    );
  // Hops in time order, the lines their text.
  const times: number[] = r.body.hops.map((h: { timeUs: number }) => h.timeUs);
  assert.deepEqual(
    times,
    [...times].sort((x, y) => x - y),
  );
  assert.ok(r.body.trace[0].endsWith(r.body.hops[0].message));
});

test('trace: a closed port is dropped by the destination group, named', async () => {
  const r = await as('acme', 'POST', '/v1/trace', {
    from: acme.a.id,
    to: acme.c.id,
    protocol: 'tcp',
    port: 22,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    [r.body.delivered, r.body.outcome, r.body.drops],
    [
      false,
      'no connection (SYN-SENT)',
      [
        `leaf2-srv2: drop (security-group): security group of ${acme.c.id}: no ingress rule of ${acme.closed.id} allows tcp 10.0.1.4:49152 -> 10.0.1.6:22`,
      ],
    ],
  );
  const ok = await as('acme', 'POST', '/v1/trace', {
    from: acme.a.id,
    to: acme.c.id,
    protocol: 'tcp',
    port: 5432,
  });
  assert.deepEqual([ok.body.delivered, ok.body.outcome], [true, 'connected to 10.0.1.6:5432 (SYN, SYN-ACK)']);
});

test('trace: a port for tcp and udp only, and only there (400 naming port)', async () => {
  const noPort = await as('acme', 'POST', '/v1/trace', { from: acme.a.id, to: acme.b.id, protocol: 'udp' });
  assert.equal(noPort.status, 400);
  assert.deepEqual(noPort.body.error.problems, [{ path: 'port', message: 'a udp trace needs a port' }]);
  const icmpPort = await as('acme', 'POST', '/v1/trace', { from: acme.a.id, to: acme.b.id, port: 7 });
  assert.equal(icmpPort.status, 400);
  assert.deepEqual(icmpPort.body.error.problems, [
    { path: 'port', message: 'ports are for tcp and udp, not icmp' },
  ]);
  const bad = await as('acme', 'POST', '/v1/trace', {
    from: acme.a.id,
    to: acme.b.id,
    protocol: 'sctp',
    port: 0,
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error.problems.map((p: { path: string }) => p.path).sort(), ['port', 'protocol']);
});

test('the admin token may not probe (403)', async () => {
  const r = await svc.request('POST', '/v1/ping', { body: { from: acme.a.id, to: acme.b.id } });
  assert.equal(r.status, 403);
});
