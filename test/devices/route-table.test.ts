/**
 * RouteTable: longest-prefix match on the lecture's table, default and host routes, overlapping
 * prefixes, metrics and removal, explain's candidate count, rejected routes; and lookup checked
 * against a brute-force linear scan (fast-check over random tables, then 100,000 random routes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type Route,
  type RouteSource,
  RouteTable,
  type RouteTableOptions,
} from '../../src/devices/router/route-table.js';
import { cidr, formatIpv4, type Ipv4, ip, prefixMask } from '../../src/wire/index.js';

function route(
  text: string,
  iface: string,
  options: { via?: string; source?: RouteSource; metric?: number } = {},
): Route {
  const c = cidr(text);
  return {
    prefix: c.address,
    prefixLength: c.prefixLength,
    nextHop: options.via === undefined ? null : ip(options.via),
    iface,
    source: options.source ?? (options.via === undefined ? 'connected' : 'static'),
    metric: options.metric ?? 0,
  };
}

const show = (r: Route | undefined): string =>
  r === undefined ? 'none' : `${formatIpv4(r.prefix)}/${r.prefixLength} ${r.iface} m${r.metric}`;

/** The reference: scan every route, keep the longest prefix, then the lowest metric, then the first added. */
function bruteForce<R extends Route>(routes: readonly R[], dst: Ipv4): R | undefined {
  let best: R | undefined;
  for (const r of routes) {
    if ((dst & prefixMask(r.prefixLength)) >>> 0 !== r.prefix) continue;
    if (
      best === undefined ||
      r.prefixLength > best.prefixLength ||
      (r.prefixLength === best.prefixLength && r.metric < best.metric)
    ) {
      best = r;
    }
  }
  return best;
}

function bruteForceCandidates(routes: readonly Route[], dst: Ipv4): number {
  const prefixes = new Set<string>();
  for (const r of routes) {
    if ((dst & prefixMask(r.prefixLength)) >>> 0 === r.prefix) prefixes.add(`${r.prefix}/${r.prefixLength}`);
  }
  return prefixes.size;
}

function bruteForceSorted<R extends Route>(routes: readonly R[]): R[] {
  return [...routes].sort(
    (a, b) => a.prefix - b.prefix || a.prefixLength - b.prefixLength || a.metric - b.metric,
  );
}

test("the lecture's router table: /24 per interface and a /32 for each of the router's own addresses", () => {
  const table = new RouteTable();
  table.add(route('192.168.0.0/24', 'eth0'));
  table.add(route('192.168.1.0/24', 'eth1'));
  table.add(route('192.168.0.254/32', 'eth0'));
  table.add(route('192.168.1.254/32', 'eth1'));
  assert.equal(table.size, 4);

  assert.equal(show(table.lookup(ip('192.168.0.1'))), '192.168.0.0/24 eth0 m0');
  assert.equal(show(table.lookup(ip('192.168.0.255'))), '192.168.0.0/24 eth0 m0');
  assert.equal(show(table.lookup(ip('192.168.1.77'))), '192.168.1.0/24 eth1 m0');
  assert.equal(show(table.lookup(ip('192.168.0.254'))), '192.168.0.254/32 eth0 m0');
  assert.equal(show(table.lookup(ip('192.168.1.254'))), '192.168.1.254/32 eth1 m0');
  assert.equal(table.lookup(ip('192.168.2.1')), undefined);
  assert.equal(table.lookup(ip('10.0.0.1')), undefined);

  assert.deepEqual(table.explain(ip('192.168.1.254')), {
    route: table.lookup(ip('192.168.1.254')),
    candidates: 2,
  });
  assert.deepEqual(table.explain(ip('192.168.1.253')), {
    route: table.lookup(ip('192.168.1.253')),
    candidates: 1,
  });
  assert.deepEqual(table.explain(ip('172.16.0.1')), { route: undefined, candidates: 0 });

  assert.deepEqual(table.routes().map(show), [
    '192.168.0.0/24 eth0 m0',
    '192.168.0.254/32 eth0 m0',
    '192.168.1.0/24 eth1 m0',
    '192.168.1.254/32 eth1 m0',
  ]);
});

