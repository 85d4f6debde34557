/**
 * Equal-cost multipath: RouteTable's equalCost / lookupMultipath (order, metrics, removal, the
 * lazy hash, agreement with a brute-force scan), and a router spreading 2,000 UDP flows over four
 * spines to one subnet, each flow pinned to one spine, traced with its ECMP choice; packets a
 * router originates spread too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { IpNode } from '../../src/devices/ip/ip-node.js';
import {
  newMultipathChoice,
  type Route,
  RouteTable,
  type RouteTableOptions,
} from '../../src/devices/router/route-table.js';
import type { TraceLog } from '../../src/devices/trace.js';
import { Network } from '../../src/topo/network.js';
import {
  cidr,
  formatIpv4,
  IpProtocol,
  type Ipv4,
  ip,
  ipv4TupleHash,
  prefixMask,
} from '../../src/wire/index.js';
import { ascii } from '../helpers/build.js';

function route(text: string, iface: string, via: string | null, metric = 1): Route {
  const c = cidr(text);
  return {
    prefix: c.address,
    prefixLength: c.prefixLength,
    nextHop: via === null ? null : ip(via),
    iface,
    source: 'static',
    metric,
  };
}

const ifaces = (routes: readonly (Route | undefined)[]) => routes.map((r) => r?.iface ?? 'none');

test('equalCost: the lowest-metric routes of the longest prefix, in the order added; lookupMultipath picks hash % n', () => {
  const table = new RouteTable();
  table.add(route('10.0.0.0/8', 'wide', '192.0.2.9'));
  table.add(route('10.2.0.0/16', 'slow', '192.0.2.5', 5));
  table.add(route('10.2.0.0/16', 'a', '192.0.2.1'));
  table.add(route('10.2.0.0/16', 'b', '192.0.2.2'));
  table.add(route('10.2.0.0/16', 'worse', '192.0.2.6', 2));
  table.add(route('10.2.0.0/16', 'c', '192.0.2.3'));
  const dst = ip('10.2.3.4');
  assert.deepEqual(ifaces(table.equalCost(dst)), ['a', 'b', 'c']);
  assert.equal(table.lookup(dst)!.iface, 'a');
  assert.deepEqual(ifaces([0, 1, 2, 3, 4, 5].map((h) => table.lookupMultipath(dst, h))), [
    'a',
    'b',
    'c',
    'a',
    'b',
    'c',
  ]);
  // The hash is taken as unsigned: -1 is 0xffffffff, and 0xffffffff % 3 === 0.
  assert.equal(table.lookupMultipath(dst, -1)!.iface, 'a');
  assert.equal(table.lookupMultipath(dst, 0xffff_fffe)!.iface, 'c');
  // A shorter prefix with one route, and no route at all.
  assert.deepEqual(ifaces(table.equalCost(ip('10.9.9.9'))), ['wide']);
  assert.equal(table.lookupMultipath(ip('10.9.9.9'), 12345)!.iface, 'wide');
  assert.deepEqual(table.equalCost(ip('192.168.1.1')), []);
  assert.equal(table.lookupMultipath(ip('192.168.1.1'), 7), undefined);
  // The longest prefix wins even when a shorter one has several paths.
  table.add(route('10.0.0.0/8', 'wide2', '192.0.2.10'));
  table.add(route('10.2.3.0/24', 'specific', '192.0.2.7'));
  for (let h = 0; h < 4; h++) assert.equal(table.lookupMultipath(dst, h)!.iface, 'specific');
  assert.deepEqual(ifaces(table.equalCost(ip('10.9.9.9'))), ['wide', 'wide2']);
});

test('metrics and removal: a lower metric alone wins, and removing a route re-balances over the rest', () => {
  const table = new RouteTable();
  for (const name of ['a', 'b', 'c', 'd']) table.add(route('10.2.0.0/16', name, null, 10));
  const dst = ip('10.2.0.1');
  const picks = () => ifaces([0, 1, 2, 3, 4, 5].map((h) => table.lookupMultipath(dst, h)));
  assert.deepEqual(picks(), ['a', 'b', 'c', 'd', 'a', 'b']);
  table.add(route('10.2.0.0/16', 'best', null, 3));
  assert.deepEqual(ifaces(table.equalCost(dst)), ['best']);
  assert.deepEqual(picks(), ['best', 'best', 'best', 'best', 'best', 'best']);
  table.add(route('10.2.0.0/16', 'best2', null, 3));
  assert.deepEqual(picks(), ['best', 'best2', 'best', 'best2', 'best', 'best2']);
  assert.equal(
    table.remove((r) => r.metric === 3),
    2,
  );
  assert.deepEqual(picks(), ['a', 'b', 'c', 'd', 'a', 'b']);
  assert.equal(
    table.remove((r) => r.iface === 'b'),
    1,
  );
  assert.deepEqual(ifaces(table.equalCost(dst)), ['a', 'c', 'd']);
  assert.deepEqual(picks(), ['a', 'c', 'd', 'a', 'c', 'd']);
  // A route added later with the same metric joins at the end.
  table.add(route('10.2.0.0/16', 'e', null, 10));
  assert.deepEqual(ifaces(table.equalCost(dst)), ['a', 'c', 'd', 'e']);
  // Equal metrics compare exactly: 10.5 is not 10.
  table.add(route('10.2.0.0/16', 'f', null, 10.5));
  assert.deepEqual(ifaces(table.equalCost(dst)), ['a', 'c', 'd', 'e']);
  table.remove((r) => r.metric === 10);
  assert.deepEqual(ifaces(table.equalCost(dst)), ['f']);
});

test('lookupMultipathBy asks for the hash only when there is a choice, once, and says what it chose', () => {
  const table = new RouteTable();
  table.add(route('10.1.0.0/16', 'single', null));
  for (const name of ['a', 'b', 'c']) table.add(route('10.2.0.0/16', name, null));
  let calls = 0;
  const hashOf = (key: number) => {
    calls++;
    return key;
  };
  const choice = newMultipathChoice();
  assert.equal(table.lookupMultipathBy(ip('10.1.0.1'), 5, hashOf, choice)!.iface, 'single');
  assert.equal(calls, 0);
  assert.deepEqual(choice, { width: 1, index: 0, hash: -1 });
  assert.equal(table.lookupMultipathBy(ip('10.2.0.1'), 5, hashOf, choice)!.iface, 'c');
  assert.equal(calls, 1);
  assert.deepEqual(choice, { width: 3, index: 2, hash: 5 });
  assert.equal(table.lookupMultipathBy(ip('10.2.0.1'), -2, hashOf, choice)!.iface, 'c');
  assert.deepEqual(choice, { width: 3, index: 2, hash: 0xffff_fffe });
  assert.equal(table.lookupMultipathBy(ip('10.3.0.1'), 5, hashOf, choice), undefined);
  assert.deepEqual(choice, { width: 0, index: 0, hash: -1 });
  assert.equal(calls, 2);
  assert.equal(table.lookupMultipathBy(ip('10.2.0.1'), 4, hashOf)!.iface, 'b');
});

/** The reference: the longest matching prefix's routes with its lowest metric, in the order added. */
function bruteForceEqualCost(routes: readonly Route[], dst: Ipv4): Route[] {
  const matching = routes.filter((r) => (dst & prefixMask(r.prefixLength)) >>> 0 === r.prefix);
  if (matching.length === 0) return [];
  const longest = Math.max(...matching.map((r) => r.prefixLength));
  const ofLongest = matching.filter((r) => r.prefixLength === longest);
  const best = Math.min(...ofLongest.map((r) => r.metric));
  return ofLongest.filter((r) => r.metric === best);
}

