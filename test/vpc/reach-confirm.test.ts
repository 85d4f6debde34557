/**
 * Reachability confirmed by a real packet: on the golden plan, the static analysis and the data
 * plane agree flow by flow (across the peering too);
 * then a fast-check property: random small intents (validated clean; two VPCs, most often
 * peered, with peering routes in some subnets' tables; an internet gateway with an elastic IP; the
 * elastic IP and the internet's `web` among the destinations), applied onto an empty
 * service fabric, and for random instance pairs and protocols `analyzeReach(...).allowed ===
 * confirmReach(...).delivered`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  analyzeReach,
  compile,
  confirmReach,
  createServiceDataPlane,
  type Intent,
  type ReachQuery,
  reach,
  validate,
} from '../../src/vpc/index.js';
import { goldenIntent } from '../helpers/vpc.js';

test('golden plan: the analysis and one real packet agree, flow by flow', () => {
  const dp = createServiceDataPlane();
  const intent = goldenIntent();
  const plan = compile(intent, dp.inventory());
  dp.apply(plan);
  dp.settle();
  const flows: [ReachQuery, boolean][] = [
    [{ src: 'i-a1', dst: 'i-a3', protocol: 'tcp', port: 5432 }, true],
    [{ src: 'i-a1', dst: 'i-a3', protocol: 'icmp' }, false],
    [{ src: 'i-a1', dst: 'i-a2', protocol: 'tcp', port: 22 }, true],
    [{ src: 'i-a3', dst: 'i-a1', protocol: 'tcp', port: 443 }, true],
    [{ src: 'i-a3', dst: 'i-a1', protocol: 'tcp', port: 22 }, false],
    [{ src: 'i-b1', dst: 'i-b2', protocol: 'icmp' }, true],
    [{ src: 'i-b1', dst: 'i-b2', protocol: 'tcp', port: 80 }, true],
    [{ src: 'i-b1', dst: 'i-b2', protocol: 'udp', port: 53 }, false],
    [{ src: 'i-a1', dst: 'i-a5', protocol: 'tcp', port: 5432 }, false],
    [{ src: 'i-a1', dst: '198.51.100.10', protocol: 'udp', port: 7 }, false],
    [{ src: 'i-a1', dst: '198.51.100.10', protocol: 'tcp', port: 80 }, true],
    // i-a1's elastic IP, from i-a2: out through the border and back in (hairpin), 1:1 NAT to i-a1.
    [{ src: 'i-a2', dst: '203.0.113.10', protocol: 'tcp', port: 443 }, true],
    [{ src: 'i-a2', dst: '203.0.113.10', protocol: 'icmp' }, false],
    [{ src: 'i-a4', dst: '203.0.113.10', protocol: 'tcp', port: 443 }, false],
  ];
  for (const [q, allowed] of flows) {
    const r = reach(dp, intent, plan, q);
    assert.equal(r.analysis.allowed, allowed, JSON.stringify(q));
    assert.ok(r.agree, `${JSON.stringify(q)}: ${r.confirmation.outcome}\n${r.confirmation.trace.join('\n')}`);
  }
  // Across the peering (routes both sides): the analysis allows it and the packet gets there.
  const peered = reach(dp, intent, plan, { src: 'i-a1', dst: 'i-a4', protocol: 'tcp', port: 8080 });
  assert.equal(peered.analysis.allowed, true);
  assert.ok(peered.agree, `${peered.confirmation.outcome}\n${peered.confirmation.trace.join('\n')}`);
  assert.ok(
    peered.confirmation.trace.some((l) => /pcx-vpc-a2/.test(l)),
    'over the peering link',
  );
});

test('a confirmation carries the trace, hop by hop', () => {
  const dp = createServiceDataPlane();
  const intent = goldenIntent();
  const plan = compile(intent, dp.inventory());
  dp.apply(plan);
  dp.settle();
  const c = confirmReach(dp, intent, plan, { src: 'i-b1', dst: 'i-b2', protocol: 'icmp' });
  assert.ok(c.delivered);
  assert.match(c.outcome, /^echo reply from 10\.0\.2\.10/);
  const nodes = [...new Set(c.events.map((e) => e.node))];
  for (const n of [
    'i-b1',
    'leaf1-srv1',
    'leaf1-srv1/vpc-b1',
    'leaf1',
    'leaf1-srv2',
    'leaf1-srv2/vpc-b1',
    'i-b2',
  ])
    assert.ok(nodes.includes(n), `${n} in the trace`);
  assert.ok(
    c.trace.some((l) => /VXLAN VNI 900002/.test(l)),
    'routed over the L3 VNI',
  );
});

/** The elastic IP of the property's intents (from the border's pool), and the internet's `web`. */
const EIP = '203.0.113.10';
const WEB = '198.51.100.10';
const HOSTS = ['leaf1-srv1', 'leaf1-srv2', 'leaf2-srv1', 'leaf2-srv2'];
const SUBNETS = [
  { id: 'subnet-1', vpc: 'vpc-1', cidr: '10.0.1.0/24' },
  { id: 'subnet-2', vpc: 'vpc-1', cidr: '10.0.2.0/24' },
  { id: 'subnet-3', vpc: 'vpc-2', cidr: '10.1.1.0/24' },
];
const GROUPS = [
  { id: 'sg-1', vpc: 'vpc-1' },
  { id: 'sg-2', vpc: 'vpc-1' },
  { id: 'sg-3', vpc: 'vpc-2' },
];
const PORTS: [number, number][] = [
  [22, 22],
  [80, 80],
  [0, 65535],
  [1024, 65535],
  [1, 100],
];
const REMOTES = ['0.0.0.0/0', '10.0.0.0/16', '10.0.1.0/24', '10.0.2.0/24', '10.0.1.10/32'];

