/**
 * Tenants are walls, probed as an attacker would (docs/service.md, "Tenants are walls"): requests
 * that name another tenant's objects, dry runs, the plan, probes to the fabric's own addresses and
 * to the other's public addresses, and the other tenant's traffic in flight at the same time. No
 * answer to `acme` may carry anything of `globex`: its ids, names, MACs, rule texts, VNIs, the
 * hypervisor only it uses, its public addresses' traffic, or why its own changes failed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ServiceRuntime } from '../../src/api/service-runtime.js';
import type { TestService } from '../helpers/service.js';
import { type Body, startFabricService, tenantNetwork } from '../helpers/tenant-network.js';

let svc: TestService;
let runtime: ServiceRuntime;
const tokens: Record<string, string> = {};
const as = (tenant: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  svc.request(method, path, { token: tokens[tenant]!, body, headers });

async function created(tenant: string, path: string, body: unknown): Promise<Body> {
  const r = await as(tenant, 'POST', path, body);
  if (r.status !== 201) throw new Error(`${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}
const network = (tenant: string) => tenantNetwork(svc, tokens[tenant]!, tenant);
const ipNumber = (a: string): number => a.split('.').reduce((n, b) => n * 256 + Number(b), 0);
const WEB = '198.51.100.10';

before(async () => {
  ({ svc, runtime } = await startFabricService());
  for (const t of ['acme', 'globex']) tokens[t] = (await svc.tenant(t)).token;
});
after(() => svc.close());

let acme: Body;
let globex: Body;
/** globex's public addresses: its elastic IP and its VPC's source NAT address. */
let globexPublic: string[];
/** Everything of globex acme must never read (see the module header). */
let secrets: string[];

/** The secrets found in `answer`, but those `request` named itself (a 404 names the id asked for). */
function leaked(answer: unknown, request: unknown = null, more: readonly string[] = []): string[] {
  const asked = JSON.stringify(request);
  const text = JSON.stringify(answer);
  return [...secrets, ...more].filter((s) => !asked.includes(s) && text.includes(s));
}

test('setup: two tenants on shared hypervisors; globex alone on leaf2-srv2', async () => {
  acme = await network('acme');
  globex = await network('globex');
  globex.solo = await created('globex', '/v1/instances', {
    name: 'globex-solo',
    subnet: globex.subnet.id,
    securityGroups: [globex.sg.id],
    host: 'leaf2-srv2',
  });
  const plan = (await as('globex', 'GET', '/v1/plan')).body.entries as Body[];
  const all = new Set<string>([globex.web.tenant, 'leaf2-srv2']);
  for (const o of Object.values(globex) as Body[]) {
    all.add(o.id);
    all.add(o.name);
    if (o.mac !== undefined) all.add(o.mac);
  }
  for (const g of [globex.sg, globex.peerSg]) all.add(`${g.id}/ingress[0]`);
  for (const e of plan) if (e.kind === 'l3-vni' || e.kind === 'l2-vni') all.add(`VNI ${e.vni}`);
  all.add(runtime.dataPlane.inventory().hypervisors.find((h) => h.name === 'leaf2-srv2')!.vtep);
  secrets = [...all];
  globexPublic = [globex.eip.address, ...plan.filter((e) => e.kind === 'snat').map((e) => e.publicIp)];
  assert.equal(globexPublic.length, 2);
});

