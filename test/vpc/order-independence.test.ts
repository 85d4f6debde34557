/**
 * The plan is a function of the intent: the same final intent, reached through any order of the
 * same changes (instances launched, one moved, an elastic IP bound, a security group rule, a
 * network ACL rule, a peering route and a route to an instance added), compiles to the same plan
 * as the final intent compiled at once, and the data plane it leaves has the same tables: every
 * NVE's bridge domains; every VRF's and the internet router's routes (main and per interface),
 * interface addresses, ACLs and NAT; every instance's place, security group rules and address.
 * (Router MACs are not compared: the fabric hands them out in the order things are made.) The VPCs,
 * subnets and internet gateway exist from the start: their VNIs and SNAT address are kept from the
 * plan before by design, so they do depend on the order they were made in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Router } from '../../src/devices/router/router.js';
import { compile, createServiceDataPlane, type Intent, type VpcDataPlane } from '../../src/vpc/index.js';
import { formatIpv4 } from '../../src/wire/index.js';
import { type Draft, edited, goldenIntent } from '../helpers/vpc.js';

/** The golden intent with a route to an instance too (the VRF beside it sends it on). */
const FINAL = edited(goldenIntent(), (d) => {
  d.routeTables
    .find((t) => t.id === 'rtb-a1')
    .routes.push({
      destination: '10.9.0.0/16',
      target: { kind: 'instance', id: 'i-a3' },
    });
});

/** Each change, undone: the intent before it is made. */
const CHANGES: Record<string, (d: Draft) => void> = {};
for (const id of ['i-a1', 'i-a2', 'i-a3', 'i-a4', 'i-b1', 'i-b2'])
  CHANGES[`launch ${id}`] = (d) => {
    d.instances = d.instances.filter((i) => i.id !== id);
  };
Object.assign(CHANGES, {
  'move i-a2': (d: Draft) => {
    const i = d.instances.find((x) => x.id === 'i-a2');
    if (i !== undefined) i.host = 'leaf1-srv2';
  },
  'bind eip-a1': (d: Draft) => {
    delete d.elasticIps[0].instance;
  },
  'sg-a1 rule': (d: Draft) => {
    d.securityGroups.find((g) => g.id === 'sg-a1').ingress.splice(1, 1);
  },
  'acl-a1 rule 120': (d: Draft) => {
    const acl = d.networkAcls.find((a) => a.id === 'acl-a1');
    acl.ingress = acl.ingress.filter((r: { number: number }) => r.number !== 120);
  },
  'peering route': (d: Draft) => {
    const t = d.routeTables.find((x) => x.id === 'rtb-a1');
    t.routes = t.routes.filter((r: { target: { kind: string } }) => r.target.kind !== 'peering');
  },
  'instance route': (d: Draft) => {
    const t = d.routeTables.find((x) => x.id === 'rtb-a1');
    t.routes = t.routes.filter((r: { target: { kind: string } }) => r.target.kind !== 'instance');
  },
});
const NAMES = Object.keys(CHANGES);

/** The intent with the changes in `made` made, the others not. */
function intentWith(made: ReadonlySet<string>): Intent {
  return edited(FINAL, (d) => {
    // Undo in a fixed order (a move is undone before its instance's launch, which removes it).
    for (const name of [...NAMES].reverse()) if (!made.has(name)) CHANGES[name]!(d);
  });
}

function routerTables(r: Router) {
  const route = (x: {
    prefix: number;
    prefixLength: number;
    source: string;
    nextHop: number | null;
    iface: string;
  }) =>
    `${formatIpv4(x.prefix)}/${x.prefixLength} ${x.source} ${x.nextHop === null ? '-' : formatIpv4(x.nextHop)} ${x.iface}`;
  return {
    routes: r.routes.routes().map(route).sort(),
    interfaces: r.interfaces
      .map((i) => ({
        name: i.name,
        addresses: i.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`),
        routes: r.interfaceRoutesOf(i.name).map(route),
        acls: (['in', 'out'] as const).map((way) => {
          const acl = r.appliedAcl(i.name, way);
          return acl === undefined ? null : { name: acl.name, rules: acl.rules };
        }),
      }))
      .filter((i) => i.addresses.length > 0 || i.routes.length > 0)
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    snat: [...r.nats].map(([iface, n]) => `${iface} ${formatIpv4(n.publicIp)}`).sort(),
    staticNat: [...r.staticNats].map(([iface, n]) => `${iface} ${n.size}`).sort(),
  };
}

function tables(dp: VpcDataPlane) {
  return {
    nves: dp.fabric.nves.map((n) => ({
      name: n.name,
      bds: n
        .bridgeDomains()
        .map((b) => b.vni)
        .sort(),
      vrfs: [...n.vrfs.keys()].sort().map((vpc) => ({ vpc, ...routerTables(n.vrfs.get(vpc)!.router) })),
    })),
    internet: dp.fabric.internet === null ? null : routerTables(dp.fabric.internet),
    instances: [...dp.instances.values()]
      .map((s) => ({
        id: s.id,
        at: s.nve.name,
        rules: s.filter.ruleList,
        address: s.host.interfaces[0]?.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1)),
  };
}

/** Applies `intent` on `dp` as the service does: compiled against the plan applied, then settled. */
function step(dp: VpcDataPlane, intent: Intent) {
  dp.apply(compile(intent, dp.inventory(), dp.plan));
  dp.settle();
}

const reference = (() => {
  const dp = createServiceDataPlane();
  step(dp, FINAL);
  return { plan: dp.plan, tables: tables(dp) };
})();

test('the final intent compiled at once gives what it says: every instance placed, the routes resolved', () => {
  const kinds = new Set(reference.plan.entries.map((e) => e.kind));
  for (const k of ['peering-link', 'external-link', 'resolved-route', 'vbdif', 'static-nat'])
    assert.ok(kinds.has(k as never), k);
  assert.deepEqual(
    reference.tables.instances.map((i) => `${i.id} ${i.at} ${i.address}`),
    [
      'i-a1 leaf1-srv1 10.0.1.10/24',
      'i-a2 leaf2-srv1 10.0.1.11/24',
      'i-a3 leaf1-srv2 10.0.2.10/24',
      'i-a4 leaf2-srv1 10.1.1.10/24',
      'i-b1 leaf1-srv1 10.0.1.10/24',
      'i-b2 leaf1-srv2 10.0.2.10/24',
    ],
  );
});

test('any order of the changes gives the same plan and the same data plane tables', () => {
  fc.assert(
    fc.property(fc.shuffledSubarray(NAMES, { minLength: NAMES.length, maxLength: NAMES.length }), (order) => {
      const dp = createServiceDataPlane();
      const made = new Set<string>();
      step(dp, intentWith(made));
      for (const name of order) {
        made.add(name);
        step(dp, intentWith(made));
      }
      assert.deepEqual(dp.plan, reference.plan, `order: ${order.join(', ')}`);
      assert.deepEqual(tables(dp), reference.tables, `order: ${order.join(', ')}`);
    }),
    { numRuns: 12, seed: 13 },
  );
});
