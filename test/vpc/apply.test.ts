/**
 * Applying plans to the simulated data plane: an empty service fabric (2 spines, 2 leaves, 2
 * hypervisors per leaf, a border) takes a small intent's plan: instances get their addresses by
 * DHCP from their subnet's local gateway, ping across leaves and subnets, two tenants with the
 * same CIDRs stay apart; a second apply changes only what differs (same router objects, actions
 * about the new things only); removing an instance removes its host, its MAC route and the VRF it
 * alone needed; a move re-plugs it with a higher MAC mobility sequence number; then the golden
 * plan: security groups, network ACLs, blackhole routes, source NAT and an elastic IP (1:1 NAT),
 * seen in traces; a peering between two VPCs carries packets both ways.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compile,
  confirmReach,
  createServiceDataPlane,
  type Intent,
  type VpcDataPlane,
  validate,
} from '../../src/vpc/index.js';
import { formatIpv4, ip } from '../../src/wire/index.js';
import { edited, goldenIntent } from '../helpers/vpc.js';

/** Two tenants with the same 10.0.0.0/16; tenant a has two subnets. */
export function smallIntent(): Intent {
  const open = (id: string, tenant: string, vpc: string) => ({
    id,
    tenant,
    vpc,
    name: 'open',
    ingress: [{ protocol: 'all' as const, cidr: '10.0.0.0/16' }],
    egress: [{ protocol: 'all' as const, cidr: '0.0.0.0/0' }],
  });
  const inst = (
    id: string,
    tenant: string,
    subnet: string,
    ipText: string,
    n: number,
    host: string,
    sg: string,
  ) => ({
    id,
    tenant,
    subnet,
    name: id,
    ip: ipText,
    mac: `0a:00:00:00:00:0${n}`,
    securityGroups: [sg],
    host,
    state: 'running' as const,
  });
  return {
    tenants: [
      { id: 'tenant-a', name: 'acme' },
      { id: 'tenant-b', name: 'globex' },
    ],
    vpcs: [
      { id: 'vpc-a', tenant: 'tenant-a', name: 'prod', cidrs: ['10.0.0.0/16'] },
      { id: 'vpc-b', tenant: 'tenant-b', name: 'prod', cidrs: ['10.0.0.0/16'] },
    ],
    subnets: [
      { id: 'subnet-a1', tenant: 'tenant-a', vpc: 'vpc-a', name: 'web', cidr: '10.0.1.0/24' },
      { id: 'subnet-a2', tenant: 'tenant-a', vpc: 'vpc-a', name: 'db', cidr: '10.0.2.0/24' },
      { id: 'subnet-b1', tenant: 'tenant-b', vpc: 'vpc-b', name: 'web', cidr: '10.0.1.0/24' },
    ],
    routeTables: [],
    internetGateways: [],
    elasticIps: [],
    peerings: [],
    securityGroups: [open('sg-a', 'tenant-a', 'vpc-a'), open('sg-b', 'tenant-b', 'vpc-b')],
    networkAcls: [],
    instances: [
      inst('i-a1', 'tenant-a', 'subnet-a1', '10.0.1.10', 1, 'leaf1-srv1', 'sg-a'),
      inst('i-a2', 'tenant-a', 'subnet-a2', '10.0.2.10', 2, 'leaf2-srv2', 'sg-a'),
      inst('i-a3', 'tenant-a', 'subnet-a1', '10.0.1.11', 3, 'leaf2-srv1', 'sg-a'),
      inst('i-b1', 'tenant-b', 'subnet-b1', '10.0.1.10', 4, 'leaf1-srv1', 'sg-b'),
      inst('i-b2', 'tenant-b', 'subnet-b1', '10.0.1.11', 5, 'leaf2-srv1', 'sg-b'),
    ],
  };
}

function applied(intent: Intent): { dp: VpcDataPlane; plan: ReturnType<typeof compile> } {
  const dp = createServiceDataPlane();
  assert.deepEqual(validate(intent, dp.inventory()), []);
  const plan = compile(intent, dp.inventory());
  dp.apply(plan);
  dp.settle();
  return { dp, plan };
}

