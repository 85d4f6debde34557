/**
 * A restart rebuilds the data plane from the stored intent (`ServiceRuntime.sync(intent, null)` on
 * a fresh fabric, the allocations stored before restored): every tenant's part of the plan applied
 * and settled in turn. A service built change by change and the same service rebuilt at once hold
 * the same plan, every instance has its address by DHCP again, and reach, ping and trace give the
 * same answers. Packet by packet, the rebuilt fabric is the one that applying every part and then
 * settling once (what a restart did before) makes: only the clock differs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceRuntime } from '../../src/api/service-runtime.js';
import { Store } from '../../src/store/store.js';
import { createServiceDataPlane } from '../../src/vpc/apply.js';
import { naturalCompare } from '../../src/vpc/plan.js';
import type { PingQuery, TraceQuery } from '../../src/vpc/probe.js';
import type { ReachQuery } from '../../src/vpc/reach.js';
import { formatIpv4 } from '../../src/wire/index.js';
import { tempDb } from '../helpers/service.js';

/** Three tenants with the same addresses: an internet gateway, a peering, an ACL, two groups, an elastic IP. */
function build(store: Store) {
  const tenants: { id: string; vms: Record<string, string>; eip: string }[] = [];
  for (const name of ['t-a', 't-b', 't-c']) {
    const t = String(store.create(null, 'tenant', { name }).body.id);
    const make = (kind: Parameters<Store['create']>[1], body: Record<string, unknown>) =>
      String(store.create(t, kind, body).body.id);
    const vpc = make('vpc', { name: 'shop', cidrs: ['10.0.0.0/16'] });
    const back = make('vpc', { name: 'back', cidrs: ['10.1.0.0/16'] });
    const igw = make('internet-gateway', { name: 'out', vpc });
    const pcx = make('peering', { name: 'shop-back', vpc, peerVpc: back });
    const rtb = make('route-table', {
      name: 'public',
      vpc,
      routes: [
        { destination: '0.0.0.0/0', target: { kind: 'internet-gateway', id: igw } },
        { destination: '10.1.0.0/16', target: { kind: 'peering', id: pcx } },
      ],
    });
    const backRtb = make('route-table', {
      name: 'back',
      vpc: back,
      routes: [{ destination: '10.0.0.0/16', target: { kind: 'peering', id: pcx } }],
    });
    const acl = make('network-acl', {
      name: 'db',
      vpc,
      ingress: [
        { number: 100, action: 'deny', protocol: 'tcp', ports: [22, 22], cidr: '0.0.0.0/0' },
        { number: 200, action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' },
      ],
      egress: [{ number: 100, action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' }],
    });
    const web = make('subnet', { name: 'web', vpc, cidr: '10.0.1.0/24', routeTable: rtb });
    const db = make('subnet', { name: 'db', vpc, cidr: '10.0.2.0/24', networkAcl: acl });
    const jobs = make('subnet', { name: 'jobs', vpc: back, cidr: '10.1.1.0/24', routeTable: backRtb });
    const open = [
      { protocol: 'icmp', cidr: '0.0.0.0/0' },
      { protocol: 'tcp', ports: [22, 22], cidr: '10.0.0.0/8' },
    ];
    const webSg = make('security-group', {
      name: 'web',
      vpc,
      ingress: [{ protocol: 'tcp', ports: [80, 80], cidr: '0.0.0.0/0' }, ...open],
      egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
    });
    const dbSg = make('security-group', {
      name: 'db',
      vpc,
      ingress: [{ protocol: 'tcp', ports: [5432, 5432], group: webSg }, ...open],
      egress: [{ protocol: 'all', cidr: '10.0.0.0/8' }],
    });
    const backSg = make('security-group', {
      name: 'back',
      vpc: back,
      ingress: open,
      egress: [{ protocol: 'all', cidr: '10.0.0.0/8' }],
    });
    const vms: Record<string, string> = {};
    for (const [vm, subnet, sg, host] of [
      ['web1', web, webSg, 'leaf1-srv1'],
      ['web2', web, webSg, 'leaf2-srv1'],
      ['web3', web, webSg, 'leaf2-srv2'],
      ['db1', db, dbSg, 'leaf1-srv2'],
      ['db2', db, dbSg, 'leaf2-srv1'],
      ['job1', jobs, backSg, 'leaf2-srv2'],
    ] as const)
      vms[vm] = make('instance', { name: vm, subnet, securityGroups: [sg], host });
    const eip = store.create(t, 'elastic-ip', { name: 'web1', instance: vms.web1 }).body.address as string;
    tenants.push({ id: t, vms, eip });
  }
  return tenants;
}

/** `value` without what depends on the clock: each event's simulated time, TCP initial sequence numbers. */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (typeof value === 'string') return value.replace(/\b(seq|ack)=\d+/g, '$1=N');
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'time')
      .map(([k, v]) => [k, timeless(v)]),
  );
}

/**
 * What the answers say, without what depends on the order the fabric was built in: a change at a
 * time makes the VRF routers (and their MACs, from which VXLAN source ports and so the spine an
 * ECMP hash picks follow) in another order than a restart does.
 */
function verdicts(all: ReturnType<typeof answers>) {
  return all.map((t) => ({
    reach: t.reach.map((r) => ({
      allowed: r.analysis.allowed,
      hops: r.analysis.hops.map((h) => `${h.step} ${h.verdict}`),
      delivered: r.confirmation.delivered,
      agree: r.agree,
    })),
    ping: t.ping.map((p) => ({
      probes: p.probes.map((x) => [x.status, x.from, x.ttl, x.message, x.dropped]),
      summary: [p.summary.transmitted, p.summary.received, p.summary.errors],
    })),
    trace: t.trace.map((x) => ({ delivered: x.delivered, outcome: x.outcome, drops: x.drops })),
  }));
}