test('the default route 0.0.0.0/0 catches everything no longer prefix matches', () => {
  const table = new RouteTable();
  assert.equal(table.lookup(ip('8.8.8.8')), undefined);
  const gateway = route('0.0.0.0/0', 'eth0', { via: '192.168.0.1', source: 'default' });
  table.add(gateway);
  table.add(route('192.168.0.0/24', 'eth0'));
  for (const a of ['0.0.0.0', '8.8.8.8', '127.0.0.1', '192.168.1.1', '255.255.255.255']) {
    assert.equal(table.lookup(ip(a)), gateway, a);
  }
  assert.equal(show(table.lookup(ip('192.168.0.9'))), '192.168.0.0/24 eth0 m0');
  assert.equal(table.explain(ip('192.168.0.9')).candidates, 2);
  assert.deepEqual(table.explain(ip('8.8.8.8')), { route: gateway, candidates: 1 });
  assert.equal(
    table.remove((r) => r.source === 'default'),
    1,
  );
  assert.equal(table.lookup(ip('8.8.8.8')), undefined);
  assert.equal(show(table.lookup(ip('192.168.0.9'))), '192.168.0.0/24 eth0 m0');
});

test('/32 host routes match exactly one address, including 0.0.0.0 and 255.255.255.255', () => {
  const table = new RouteTable();
  for (const a of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '128.0.0.0', '127.255.255.255']) {
    table.add(route(`${a}/32`, `to-${a}`));
  }
  for (const a of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '128.0.0.0', '127.255.255.255']) {
    assert.equal(table.lookup(ip(a))?.iface, `to-${a}`, a);
    assert.equal(table.explain(ip(a)).candidates, 1);
  }
  for (const a of ['0.0.0.1', '255.255.255.254', '10.0.0.0', '10.0.0.2', '128.0.0.1', '127.255.255.254']) {
    assert.equal(table.lookup(ip(a)), undefined, a);
  }
});

test('overlapping prefixes: the longest match wins, in whatever order the routes are added', () => {
  const texts = ['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.128/25', '10.1.2.129/32'];
  const expected: [string, string, number][] = [
    ['10.1.2.129', '10.1.2.129/32', 6],
    ['10.1.2.130', '10.1.2.128/25', 5],
    ['10.1.2.127', '10.1.2.0/24', 4],
    ['10.1.3.1', '10.1.0.0/16', 3],
    ['10.2.0.1', '10.0.0.0/8', 2],
    ['11.0.0.1', '0.0.0.0/0', 1],
    ['9.255.255.255', '0.0.0.0/0', 1],
  ];
  // Every order of insertion splits and extends the trie differently.
  const orders = [
    texts,
    [...texts].reverse(),
    [texts[3]!, texts[5]!, texts[0]!, texts[4]!, texts[1]!, texts[2]!],
  ];
  for (const order of orders) {
    const table = new RouteTable();
    for (const t of order) table.add(route(t, t));
    for (const [dst, iface, candidates] of expected) {
      const { route: r, candidates: n } = table.explain(ip(dst));
      assert.equal(r?.iface, iface, `${dst} with order ${order.join(' ')}`);
      assert.equal(table.lookup(ip(dst)), r);
      assert.equal(n, candidates, dst);
    }
    assert.deepEqual(
      table.routes().map((r) => r.iface),
      texts,
    );
  }
  // Siblings that differ only in their last bit, and a prefix that lands between a node and its child.
  const table = new RouteTable();
  table.add(route('10.0.0.0/32', 'a'));
  table.add(route('10.0.0.1/32', 'b'));
  table.add(route('10.0.0.0/31', 'pair'));
  table.add(route('10.0.0.0/30', 'quad'));
  assert.equal(table.lookup(ip('10.0.0.0'))?.iface, 'a');
  assert.equal(table.lookup(ip('10.0.0.1'))?.iface, 'b');
  assert.equal(table.lookup(ip('10.0.0.2'))?.iface, 'quad');
  assert.equal(table.lookup(ip('10.0.0.4')), undefined);
  assert.equal(table.explain(ip('10.0.0.1')).candidates, 3);
});