test('property: equalCost and lookupMultipath agree with a brute-force scan, with and without the direct index', () => {
  const arbRoute = fc
    .record({
      top: fc.constantFrom(0x0a000000, 0x0a010000, 0x0a010100, 0xc0a80000),
      length: fc.constantFrom(0, 8, 16, 24, 32),
      metric: fc.integer({ min: 0, max: 2 }),
      iface: fc.constantFrom('e0', 'e1', 'e2', 'e3'),
    })
    .map(
      (r): Route => ({
        prefix: (r.top & prefixMask(r.length)) >>> 0,
        prefixLength: r.length,
        nextHop: null,
        iface: r.iface,
        source: 'static',
        metric: r.metric,
      }),
    );
  const dsts = [
    ip('10.0.0.1'),
    ip('10.1.0.1'),
    ip('10.1.1.1'),
    ip('10.1.1.0'),
    ip('192.168.0.0'),
    ip('8.8.8.8'),
  ];
  for (const options of [{}, { directIndexFrom: 0 }] as RouteTableOptions[]) {
    fc.assert(
      fc.property(
        fc.array(arbRoute, { maxLength: 30 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (routes, hash) => {
          const table = new RouteTable(options);
          for (const r of routes) table.add(r);
          for (const dst of dsts) {
            const expected = bruteForceEqualCost(routes, dst);
            assert.deepEqual(table.equalCost(dst), expected, formatIpv4(dst));
            assert.equal(table.lookupMultipath(dst, hash), expected[hash % expected.length]);
            assert.equal(table.lookup(dst), expected[0]);
          }
        },
      ),
      { numRuns: 200 },
    );
  }
});

const SPINES = [1, 2, 3, 4];
const H1 = ip('10.0.1.1');
const H2 = ip('10.0.2.1');

/**
 * h1 (10.0.1.1) - r0, which has four uplinks eth1..eth4 (10.1.N.1/30) to spines s1..s4, each with
 * a link (10.2.N.1/30) to r5, behind which sits h2 (10.0.2.1). r0 has four equal-cost static routes
 * to 10.0.2.0/24 (one per spine, in order), r5 four back to 10.0.1.0/24; h2 listens on UDP 9.
 */
function fabric(options: { trace?: boolean } = {}) {
  const net = new Network({ trace: options.trace ?? false });
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', gateway: '10.0.1.254' });
  const h2 = net.addHost('h2', { ip: '10.0.2.1/24', gateway: '10.0.2.254' });
  const r0 = net.addRouter('r0', [
    { name: 'eth0', addresses: ['10.0.1.254/24'] },
    ...SPINES.map((n) => ({ name: `eth${n}`, addresses: [`10.1.${n}.1/30`] })),
  ]);
  const r5 = net.addRouter('r5', [
    ...SPINES.map((n) => ({ name: `eth${n - 1}`, addresses: [`10.2.${n}.2/30`] })),
    { name: 'eth4', addresses: ['10.0.2.254/24'] },
  ]);
  net.addLink(h1, r0, { bPort: 'eth0' });
  net.addLink(r5, h2, { aPort: 'eth4' });
  const spines = SPINES.map((n) => {
    const s = net.addRouter(`s${n}`, [
      { name: 'eth0', addresses: [`10.1.${n}.2/30`] },
      { name: 'eth1', addresses: [`10.2.${n}.1/30`] },
    ]);
    net.addLink(r0, s, { aPort: `eth${n}`, bPort: 'eth0' });
    net.addLink(s, r5, { aPort: 'eth1', bPort: `eth${n - 1}` });
    s.addStaticRoute({ prefix: cidr('10.0.2.0/24'), nextHop: ip(`10.2.${n}.2`) });
    s.addStaticRoute({ prefix: cidr('10.0.1.0/24'), nextHop: ip(`10.1.${n}.1`) });
    r0.addStaticRoute({ prefix: cidr('10.0.2.0/24'), nextHop: ip(`10.1.${n}.2`) });
    r5.addStaticRoute({ prefix: cidr('10.0.1.0/24'), nextHop: ip(`10.2.${n}.1`) });
    return s;
  });
  h2.bindUdp(9, () => {});
  /** Sends one datagram per source port, in batches that fit the ARP and link queues. */
  const send = (srcPorts: readonly number[], from: Pick<IpNode, 'sendUdp'> = h1) => {
    for (let i = 0; i < srcPorts.length; i += 50) {
      for (const p of srcPorts.slice(i, i + 50)) assert.ok(from.sendUdp(p, H2, 9, ascii(`flow ${p}`)));
      net.run();
    }
  };
  const uplinkTx = () => SPINES.map((n) => r0.port(`eth${n}`)!.counters.txFrames);
  return { net, h1, h2, r0, r5, spines, send, uplinkTx };
}

const flows = (n: number, first = 20000) => Array.from({ length: n }, (_, i) => first + i);

test('r0 spreads 2,000 UDP flows over four equal-cost spines; every datagram arrives', () => {
  const { h2, r0, spines, send } = fabric();
  assert.deepEqual(
    r0.routes.equalCost(H2).map((r) => [r.iface, formatIpv4(r.nextHop!), r.metric]),
    SPINES.map((n) => [`eth${n}`, `10.1.${n}.2`, 1]),
  );
  send(flows(2000));
  assert.equal(h2.udpLog.length, 2000);
  assert.deepEqual(new Set(h2.udpLog.map((d) => d.srcPort)), new Set(flows(2000)));
  for (const s of [r0, ...spines]) assert.deepEqual(s.drops, {}, s.name);
  // 500 expected per spine (standard deviation ~19): 300..700 is 15%..35%.
  const choices = SPINES.map((n) => r0.ecmpChoices[`eth${n}`] ?? 0);
  assert.equal(
    choices.reduce((a, b) => a + b, 0),
    2000,
  );
  for (const c of choices) assert.ok(c >= 300 && c <= 700, `ECMP choices per uplink: ${choices}`);
  assert.deepEqual(Object.keys(r0.ecmpChoices).sort(), ['eth1', 'eth2', 'eth3', 'eth4']);
  // Each spine forwarded exactly what r0 sent it; the spines themselves had no choice to make.
  assert.deepEqual(
    spines.map((s) => s.ipCounters.forwarded),
    choices,
  );
  for (const s of spines) assert.deepEqual(s.ecmpChoices, {});
});

test('one flow (one 5-tuple) always takes the same spine: the one its hash picks', () => {
  const { r0, h2, send, uplinkTx } = fabric();
  send(flows(200)); // ARP everywhere resolved
  for (const srcPort of [20000, 31337, 50000]) {
    const before = uplinkTx();
    const choicesBefore = { ...r0.ecmpChoices };
    const received = h2.udpLog.length;
    send(Array.from({ length: 50 }, () => srcPort));
    assert.equal(h2.udpLog.length, received + 50);
    const moved = uplinkTx().map((t, i) => t - before[i]!);
    assert.equal(moved.filter((m) => m !== 0).length, 1, `uplink frames moved: ${moved}`);
    assert.equal(Math.max(...moved), 50);
    const expected = r0.routes.lookupMultipath(
      H2,
      ipv4TupleHash(H1, H2, IpProtocol.udp, Uint8Array.of(srcPort >>> 8, srcPort & 0xff, 0, 9)),
    )!;
    assert.equal(`eth${moved.indexOf(50) + 1}`, expected.iface);
    assert.equal(r0.ecmpChoices[expected.iface]! - (choicesBefore[expected.iface] ?? 0), 50);
  }
});

test('removing an equal-cost route moves its flows to the others; pings and replies cross the fabric', () => {
  const { net, h1, h2, r0, send } = fabric();
  assert.equal(
    r0.routes.remove((r) => r.nextHop === ip('10.1.4.2')),
    1,
  );
  send(flows(1200));
  assert.equal(h2.udpLog.length, 1200);
  assert.equal(r0.ecmpChoices.eth4, undefined);
  // 400 expected on each of the three left (standard deviation ~16).
  for (const n of [1, 2, 3]) {
    const c = r0.ecmpChoices[`eth${n}`]!;
    assert.ok(c >= 300 && c <= 500, `eth${n}: ${c}`);
  }
  // ICMP has no ports: an echo flow hashes on addresses and protocol (r5's return paths are ECMP too).
  const ping = h1.ping(H2, { count: 3 });
  net.run();
  assert.deepEqual(
    ping.results.map((r) => [r.status, r.ttl]),
    [
      ['reply', 61],
      ['reply', 61],
      ['reply', 61],
    ],
  );
});

test('packets a router originates spread over its equal-cost routes too', () => {
  const { h2, r0, send, uplinkTx } = fabric();
  const before = uplinkTx();
  send(flows(800), r0);
  assert.equal(h2.udpLog.length, 800);
  const moved = uplinkTx().map((t, i) => t - before[i]!);
  // 200 expected per uplink, plus an ARP request on each; forwarded-packet counters do not count them.
  for (const m of moved) assert.ok(m >= 120 && m <= 280, `uplink frames: ${moved}`);
  assert.deepEqual(r0.ecmpChoices, {});
  // The source address is the first route's interface's (eth1), whichever uplink a datagram leaves by.
  assert.deepEqual(new Set(h2.udpLog.map((d) => formatIpv4(d.src))), new Set(['10.1.1.1']));
});

test('the route trace says when ECMP chose, with the count, the hash and the pick', () => {
  const { net, r0, spines, send } = fabric({ trace: true });
  send([20000, 20001, 20002, 20003, 20004, 20005]);
  const events = (net.tracer as TraceLog).events;
  const routed = events.filter((e) => e.node === 'r0' && e.kind === 'route').map((e) => e.message);
  assert.equal(routed.length, 6);
  const pattern =
    /^10\.0\.2\.1 matches 10\.0\.2\.0\/24 \(longest of 1 candidate\) -> eth(\d), next hop 10\.1\.(\d)\.2; TTL 64 -> 63; ECMP: 4 equal-cost next hops, flow hash 0x([0-9a-f]{8}) picks 10\.1\.(\d)\.2 on eth(\d) \(([1-4]) of 4\)$/;
  for (const [i, message] of routed.entries()) {
    const m = pattern.exec(message);
    assert.ok(m, message);
    const [, iface, nextHop, hash, picked, pickedIface, position] = m;
    assert.deepEqual([nextHop, picked, pickedIface, position], [iface, iface, iface, iface]);
    const srcPort = 20000 + i;
    const expected = ipv4TupleHash(
      H1,
      H2,
      IpProtocol.udp,
      Uint8Array.of(srcPort >>> 8, srcPort & 0xff, 0, 9),
    );
    assert.equal(Number.parseInt(hash!, 16), expected);
    assert.equal(Number(position), (expected % 4) + 1);
  }
  // The spines had one route each: their trace is as before, with no ECMP sentence.
  const spineRoutes = events.filter((e) => spines.some((s) => s.name === e.node) && e.kind === 'route');
  assert.equal(spineRoutes.length, 6);
  for (const e of spineRoutes) assert.doesNotMatch(e.message, /ECMP/);
  assert.match(
    spineRoutes[0]!.message,
    /^10\.0\.2\.1 matches 10\.0\.2\.0\/24 \(longest of 1 candidate\) -> eth1, next hop 10\.2\.\d\.2; TTL 63 -> 62$/,
  );
  // A packet r0 sends itself says so in its send trace.
  r0.sendUdp(7000, H2, 9, ascii('from r0'));
  const sent = events.filter((e) => e.node === 'r0' && e.kind === 'send').at(-1)!;
  assert.match(
    sent.message,
    /^UDP 10\.1\.1\.1 -> 10\.0\.2\.1: route 10\.0\.2\.0\/24 out eth\d, via gateway 10\.1\.\d\.2; ECMP: 4 equal-cost next hops, flow hash 0x[0-9a-f]{8} picks 10\.1\.\d\.2 on eth\d \([1-4] of 4\)$/,
  );
});