/** What the probes answer: reach (analysis and packet), ping, trace. */
function answers(runtime: ServiceRuntime, tenants: ReturnType<typeof build>) {
  return tenants.map(({ vms, eip }) => {
    const reach: ReachQuery[] = [
      { src: vms.web1!, dst: vms.web2!, protocol: 'icmp' },
      { src: vms.web1!, dst: vms.db1!, protocol: 'tcp', port: 5432 },
      { src: vms.db2!, dst: vms.web3!, protocol: 'tcp', port: 80 },
      { src: vms.web2!, dst: vms.db2!, protocol: 'tcp', port: 22 },
      { src: vms.web3!, dst: vms.job1!, protocol: 'icmp' },
      { src: vms.web2!, dst: '198.51.100.10', protocol: 'udp', port: 7 },
      { src: vms.db1!, dst: '198.51.100.10', protocol: 'icmp' },
      { src: vms.web2!, dst: eip, protocol: 'tcp', port: 80 },
    ];
    const ping: PingQuery[] = [
      { from: vms.web1!, to: vms.db2!, count: 2 },
      { from: vms.job1!, to: vms.web2!, count: 2 },
      { from: vms.db1!, to: vms.job1!, count: 2 },
    ];
    const trace: TraceQuery[] = [
      { from: vms.web3!, to: vms.db1!, protocol: 'tcp', port: 5432 },
      { from: vms.web2!, to: vms.db2!, protocol: 'tcp', port: 22 },
      { from: vms.job1!, to: vms.web1!, protocol: 'icmp' },
    ];
    return {
      reach: reach.map((q) => runtime.reach(q)),
      ping: ping.map((q) => runtime.ping(q)),
      trace: trace.map((q) => runtime.trace(q)),
    };
  });
}

test('a restart rebuilds the same plan and data plane: every address by DHCP, reach, ping and trace as before', () => {
  const path = tempDb('vnet-rebuild-');
  const errors: unknown[] = [];
  const first = new ServiceRuntime();
  let store = Store.open(path, {
    hooks: first.hooks((e) => errors.push(e)),
    hypervisors: first.hypervisors(),
  });
  first.persistAllocations(store.loadAllocations(), (c) => store.saveAllocations(c));
  store.publish();
  const tenants = build(store);
  assert.equal(errors.length, 0, String(errors));
  const plans = tenants.map((t) => first.planOf(t.id));
  const before = answers(first, tenants);
  store.close();

  // A fresh process: the stored intent and allocations, one whole-intent sync on a new fabric.
  const second = new ServiceRuntime();
  store = Store.open(path, { hooks: second.hooks((e) => errors.push(e)), hypervisors: second.hypervisors() });
  try {
    second.persistAllocations(store.loadAllocations(), (c) => store.saveAllocations(c));
    store.publish();
    assert.equal(errors.length, 0, String(errors));
    assert.equal(second.lastError, null);
    assert.deepEqual(
      tenants.map((t) => second.planOf(t.id)),
      plans,
    );
    assert.deepEqual(second.dataPlane.plan, first.dataPlane.plan);
    // Every instance on the data plane, with the plan's address from its subnet's DHCP server.
    const instances = tenants.flatMap((t) => Object.values(t.vms));
    assert.deepEqual([...second.dataPlane.instances.keys()].sort(), [...instances].sort());
    for (const [id, s] of second.dataPlane.instances) {
      const dhcp = s.host.dhcpClient;
      assert.equal(dhcp?.state, 'bound', id);
      assert.equal(formatIpv4(dhcp!.address!), s.ip, id);
    }
    // Each part was settled on its own: no frame was lost to a full queue.
    for (const link of second.dataPlane.net.links) assert.deepEqual(link.drops, {});
    const after = answers(second, tenants);
    assert.deepEqual(verdicts(after), verdicts(before));
    // The answers say something: allowed and blocked paths, the internet, an elastic IP, the peering.
    const reachable = verdicts(before).map((t) => t.reach.map((r) => [r.allowed, r.delivered, r.agree]));
    assert.deepEqual(reachable[0], [
      [true, true, true],
      [true, true, true],
      [true, true, true],
      [false, false, true],
      [true, true, true],
      [true, true, true],
      [false, false, true],
      [true, true, true],
    ]);
    assert.deepEqual(reachable, [reachable[0], reachable[0], reachable[0]]);
    // Over the peering both ways; the db subnet has no route to the peer VPC.
    for (const t of before)
      assert.deepEqual(
        t.ping.map((p) => p.summary.received),
        [2, 2, 0],
      );

    // The fabric a restart made before (every part applied, then one settle), probed the same way:
    // the same answers, every hop and every MAC, but for the clock.
    const once = createServiceDataPlane();
    for (const t of tenants.map((x) => x.id).sort(naturalCompare)) once.apply(second.dataPlane.planOf(t), t);
    once.settle();
    const rebuilt = new ServiceRuntime();
    rebuilt.persistAllocations(store.loadAllocations(), () => {});
    rebuilt.sync(store.loadIntent(), null);
    const perPart = answers(rebuilt, tenants);
    rebuilt.dataPlane = once;
    assert.deepEqual(timeless(perPart), timeless(answers(rebuilt, tenants)));
  } finally {
    store.close();
  }
});