test('routes for the same prefix: the lowest metric is active, ties go to the earliest, removal promotes the next', () => {
  const table = new RouteTable();
  const slow = route('10.0.0.0/8', 'eth0', { via: '192.168.0.1', metric: 20 });
  const fast = route('10.0.0.0/8', 'eth1', { via: '192.168.1.1', metric: 5 });
  const tie = route('10.0.0.0/8', 'eth2', { via: '192.168.2.1', metric: 5 });
  table.add(slow);
  assert.equal(table.lookup(ip('10.9.9.9')), slow);
  table.add(fast);
  assert.equal(table.lookup(ip('10.9.9.9')), fast);
  table.add(tie);
  assert.equal(table.lookup(ip('10.9.9.9')), fast, 'the earlier of equal metrics stays active');
  assert.equal(table.size, 3);
  assert.deepEqual(table.routes(), [fast, tie, slow]);
  // Several routes for one prefix still count as one candidate.
  assert.deepEqual(table.explain(ip('10.9.9.9')), { route: fast, candidates: 1 });

  assert.equal(
    table.remove((r) => r === fast),
    1,
  );
  assert.equal(table.lookup(ip('10.9.9.9')), tie);
  assert.equal(
    table.remove((r) => r.iface === 'nothing'),
    0,
  );
  assert.equal(
    table.remove((r) => r.metric === 5),
    1,
  );
  assert.equal(table.lookup(ip('10.9.9.9')), slow);
  assert.equal(table.size, 1);
});

test('remove: counts what it removes, keeps the rest reachable, and can empty the table', () => {
  const table = new RouteTable();
  table.add(route('0.0.0.0/0', 'eth0', { via: '192.168.0.1', source: 'default' }));
  table.add(route('192.168.0.0/24', 'eth0'));
  table.add(route('192.168.0.0/16', 'eth9', { via: '192.168.0.2' }));
  table.add(route('192.168.0.128/25', 'eth1', { via: '192.168.0.3' }));
  table.add(route('192.168.0.254/32', 'eth0'));
  table.add(route('192.168.0.253/32', 'eth0'));
  assert.equal(
    table.remove((r) => r.source === 'static'),
    2,
  );
  assert.equal(table.size, 4);
  assert.deepEqual(table.routes().map(show), [
    '0.0.0.0/0 eth0 m0',
    '192.168.0.0/24 eth0 m0',
    '192.168.0.253/32 eth0 m0',
    '192.168.0.254/32 eth0 m0',
  ]);
  assert.equal(show(table.lookup(ip('192.168.0.200'))), '192.168.0.0/24 eth0 m0');
  assert.equal(show(table.lookup(ip('192.168.5.5'))), '0.0.0.0/0 eth0 m0');
  assert.equal(show(table.lookup(ip('192.168.0.253'))), '192.168.0.253/32 eth0 m0');
  assert.equal(table.explain(ip('192.168.0.254')).candidates, 3);

  assert.equal(
    table.remove(() => true),
    4,
  );
  assert.equal(table.size, 0);
  assert.deepEqual(table.routes(), []);
  assert.equal(table.lookup(ip('192.168.0.254')), undefined);
  // The emptied table works as new.
  table.add(route('192.168.0.254/32', 'eth3'));
  assert.equal(table.lookup(ip('192.168.0.254'))?.iface, 'eth3');
  assert.equal(table.size, 1);
});

