/**
 * Tenants are walls: whatever a tenant asks about another tenant's public address, its own
 * peered VPCs or an instance on a hypervisor it shares, no answer (reach, ping, trace, plan, dry
 * run, errors) carries anything of the other tenant: none of its ids, names, private addresses,
 * MACs, rule texts, VRFs or host names.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ServiceRuntime } from '../../src/api/service-runtime.js';
import type { TestService } from '../helpers/service.js';
import { type Body, startFabricService, tenantNetwork } from '../helpers/tenant-network.js';

let svc: TestService;
let runtime: ServiceRuntime;
const tokens: Record<string, string> = {};

const as = (tenant: string, method: string, path: string, body?: unknown) =>
  svc.request(method, path, { token: tokens[tenant]!, body });
const network = (tenant: string) => tenantNetwork(svc, tokens[tenant]!, tenant);

before(async () => {
  ({ svc, runtime } = await startFabricService());
  for (const t of ['acme', 'globex']) tokens[t] = (await svc.tenant(t)).token;
});
after(() => svc.close());

/**
 * Everything of `tenant`'s network another tenant must never read: object ids, names, private
 * addresses, MACs, rule texts, VRF names and hypervisors. (Addresses both tenants use, such as
 * 10.0.1.4, cannot be told apart and are checked by the ids, MACs and rules around them.)
 */
function secretsOf(n: Body): string[] {
  const objects = Object.values(n) as Body[];
  const secrets = new Set<string>();
  for (const o of objects) {
    secrets.add(o.id);
    secrets.add(o.name);
    if (o.mac !== undefined) secrets.add(o.mac);
  }
  secrets.add(n.web.tenant);
  // The rule texts as the plan and the trace print them, and the VRFs and VAPs named after objects.
  for (const g of [n.sg, n.peerSg]) {
    secrets.add(`${g.id}/ingress[0]`);
    secrets.add(`${g.id}/egress[0]`);
  }
  return [...secrets];
}

/** `text` with every secret of `secrets` found in it. */
function leaked(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}

let acme: Body;
let globex: Body;

test('setup: two tenants with the same addresses, sharing hypervisors, each with an elastic IP and a peered VPC', async () => {
  acme = await network('acme');
  globex = await network('globex');
  // Both `web` instances share leaf1-srv1 and have the same private address.
  assert.deepEqual([acme.web.host, acme.web.ip], [globex.web.host, globex.web.ip]);
  assert.notEqual(acme.eip.address, globex.eip.address);
});

