/**
 * `analyzeReach` on the golden intent and its plan: an allowed path hop by hop; paths blocked by a
 * security group, a network ACL rule and its implicit deny, a blackhole route, a missing route, a
 * missing route back across a peering, a stopped instance; tenants that cannot name each other's
 * instances; then a fast-check property: random small intents never make it throw, and a blocked
 * verdict always ends on a blocking hop that names its source.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { analyzeReach, compile, type Intent, PROTOCOLS, type ReachQuery } from '../../src/vpc/index.js';
import { edited, goldenIntent, goldenInventory } from '../helpers/vpc.js';

const INTENT = goldenIntent();
const FABRIC = goldenInventory();
const PLAN = compile(INTENT, FABRIC);
const reach = (q: ReachQuery, intent: Intent = INTENT) => analyzeReach(intent, compile(intent, FABRIC), q);
const last = (q: ReachQuery, intent?: Intent) => {
  const r = reach(q, intent);
  return { allowed: r.allowed, ...r.hops.at(-1)! };
};

test('allowed: web to db on 5432, every hop with the rule that passed it', () => {
  assert.deepEqual(analyzeReach(INTENT, PLAN, { src: 'i-a1', dst: 'i-a3', protocol: 'tcp', port: 5432 }), {
    allowed: true,
    hops: [
      {
        step: 'source-instance',
        verdict: 'pass',
        why: 'i-a1 (10.0.1.10) runs on leaf1-srv1',
        source: 'i-a1',
      },
      {
        step: 'source-sg-egress',
        verdict: 'pass',
        why: 'sg-a1/egress[0] allows all to 0.0.0.0/0',
        source: 'sg-a1/egress[0]',
      },
      {
        step: 'source-acl-egress',
        verdict: 'pass',
        why: 'acl-a1 egress rule 100 allows tcp 5432 to 10.0.2.10',
        source: 'acl-a1/egress[0]',
      },
      { step: 'route', verdict: 'pass', why: 'local route 10.0.0.0/16 of vpc-a1', source: 'vpc-a1' },
      {
        step: 'destination-instance',
        verdict: 'pass',
        why: 'i-a3 (10.0.2.10) runs on leaf1-srv2',
        source: 'i-a3',
      },
      {
        step: 'destination-acl-ingress',
        verdict: 'pass',
        why: 'subnet-a2 has no network ACL: all traffic allowed',
        source: 'subnet-a2',
      },
      {
        step: 'destination-sg-ingress',
        verdict: 'pass',
        why: 'sg-a2/ingress[0] allows tcp 5432 from 10.0.1.10/32',
        source: 'sg-a2/ingress[0]',
      },
      {
        step: 'return-acl-egress',
        verdict: 'pass',
        why: 'subnet-a2 has no network ACL: all traffic allowed',
        source: 'subnet-a2',
      },
      {
        step: 'return-acl-ingress',
        verdict: 'pass',
        why: 'acl-a1 ingress rule 110 allows the reply tcp 49152 from 10.0.2.10',
        source: 'acl-a1/ingress[2]',
      },
    ],
  });
});

test('blocked by a security group: the group is named, with the flow it lacks', () => {
  assert.deepEqual(last({ src: 'i-b2', dst: 'i-b1', protocol: 'tcp', port: 443 }), {
    allowed: false,
    step: 'destination-sg-ingress',
    verdict: 'block',
    why: 'sg-b1 has no ingress rule for tcp 443 from 10.0.2.10',
    source: 'sg-b1',
  });
  // db's group admits only web's members: a db instance is not one.
  assert.equal(last({ src: 'i-a4', dst: 'i-a3', protocol: 'tcp', port: 5432 }).allowed, false);
});

test('blocked by a network ACL: the rule number, or the implicit deny', () => {
  assert.deepEqual(last({ src: 'i-a3', dst: 'i-a1', protocol: 'tcp', port: 22 }), {
    allowed: false,
    step: 'destination-acl-ingress',
    verdict: 'block',
    why: 'acl-a1 ingress rule 90 denies tcp 22 from 10.0.2.10',
    source: 'acl-a1/ingress[1]',
  });
  assert.deepEqual(last({ src: 'i-a3', dst: 'i-a1', protocol: 'udp', port: 53 }), {
    allowed: false,
    step: 'destination-acl-ingress',
    verdict: 'block',
    why: 'acl-a1 ingress denies udp 53 from 10.0.2.10: no rule matches (implicit deny)',
    source: 'acl-a1',
  });
  // Stateless: the reply is checked too. Without rule 110 the reply to web's client port is refused.
  const noEphemeral = edited(INTENT, (d) => {
    d.networkAcls[0].ingress = d.networkAcls[0].ingress.filter((r: { number: number }) => r.number !== 110);
  });
  assert.deepEqual(last({ src: 'i-a1', dst: 'i-a3', protocol: 'tcp', port: 5432 }, noEphemeral), {
    allowed: false,
    step: 'return-acl-ingress',
    verdict: 'block',
    why: 'acl-a1 ingress denies the reply tcp 49152 from 10.0.2.10: no rule matches (implicit deny)',
    source: 'acl-a1',
  });
  // Within one subnet network ACLs do not apply.
  const inside = reach({ src: 'i-a1', dst: 'i-a2', protocol: 'tcp', port: 443 });
  assert.equal(inside.allowed, true);
  assert.deepEqual(
    inside.hops.filter((h) => h.step.includes('acl')).map((h) => h.why),
    ['within subnet-a1: network ACLs do not apply', 'within subnet-a1: network ACLs do not apply'],
  );
});

test('blocked by a blackhole route, and by no route at all', () => {
  const holed = edited(INTENT, (d) => {
    d.routeTables[0].routes.push({ destination: '192.168.0.0/16', target: { kind: 'blackhole' } });
  });
  assert.deepEqual(last({ src: 'i-a1', dst: '192.168.1.1', protocol: 'icmp' }, holed), {
    allowed: false,
    step: 'route',
    verdict: 'block',
    why: 'rtb-a1 routes 192.168.0.0/16 to blackhole',
    source: 'rtb-a1/routes[2]',
  });
  assert.deepEqual(last({ src: 'i-a3', dst: '8.8.8.8', protocol: 'tcp', port: 443 }), {
    allowed: false,
    step: 'route',
    verdict: 'block',
    why: 'no route to 8.8.8.8 in the main table of vpc-a1',
    source: 'vpc-a1',
  });
  assert.deepEqual(last({ src: 'i-a4', dst: '8.8.8.8', protocol: 'tcp', port: 443 }), {
    allowed: false,
    step: 'route',
    verdict: 'block',
    why: 'no route to 8.8.8.8 in rtb-a2',
    source: 'rtb-a2',
  });
});

test('across a peering: allowed with the route back, blocked without it', () => {
  const r = reach({ src: 'i-a1', dst: 'i-a4', protocol: 'tcp', port: 8080 });
  assert.equal(r.allowed, true);
  assert.deepEqual(
    r.hops.filter((h) => h.step.startsWith('route')),
    [
      {
        step: 'route',
        verdict: 'pass',
        why: 'rtb-a1 routes 10.1.0.0/16 to pcx-a1 (vpc-a2)',
        source: 'rtb-a1/routes[1]',
      },
      {
        step: 'route-back',
        verdict: 'pass',
        why: 'rtb-a2 routes 10.0.0.0/16 back through pcx-a1',
        source: 'rtb-a2/routes[0]',
      },
    ],
  );
  const oneWay = edited(INTENT, (d) => {
    d.routeTables[1].routes = [];
  });
  assert.deepEqual(last({ src: 'i-a1', dst: 'i-a4', protocol: 'tcp', port: 8080 }, oneWay), {
    allowed: false,
    step: 'route-back',
    verdict: 'block',
    why: 'rtb-a2 has no route back to 10.0.1.10 through pcx-a1',
    source: 'rtb-a2',
  });
});

test('to the internet: through the gateway, as the elastic IP or the VPC’s source NAT address', () => {
  const out = reach({ src: 'i-a1', dst: '8.8.8.8', protocol: 'tcp', port: 443 });
  assert.equal(out.allowed, true);
  // The reply through the subnet's ACL is the last rule checked; past the border the analysis ends.
  assert.deepEqual(out.hops.slice(-2), [
    {
      step: 'return-acl-ingress',
      verdict: 'pass',
      why: 'acl-a1 ingress rule 110 allows the reply tcp 49152 from 8.8.8.8',
      source: 'acl-a1/ingress[2]',
    },
    {
      step: 'outside',
      verdict: 'pass',
      why: '8.8.8.8 is outside your VPCs: the analysis ends at the border; the packet tells whether it answers',
    },
  ]);
  const r = reach({ src: 'i-a2', dst: '8.8.8.8', protocol: 'tcp', port: 443 });
  assert.equal(
    r.hops.find((h) => h.step === 'route')?.why,
    'rtb-a1 routes 0.0.0.0/0 to igw-a1: leaves border as 203.0.113.254 (source NAT, igw-a1)',
  );
});

test('stopped instances, and ids of another tenant, are blocked with their reason', () => {
  assert.deepEqual(last({ src: 'i-a1', dst: 'i-a5', protocol: 'tcp', port: 5432 }), {
    allowed: false,
    step: 'destination-instance',
    verdict: 'block',
    why: 'i-a5 is stopped',
    source: 'i-a5',
  });
  assert.deepEqual(last({ src: 'i-a5', dst: 'i-a3', protocol: 'tcp', port: 5432 }), {
    allowed: false,
    step: 'source-instance',
    verdict: 'block',
    why: 'i-a5 is stopped',
    source: 'i-a5',
  });
  assert.deepEqual(last({ src: 'i-b1', dst: 'i-a3', protocol: 'icmp' }), {
    allowed: false,
    step: 'destination-instance',
    verdict: 'block',
    why: 'unknown instance i-a3',
    source: 'i-a3',
  });
  // The same address from tenant b's side is its own instance, never tenant a's.
  const own = reach({ src: 'i-b1', dst: '10.0.2.10', protocol: 'icmp' });
  assert.equal(own.allowed, true);
  assert.equal(own.hops.find((h) => h.step === 'destination-instance')?.source, 'i-b2');
});

/** A small random intent: one tenant, two VPCs, a few subnets, instances, groups, ACLs, routes, references that may dangle. */
const CIDRS = ['10.0.0.0/16', '10.1.0.0/16', '10.0.0.0/16'];
const arbIntent = fc
  .record({
    vpcCidr: fc.constantFrom(...CIDRS),
    subnets: fc.array(fc.record({ vpc: fc.nat(1), n: fc.nat(3), acl: fc.boolean(), rtb: fc.nat(2) }), {
      minLength: 1,
      maxLength: 4,
    }),
    instances: fc.array(
      fc.record({
        subnet: fc.nat(4),
        host: fc.nat(5),
        running: fc.boolean(),
        sgs: fc.subarray(['sg-1', 'sg-2', 'sg-9']),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    sgRules: fc.array(
      fc.record({
        dir: fc.constantFrom('ingress', 'egress'),
        sg: fc.constantFrom('sg-1', 'sg-2'),
        protocol: fc.constantFrom(...PROTOCOLS),
        port: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        ref: fc.oneof(
          fc.constantFrom('0.0.0.0/0', '10.0.0.0/8', '10.0.1.0/24'),
          fc.constantFrom('sg-1', 'sg-2', 'sg-7'),
        ),
      }),
      { maxLength: 6 },
    ),
    aclRules: fc.array(
      fc.record({
        dir: fc.constantFrom('ingress', 'egress'),
        number: fc.integer({ min: 1, max: 300 }),
        action: fc.constantFrom('allow', 'deny'),
        protocol: fc.constantFrom(...PROTOCOLS),
        ports: fc.option(fc.tuple(fc.nat(1000), fc.nat(1000)), { nil: undefined }),
        cidr: fc.constantFrom('0.0.0.0/0', '10.0.0.0/16', '10.1.2.0/24'),
      }),
      { maxLength: 6 },
    ),
    routes: fc.array(
      fc.record({
        table: fc.nat(1),
        destination: fc.constantFrom('0.0.0.0/0', '10.1.0.0/16', '10.0.0.0/16', '192.168.0.0/16'),
        target: fc.constantFrom('igw-1', 'pcx-1', 'i-0', 'i-3', 'blackhole', 'igw-9'),
      }),
      { maxLength: 5 },
    ),
    igw: fc.boolean(),
    eip: fc.option(fc.nat(5), { nil: undefined }),
  })
  .map((r): Intent => {
    const t = 'tenant-1';
    const vpcCidrs = [r.vpcCidr, '10.1.0.0/16'];
    const subnets = r.subnets.map((s, i) => {
      const base = vpcCidrs[s.vpc]!.split('.').slice(0, 2).join('.');
      return {
        id: `subnet-${i}`,
        tenant: t,
        vpc: `vpc-${s.vpc}`,
        name: `s${i}`,
        cidr: `${base}.${s.n}.0/24`,
        ...(s.rtb < 2 ? { routeTable: `rtb-${s.rtb}` } : {}),
        ...(s.acl ? { networkAcl: `acl-${s.vpc}` } : {}),
      };
    });
    const instances = r.instances.map((x, i) => {
      const s = subnets[x.subnet % subnets.length]!;
      return {
        id: `i-${i}`,
        tenant: t,
        subnet: x.subnet < 4 ? s.id : 'subnet-9',
        name: `vm${i}`,
        ip: `${s.cidr.split('.').slice(0, 3).join('.')}.${10 + i}`,
        mac: `0a:00:00:00:00:0${i}`,
        securityGroups: x.sgs,
        host: x.host < 4 ? goldenInventory().hypervisors[x.host]!.name : 'nowhere',
        state: x.running ? ('running' as const) : ('stopped' as const),
      };
    });
    const group = (id: string, vpc: string) => ({
      id,
      tenant: t,
      vpc,
      name: id,
      ingress: r.sgRules
        .filter((x) => x.sg === id && x.dir === 'ingress')
        .map((x) => ({
          protocol: x.protocol,
          ...(x.port !== undefined ? { ports: [x.port, x.port] as [number, number] } : {}),
          ...(x.ref.startsWith('sg') ? { group: x.ref } : { cidr: x.ref }),
        })),
      egress: r.sgRules
        .filter((x) => x.sg === id && x.dir === 'egress')
        .map((x) => ({
          protocol: x.protocol,
          ...(x.port !== undefined ? { ports: [x.port, x.port] as [number, number] } : {}),
          ...(x.ref.startsWith('sg') ? { group: x.ref } : { cidr: x.ref }),
        })),
    });
    const acl = (id: string, vpc: string) => ({
      id,
      tenant: t,
      vpc,
      name: id,
      ingress: r.aclRules
        .filter((x) => x.dir === 'ingress')
        .map((x) => ({
          number: x.number,
          action: x.action,
          protocol: x.protocol,
          cidr: x.cidr,
          ...(x.ports !== undefined
            ? { ports: [Math.min(...x.ports), Math.max(...x.ports)] as [number, number] }
            : {}),
        })),
      egress: r.aclRules
        .filter((x) => x.dir === 'egress')
        .map((x) => ({ number: x.number, action: x.action, protocol: x.protocol, cidr: x.cidr })),
    });
    const table = (i: number) => ({
      id: `rtb-${i}`,
      tenant: t,
      vpc: `vpc-${i}`,
      name: `rtb${i}`,
      routes: r.routes
        .filter((x) => x.table === i)
        .map((x) => ({
          destination: x.destination,
          target:
            x.target === 'blackhole'
              ? ({ kind: 'blackhole' } as const)
              : x.target.startsWith('igw')
                ? ({ kind: 'internet-gateway', id: x.target } as const)
                : x.target.startsWith('pcx')
                  ? ({ kind: 'peering', id: x.target } as const)
                  : ({ kind: 'instance', id: x.target } as const),
        })),
    });
    return {
      tenants: [{ id: t, name: 'tenant' }],
      vpcs: [
        { id: 'vpc-0', tenant: t, name: 'v0', cidrs: [vpcCidrs[0]!] },
        { id: 'vpc-1', tenant: t, name: 'v1', cidrs: [vpcCidrs[1]!] },
      ],
      subnets,
      routeTables: [table(0), table(1)],
      internetGateways: r.igw ? [{ id: 'igw-1', tenant: t, vpc: 'vpc-0', name: 'igw' }] : [],
      elasticIps:
        r.eip === undefined
          ? []
          : [{ id: 'eip-1', tenant: t, name: 'e', address: '203.0.113.5', instance: `i-${r.eip}` }],
      peerings: [{ id: 'pcx-1', tenant: t, name: 'p', vpc: 'vpc-0', peerVpc: 'vpc-1' }],
      securityGroups: [group('sg-1', 'vpc-0'), group('sg-2', 'vpc-1')],
      networkAcls: [acl('acl-0', 'vpc-0'), acl('acl-1', 'vpc-1')],
      instances,
    };
  });

test('property: random small intents never make analyzeReach throw; a block always names its source', () => {
  fc.assert(
    fc.property(
      arbIntent,
      fc.nat(6),
      fc.oneof(
        fc.nat(6).map((n) => `i-${n}`),
        fc.constantFrom('10.0.1.10', '10.1.2.11', '8.8.8.8', '203.0.113.5', 'not-an-ip'),
      ),
      fc.constantFrom('tcp', 'udp', 'icmp'),
      fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
      (intent, src, dst, protocol, port) => {
        const plan = compile(intent, FABRIC);
        const r = analyzeReach(intent, plan, {
          src: `i-${src}`,
          dst,
          protocol: protocol as 'tcp' | 'udp' | 'icmp',
          ...(port !== undefined ? { port } : {}),
        });
        assert.ok(r.hops.length > 0);
        if (r.allowed) assert.ok(r.hops.every((h) => h.verdict === 'pass'));
        else {
          const end = r.hops.at(-1)!;
          assert.equal(end.verdict, 'block');
          assert.ok(end.source !== undefined && end.source.length > 0, JSON.stringify(end));
          assert.ok(end.why.length > 0);
          assert.equal(r.hops.filter((h) => h.verdict === 'block').length, 1);
        }
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});