test('removeAt: only the routes of exactly that prefix that match go; the trie is the one built afresh from the rest', () => {
  const table = new RouteTable();
  const wide = route('10.0.0.0/8', 'eth0');
  const net = route('10.1.0.0/16', 'eth1');
  const a = route('10.1.2.3/32', 'eth1', { via: '10.1.0.1', metric: 1 });
  const b = route('10.1.2.3/32', 'eth2', { via: '10.1.0.2', metric: 2 });
  const sibling = route('10.1.2.2/32', 'eth1');
  for (const r of [wide, net, a, b, sibling]) table.add(r);
  // 10/8 -> 10.1/16 -> branch 10.1.2.2/31 -> the two /32s, under the root.
  assert.deepEqual(table.trieShape(), { nodes: 6, live: 6, allocated: 6 });

  const asked: Route[] = [];
  const metricOne = (r: Route) => {
    asked.push(r);
    return r.metric === 1;
  };
  assert.equal(table.removeAt(ip('10.1.2.3'), 32, metricOne), 1);
  assert.deepEqual(asked, [a, b], 'the predicate sees that prefix’s routes only');
  assert.equal(table.lookup(ip('10.1.2.3')), b);
  assert.equal(table.size, 4);
  // Neither a longer nor a shorter prefix containing it, nor a missing one, is touched.
  assert.equal(table.removeAt(ip('10.1.2.0'), 24), 0);
  assert.equal(table.removeAt(ip('10.1.2.2'), 31), 0);
  assert.equal(table.removeAt(ip('10.1.0.0'), 17), 0);
  assert.equal(table.removeAt(ip('192.168.0.0'), 16), 0);
  assert.equal(table.removeAt(0, 0), 0);
  assert.equal(table.size, 4);

  // The last route of 10.1.2.3/32 goes: its leaf goes, and the branch node above it.
  assert.equal(table.removeAt(ip('10.1.2.3'), 32), 1);
  assert.equal(table.lookup(ip('10.1.2.3')), net);
  assert.equal(table.lookup(ip('10.1.2.2')), sibling);
  assert.deepEqual(table.trieShape(), { nodes: 4, live: 4, allocated: 6 });
  // An inner prefix goes: its one child takes its place.
  assert.equal(table.removeAt(ip('10.1.0.0'), 16), 1);
  assert.equal(table.lookup(ip('10.1.9.9')), wide);
  assert.equal(table.lookup(ip('10.1.2.2')), sibling);
  assert.deepEqual(table.trieShape(), { nodes: 3, live: 3, allocated: 6 });
  assert.deepEqual(table.routes(), [wide, sibling]);
  // Later adds reuse the freed nodes.
  table.add(a);
  table.add(net);
  assert.deepEqual(table.trieShape(), { nodes: 6, live: 6, allocated: 6 });
  assert.deepEqual(table.routes(), [wide, net, sibling, a]);

  // Bad prefixes throw, and remove nothing; a throwing predicate removes nothing either.
  assert.throws(
    () => table.removeAt(ip('10.1.2.3'), 24),
    /invalid prefix: 10\.1\.2\.3\/24 has host bits set/,
  );
  assert.throws(() => table.removeAt(0, 33), /prefix length 33/);
  assert.throws(() => table.removeAt(-1, 32), /not an IPv4 address/);
  assert.throws(() =>
    table.removeAt(ip('10.1.2.3'), 32, () => {
      throw new Error('no');
    }),
  );
  assert.deepEqual(table.routes(), [wide, net, sibling, a]);
  assert.equal(table.size, 4);
});