function pingOk(dp: VpcDataPlane, from: string, to: string): boolean {
  const run = dp.instance(from)!.ping(ip(to), { count: 1, timeout: 100e6 });
  dp.settle(150e6);
  return run.results[0]?.status === 'reply';
}

test('the plan applied onto an empty service fabric: every instance gets its address by DHCP', () => {
  const intent = smallIntent();
  const dp = createServiceDataPlane();
  const plan = compile(intent, dp.inventory());
  const report = dp.apply(plan);
  assert.equal(report.added, plan.entries.length);
  assert.equal(report.changed + report.removed, 0);
  assert.deepEqual(report.skipped, []);
  dp.settle();
  for (const i of intent.instances) {
    const host = dp.instance(i.id)!;
    assert.equal(host.dhcpClient?.state, 'bound', i.id);
    assert.deepEqual(
      host.interfaces[0]!.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`),
      [`${i.ip}/24`],
    );
    assert.equal(formatIpv4(host.gateway!), i.ip.replace(/\.\d+$/, '.1'));
  }
  // Named for traces: the VRF router of a VPC on a hypervisor, the instance's port.
  assert.equal(dp.vrf('leaf1-srv1', 'vpc-a')!.name, 'leaf1-srv1/vpc-a');
  assert.ok(dp.nve('leaf1-srv1').port('i-a1')?.link);
});

test('instances of one VPC ping across leaves and subnets; tenants with the same CIDRs stay apart', () => {
  const { dp } = applied(smallIntent());
  assert.ok(pingOk(dp, 'i-a1', '10.0.2.10'), 'across leaves and subnets (symmetric IRB)');
  assert.ok(pingOk(dp, 'i-a1', '10.0.1.11'), 'same subnet, across leaves (VXLAN bridging)');
  assert.ok(pingOk(dp, 'i-b1', '10.0.1.11'), 'tenant b to its own 10.0.1.11');
  // 10.0.1.10 is i-a1 and i-b1, on the same hypervisor: each tenant reaches its own.
  const a1 = dp.instance('i-a1')!;
  const b1 = dp.instance('i-b1')!;
  const a = a1.ipCounters.delivered;
  const b = b1.ipCounters.delivered;
  assert.ok(pingOk(dp, 'i-a3', '10.0.1.10'));
  assert.equal(a1.ipCounters.delivered, a + 1);
  assert.equal(b1.ipCounters.delivered, b);
  // Tenant b has no 10.0.2.10: i-a2's address is not reachable from it.
  assert.ok(!pingOk(dp, 'i-b1', '10.0.2.10'));
});

test('a second apply changes only what differs', () => {
  const intent = smallIntent();
  const { dp } = applied(intent);
  const routerBefore = dp.vrf('leaf1-srv1', 'vpc-a')!;
  const hostBefore = dp.instance('i-a1')!;
  const aclsBefore = dp.vrf('leaf2-srv2', 'vpc-a')!.routes;
  const next = edited(intent, (d) => {
    d.instances.push({
      ...d.instances[1],
      id: 'i-a4',
      name: 'i-a4',
      ip: '10.0.2.11',
      mac: '0a:00:00:00:00:06',
      host: 'leaf1-srv2',
    });
  });
  const report = dp.apply(compile(next, dp.inventory(), dp.plan));
  dp.settle();
  assert.deepEqual(report.byKind, {
    vrf: { added: 1, changed: 0, removed: 0 },
    'bridge-domain': { added: 1, changed: 0, removed: 0 },
    vbdif: { added: 1, changed: 0, removed: 0 },
    // The new VRF's local route: the VPC's block as a blackhole.
    'resolved-route': { added: 1, changed: 0, removed: 0 },
    'mac-ip-route': { added: 1, changed: 0, removed: 0 },
    'dhcp-binding': { added: 1, changed: 0, removed: 0 },
    'sg-rule': { added: 2, changed: 0, removed: 0 },
  });
  assert.equal(report.added, 8);
  for (const line of report.actions)
    assert.match(line, /leaf1-srv2|i-a4|flood lists/, `only the new things are touched: ${line}`);
  assert.equal(dp.vrf('leaf1-srv1', 'vpc-a'), routerBefore);
  assert.equal(dp.instance('i-a1'), hostBefore);
  assert.equal(dp.vrf('leaf2-srv2', 'vpc-a')!.routes, aclsBefore);
  assert.equal(formatIpv4(dp.instance('i-a4')!.interfaces[0]!.addresses[0]!.address), '10.0.2.11');
  assert.ok(pingOk(dp, 'i-a4', '10.0.1.10'));
  // The same plan again: nothing to do.
  const again = dp.apply(dp.plan);
  assert.equal(again.added + again.changed + again.removed, 0);
  assert.deepEqual(again.actions, []);
});

test('removing an instance removes its host, its MAC route and the VRF only it needed', () => {
  const intent = smallIntent();
  const { dp } = applied(intent);
  const mac = '0a:00:00:00:00:02';
  assert.ok(dp.net.overlay.table().some((r) => r.mac === mac));
  const next = edited(intent, (d) => {
    d.instances = d.instances.filter((i: { id: string }) => i.id !== 'i-a2');
  });
  const report = dp.apply(compile(next, dp.inventory(), dp.plan));
  assert.equal(report.byKind['mac-ip-route']?.removed, 1);
  assert.equal(dp.instance('i-a2'), undefined);
  assert.equal(dp.net.nodes.has('i-a2'), false);
  assert.ok(!dp.net.overlay.table().some((r) => r.mac === mac));
  assert.equal(dp.vrf('leaf2-srv2', 'vpc-a'), undefined);
  assert.equal(dp.net.nodes.has('leaf2-srv2/vpc-a'), false);
  assert.equal(dp.nve('leaf2-srv2').bridgeDomainByVni(100001), undefined);
  // The host routes to it are gone from every other VRF.
  const hostRoute = dp
    .vrf('leaf1-srv1', 'vpc-a')!
    .routes.routes()
    .find((r) => r.prefix === ip('10.0.2.10'));
  assert.equal(hostRoute, undefined);
  assert.ok(pingOk(dp, 'i-a1', '10.0.1.11'), 'the rest still works');
  // And back: the instance returns, by DHCP again.
  dp.apply(compile(intent, dp.inventory(), dp.plan));
  dp.settle();
  assert.ok(pingOk(dp, 'i-a1', '10.0.2.10'));
});

test('changing an instance host live-migrates it: pre-copy, then the controller route moves with a higher sequence number', () => {
  const intent = smallIntent();
  const { dp } = applied(intent);
  const host = dp.instance('i-a3')!;
  const next = edited(intent, (d) => {
    d.instances.find((i: { id: string }) => i.id === 'i-a3').host = 'leaf1-srv2';
  });
  const report = dp.apply(compile(next, dp.inventory(), dp.plan));
  assert.equal(report.byKind['mac-ip-route']?.changed, 1);
  assert.ok(
    report.actions.some((a) =>
      /^~ instance i-a3 live-migrating leaf2-srv1 -> leaf1-srv2 \(pre-copy: 1 live round, \d+\.\d{3} ms down\)$/.test(
        a,
      ),
    ),
    report.actions.join('\n'),
  );
  // The ping's settle runs the simulation through the whole migration (it waits for the resume).
  assert.ok(pingOk(dp, 'i-a1', '10.0.1.11'));
  dp.settle();
  const m = dp.migrated.get('i-a3')!;
  assert.equal(m.from, 'leaf2-srv1:i-a3');
  assert.equal(m.to, 'leaf1-srv2:i-a3');
  assert.ok(m.convergedAfter !== null, JSON.stringify(m.staleEntries));
  assert.equal(m.toOldPlaceAfterConvergence, 0);
  assert.equal(dp.instance('i-a3'), host, 'the same VM, moved');
  const route = dp.net.overlay.table().find((r) => r.mac === '0a:00:00:00:00:03')!;
  assert.equal(route.nve, 'leaf1-srv2');
  assert.equal(route.seq, 1);
  assert.ok(pingOk(dp, 'i-a1', '10.0.1.11'));
  assert.ok(pingOk(dp, 'i-a2', '10.0.1.11'));
});

test('golden plan: security groups are stateful and drop by group; network ACLs drop by rule number', () => {
  const intent = goldenIntent();
  const { dp, plan } = applied(intent);
  // sg-a2 lets sg-a1's members in on 5432: the SYN-ACK comes back through connection tracking.
  const ok = confirmReach(dp, intent, plan, { src: 'i-a1', dst: 'i-a3', protocol: 'tcp', port: 5432 });
  assert.ok(ok.delivered, ok.outcome);
  assert.ok(ok.trace.some((l) => l.includes('security group of i-a3: sg-a2/ingress[0] allows tcp')));
  assert.ok(ok.trace.some((l) => l.includes('belongs to a tracked flow')));
  // No ICMP in sg-a2: dropped at i-a3's port on its hypervisor, counted.
  const before = dp.nve('leaf1-srv2').drops['security-group'] ?? 0;
  const no = confirmReach(dp, intent, plan, { src: 'i-a1', dst: 'i-a3', protocol: 'icmp' });
  assert.ok(!no.delivered);
  assert.deepEqual(no.drops, [
    'leaf1-srv2: drop (security-group): security group of i-a3: no ingress rule of sg-a2 allows icmp 10.0.1.10 -> 10.0.2.10',
  ]);
  assert.equal(dp.nve('leaf1-srv2').drops['security-group'], before + 1);
  // acl-a1 ingress rule 90 denies ssh from the db subnet, on web's gateway.
  const acl = confirmReach(dp, intent, plan, { src: 'i-a3', dst: 'i-a1', protocol: 'tcp', port: 22 });
  assert.ok(!acl.delivered);
  assert.match(
    acl.drops.join('\n'),
    /leaf1-srv1\/vpc-a1: drop \(acl-deny\): ACL acl-a1\/ingress\/subnet-a1 rule 90/,
  );
});

test('golden plan, edited: a blackhole route drops and counts; source NAT through the border', () => {
  const intent = edited(goldenIntent(), (d) => {
    d.routeTables[0].routes.push({ destination: '192.168.0.0/16', target: { kind: 'blackhole' } });
    // Let web answer replies from the internet (ephemeral ports) on udp too.
    d.networkAcls[0].ingress.push({
      number: 130,
      action: 'allow',
      protocol: 'udp',
      ports: [1024, 65535],
      cidr: '0.0.0.0/0',
    });
  });
  const { dp } = applied(goldenIntent());
  const plan = compile(intent, dp.inventory(), dp.plan);
  const report = dp.apply(plan);
  assert.deepEqual(report.byKind, {
    'vrf-route': { added: 1, changed: 0, removed: 0 },
    // The route resolved on each hypervisor with the subnet's BD.
    'resolved-route': { added: 2, changed: 0, removed: 0 },
    'acl-rule': { added: 1, changed: 0, removed: 0 },
  });
  const vrf = dp.vrf('leaf1-srv1', 'vpc-a1')!;
  const bh = confirmReach(dp, intent, plan, { src: 'i-a1', dst: '192.168.1.1', protocol: 'icmp' });
  assert.ok(!bh.delivered);
  assert.deepEqual(bh.drops, [
    'leaf1-srv1/vpc-a1: drop (blackhole): 192.168.1.1 matches 192.168.0.0/16 -> blackhole',
  ]);
  assert.equal(vrf.drops.blackhole, 1);
  // Out through the border's VRF: the internet sees the VPC's source NAT address (i-a1, with an
  // elastic IP, is seen as that).
  const snat = plan.entries.find((e) => e.kind === 'snat')!;
  const web = dp.fabric.web!;
  const out = confirmReach(dp, intent, plan, { src: 'i-a2', dst: '198.51.100.10', protocol: 'udp', port: 7 });
  assert.ok(out.delivered, `${out.outcome}\n${out.trace.join('\n')}`);
  assert.equal(formatIpv4(web.udpLog.at(-1)!.src), (snat as { publicIp: string }).publicIp);
  const own = confirmReach(dp, intent, plan, { src: 'i-a1', dst: '198.51.100.10', protocol: 'udp', port: 7 });
  assert.ok(own.delivered, `${own.outcome}\n${own.trace.join('\n')}`);
  assert.equal(formatIpv4(web.udpLog.at(-1)!.src), '203.0.113.10');
});

/** Tenant a gets a second VPC (10.1.0.0/16) peered with vpc-a, routes on both sides for subnet-a1 and subnet-c1. */
function peeredIntent(): Intent {
  return edited(smallIntent(), (d) => {
    d.vpcs.push({ id: 'vpc-c', tenant: 'tenant-a', name: 'shared', cidrs: ['10.1.0.0/16'] });
    d.subnets.push({ id: 'subnet-c1', tenant: 'tenant-a', vpc: 'vpc-c', name: 'svc', cidr: '10.1.1.0/24' });
    d.peerings.push({ id: 'pcx-1', tenant: 'tenant-a', name: 'a-c', vpc: 'vpc-a', peerVpc: 'vpc-c' });
    const rtb = (id: string, vpc: string, destination: string) => ({
      id,
      tenant: 'tenant-a',
      vpc,
      name: id,
      routes: [{ destination, target: { kind: 'peering', id: 'pcx-1' } }],
    });
    d.routeTables.push(rtb('rtb-a', 'vpc-a', '10.1.0.0/16'), rtb('rtb-c', 'vpc-c', '10.0.0.0/16'));
    d.subnets[0].routeTable = 'rtb-a';
    d.subnets.at(-1).routeTable = 'rtb-c';
    d.securityGroups.push({
      id: 'sg-c',
      tenant: 'tenant-a',
      vpc: 'vpc-c',
      name: 'open',
      ingress: [{ protocol: 'all', cidr: '10.0.0.0/8' }],
      egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
    });
    d.securityGroups[0].ingress.push({ protocol: 'all', cidr: '10.1.0.0/16' });
    // i-c1 on a hypervisor with no VRF of vpc-a, i-c2 on one with vpc-a's and vpc-b's.
    d.instances.push(
      {
        ...d.instances[0],
        id: 'i-c1',
        name: 'i-c1',
        subnet: 'subnet-c1',
        ip: '10.1.1.10',
        mac: '0a:00:00:00:00:07',
        host: 'leaf1-srv2',
        securityGroups: ['sg-c'],
      },
      {
        ...d.instances[0],
        id: 'i-c2',
        name: 'i-c2',
        subnet: 'subnet-c1',
        ip: '10.1.1.11',
        mac: '0a:00:00:00:00:08',
        host: 'leaf1-srv1',
        securityGroups: ['sg-c'],
      },
    );
  });
}

test('a peering carries packets both ways between the peered VPCs, only for subnets routed to it', () => {
  const intent = peeredIntent();
  const dp = createServiceDataPlane();
  assert.deepEqual(validate(intent, dp.inventory()), []);
  const plan = compile(intent, dp.inventory());
  const report = dp.apply(plan);
  assert.deepEqual(report.skipped, []);
  assert.ok(
    report.actions.some((a) => /^\+ peering link leaf1-srv1: /.test(a)),
    report.actions.join('\n'),
  );
  // vpc-a has no instance on leaf1-srv2: a VRF of it is made there for the peering.
  assert.ok(
    report.actions.some((a) => /^\+ vrf leaf1-srv2\/vpc-a: L3 VNI \d+, for peering pcx-\d+$/.test(a)),
    report.actions.join('\n'),
  );
  assert.ok(dp.vrf('leaf1-srv2', 'vpc-a') !== undefined);
  dp.settle();
  assert.ok(pingOk(dp, 'i-a1', '10.1.1.10'), 'a -> c, other hypervisor');
  assert.ok(pingOk(dp, 'i-a3', '10.1.1.11'), 'a (subnet-a1, other leaf) -> c');
  assert.ok(pingOk(dp, 'i-c1', '10.0.1.10'), 'c -> a');
  assert.ok(pingOk(dp, 'i-c2', '10.0.1.11'), 'c -> a, across leaves');
  for (const [src, dst] of [
    ['i-a1', 'i-c1'],
    ['i-c1', 'i-a3'],
  ] as const) {
    const r = confirmReach(dp, intent, plan, { src, dst, protocol: 'tcp', port: 8080 });
    assert.ok(r.delivered, `${src} -> ${dst}: ${r.outcome}`);
  }
  // subnet-a2 has no route to the peering: its packets go nowhere, and c's answers to it neither.
  assert.ok(!pingOk(dp, 'i-a2', '10.1.1.10'));
  assert.ok(!pingOk(dp, 'i-c1', '10.0.2.10'));
  // Tenant b's 10.0.1.10 is not reached through a's peering.
  const b1 = dp.instance('i-b1')!.ipCounters.delivered;
  assert.ok(pingOk(dp, 'i-c2', '10.0.1.10'));
  assert.equal(dp.instance('i-b1')!.ipCounters.delivered, b1);
  // i-a1 goes: the plan drops vpc-a's VRF on leaf1-srv1, the peering keeps one there for i-c2.
  const without = edited(intent, (d) => {
    d.instances = d.instances.filter((i: { id: string }) => i.id !== 'i-a1');
  });
  const r1 = dp.apply(compile(without, dp.inventory(), dp.plan));
  dp.settle();
  // The VRF stays where it is: only its role changes (no VRF is removed and made again).
  const before = dp.vrf('leaf1-srv1', 'vpc-a');
  assert.ok(r1.actions.includes('~ vrf leaf1-srv1/vpc-a: now only for a peering'), r1.actions.join('\n'));
  assert.ok(!r1.actions.some((a) => a.startsWith('- vrf ') || a.startsWith('+ vrf ')), r1.actions.join('\n'));
  assert.ok(before !== undefined);
  assert.ok(pingOk(dp, 'i-c2', '10.0.1.11'), 'c -> a from leaf1-srv1, through the VRF kept for the peering');
  // And back: the plan's VRF is the one the peering made.
  const kept = dp.vrf('leaf1-srv1', 'vpc-a');
  const r2 = dp.apply(compile(intent, dp.inventory(), dp.plan));
  dp.settle();
  assert.ok(
    r2.actions.includes('~ vrf leaf1-srv1/vpc-a: made for a peering, now in the plan'),
    r2.actions.join('\n'),
  );
  assert.equal(dp.vrf('leaf1-srv1', 'vpc-a'), kept);
  assert.ok(pingOk(dp, 'i-a1', '10.1.1.10'));
  assert.ok(pingOk(dp, 'i-c2', '10.0.1.10'));
  // The peering removed: the links and the VRFs made for it go, and nothing crosses.
  const next = edited(intent, (d) => {
    d.peerings = [];
    d.routeTables = [];
    for (const s of d.subnets) delete s.routeTable;
  });
  const gone = dp.apply(compile(next, dp.inventory(), dp.plan));
  dp.settle();
  assert.ok(
    gone.actions.some((a) => /^- peering link /.test(a)),
    gone.actions.join('\n'),
  );
  assert.ok(gone.actions.includes('- vrf leaf1-srv2/vpc-a (made for a peering)'), gone.actions.join('\n'));
  assert.equal(dp.vrf('leaf1-srv2', 'vpc-a'), undefined);
  assert.equal(dp.net.nodes.has('leaf1-srv2/vpc-a'), false);
  assert.ok(!pingOk(dp, 'i-a1', '10.1.1.10'));
  assert.ok(pingOk(dp, 'i-a1', '10.0.2.10'));
});

test('golden plan: an elastic IP is 1:1 NAT on the border: web reaches the instance by it, and its traffic leaves as it', () => {
  const intent = goldenIntent();
  const dp = createServiceDataPlane();
  const plan = compile(intent, dp.inventory());
  const report = dp.apply(plan);
  assert.deepEqual(report.skipped, []);
  assert.ok(
    report.actions.includes('+ static-nat border/vpc-a1 ext: 203.0.113.10 <-> 10.0.1.10 (i-a1)'),
    report.actions.join('\n'),
  );
  dp.settle();
  const web = dp.fabric.web!;
  const snat = plan.entries.find((e) => e.kind === 'snat') as { publicIp: string };
  // Out: i-a1 leaves as its elastic IP, not as the VPC's source NAT address (which i-a2 still uses).
  const a1 = dp.instance('i-a1')!;
  a1.bindUdp(40000, () => {});
  assert.ok(a1.sendUdp(40000, ip('198.51.100.10'), 7, new TextEncoder().encode('hi')));
  dp.settle();
  assert.equal(formatIpv4(web.udpLog.at(-1)!.src), '203.0.113.10');
  assert.equal(web.udpLog.at(-1)!.srcPort, 40000, '1:1 NAT keeps the port');
  const a2 = dp.instance('i-a2')!;
  a2.bindUdp(40000, () => {});
  assert.ok(a2.sendUdp(40000, ip('198.51.100.10'), 7, new TextEncoder().encode('hi')));
  dp.settle();
  assert.equal(formatIpv4(web.udpLog.at(-1)!.src), snat.publicIp);
  // In: web pings and connects to the elastic IP; i-a1 answers (sg-a1 lets 443 in from anywhere).
  const before = a1.ipCounters.delivered;
  const ping = web.ping(ip('203.0.113.10'), { count: 1, timeout: 100e6 });
  dp.settle(150e6);
  // sg-a1 has no icmp ingress rule: the echo reaches i-a1's port and is dropped there.
  assert.notEqual(ping.results[0]?.status, 'reply');
  assert.equal(a1.ipCounters.delivered, before);
  a1.tcp.listen(443, () => {});
  const conn = web.tcp.connect(ip('203.0.113.10'), 443);
  dp.settle();
  assert.equal(conn.state, 'ESTABLISHED');
  const server = a1.tcp.connections().find((c) => c.local.port === 443)!;
  assert.equal(formatIpv4(server.remote.ip), '198.51.100.10', 'the instance sees the real client');
  // The elastic IP released: web no longer gets in, i-a1 leaves by source NAT again.
  const next = compile(
    edited(intent, (d) => {
      d.elasticIps = [];
    }),
    dp.inventory(),
    dp.plan,
  );
  const gone = dp.apply(next);
  assert.ok(
    gone.actions.includes('- static-nat border/vpc-a1 ext: 203.0.113.10 (i-a1)'),
    gone.actions.join('\n'),
  );
  const again = web.tcp.connect(ip('203.0.113.10'), 443);
  dp.settle();
  assert.notEqual(again.state, 'ESTABLISHED');
  assert.ok(a1.sendUdp(40000, ip('198.51.100.10'), 7, new TextEncoder().encode('hi')));
  dp.settle();
  assert.equal(formatIpv4(web.udpLog.at(-1)!.src), snat.publicIp);
});

test('a route to an instance on another hypervisor goes over the L3 VNI to the VRF beside it, and follows it when it moves', () => {
  // subnet-a1 routes 192.168.0.0/16 to i-a2 (an appliance of subnet-a2 on leaf2-srv2).
  const intent = edited(smallIntent(), (d) => {
    d.routeTables.push({
      id: 'rtb-a',
      tenant: 'tenant-a',
      vpc: 'vpc-a',
      name: 'via-appliance',
      routes: [{ destination: '192.168.0.0/16', target: { kind: 'instance', id: 'i-a2' } }],
    });
    d.subnets[0].routeTable = 'rtb-a';
  });
  const { dp, plan } = applied(intent);
  const sent = (from: string) => {
    const appliance = dp.instance('i-a2')!;
    const before = appliance.ipCounters.received;
    const h = dp.instance(from)!;
    if (!h.isBound(40000)) h.bindUdp(40000, () => {});
    assert.ok(h.sendUdp(40000, ip('192.168.1.1'), 9, new TextEncoder().encode('via')));
    dp.settle();
    return appliance.ipCounters.received - before;
  };
  const route = dp.vrf('leaf1-srv1', 'vpc-a')!.interfaceRoutesOf('vbdif100000')[0]!;
  const transit = (host: string) => dp.nve(host).vrfs.get('vpc-a')!.transitIp;
  assert.equal(route.nextHop, transit('leaf2-srv2'), "leaf2-srv2's VRF over the L3 VNI");
  assert.equal(route.iface, 'l3vni');
  const there = dp.vrf('leaf2-srv2', 'vpc-a')!.interfaceRoutesOf('l3vni');
  assert.deepEqual(
    there.map((r) => `${formatIpv4(r.prefix)}/${r.prefixLength} ${formatIpv4(r.nextHop!)} ${r.iface}`),
    ['192.168.0.0/16 10.0.2.10 vbdif100001'],
  );
  assert.equal(sent('i-a1'), 1, 'from leaf1-srv1');
  assert.equal(sent('i-a3'), 1, 'from leaf2-srv1');
  // Tenant b's subnet has no such route: its packets for 192.168.0.0/16 do not get there.
  assert.equal(sent('i-b1'), 0);
  // The appliance moves to leaf1-srv2: the routes follow it once it has resumed.
  const moved = edited(intent, (d) => {
    d.instances.find((i: { id: string }) => i.id === 'i-a2').host = 'leaf1-srv2';
  });
  dp.apply(compile(moved, dp.inventory(), plan));
  dp.settle();
  assert.equal(
    dp.vrf('leaf1-srv1', 'vpc-a')!.interfaceRoutesOf('vbdif100000')[0]!.nextHop,
    transit('leaf1-srv2'),
  );
  assert.equal(sent('i-a1'), 1);
  assert.equal(sent('i-a3'), 1);
});

test('a VRF made only for a peering drops what is for an unused address of its VPC, as the plan VRFs do (blackhole)', () => {
  const intent = peeredIntent();
  const { dp, plan } = applied(intent);
  const made = dp.vrf('leaf1-srv2', 'vpc-a')!;
  assert.deepEqual(
    made.routes
      .routes()
      .filter((r) => r.source === 'blackhole')
      .map((r) => `${formatIpv4(r.prefix)}/${r.prefixLength} ${r.iface}`),
    ['10.0.0.0/16 null0'],
  );
  // i-c1 (leaf1-srv2) to an address of vpc-a that no instance has: over the peering link into the
  // VRF of vpc-a made for it, and dropped there, with no ICMP error sent anywhere.
  const r = confirmReach(dp, intent, plan, { src: 'i-c1', dst: '10.0.1.99', protocol: 'icmp' });
  assert.equal(r.delivered, false);
  assert.deepEqual(r.drops, [
    'leaf1-srv2/vpc-a: drop (blackhole): 10.0.1.99 matches 10.0.0.0/16 -> blackhole',
  ]);
  assert.equal(made.drops.blackhole, 1);
  assert.equal(made.ipCounters.icmpErrorsSent, 0);
  // An instance of vpc-a is still reached through it (its EVPN host route is longer).
  assert.ok(confirmReach(dp, intent, plan, { src: 'i-c1', dst: 'i-a1', protocol: 'icmp' }).delivered);
  // A second block for vpc-a: the VRF made for the peering gets its blackhole route too.
  const wider = edited(intent, (d) => {
    d.vpcs[0].cidrs.push('10.2.0.0/16');
  });
  const report = dp.apply(compile(wider, dp.inventory(), dp.plan));
  assert.ok(
    report.actions.includes('+ route leaf1-srv2/vpc-a: 10.2.0.0/16 blackhole'),
    report.actions.join('\n'),
  );
  assert.deepEqual(
    made.routes
      .routes()
      .filter((r) => r.source === 'blackhole')
      .map((r) => `${formatIpv4(r.prefix)}/${r.prefixLength} ${r.iface}`),
    ['10.0.0.0/16 null0', '10.2.0.0/16 null0'],
  );
});

test('after each apply the flood lists are complete: L3 VNI bridge domains included (a full sync changes nothing)', () => {
  const dp = createServiceDataPlane();
  const intent = goldenIntent();
  dp.apply(compile(intent, dp.inventory()));
  dp.settle();
  assert.deepEqual(dp.net.overlay.syncFloodLists(), { added: 0, removed: 0 });
  // Every instance of one hypervisor gone: its VRFs go, and the others' lists drop its VTEP.
  const host = intent.instances[0]!.host;
  const fewer = edited(intent, (d) => {
    d.instances = d.instances.filter((i) => i.host !== host);
    d.elasticIps = [];
    for (const t of d.routeTables)
      t.routes = t.routes.filter((r: { target: { kind: string } }) => r.target.kind !== 'instance');
  });
  dp.apply(compile(fewer, dp.inventory(), dp.plan));
  dp.settle();
  assert.deepEqual(dp.net.overlay.syncFloodLists(), { added: 0, removed: 0 });
});