test("probes to another tenant's elastic IP answer like the internet: its public address and whether it answered, nothing else", async () => {
  const secrets = secretsOf(globex);
  const dst = globex.eip.address;
  const cases: [string, Body][] = [
    ['/v1/reach', { src: acme.web.id, dst, protocol: 'icmp' }],
    ['/v1/reach', { src: acme.web.id, dst, protocol: 'tcp', port: 80 }],
    ['/v1/reach', { src: acme.web.id, dst, protocol: 'udp', port: 7 }],
    ['/v1/reach', { src: acme.web.id, dst, protocol: 'tcp', port: 5432 }],
    ['/v1/trace', { from: acme.web.id, to: dst, protocol: 'icmp' }],
    ['/v1/trace', { from: acme.web.id, to: dst, protocol: 'tcp', port: 80 }],
    ['/v1/trace', { from: acme.web.id, to: dst, protocol: 'tcp', port: 5432 }],
    ['/v1/trace', { from: acme.db.id, to: dst, protocol: 'udp', port: 7 }],
    ['/v1/ping', { from: acme.web.id, to: dst, count: 2 }],
    ['/v1/ping', { from: acme.db.id, to: dst, count: 1 }],
  ];
  for (const [path, body] of cases) {
    const r = await as('acme', 'POST', path, body);
    assert.equal(r.status, 200, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    const text = JSON.stringify(r.body);
    assert.deepEqual(leaked(text, secrets), [], `${path} ${JSON.stringify(body)} answered ${text}`);
  }
  // It still answers: the reply came back from the public address, through one opaque hop.
  const trace = await as('acme', 'POST', '/v1/trace', { from: acme.web.id, to: dst, protocol: 'icmp' });
  assert.equal(trace.body.delivered, true);
  assert.equal(trace.body.outcome.startsWith(`echo reply from ${dst} after `), true, trace.body.outcome);
  const outside = trace.body.hops.filter((h: Body) => h.node === 'outside');
  assert.deepEqual(
    outside.map((h: Body) => [h.kind, h.port, h.message]),
    [['outside', null, "outside your network: the other side's decisions are not shown"]],
  );
  // acme's own side is all there: its instance, its VRF's NAT on the border, and the reply coming back in.
  const nodes = new Set(trace.body.hops.map((h: Body) => h.node));
  for (const n of [acme.web.id, 'leaf1-srv1', `leaf1-srv1/${acme.main.id}`, `border/${acme.main.id}`])
    assert.equal(nodes.has(n), true, `${n} in ${[...nodes].join(' ')}`);
  assert.deepEqual(
    [...nodes].filter((n) => /^(leaf|spine)\d+$/.test(String(n))),
    [],
    "no underlay hop while another tenant's packets are in flight",
  );
  // A port the other tenant's group does not open: refused there, and the drop is not named. The
  // analysis allowed it as far as the border, which is no disagreement.
  const closed = await as('acme', 'POST', '/v1/reach', {
    src: acme.web.id,
    dst,
    protocol: 'tcp',
    port: 5432,
  });
  assert.deepEqual(
    [closed.body.allowed, closed.body.delivered, closed.body.agree, closed.body.drops],
    [true, false, true, []],
  );
  assert.deepEqual(
    closed.body.trace
      .filter((l: string) => / outside /.test(l))
      .map((l: string) => l.replace(/^ *[\d.]+ us +/, '')),
    [
      "outside                                              outside your network: the other side's decisions are not shown",
    ],
  );
  const ping = await as('acme', 'POST', '/v1/ping', { from: acme.web.id, to: dst, count: 2 });
  assert.deepEqual(
    ping.body.probes.map((p: Body) => [p.status, p.from, p.dropped]),
    [
      ['reply', dst, null],
      ['reply', dst, null],
    ],
  );
});

test("the analysis of a probe to another tenant's elastic IP reads the prober's intent only", async () => {
  const r = await as('acme', 'POST', '/v1/reach', {
    src: acme.web.id,
    dst: globex.eip.address,
    protocol: 'icmp',
  });
  assert.deepEqual(
    r.body.hops.map((h: Body) => [h.step, h.verdict]),
    [
      ['source-instance', 'pass'],
      ['source-sg-egress', 'pass'],
      ['source-acl-egress', 'pass'],
      ['route', 'pass'],
      ['return-acl-ingress', 'pass'],
      ['outside', 'pass'],
    ],
  );
  assert.equal(
    r.body.hops[3].why,
    `${acme.rtb.id} routes 0.0.0.0/0 to ${acme.igw.id}: leaves border as ${acme.eip.address} (1:1 NAT, ${acme.eip.id})`,
  );
});

test("probes within one's own network (peered VPC, shared hypervisor) carry nothing of the other tenant", async () => {
  const secrets = secretsOf(globex);
  const cases: [string, Body][] = [
    ['/v1/trace', { from: acme.web.id, to: acme.db.id, protocol: 'icmp' }],
    ['/v1/trace', { from: acme.web.id, to: '10.9.1.4', protocol: 'tcp', port: 80 }],
    ['/v1/reach', { src: acme.db.id, dst: acme.web.id, protocol: 'udp', port: 7 }],
    ['/v1/ping', { from: acme.web.id, to: '10.9.1.4', count: 2 }],
    // An address only the other tenant has, and the other tenant's peered range: nothing there.
    ['/v1/trace', { from: acme.web.id, to: '10.0.1.200', protocol: 'icmp' }],
    ['/v1/reach', { src: acme.web.id, dst: '10.9.1.5', protocol: 'icmp' }],
  ];
  for (const [path, body] of cases) {
    const r = await as('acme', 'POST', path, body);
    assert.equal(r.status, 200, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    const text = JSON.stringify(r.body);
    assert.deepEqual(leaked(text, secrets), [], `${path} ${JSON.stringify(body)} answered ${text}`);
  }
  // Within the tenant, the whole path is shown, underlay included.
  const r = await as('acme', 'POST', '/v1/trace', { from: acme.web.id, to: acme.db.id, protocol: 'icmp' });
  assert.equal(r.body.delivered, true);
  const nodes = new Set(r.body.hops.map((h: Body) => h.node));
  for (const n of [acme.web.id, 'leaf1-srv1', 'leaf1', 'leaf2', 'leaf2-srv1', acme.db.id])
    assert.equal(nodes.has(n), true, `${n} in ${[...nodes].join(' ')}`);
  assert.equal(nodes.has('outside'), false);
});

test('the plan, dry runs and errors name nothing of another tenant', async () => {
  const secrets = secretsOf(globex);
  const answers = [
    await as('acme', 'GET', '/v1/plan'),
    await svc.request('POST', '/v1/instances?dryRun=true', {
      token: tokens.acme!,
      body: { name: 'x', subnet: acme.subnet.id, host: 'leaf1-srv1' },
    }),
    await as('acme', 'POST', '/v1/reach', { src: globex.web.id, dst: acme.web.id, protocol: 'icmp' }),
    await as('acme', 'POST', '/v1/trace', { from: acme.web.id, to: globex.web.id, protocol: 'icmp' }),
    await as('acme', 'POST', '/v1/instances', { name: 'y', subnet: globex.subnet.id }),
    await as('acme', 'POST', '/v1/elastic-ips', { name: 'z', instance: globex.web.id }),
    await as('acme', 'POST', '/v1/subnets', { name: 'w', vpc: globex.main.id, cidr: '10.0.7.0/24' }),
    await as('acme', 'GET', `/v1/instances/${globex.web.id}`),
  ];
  for (const r of answers) {
    const text = JSON.stringify(r.body);
    // The ids acme named itself in the request come back in its 404s: only what it did not send counts.
    const unsent = secrets.filter((s) => ![globex.web.id, globex.subnet.id, globex.main.id].includes(s));
    assert.deepEqual(leaked(text, unsent), [], text);
  }
});

test("another tenant's traffic during a probe (its own ping across the same hypervisor) stays out of the answer", async () => {
  const secrets = secretsOf(globex);
  const dp = runtime.dataPlane;
  const other = dp.instance(globex.web.id)!;
  // While acme's probes run, globex's web pings its db and acme's elastic IP, through the same
  // hypervisor (leaf1-srv1), the same leaves and the same border.
  const background = () => {
    other.ping(0x0a090104, { count: 3, interval: 300e6 });
    other.ping(Number(acme.eip.address.split('.').reduce((n: number, b: string) => n * 256 + Number(b), 0)), {
      count: 3,
      interval: 300e6,
    });
  };
  dp.net.scheduler.schedule(100e6, background);
  const ping = runtime.ping({ from: acme.web.id, to: acme.db.id, count: 4, intervalMs: 250 });
  assert.deepEqual(
    ping.probes.map((p) => [p.status, p.dropped]),
    [1, 2, 3, 4].map(() => ['reply', null]),
  );
  assert.deepEqual(leaked(JSON.stringify(ping), secrets), []);
  dp.net.scheduler.schedule(1, background);
  for (const protocol of ['icmp', 'udp', 'tcp'] as const) {
    const trace = runtime.trace({
      from: acme.web.id,
      to: acme.db.id,
      protocol,
      port: protocol === 'icmp' ? undefined : protocol === 'udp' ? 7 : 80,
    });
    assert.equal(trace.delivered, true, trace.trace.join('\n'));
    assert.deepEqual(leaked(JSON.stringify(trace), secrets), [], trace.trace.join('\n'));
  }
});