test('remove by predicate prunes each emptied prefix: the trie is the one built afresh from the rest', () => {
  const table = new RouteTable({ directIndexFrom: 0 });
  const routes = [
    '0.0.0.0/0',
    '10.0.0.0/8',
    '10.1.0.0/16',
    '10.1.2.0/24',
    '10.1.2.128/25',
    '10.1.3.0/24',
    '10.2.0.0/16',
  ].map((t, i) => route(t, `eth${i % 3}`));
  for (const r of routes) table.add(r);
  assert.equal(
    table.remove((r) => r.iface === 'eth1'),
    2,
  );
  const kept = routes.filter((r) => r.iface !== 'eth1');
  const fresh = new RouteTable();
  for (const r of kept) fresh.add(r);
  assert.equal(table.trieShape().nodes, fresh.trieShape().nodes);
  assert.equal(table.trieShape().live, fresh.trieShape().nodes);
  assert.deepEqual(table.routes(), fresh.routes());
  for (const a of ['10.1.2.200', '10.1.3.1', '10.1.9.1', '10.2.0.1', '10.3.0.1', '11.0.0.1'])
    assert.equal(table.lookup(ip(a)), fresh.lookup(ip(a)), a);
  // A predicate that throws part way: what it removed so far is gone, and the table is sound.
  let calls = 0;
  assert.throws(() =>
    table.remove(() => {
      if (++calls === 3) throw new Error('stop');
      return true;
    }),
  );
  const left = table.routes();
  assert.equal(left.length, kept.length - 2);
  assert.equal(table.size, left.length);
  const rebuilt = new RouteTable();
  for (const r of left) rebuilt.add(r);
  assert.equal(table.trieShape().nodes, rebuilt.trieShape().nodes);
  for (const a of ['10.1.2.200', '10.1.3.1', '10.1.9.1', '10.2.0.1', '10.3.0.1', '11.0.0.1'])
    assert.equal(table.lookup(ip(a)), bruteForce(left, ip(a)), a);
});

test('routes with host bits set or a bad prefix length are rejected, and leave the table unchanged', () => {
  const table = new RouteTable();
  table.add(route('10.0.0.0/8', 'eth0'));
  const base = route('10.0.0.0/8', 'eth0');
  const bad: Route[] = [
    { ...base, prefix: ip('10.0.0.1'), prefixLength: 8 },
    { ...base, prefix: ip('192.168.0.1'), prefixLength: 24 },
    { ...base, prefix: ip('1.0.0.0'), prefixLength: 0 },
    { ...base, prefix: ip('255.255.255.255'), prefixLength: 31 },
    { ...base, prefixLength: 33 },
    { ...base, prefixLength: -1 },
    { ...base, prefixLength: 8.5 },
    { ...base, prefixLength: Number.NaN },
    { ...base, prefix: -1 },
    { ...base, prefix: 2 ** 32 },
    { ...base, prefix: 0.5, prefixLength: 32 },
    { ...base, metric: Number.NaN },
  ];
  for (const r of bad) {
    assert.throws(() => table.add(r), Error, `${r.prefix}/${r.prefixLength} metric ${r.metric}`);
  }
  assert.throws(() => table.add(bad[0]!), /10\.0\.0\.1\/8 has host bits set/);
  assert.throws(() => table.add(bad[4]!), /prefix length 33/);
  assert.equal(table.size, 1);
  assert.deepEqual(table.routes(), [base]);
  assert.equal(table.lookup(ip('10.0.0.1'))?.prefixLength, 8);
  // The extremes are fine.
  table.add({ ...base, prefix: 0, prefixLength: 0 });
  table.add({ ...base, prefix: ip('255.255.255.255'), prefixLength: 32 });
  assert.equal(table.size, 3);
});

test('the table keeps the caller’s route type', () => {
  interface TaggedRoute extends Route {
    readonly tag: string;
  }
  const table = new RouteTable<TaggedRoute>();
  table.add({ ...route('10.0.0.0/8', 'eth0'), tag: 'mine' });
  const r: TaggedRoute | undefined = table.lookup(ip('10.1.1.1'));
  assert.equal(r?.tag, 'mine');
});

// ---- property tests against the brute force ----

const uint32 = fc.bigInt({ min: 0n, max: 0xffff_ffffn }).map(Number);
const prefixLengthArb = fc.oneof(
  fc.integer({ min: 0, max: 32 }),
  fc.constantFrom(0, 1, 31, 32),
  fc.integer({ min: 20, max: 32 }),
);
/** Few distinct bits at the top, so prefixes overlap and share paths often. */
const addressArb = fc.oneof(
  uint32,
  fc.constantFrom(0, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff),
  fc.integer({ min: 0, max: 255 }).map((x) => (0x0a00_0000 + x * 0x0101) >>> 0),
);
const routeArb: fc.Arbitrary<Route> = fc
  .record(
    {
      address: addressArb,
      prefixLength: prefixLengthArb,
      metric: fc.integer({ min: 0, max: 3 }),
      iface: fc.constantFrom('eth0', 'eth1', 'eth2'),
      id: fc.integer({ min: 0, max: 1_000_000 }),
    },
    { noNullPrototype: true },
  )
  .map(({ address, prefixLength, metric, iface, id }) => ({
    prefix: (address & prefixMask(prefixLength)) >>> 0,
    prefixLength,
    nextHop: id,
    iface,
    source: prefixLength === 0 ? 'default' : 'static',
    metric,
  }));