test("errors about another tenant's ids name only what the request named", async () => {
  const requests: [string, string, unknown][] = [
    [
      'POST',
      '/v1/security-groups',
      { name: 'a1', vpc: acme.main.id, ingress: [{ protocol: 'all', group: globex.sg.id }] },
    ],
    [
      'PATCH',
      `/v1/security-groups/${acme.sg.id}`,
      { egress: [{ protocol: 'tcp', ports: [1, 2], group: globex.peerSg.id }] },
    ],
    [
      'POST',
      '/v1/route-tables',
      {
        name: 'a2',
        vpc: acme.main.id,
        routes: [{ destination: '0.0.0.0/0', target: { kind: 'instance', id: globex.web.id } }],
      },
    ],
    [
      'POST',
      '/v1/route-tables',
      {
        name: 'a3',
        vpc: acme.main.id,
        routes: [{ destination: '10.7.0.0/16', target: { kind: 'peering', id: globex.pcx.id } }],
      },
    ],
    [
      'POST',
      '/v1/route-tables',
      {
        name: 'a4',
        vpc: acme.main.id,
        routes: [{ destination: '0.0.0.0/0', target: { kind: 'internet-gateway', id: globex.igw.id } }],
      },
    ],
    ['POST', '/v1/peerings', { name: 'a5', vpc: acme.main.id, peerVpc: globex.peer.id }],
    ['PATCH', `/v1/elastic-ips/${acme.eip.id}`, { instance: globex.solo.id }],
    ['POST', '/v1/elastic-ips?dryRun=true', { name: 'a6', instance: globex.web.id }],
    ['POST', '/v1/instances', { name: 'a7', subnet: acme.subnet.id, securityGroups: [globex.sg.id] }],
    ['POST', '/v1/instances', { name: 'a8', subnet: globex.subnet.id, ip: '10.0.1.5' }],
    // The address only globex's solo has in its own 10.0.1.0/24, and globex's names: acme's to take.
    [
      'POST',
      '/v1/instances?dryRun=true',
      { name: 'globex-solo', subnet: acme.subnet.id, ip: '10.0.1.5', host: 'leaf1-srv1' },
    ],
    ['POST', '/v1/vpcs?dryRun=true', { name: 'globex-main', cidrs: ['10.0.0.0/16'] }],
    [
      'POST',
      '/v1/subnets',
      { name: 'a9', vpc: acme.main.id, cidr: '10.0.9.0/24', routeTable: globex.rtb.id },
    ],
    ['PATCH', `/v1/subnets/${acme.subnet.id}?dryRun=true`, { routeTable: globex.rtb.id }],
    ['DELETE', `/v1/vpcs/${globex.main.id}`, undefined],
    ['POST', `/v1/instances/${globex.web.id}/migrate`, { host: 'leaf1-srv2' }],
    ['POST', `/v1/instances/${globex.web.id}/stop?dryRun=true`, undefined],
    ['GET', `/v1/instances?host=leaf2-srv2`, undefined],
    ['GET', `/v1/subnets?vpc=${globex.main.id}`, undefined],
    ['GET', '/v1/whoami', undefined],
    ['GET', '/v1/plan', undefined],
  ];
  for (const [method, path, body] of requests) {
    const r = await as('acme', method, path, body);
    assert.ok(r.status < 500, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.deepEqual(
      leaked(r.body, [path, body]),
      [],
      `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`,
    );
  }
  // The same Idempotency-Key as globex's create: acme's own request, neither a replay nor a 422.
  const key = { 'idempotency-key': 'launch-1' };
  assert.equal(
    (await as('globex', 'POST', '/v1/vpcs', { name: 'k', cidrs: ['10.60.0.0/16'] }, key)).status,
    201,
  );
  for (const body of [
    { name: 'k', cidrs: ['10.60.0.0/16'] },
    { name: 'k2', cidrs: ['10.61.0.0/16'] },
  ]) {
    const r = await as('acme', 'POST', '/v1/vpcs?dryRun=true', body, key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('idempotent-replayed'), 'false');
    assert.equal(r.body.object.tenant, acme.web.tenant);
  }
});

test("probes to the fabric's own addresses and to globex's public ones carry nothing of globex", async () => {
  const inventory = runtime.dataPlane.inventory();
  const targets = [
    ...globexPublic,
    '10.0.1.5', // only globex has an instance there
    '100.64.0.5',
    '100.64.0.6', // globex's border VRF's link to the internet
    '169.254.0.4', // the transit address of leaf2-srv2's VRFs
    '198.18.0.2',
    ...inventory.hypervisors.map((h) => h.vtep),
    '10.255.0.3',
    '172.16.0.2',
  ];
  for (const to of targets) {
    const cases: [string, Body][] = [
      ['/v1/trace', { from: acme.web.id, to, protocol: 'icmp' }],
      ['/v1/trace', { from: acme.web.id, to, protocol: 'tcp', port: 80 }],
      ['/v1/trace', { from: acme.db.id, to, protocol: 'udp', port: 7 }],
      ['/v1/reach', { src: acme.web.id, dst: to, protocol: 'udp', port: 7 }],
      ['/v1/ping', { from: acme.web.id, to, count: 1, timeoutMs: 100 }],
    ];
    for (const [path, body] of cases) {
      const r = await as('acme', 'POST', path, body);
      assert.equal(r.status, 200, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(
        leaked(r.body, body),
        [],
        `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`,
      );
    }
  }
});

test("globex's packets at the internet's hosts (its traffic to web at the same time) stay out of acme's answers", () => {
  const dp = runtime.dataPlane;
  const other = dp.instance(globex.web.id)!;
  const web = ipNumber(WEB);
  // globex's web talks to the same internet host: echo requests, a datagram to a closed port and a
  // connection refused, each leaving as globex's elastic IP.
  const background = () => {
    other.ping(web, { count: 2, interval: 5e3 });
    other.sendUdp(40000, web, 9, new TextEncoder().encode('globex payload'));
    other.tcp.connect(web, 8080, { localPort: 40001 });
  };
  const traffic = ['UDP port 9', 'TCP port 8080', ':40001', 'globex payload'];
  for (const protocol of ['icmp', 'udp', 'tcp'] as const) {
    dp.net.scheduler.schedule(1, background);
    const t = runtime.trace({
      from: acme.web.id,
      to: WEB,
      protocol,
      port: protocol === 'icmp' ? undefined : 7,
    });
    assert.deepEqual(leaked(t, null, [...globexPublic, ...traffic]), [], t.trace.join('\n'));
    // acme's own packets at web are still shown, and the other's are one opaque hop.
    assert.ok(
      t.hops.some((h) => h.node === 'web' && h.message.includes(acme.eip.address)),
      t.trace.join('\n'),
    );
    assert.ok(t.hops.some((h) => h.node === 'outside'));
  }
  // A ping that gets no answer: the drop it is given is never the other's at web.
  for (const to of [WEB, '198.51.100.99']) {
    dp.net.scheduler.schedule(1, background);
    const p = runtime.ping({ from: acme.web.id, to, count: 2, intervalMs: 1, timeoutMs: 50 });
    assert.deepEqual(leaked(p, null, [...globexPublic, ...traffic]), [], JSON.stringify(p));
  }
});

test("GET /v1/plan tells a tenant why its own part failed to apply, never why another's did", async () => {
  const broken = runtime.dataPlane;
  const apply = broken.apply.bind(broken);
  // What a real failure says: the objects of the part being applied.
  broken.apply = (plan, part) => {
    const report = apply(plan, part);
    if (part === globex.web.tenant)
      throw new Error(`leaf2-srv2: no VAP was made for ${globex.solo.id} (${globex.solo.mac}) in VNI 100002`);
    return report;
  };
  const vm = await as('globex', 'POST', '/v1/instances', {
    name: 'globex-more',
    subnet: globex.subnet.id,
    host: 'leaf2-srv2',
  });
  assert.equal(vm.status, 201);
  assert.notEqual(runtime.dataPlane, broken, 'the fabric was rebuilt');
  const mine = (await as('acme', 'GET', '/v1/plan')).body;
  assert.equal(mine.applyError, null);
  assert.deepEqual(leaked(mine, null, [vm.body.id]), []);
  const theirs = (await as('globex', 'GET', '/v1/plan')).body;
  assert.match(theirs.applyError, new RegExp(`no VAP was made for ${globex.solo.id}`));
  // The next change of globex's applies and clears it.
  assert.equal((await as('globex', 'DELETE', `/v1/instances/${vm.body.id}`)).status, 204);
  assert.equal((await as('globex', 'GET', '/v1/plan')).body.applyError, null);
});

test("a migration to the hypervisor only globex used answers with acme's side only", async () => {
  const vm = (
    await as('acme', 'POST', '/v1/instances', {
      name: 'mover',
      subnet: acme.subnet.id,
      securityGroups: [acme.sg.id],
      host: 'leaf1-srv2',
    })
  ).body;
  const request = { host: 'leaf2-srv2' };
  // The hypervisor acme named, and its VTEP, are acme's to see once it runs there.
  const vtep = runtime.dataPlane.inventory().hypervisors.find((h) => h.name === 'leaf2-srv2')!.vtep;
  for (const path of [`/v1/instances/${vm.id}/migrate?dryRun=true`, `/v1/instances/${vm.id}/migrate`]) {
    const r = await as('acme', 'POST', path, request);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(leaked(r.body, [request, vtep]), [], JSON.stringify(r.body));
  }
  const t = await as('acme', 'POST', '/v1/trace', { from: vm.id, to: globex.eip.address, protocol: 'icmp' });
  assert.equal(t.body.delivered, true);
  assert.deepEqual(leaked(t.body, [request, vtep]), [], t.body.trace.join('\n'));
});