const ruleArb = fc.record({
  protocol: fc.constantFrom('tcp', 'udp', 'icmp', 'all'),
  ports: fc.option(fc.constantFrom(...PORTS), { nil: undefined }),
  remote: fc.constantFrom(...REMOTES),
  group: fc.option(fc.constantFrom('sg-1', 'sg-2'), { nil: undefined, freq: 4 }),
});
type RuleDraft = { protocol: string; ports?: [number, number]; remote: string; group?: string };

const intentArb = fc.record({
  /** An internet gateway for vpc-1 (most often), routed to from some of its subnets, and an elastic IP. */
  internet: fc.record({
    on: fc.nat(2).map((k) => k > 0),
    routes: fc.oneof(fc.constant(['subnet-1', 'subnet-2']), fc.subarray(['subnet-1', 'subnet-2'])),
    eip: fc.option(fc.nat(4), { nil: undefined, freq: 4 }),
  }),
  /** A peering between vpc-1 and vpc-2 (most often), routed to from some subnets' tables. */
  peering: fc.record({
    on: fc.nat(3).map((k) => k > 0),
    routes: fc.oneof(
      fc.constant(['subnet-1', 'subnet-2', 'subnet-3']),
      fc.subarray(['subnet-1', 'subnet-2', 'subnet-3']),
    ),
  }),
  instances: fc.array(
    fc.record({
      subnet: fc.constantFrom(0, 0, 1, 1, 2),
      host: fc.nat(3),
      running: fc.integer({ min: 0, max: 4 }).map((k) => k > 0), // mostly running
      groups: fc.subarray([0, 1]),
    }),
    { minLength: 2, maxLength: 5 },
  ),
  sgRules: fc.array(fc.record({ sg: fc.nat(2), dir: fc.constantFrom('ingress', 'egress'), rule: ruleArb }), {
    maxLength: 8,
  }),
  /** Per group: egress open to all, ingress open to the VPCs (most often). */
  open: fc.array(fc.record({ egress: fc.nat(3).map((k) => k > 0), ingress: fc.nat(2).map((k) => k === 0) }), {
    minLength: 3,
    maxLength: 3,
  }),
  acl: fc.record({
    /** Allow-all rules at 250, after the random ones (most often). */
    allowAll: fc.record({ ingress: fc.nat(3).map((k) => k > 0), egress: fc.nat(3).map((k) => k > 0) }),
    on: fc.subarray(['subnet-1', 'subnet-2']),
    rules: fc.array(
      fc.record({
        dir: fc.constantFrom('ingress', 'egress'),
        number: fc.integer({ min: 1, max: 200 }),
        action: fc.constantFrom('allow', 'deny'),
        rule: ruleArb,
      }),
      { maxLength: 6 },
    ),
  }),
});