/** Addresses to look up: random, or inside (or just outside) one of the routes. */
const probesArb = (routes: readonly Route[]): fc.Arbitrary<Ipv4[]> => {
  const near =
    routes.length === 0
      ? uint32
      : fc
          .tuple(fc.integer({ min: 0, max: routes.length - 1 }), uint32, fc.integer({ min: -1, max: 1 }))
          .map(([i, bits, step]) => {
            const r = routes[i]!;
            return (((r.prefix | (bits & ~prefixMask(r.prefixLength))) >>> 0) + step) >>> 0;
          });
  return fc.array(fc.oneof(uint32, near, addressArb), { minLength: 1, maxLength: 40 });
};

// Each configuration runs the same property: the trie alone (small tables), the /16 direct index
// from the start, and a threshold low enough that the index comes and goes during a run.
const configurations: [string, RouteTableOptions][] = [
  ['trie only', {}],
  ['direct index always', { directIndexFrom: 0 }],
  ['direct index from 24 nodes', { directIndexFrom: 24 }],
];

for (const [name, options] of configurations) {
  test(`property (${name}): lookup, explain and routes agree with a brute-force scan, through adds and removes`, () => {
    const scenario = fc
      .record(
        {
          routes: fc.array(routeArb, { maxLength: 60 }),
          removeIface: fc.constantFrom('eth0', 'eth1', 'eth2', 'none'),
          removeMetric: fc.integer({ min: -1, max: 3 }),
          more: fc.array(routeArb, { maxLength: 20 }),
        },
        { noNullPrototype: true },
      )
      .chain((s) => probesArb([...s.routes, ...s.more]).map((probes) => ({ ...s, probes })));
    fc.assert(
      fc.property(scenario, ({ routes, removeIface, removeMetric, more, probes }) => {
        const table = new RouteTable(options);
        let reference: Route[] = [];
        const check = () => {
          assert.equal(table.size, reference.length);
          assert.deepEqual(table.routes(), bruteForceSorted(reference));
          for (const dst of probes) {
            const expected = bruteForce(reference, dst);
            assert.equal(table.lookup(dst), expected, formatIpv4(dst));
            const explained = table.explain(dst);
            assert.equal(explained.route, expected);
            assert.equal(explained.candidates, bruteForceCandidates(reference, dst));
          }
        };
        for (const r of routes) {
          table.add(r);
          reference.push(r);
        }
        check();
        const doomed = (r: Route) => r.iface === removeIface || r.metric === removeMetric;
        const before = reference.length;
        reference = reference.filter((r) => !doomed(r));
        assert.equal(table.remove(doomed), before - reference.length);
        check();
        for (const r of more) {
          table.add(r);
          reference.push(r);
        }
        check();
      }),
      { numRuns: 300 },
    );
  });
}

/** The equal-cost routes of the longest matching prefix, by a scan: its lowest metric, in the order added. */
function bruteForceEqualCost<R extends Route>(routes: readonly R[], dst: Ipv4): R[] {
  const best = bruteForce(routes, dst);
  if (best === undefined) return [];
  return routes.filter(
    (r) => r.prefix === best.prefix && r.prefixLength === best.prefixLength && r.metric === best.metric,
  );
}

type Op =
  | { kind: 'add'; route: Route }
  /** removeAt the prefix of the live route at `pick` (modulo), its routes of metric `metric` (-1: all). */
  | { kind: 'removeAt'; pick: number; metric: number }
  /** removeAt a prefix that may have no routes. */
  | { kind: 'removeAny'; route: Route }
  | { kind: 'remove'; iface: string; metric: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: routeArb.map((route) => ({ kind: 'add' as const, route })), weight: 5 },
  {
    arbitrary: fc.record(
      { kind: fc.constant('removeAt' as const), pick: fc.nat(), metric: fc.integer({ min: -1, max: 3 }) },
      { noNullPrototype: true },
    ),
    weight: 3,
  },
  { arbitrary: routeArb.map((route) => ({ kind: 'removeAny' as const, route })), weight: 1 },
  {
    arbitrary: fc.record(
      {
        kind: fc.constant('remove' as const),
        iface: fc.constantFrom('eth0', 'eth1', 'eth2', 'none'),
        metric: fc.integer({ min: -1, max: 3 }),
      },
      { noNullPrototype: true },
    ),
    weight: 1,
  },
);

for (const [name, options] of configurations) {
  test(`property (${name}): after each random add and removal, lookups match a brute-force scan and the trie is the one built afresh`, () => {
    const scenario = fc
      .array(opArb, { minLength: 1, maxLength: 80, size: 'medium' })
      .chain((ops) =>
        probesArb(ops.flatMap((o) => (o.kind === 'add' || o.kind === 'removeAny' ? [o.route] : []))).map(
          (probes) => ({ ops, probes }),
        ),
      );
    fc.assert(
      fc.property(scenario, ({ ops, probes }) => {
        const table = new RouteTable(options);
        let live: Route[] = [];
        let peak = table.trieShape().live;
        for (const op of ops) {
          const before = live.length;
          if (op.kind === 'add') {
            table.add(op.route);
            live.push(op.route);
          } else if (op.kind === 'remove') {
            const doomed = (r: Route) => r.iface === op.iface || r.metric === op.metric;
            live = live.filter((r) => !doomed(r));
            assert.equal(table.remove(doomed), before - live.length);
          } else {
            const target = op.kind === 'removeAt' ? live[op.pick % Math.max(live.length, 1)] : op.route;
            if (target === undefined) continue;
            const metric = op.kind === 'removeAt' ? op.metric : -1;
            const doomed = (r: Route) => metric === -1 || r.metric === metric;
            const at = (r: Route) => r.prefix === target.prefix && r.prefixLength === target.prefixLength;
            live = live.filter((r) => !(at(r) && doomed(r)));
            assert.equal(table.removeAt(target.prefix, target.prefixLength, doomed), before - live.length);
          }
          assert.equal(table.size, live.length);
          for (const dst of probes) {
            const expected = bruteForce(live, dst);
            assert.equal(table.lookup(dst), expected, formatIpv4(dst));
            assert.deepEqual(table.equalCost(dst), bruteForceEqualCost(live, dst), formatIpv4(dst));
            assert.equal(table.explain(dst).candidates, bruteForceCandidates(live, dst));
          }
          const fresh = new RouteTable();
          for (const r of live) fresh.add(r);
          const shape = table.trieShape();
          assert.equal(shape.nodes, fresh.trieShape().nodes, 'the trie has the nodes of one built afresh');
          assert.equal(shape.live, shape.nodes);
          peak = Math.max(peak, shape.live);
          assert.equal(shape.allocated, peak, 'freed nodes are reused before new ones are taken');
          assert.deepEqual(table.routes(), fresh.routes());
        }
      }),
      { numRuns: 200 },
    );
  });
}

/** A small deterministic PRNG (mulberry32), so the large test is the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b_79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The same scan as `bruteForce`, over typed arrays, to keep 4,000 scans of 100,000 routes quick. */
function linearScan(routes: readonly Route[]): (dst: Ipv4) => Route | undefined {
  const prefixes = Int32Array.from(routes, (r) => r.prefix);
  const masks = Int32Array.from(routes, (r) => prefixMask(r.prefixLength));
  const lengths = Int8Array.from(routes, (r) => r.prefixLength);
  const metrics = Float64Array.from(routes, (r) => r.metric);
  return (dst) => {
    let best = -1;
    for (let i = 0; i < prefixes.length; i++) {
      if ((dst & masks[i]!) !== prefixes[i]) continue;
      if (
        best < 0 ||
        lengths[i]! > lengths[best]! ||
        (lengths[i] === lengths[best] && metrics[i]! < metrics[best]!)
      ) {
        best = i;
      }
    }
    return best < 0 ? undefined : routes[best];
  };
}