// biome-ignore lint/suspicious/noExplicitAny: a generated draft, shaped by intentArb
function buildIntent(d: any): Intent {
  const portsOf = (r: RuleDraft) =>
    (r.protocol === 'tcp' || r.protocol === 'udp') && r.ports !== undefined ? { ports: r.ports } : {};
  const instances = d.instances.map(
    (x: { subnet: number; host: number; running: boolean; groups: number[] }, n: number) => {
      const s = SUBNETS[x.subnet]!;
      const groups = GROUPS.filter((g) => g.vpc === s.vpc);
      return {
        id: `i-${n}`,
        tenant: 'tenant-1',
        subnet: s.id,
        name: `vm${n}`,
        ip: s.cidr.replace(/0\/24$/, String(10 + n)),
        mac: `0a:00:00:00:00:${(n + 1).toString(16).padStart(2, '0')}`,
        securityGroups: [...new Set(x.groups.map((g) => groups[Math.min(g, groups.length - 1)]!.id))],
        host: HOSTS[x.host]!,
        state: x.running ? 'running' : 'stopped',
      };
    },
  );
  const securityGroups = GROUPS.map((g, k) => ({
    id: g.id,
    tenant: 'tenant-1',
    vpc: g.vpc,
    name: g.id,
    ingress: (d.open[k].ingress ? [{ protocol: 'all', cidr: '10.0.0.0/8' }] : []) as object[],
    egress: (d.open[k].egress ? [{ protocol: 'all', cidr: '0.0.0.0/0' }] : []) as object[],
  }));
  for (const r of d.sgRules as { sg: number; dir: 'ingress' | 'egress'; rule: RuleDraft }[]) {
    const g = securityGroups[r.sg]!;
    const ref =
      r.rule.group !== undefined && g.vpc === 'vpc-1' ? { group: r.rule.group } : { cidr: r.rule.remote };
    g[r.dir].push({ protocol: r.rule.protocol, ...portsOf(r.rule), ...ref });
  }
  const acl = {
    id: 'acl-1',
    tenant: 'tenant-1',
    vpc: 'vpc-1',
    name: 'acl',
    ingress: [] as object[],
    egress: [] as object[],
  };
  const used = new Set<string>();
  for (const r of d.acl.rules as {
    dir: 'ingress' | 'egress';
    number: number;
    action: string;
    rule: RuleDraft;
  }[]) {
    if (used.has(`${r.dir}${r.number}`)) continue;
    used.add(`${r.dir}${r.number}`);
    acl[r.dir].push({
      number: r.number,
      action: r.action,
      protocol: r.rule.protocol,
      ...portsOf(r.rule),
      cidr: r.rule.remote,
    });
  }
  for (const dir of ['ingress', 'egress'] as const)
    if (d.acl.allowAll[dir])
      acl[dir].push({ number: 250, action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' });
  const peered: string[] = d.peering.on ? d.peering.routes : [];
  const outbound: string[] = d.internet.on ? d.internet.routes : [];
  const routeTables = SUBNETS.filter((s) => peered.includes(s.id) || outbound.includes(s.id)).map((s) => ({
    id: `rtb-${s.id}`,
    tenant: 'tenant-1',
    vpc: s.vpc,
    name: s.id,
    routes: [
      ...(peered.includes(s.id)
        ? [
            {
              destination: s.vpc === 'vpc-1' ? '10.1.0.0/16' : '10.0.0.0/16',
              target: { kind: 'peering', id: 'pcx-1' },
            },
          ]
        : []),
      ...(outbound.includes(s.id)
        ? [{ destination: '0.0.0.0/0', target: { kind: 'internet-gateway', id: 'igw-1' } }]
        : []),
    ],
  }));
  const eipOf = d.internet.on && d.internet.eip !== undefined ? d.internet.eip % instances.length : -1;
  return {
    tenants: [{ id: 'tenant-1', name: 'acme' }],
    vpcs: [
      { id: 'vpc-1', tenant: 'tenant-1', name: 'one', cidrs: ['10.0.0.0/16'] },
      { id: 'vpc-2', tenant: 'tenant-1', name: 'two', cidrs: ['10.1.0.0/16'] },
    ],
    subnets: SUBNETS.map((s) => ({
      id: s.id,
      tenant: 'tenant-1',
      vpc: s.vpc,
      name: s.id,
      cidr: s.cidr,
      ...(d.acl.on.includes(s.id) ? { networkAcl: 'acl-1' } : {}),
      ...(routeTables.some((t) => t.id === `rtb-${s.id}`) ? { routeTable: `rtb-${s.id}` } : {}),
    })),
    routeTables,
    internetGateways: d.internet.on ? [{ id: 'igw-1', tenant: 'tenant-1', vpc: 'vpc-1', name: 'out' }] : [],
    elasticIps:
      eipOf >= 0 && instances[eipOf].subnet !== 'subnet-3'
        ? [{ id: 'eip-1', tenant: 'tenant-1', name: 'eip', address: EIP, instance: `i-${eipOf}` }]
        : [],
    peerings: d.peering.on
      ? [{ id: 'pcx-1', tenant: 'tenant-1', name: 'one-two', vpc: 'vpc-1', peerVpc: 'vpc-2' }]
      : [],
    securityGroups,
    networkAcls: [acl],
    instances,
  } as unknown as Intent;
}

test('property: the static analysis and the data plane agree on random small intents', () => {
  fc.assert(
    fc.property(
      intentArb,
      fc.array(
        fc.record({
          src: fc.nat(4),
          dst: fc.oneof(
            { weight: 4, arbitrary: fc.nat(4) },
            { weight: 1, arbitrary: fc.constantFrom(EIP, WEB) },
          ),
          protocol: fc.constantFrom('tcp', 'udp', 'icmp'),
          port: fc.constantFrom(22, 80, 443, 5000),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      (draft, queries) => {
        const intent = buildIntent(draft);
        const dp = createServiceDataPlane();
        assert.deepEqual(validate(intent, dp.inventory()), []);
        const plan = compile(intent, dp.inventory());
        dp.apply(plan);
        dp.settle();
        const n = intent.instances.length;
        for (const q of queries) {
          const src = q.src % n;
          // The elastic IP when it is bound to a running instance (the plan has its 1:1 NAT; the
          // analysis takes any other internet address as reachable, and no host has it), else web.
          const dst =
            typeof q.dst === 'number'
              ? `i-${q.dst % n}`
              : q.dst === EIP && !plan.entries.some((e) => e.kind === 'static-nat')
                ? WEB
                : q.dst;
          if (`i-${src}` === dst) continue;
          const query: ReachQuery =
            q.protocol === 'icmp'
              ? { src: `i-${src}`, dst, protocol: 'icmp' }
              : { src: `i-${src}`, dst, protocol: q.protocol, port: q.port };
          const a = analyzeReach(intent, plan, query);
          const c = confirmReach(dp, intent, plan, query);
          assert.equal(
            c.delivered,
            a.allowed,
            `${JSON.stringify(query)}\n${a.hops.map((h) => `${h.step} ${h.verdict} ${h.why}`).join('\n')}\n${c.outcome}\n${c.trace.join('\n')}`,
          );
        }
      },
    ),
    { numRuns: 25, seed: 20240601 },
  );
});