test('100,000 random routes: a few thousand lookups agree with the brute force; removing half still agrees', () => {
  const next = mulberry32(0x5eed);
  const routes: Route[] = [];
  const table = new RouteTable();
  for (let i = 0; i < 100_000; i++) {
    // Mostly long prefixes, as in a real table, but every length from /0 to /32 appears.
    const prefixLength = next() % 4 === 0 ? next() % 33 : 16 + (next() % 17);
    const r: Route = {
      prefix: (next() & prefixMask(prefixLength)) >>> 0,
      prefixLength,
      nextHop: next(),
      iface: `eth${i % 4}`,
      source: prefixLength === 0 ? 'default' : 'static',
      metric: next() % 3,
    };
    routes.push(r);
    table.add(r);
  }
  assert.equal(table.size, 100_000);
  const probes: Ipv4[] = [];
  for (let i = 0; i < 3000; i++) {
    const r = routes[next() % routes.length]!;
    // A third random, a third inside a route, a third at a route's first address.
    const kind = i % 3;
    probes.push(
      kind === 0 ? next() : kind === 1 ? (r.prefix | (next() & ~prefixMask(r.prefixLength))) >>> 0 : r.prefix,
    );
  }
  const scan = linearScan(routes);
  const wrong = probes.filter((dst) => table.lookup(dst) !== scan(dst));
  assert.deepEqual(wrong.map(formatIpv4), []);
  for (const dst of probes.slice(0, 300)) {
    const { route: r, candidates } = table.explain(dst);
    assert.equal(r, table.lookup(dst));
    assert.equal(candidates, bruteForceCandidates(routes, dst), formatIpv4(dst));
  }
  // The typed-array scan is itself checked against the plain one on a sample.
  for (const dst of probes.slice(0, 50)) assert.equal(scan(dst), bruteForce(routes, dst));

  const removed = table.remove((r) => r.iface === 'eth1' || r.iface === 'eth3');
  const kept = routes.filter((r) => r.iface === 'eth0' || r.iface === 'eth2');
  assert.equal(removed, 50_000);
  assert.equal(table.size, kept.length);
  const scanKept = linearScan(kept);
  const wrongAfter = probes.slice(0, 1000).filter((dst) => table.lookup(dst) !== scanKept(dst));
  assert.deepEqual(wrongAfter.map(formatIpv4), []);
  const listed = table.routes();
  const sorted = bruteForceSorted(kept);
  assert.equal(listed.length, sorted.length);
  assert.ok(
    listed.every((r, i) => r === sorted[i]),
    'routes() lists the same objects in the same order',
  );

  // One prefix at a time (removeAt): its routes only are offered to the predicate, whatever the table's size.
  const sample = kept.filter((_, i) => i % 25 === 0);
  const gone = new Set<Route>();
  let offered = 0;
  for (const r of sample) {
    if (gone.has(r)) continue;
    const n = table.removeAt(r.prefix, r.prefixLength, (x) => {
      offered++;
      gone.add(x);
      return true;
    });
    assert.equal(n, kept.filter((x) => x.prefix === r.prefix && x.prefixLength === r.prefixLength).length);
  }
  assert.equal(offered, gone.size);
  const rest = kept.filter((r) => !gone.has(r));
  assert.equal(table.size, rest.length);
  const scanRest = linearScan(rest);
  const wrongRest = probes.slice(0, 1000).filter((dst) => table.lookup(dst) !== scanRest(dst));
  assert.deepEqual(wrongRest.map(formatIpv4), []);
  const fresh = new RouteTable();
  for (const r of rest) fresh.add(r);
  assert.equal(table.trieShape().nodes, fresh.trieShape().nodes);
});
