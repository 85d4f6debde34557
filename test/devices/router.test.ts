/**
 * The router: forwarding between subnets (TTL decrement with an exact checksum, checked over
 * random headers too), ICMP time exceeded and network unreachable, static and default routes on a
 * chain of routers, longest-prefix match, fragmentation needed (DF) and fragmentation (no DF),
 * the ARP pending queue and ARP failure, ACLs in and out with hit counts, router-on-a-stick
 * sub-interfaces, and RFC 1812's rules about which packets never get an ICMP error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Host } from '../../src/devices/ip/host.js';
import type { Router } from '../../src/devices/router/router.js';
import type { TraceLog } from '../../src/devices/trace.js';
import type { CapturedFrame, Port } from '../../src/link/index.js';
import { Network } from '../../src/topo/network.js';
import {
  bytesEqual,
  cidr,
  concatBytes,
  decodeFrame,
  EtherType,
  emitArp,
  emitIcmp,
  emitIpv4,
  formatMac,
  IpProtocol,
  internetChecksum,
  ip,
  type Layer,
  mac,
  readMac,
  readU16,
} from '../../src/wire/index.js';
import { ascii, ethernet, ipv4Icmp, ipv4Repr, ipv4Udp, tag } from '../helpers/build.js';
import { station } from '../helpers/station.js';

const H1 = mac('02:00:00:00:01:01');
const H2 = mac('02:00:00:00:02:01');
const R1_ETH0 = mac('02:00:00:00:fe:00');
const R1_ETH1 = mac('02:00:00:00:fe:01');

/** h1 (10.0.1.1) - r1 - h2 (10.0.2.1), each host with the router as its gateway. */
function twoSubnets(options: { trace?: boolean; mtu?: number } = {}) {
  const net = new Network({ trace: options.trace ?? false });
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', mac: H1, gateway: '10.0.1.254' });
  const h2 = net.addHost('h2', { ip: '10.0.2.1/24', mac: H2, gateway: '10.0.2.254' });
  const r1 = net.addRouter('r1', [
    { name: 'eth0', addresses: ['10.0.1.254/24'], mac: R1_ETH0 },
    { name: 'eth1', addresses: ['10.0.2.254/24'], mac: R1_ETH1 },
  ]);
  net.addLink(h1, r1, { bPort: 'eth0' });
  net.addLink(r1, h2, { aPort: 'eth1', ...(options.mtu ? { mtu: options.mtu } : {}) });
  return { net, h1, h2, r1 };
}

function captureRx(net: Network, port: Port): CapturedFrame[] {
  return net.capture().attachPort(port, 'rx').frames;
}

function captureTx(net: Network, port: Port): CapturedFrame[] {
  return net.capture().attachPort(port, 'tx').frames;
}

const layers = (f: CapturedFrame | Uint8Array): Layer[] => {
  const d = decodeFrame(f instanceof Uint8Array ? f : f.data);
  assert.equal(d.error, null, JSON.stringify(d.error));
  return d.layers;
};
const layer = (ls: Layer[], name: string): Layer | undefined => ls.find((l) => l.layer === name);
const isIpv4 = (f: CapturedFrame) => readU16(f.data, 12) === EtherType.ipv4;
const eth0 = (d: Host | Router) => d.port('eth0')!;

/** The IPv4 header of a frame's packet with its checksum recomputed from scratch. */
function recomputedChecksum(packet: Uint8Array): number {
  const header = packet.slice(0, (packet[0]! & 0x0f) * 4);
  header[10] = 0;
  header[11] = 0;
  return internetChecksum(header);
}

test('forwards between subnets: new MACs, TTL - 1, checksum exactly as recomputed, nothing else changed', () => {
  const { net, h1, h2, r1 } = twoSubnets();
  const sent = captureTx(net, eth0(h1));
  const arrived = captureRx(net, eth0(h2));
  const run = h1.ping(ip('10.0.2.1'), { count: 2 });
  net.run();
  assert.deepEqual(
    run.results.map((r) => [r.status, r.ttl, r.from]),
    [
      ['reply', 63, '10.0.2.1'],
      ['reply', 63, '10.0.2.1'],
    ],
  );
  const out = sent.filter(isIpv4);
  const inn = arrived.filter(isIpv4);
  assert.equal(out.length, 2);
  assert.equal(inn.length, 2);
  for (const [i, f] of out.entries()) {
    const g = inn[i]!.data;
    assert.equal(formatMac(readMac(f.data, 0)), formatMac(R1_ETH0));
    assert.equal(formatMac(readMac(g, 0)), formatMac(H2));
    assert.equal(formatMac(readMac(g, 6)), formatMac(R1_ETH1));
    const p = f.data.subarray(14, 14 + 84);
    const q = g.subarray(14, 14 + 84);
    assert.equal(p[8], 64);
    assert.equal(q[8], 63);
    assert.equal(readU16(q, 10), recomputedChecksum(q));
    const masked = (b: Uint8Array) => concatBytes([b.subarray(0, 8), b.subarray(9, 10), b.subarray(12)]);
    assert.ok(bytesEqual(masked(p), masked(q)), 'only TTL and checksum differ');
  }
  assert.equal(r1.ipCounters.forwarded, 4); // two requests, two replies
});

test('property: the forwarded header checksum equals a full recomputation, whatever the header', () => {
  const net = new Network();
  const r1 = net.addRouter('r1', [
    { name: 'eth0', addresses: ['10.0.1.254/24'], mac: R1_ETH0 },
    { name: 'eth1', addresses: ['10.0.2.254/24'], mac: R1_ETH1 },
  ]);
  const a = station(net, 'a');
  const b = station(net, 'b');
  net.addLink(a, r1, { bPort: 'eth0' });
  net.addLink(r1, b, { aPort: 'eth1' });
  const B = mac('02:00:00:00:02:07');
  r1.iface('eth1')!.arp.set(ip('10.0.2.7'), B, 0);
  fc.assert(
    fc.property(
      fc.record({
        dscp: fc.integer({ min: 0, max: 63 }),
        ecn: fc.integer({ min: 0, max: 3 }),
        id: fc.integer({ min: 0, max: 0xffff }),
        df: fc.boolean(),
        ttl: fc.integer({ min: 2, max: 255 }),
        protocol: fc.integer({ min: 0, max: 255 }),
        src: fc.integer({ min: 0, max: 0xffff_ffff }),
        options: fc.constantFrom(new Uint8Array(0), Uint8Array.of(1, 1, 1, 0), Uint8Array.of(148, 4, 0, 0)),
        payload: fc.uint8Array({ maxLength: 200 }),
      }),
      (h) => {
        if (h.src >>> 24 === 127 || h.src >>> 24 >= 224) return; // loopback, multicast, class E: martians are not forwarded (RFC 1812 5.3.7)
        const packet = emitIpv4(
          ipv4Repr({ ...h, mf: false, fragmentOffset: 0, dst: ip('10.0.2.7') }),
          h.payload,
        );
        a.send(ethernet(R1_ETH0, H1, EtherType.ipv4, packet));
        b.clear();
        net.run({ until: net.scheduler.now() + 1_000_000 });
        const got = b.received.map((r) => r.frame).filter((f) => readU16(f, 12) === EtherType.ipv4);
        assert.equal(got.length, 1);
        const f = got[0]!;
        assert.equal(f.length, Math.max(60, 14 + packet.length));
        assert.equal(readMac(f, 0), B);
        assert.equal(readMac(f, 6), R1_ETH1);
        const q = f.subarray(14, 14 + packet.length);
        assert.equal(q[8], h.ttl - 1);
        assert.equal(readU16(q, 10), recomputedChecksum(q));
        const expected = packet.slice();
        expected[8] = h.ttl - 1;
        expected[10] = q[10]!;
        expected[11] = q[11]!;
        assert.deepEqual(q, expected);
      },
    ),
    { numRuns: 300 },
  );
});

test("a packet whose TTL runs out gets 'Time to live exceeded' from the router, quoting it", () => {
  const { net, h1, h2, r1 } = twoSubnets();
  const back = captureRx(net, eth0(h1));
  const arrived = captureRx(net, eth0(h2));
  const run = h1.ping(ip('10.0.2.1'), { ttl: 1, count: 1 });
  net.run();
  assert.deepEqual(run.results, [
    { seq: 1, status: 'error', from: '10.0.1.254', message: 'Time to live exceeded' },
  ]);
  assert.equal(arrived.filter(isIpv4).length, 0);
  assert.deepEqual(r1.drops, { 'ttl-exceeded': 1 });
  const icmp = back.filter(isIpv4).map(layers)[0]!;
  assert.deepEqual(
    [layer(icmp, 'ipv4')!.src, layer(icmp, 'ipv4')!.dst, layer(icmp, 'ipv4')!.ttl],
    ['10.0.1.254', '10.0.1.1', 64],
  );
  const e = layer(icmp, 'icmp')!;
  assert.deepEqual([e.type, e.code, e.checksumOk], [11, 0, true]);
  const quoted = e.quoted as Layer[];
  assert.deepEqual(
    [quoted[0]!.src, quoted[0]!.dst, quoted[0]!.ttl, quoted[0]!.protocol, quoted[1]!.type],
    ['10.0.1.1', '10.0.2.1', 1, 1, 8],
  );
  // TTL 2 is enough for one router hop: the packet arrives with TTL 1 and is answered.
  const again = h1.ping(ip('10.0.2.1'), { ttl: 2, count: 1 });
  net.run();
  assert.deepEqual(
    again.results.map((r) => [r.status, r.ttl]),
    [['reply', 63]],
  );
});

test("a destination no route covers gets 'Destination Net Unreachable' from the router", () => {
  const { net, h1, r1 } = twoSubnets({ trace: true });
  const run = h1.ping(ip('192.168.9.9'), { count: 2 });
  net.run();
  assert.deepEqual(
    run.results.map((r) => [r.status, r.from, r.message]),
    [
      ['error', '10.0.1.254', 'Destination Net Unreachable'],
      ['error', '10.0.1.254', 'Destination Net Unreachable'],
    ],
  );
  assert.deepEqual(r1.drops, { 'no-route': 2 });
  assert.equal(r1.ipCounters.icmpErrorsSent, 2);
  assert.ok(
    (net.tracer as TraceLog).events.some(
      (e) => e.node === 'r1' && e.kind === 'drop' && e.message === 'drop (no-route): no route to 192.168.9.9',
    ),
  );
});

/** h1 (10.0.1.1) - r1 - 10.0.12.0/30 - r2 - h2 (10.0.2.1). */
function chain() {
  const net = new Network({ trace: true });
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', mac: H1, gateway: '10.0.1.254' });
  const h2 = net.addHost('h2', { ip: '10.0.2.1/24', mac: H2, gateway: '10.0.2.254' });
  const r1 = net.addRouter('r1', [
    { name: 'eth0', addresses: ['10.0.1.254/24'] },
    { name: 'eth1', addresses: ['10.0.12.1/30'] },
  ]);
  const r2 = net.addRouter('r2', [
    { name: 'eth0', addresses: ['10.0.12.2/30'] },
    { name: 'eth1', addresses: ['10.0.2.254/24'] },
  ]);
  net.addLink(h1, r1, { bPort: 'eth0' });
  const transit = net.addLink(r1, r2, { aPort: 'eth1', bPort: 'eth0' });
  net.addLink(r2, h2, { aPort: 'eth1' });
  r1.addStaticRoute({ prefix: cidr('10.0.2.0/24'), nextHop: ip('10.0.12.2') });
  r2.addStaticRoute({ prefix: cidr('0.0.0.0/0'), nextHop: ip('10.0.12.1') });
  return { net, h1, h2, r1, r2, transit };
}

test('static routes via a next hop and a default route carry traffic across two routers', () => {
  const { net, h1, h2, r1, r2, transit } = chain();
  const onTransit = net.capture().attachLink(transit).frames;
  const run = h1.ping(ip('10.0.2.1'), { count: 3 });
  net.run();
  assert.deepEqual(
    run.results.map((r) => [r.status, r.ttl]),
    [
      ['reply', 62],
      ['reply', 62],
      ['reply', 62],
    ],
  );
  // On the transit link, packets for 10.0.2.1 are framed to r2's MAC: the next hop, not the destination.
  const r2mac = formatMac(r2.iface('eth0')!.mac);
  const toH2 = onTransit
    .filter(isIpv4)
    .map(layers)
    .filter((l) => layer(l, 'ipv4')!.dst === '10.0.2.1');
  assert.equal(toH2.length, 3);
  for (const l of toH2) assert.equal(l[0]!.dst, r2mac);
  assert.deepEqual(
    r1
      .iface('eth1')!
      .arp.table(net.scheduler.now())
      .map((e) => e.ip),
    ['10.0.12.2'],
  );
  assert.equal(r1.routes.lookup(ip('10.0.2.1'))!.source, 'static');
  assert.equal(r2.routes.lookup(ip('10.0.1.1'))!.source, 'default');
  // Hop by hop, as traceroute sees it.
  const hops = [1, 2, 3].map((ttl) => {
    const p = h1.ping(ip('10.0.2.1'), { ttl, count: 1 });
    net.run();
    return [p.results[0]!.status, p.results[0]!.from, p.results[0]!.message];
  });
  assert.deepEqual(hops, [
    ['error', '10.0.1.254', 'Time to live exceeded'],
    ['error', '10.0.12.2', 'Time to live exceeded'],
    ['reply', '10.0.2.1', undefined],
  ]);
  // r2 sends what it has no specific route for to r1, which has none either: the error comes from r1.
  const lost = h2.ping(ip('10.9.9.9'), { count: 1 });
  net.run();
  assert.deepEqual(
    lost.results.map((r) => [r.status, r.from, r.message]),
    [['error', '10.0.12.1', 'Destination Net Unreachable']],
  );
});

test('the longest matching prefix wins; the default route catches the rest', () => {
  const net = new Network({ trace: true });
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', mac: H1, gateway: '10.0.1.254' });
  const r1 = net.addRouter('r1', [
    { name: 'eth0', addresses: ['10.0.1.254/24'] },
    { name: 'eth1', addresses: ['10.0.2.254/24'] },
  ]);
  net.addLink(h1, r1, { bPort: 'eth0' });
  const sw = net.addSwitch('sw');
  net.addLink(r1, sw, { aPort: 'eth1' });
  const next = ['hx', 'hy', 'hz'].map((name, i) => {
    const h = net.addHost(name, { ip: `10.0.2.${10 * (i + 1)}/24` });
    net.addLink(h, sw);
    return h;
  });
  r1.addStaticRoute({ prefix: cidr('172.16.0.0/16'), nextHop: ip('10.0.2.10') });
  r1.addStaticRoute({ prefix: cidr('172.16.5.0/24'), nextHop: ip('10.0.2.20') });
  r1.addStaticRoute({ prefix: cidr('172.16.5.7/32'), nextHop: ip('10.0.2.10') });
  r1.addStaticRoute({ prefix: cidr('0.0.0.0/0'), nextHop: ip('10.0.2.30') });
  /** Which next hop received (and, forwarding being off on hosts, dropped) a datagram for `dst`. */
  const whoGets = (dst: string): string[] => {
    const before = next.map((h) => h.drops['not-for-me'] ?? 0);
    h1.sendUdp(5000, ip(dst), 9, ascii('where to?'));
    net.run();
    return next.filter((h, i) => (h.drops['not-for-me'] ?? 0) > before[i]!).map((h) => h.name);
  };
  assert.deepEqual(whoGets('172.16.9.1'), ['hx']);
  assert.deepEqual(whoGets('172.16.5.1'), ['hy']);
  assert.deepEqual(whoGets('172.16.5.7'), ['hx']);
  assert.deepEqual(whoGets('172.16.5.8'), ['hy']);
  assert.deepEqual(whoGets('172.17.0.1'), ['hz']);
  assert.deepEqual(whoGets('8.8.8.8'), ['hz']);
  const routed = (net.tracer as TraceLog).events
    .filter((e) => e.node === 'r1' && e.kind === 'route')
    .map((e) => e.message);
  assert.match(
    routed[1]!,
    /^172\.16\.5\.1 matches 172\.16\.5\.0\/24 \(longest of 3 candidates\) -> eth1, next hop 10\.0\.2\.20; TTL 64 -> 63$/,
  );
  assert.match(routed[2]!, /^172\.16\.5\.7 matches 172\.16\.5\.7\/32 \(longest of 4 candidates\)/);
});

test('DF set and the next link too small: fragmentation needed, with the next-hop MTU', () => {
  const { net, h1, h2, r1 } = twoSubnets({ mtu: 1000 });
  const back = captureRx(net, eth0(h1));
  const arrived = captureRx(net, eth0(h2));
  const echo = (total: number) =>
    emitIcmp({ kind: 'echo-request', id: 77, seq: 1, data: new Uint8Array(total - 28).fill(0xab) });
  assert.equal(
    h1.sendIp({ dst: ip('10.0.2.1'), protocol: IpProtocol.icmp, payload: echo(1001), df: true }),
    null,
  );
  net.run();
  assert.deepEqual(r1.drops, { 'fragmentation-needed': 1 });
  assert.equal(arrived.filter(isIpv4).length, 0);
  const errors = back.filter(isIpv4).map(layers);
  assert.equal(errors.length, 1);
  const e = layer(errors[0]!, 'icmp')!;
  assert.deepEqual([e.type, e.code, e.mtu, layer(errors[0]!, 'ipv4')!.src], [3, 4, 1000, '10.0.1.254']);
  const quoted = (e.quoted as Layer[])[0]!;
  assert.deepEqual([quoted.totalLength, quoted.df, quoted.ttl], [1001, true, 64]);
  // Exactly the MTU fits.
  h1.sendIp({ dst: ip('10.0.2.1'), protocol: IpProtocol.icmp, payload: echo(1000), df: true });
  net.run();
  assert.equal(arrived.filter(isIpv4).length, 1);
  assert.equal(layer(layers(arrived.filter(isIpv4)[0]!), 'ipv4')!.totalLength, 1000);
  assert.deepEqual(r1.drops, { 'fragmentation-needed': 1 });
});

test('DF clear and the next link too small: fragments with 8-byte offsets and MF on all but the last', () => {
  const { net, h1, h2, r1 } = twoSubnets({ mtu: 576 });
  const sent = captureTx(net, eth0(h1));
  const arrived = captureRx(net, eth0(h2));
  const run = h1.ping(ip('10.0.2.1'), { count: 1, size: 1400 });
  net.run();
  const original = sent.filter(isIpv4)[0]!.data.subarray(14);
  assert.equal(original.length, 1428);
  const fragments = arrived.filter(isIpv4);
  const ips = fragments.map((f) => layer(layers(f), 'ipv4')!);
  assert.deepEqual(
    ips.map((l) => [l.totalLength, l.fragmentOffset, l.mf, l.df, l.ttl, l.id, l.checksumOk]),
    [
      [572, 0, true, false, 63, readU16(original, 4), true],
      [572, 69, true, false, 63, readU16(original, 4), true],
      [324, 138, false, false, 63, readU16(original, 4), true],
    ],
  );
  // The fragments' payloads, in order, are the original payload.
  const joined = concatBytes(
    ips.map((l, i) => fragments[i]!.data.subarray(34, 14 + (l.totalLength as number))),
  );
  assert.ok(bytesEqual(joined, original.subarray(20)));
  assert.equal(r1.ipCounters.forwarded, 4); // the request, then the reply's three fragments (h2 fragments its own reply)
  // h2 reassembles the request (RFC 791), answers with a 1428-byte reply that it fragments itself
  // for its 576-byte link, and h1 reassembles that: the ping is answered.
  assert.equal(h2.ipCounters.reassembled, 1);
  assert.equal(h1.ipCounters.reassembled, 1);
  assert.equal(run.results[0]!.status, 'reply');
});

test('packets wait for ARP resolution and all leave, in order, once the reply comes', () => {
  const { net, h1, h2, r1 } = twoSubnets({ trace: true });
  const got: string[] = [];
  h2.bindUdp(9, (d) => got.push(new TextDecoder().decode(d.payload)));
  for (let i = 1; i <= 5; i++) assert.ok(h1.sendUdp(5000, ip('10.0.2.1'), 9, ascii(`datagram ${i}`)));
  assert.equal(h1.iface('eth0')!.arp.pending.get(ip('10.0.1.254'))!.packets.length, 5);
  net.run();
  assert.deepEqual(
    got,
    [1, 2, 3, 4, 5].map((i) => `datagram ${i}`),
  );
  assert.equal(h1.ipCounters.arpRequestsSent, 1);
  assert.equal(r1.ipCounters.arpRequestsSent, 1); // for h2 only: h1's request taught r1 h1's address
  assert.equal(r1.iface('eth1')!.arp.pending.size, 0);
  assert.ok(
    (net.tracer as TraceLog).events.some(
      (e) =>
        e.node === 'r1' && e.message === '10.0.2.1 not in ARP cache of eth1: queue packet, broadcast request',
    ),
  );
});

test('an address nobody answers for: 3 ARP requests a second apart, then host unreachable', () => {
  const { net, h1, r1 } = twoSubnets();
  const asked = captureTx(net, r1.port('eth1')!);
  const run = h1.ping(ip('10.0.2.99'), { count: 1, timeout: 10e9 });
  net.run();
  assert.deepEqual(
    run.results.map((r) => [r.status, r.from, r.message]),
    [['error', '10.0.1.254', 'Destination Host Unreachable']],
  );
  const requests = asked.map((f) => layer(layers(f), 'arp')!);
  assert.deepEqual(
    requests.map((a) => [a.kind, a.senderIp, a.targetIp]),
    [
      ['request', '10.0.2.254', '10.0.2.99'],
      ['request', '10.0.2.254', '10.0.2.99'],
      ['request', '10.0.2.254', '10.0.2.99'],
    ],
  );
  assert.deepEqual(
    asked.map((f) => f.time - asked[0]!.time),
    [0, 1e9, 2e9],
  );
  assert.equal(r1.drops['arp-unresolved'], 1);
  assert.equal(r1.iface('eth1')!.arp.pending.size, 0);
  // On its own subnet, the host reports the failure itself.
  const local = h1.ping(ip('10.0.1.99'), { count: 1, timeout: 10e9 });
  net.run();
  assert.deepEqual(
    local.results.map((r) => [r.status, r.from, r.message]),
    [['error', '10.0.1.1', 'Destination Host Unreachable']],
  );
});

test("ACLs in and out: first match decides, hits are counted, a denied packet gets 'Packet filtered'", () => {
  const net = new Network();
  const sw = net.addSwitch('sw');
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', gateway: '10.0.1.254' });
  const h3 = net.addHost('h3', { ip: '10.0.1.3/24', gateway: '10.0.1.254' });
  const h2 = net.addHost('h2', { ip: '10.0.2.1/24', gateway: '10.0.2.254' });
  const r1 = net.addRouter('r1', [
    { name: 'eth0', addresses: ['10.0.1.254/24'] },
    { name: 'eth1', addresses: ['10.0.2.254/24'] },
  ]);
  net.addLink(h1, sw);
  net.addLink(h3, sw);
  net.addLink(sw, r1, { bPort: 'eth0' });
  net.addLink(r1, h2, { aPort: 'eth1' });
  const inbound = r1.defineAcl('NO-PING-FROM-H1', [
    { action: 'deny', protocol: IpProtocol.icmp, src: cidr('10.0.1.1/32') },
    { action: 'permit' },
  ]);
  r1.applyAcl('eth0', 'NO-PING-FROM-H1', 'in');
  const outbound = r1.defineAcl('ONLY-ECHO', [
    { action: 'permit', protocol: IpProtocol.udp, dst: cidr('10.0.2.1/32'), dstPorts: { from: 7, to: 7 } },
    { action: 'deny', protocol: IpProtocol.udp, dstPorts: { from: 100, to: 200 } },
    { action: 'permit', protocol: IpProtocol.icmp },
  ]);
  r1.applyAcl('eth1', 'ONLY-ECHO', 'out');
  h2.enableUdpEcho();
  const h1Back = captureRx(net, eth0(h1));

  const denied = h1.ping(ip('10.0.2.1'), { count: 2 });
  const allowed = h3.ping(ip('10.0.2.1'), { count: 2 });
  net.run();
  assert.deepEqual(
    denied.results.map((r) => [r.status, r.from, r.message]),
    [
      ['error', '10.0.1.254', 'Packet filtered'],
      ['error', '10.0.1.254', 'Packet filtered'],
    ],
  );
  assert.deepEqual(
    allowed.results.map((r) => r.status),
    ['reply', 'reply'],
  );
  assert.deepEqual(inbound.hits, [2, 2]);
  assert.deepEqual(outbound.hits, [0, 0, 2]);
  const filtered = h1Back.filter(isIpv4).map((f) => layer(layers(f), 'icmp')!);
  assert.deepEqual(
    filtered.map((e) => [e.type, e.code]),
    [
      [3, 13],
      [3, 13],
    ],
  );

  // UDP from h1 passes the inbound ACL (rule 2), then meets the outbound one.
  const echoed: number[] = [];
  h1.bindUdp(5000, (d) => echoed.push(d.srcPort));
  h1.sendUdp(5000, ip('10.0.2.1'), 7, ascii('echo me')); // rule 1: permit
  h1.sendUdp(5000, ip('10.0.2.1'), 150, ascii('denied')); // rule 2: deny
  h1.sendUdp(5000, ip('10.0.2.1'), 9, ascii('implicit')); // no rule: implicit deny
  net.run();
  assert.deepEqual(echoed, [7]);
  assert.deepEqual(inbound.hits, [2, 5]);
  assert.deepEqual(outbound.hits, [1, 1, 2]);
  assert.equal(outbound.implicitDenyHits, 1);
  assert.equal(r1.drops['acl-deny'], 4);
  assert.equal(h2.drops['port-unreachable'], undefined, 'the denied datagrams never reached h2');
  assert.deepEqual(
    h1Back
      .filter(isIpv4)
      .map((f) => layer(layers(f), 'icmp'))
      .filter((e) => e !== undefined)
      .map((e) => [e.type, e.code, (e.quoted as Layer[] | undefined)?.[1]?.dstPort]),
    [
      [3, 13, undefined],
      [3, 13, undefined],
      [3, 13, 150],
      [3, 13, 9],
    ],
  );
  assert.deepEqual(
    outbound.table().map((r) => [r.rule, r.text, r.hits]),
    [
      [1, 'permit udp any 10.0.2.1/32 eq 7', 1],
      [2, 'deny udp any any range 100-200', 1],
      [3, 'permit icmp any any', 2],
      [4, 'deny ip any any (implicit)', 1],
    ],
  );
});

test('router-on-a-stick: sub-interfaces route between VLANs over one tagged trunk', () => {
  const net = new Network();
  const sw = net.addSwitch('sw');
  const h1 = net.addHost('h1', { ip: '10.0.10.1/24', gateway: '10.0.10.254' });
  const h2 = net.addHost('h2', { ip: '10.0.20.1/24', gateway: '10.0.20.254' });
  const r1 = net.addRouter('r1', [
    { name: 'eth0.10', port: 'eth0', vlan: 10, addresses: ['10.0.10.254/24'] },
    { name: 'eth0.20', port: 'eth0', vlan: 20, addresses: ['10.0.20.254/24'] },
  ]);
  net.addLink(h1, sw);
  net.addLink(h2, sw);
  const trunk = net.addLink(sw, r1, { bPort: 'eth0' });
  sw.configurePort('1', { mode: 'access', vlan: 10 });
  sw.configurePort('2', { mode: 'access', vlan: 20 });
  sw.configurePort('3', { mode: 'trunk', allowed: [10, 20], native: null });
  const onTrunk = net.capture().attachLink(trunk).frames;
  const run = h1.ping(ip('10.0.20.1'), { count: 2 });
  net.run();
  assert.deepEqual(
    run.results.map((r) => [r.status, r.ttl]),
    [
      ['reply', 63],
      ['reply', 63],
    ],
  );
  const macOf = (name: string) => formatMac(r1.iface(name)!.mac);
  assert.ok(onTrunk.length >= 8);
  for (const f of onTrunk) {
    const l = layers(f);
    const vlan = layer(l, 'vlan');
    assert.ok(vlan, 'every frame on the trunk is tagged');
    const net3 = `10.0.${vlan.vid}.`;
    const l3 = l[2]!;
    const addresses = l3.layer === 'arp' ? [l3.senderIp, l3.targetIp] : [];
    for (const a of addresses) assert.ok(String(a).startsWith(net3), `${a} in VLAN ${vlan.vid}`);
    if (f.where.startsWith('r1')) assert.equal(l[0]!.src, macOf(`eth0.${vlan.vid}`));
  }
  // The echo request crosses the trunk twice: in on VLAN 10, out on VLAN 20 with TTL 63.
  const requests = onTrunk
    .map(layers)
    .filter((l) => layer(l, 'icmp')?.type === 8 && layer(l, 'icmp')?.seq === 1)
    .map((l) => [layer(l, 'vlan')!.vid, layer(l, 'ipv4')!.ttl]);
  assert.deepEqual(requests, [
    [10, 64],
    [20, 63],
  ]);
});

test('sub-interfaces: untagged frames and unknown VLANs are dropped; replies are tagged', () => {
  const net = new Network();
  const r1 = net.addRouter('r1', [
    { name: 'eth0.10', port: 'eth0', vlan: 10, addresses: ['10.0.10.254/24'], mac: R1_ETH0 },
  ]);
  const s = station(net, 's');
  net.addLink(s, r1, { bPort: 'eth0' });
  const S = mac('02:00:00:00:0a:01');
  const ask = emitArp({
    op: 1,
    senderMac: S,
    senderIp: ip('10.0.10.1'),
    targetMac: 0,
    targetIp: ip('10.0.10.254'),
  });
  s.send(ethernet(0xffff_ffff_ffff, S, EtherType.arp, ask));
  s.send(ethernet(0xffff_ffff_ffff, S, EtherType.arp, ask, [tag(30)]));
  net.run();
  assert.equal(s.received.length, 0);
  assert.deepEqual(r1.drops, { 'no-interface': 1, 'unknown-vlan': 1 });
  s.send(ethernet(0xffff_ffff_ffff, S, EtherType.arp, ask, [tag(10)]));
  net.run();
  assert.equal(s.received.length, 1);
  const reply = emitArp({
    op: 2,
    senderMac: R1_ETH0,
    senderIp: ip('10.0.10.254'),
    targetMac: S,
    targetIp: ip('10.0.10.1'),
  });
  assert.deepEqual(s.received[0]!.frame, ethernet(S, R1_ETH0, EtherType.arp, reply, [tag(10)]));
  assert.equal(s.received[0]!.frame.length, 60);
});

test('RFC 1812: no ICMP error about an ICMP error, a non-first fragment, or a broadcast source', () => {
  const { net, h1, r1 } = twoSubnets();
  const back = captureRx(net, eth0(h1));
  const nowhere = ip('192.168.9.9');
  const quote = ipv4Udp({ src: ip('192.168.9.9'), dst: ip('10.0.1.1') }, 53, 53, new Uint8Array(0)).subarray(
    0,
    28,
  );
  const icmpError = emitIcmp({ kind: 'destination-unreachable', code: 3, nextHopMtu: 0, quoted: quote });
  h1.sendIp({ dst: nowhere, protocol: IpProtocol.icmp, payload: icmpError });
  h1.sendIp({ dst: ip('10.0.2.1'), protocol: IpProtocol.icmp, payload: icmpError, ttl: 1 });
  net.run();
  assert.deepEqual(r1.drops, { 'no-route': 1, 'ttl-exceeded': 1 });
  assert.equal(r1.ipCounters.icmpErrorsSent, 0);
  assert.equal(back.filter(isIpv4).length, 0);

  // Injected by hand: a non-first fragment, and a packet from a broadcast source, both with TTL 1.
  const s = station(net, 's');
  const r1eth2 = r1.addInterface({
    name: 'eth2',
    mac: mac('02:00:00:00:fe:02'),
    addresses: [cidr('10.0.3.254/24')],
  });
  net.addLink(s, r1, { bPort: 'eth2' });
  const S = mac('02:00:00:00:03:01');
  const fragment = emitIpv4(
    ipv4Repr({
      src: ip('10.0.3.1'),
      dst: ip('10.0.2.1'),
      protocol: IpProtocol.udp,
      ttl: 1,
      fragmentOffset: 100,
    }),
    new Uint8Array(16),
  );
  const fromBroadcast = ipv4Icmp(
    { src: ip('10.0.3.255'), dst: ip('10.0.2.1'), ttl: 1 },
    { kind: 'echo-request', id: 1, seq: 1, data: new Uint8Array(8) },
  );
  const toNowhere = ipv4Icmp(
    { src: ip('0.0.0.0'), dst: nowhere },
    { kind: 'echo-request', id: 1, seq: 1, data: new Uint8Array(8) },
  );
  for (const p of [fragment, fromBroadcast, toNowhere]) s.send(ethernet(r1eth2.mac, S, EtherType.ipv4, p));
  net.run();
  assert.deepEqual(r1.drops, { 'no-route': 2, 'ttl-exceeded': 3 });
  assert.equal(r1.ipCounters.icmpErrorsSent, 0);
  assert.equal(s.received.length, 0, 'the router did not even ARP for a source to send an error to');

  // For contrast: an echo request with TTL 1 from a unicast source does get its error.
  const echo = ipv4Icmp(
    { src: ip('10.0.3.1'), dst: ip('10.0.2.1'), ttl: 1 },
    { kind: 'echo-request', id: 1, seq: 1, data: new Uint8Array(8) },
  );
  s.send(ethernet(r1eth2.mac, S, EtherType.ipv4, echo));
  net.run({ until: net.scheduler.now() + 1e6 });
  assert.equal(r1.ipCounters.icmpErrorsSent, 1);
  assert.equal(layer(layers(s.received[0]!.frame), 'arp')!.targetIp, '10.0.3.1');
});

test('a directed broadcast to a remote subnet is not forwarded by default (RFC 2644)', () => {
  const { net, h1, h2, r1 } = twoSubnets();
  const arrived = captureRx(net, eth0(h2));
  h1.ping(ip('10.0.2.255'), { count: 1 });
  net.run();
  assert.equal(arrived.filter(isIpv4).length, 0);
  assert.equal(r1.ipCounters.forwarded, 0);
});

test("a link MTU below IPv4's 68 is refused when the link is made (RFC 791)", () => {
  const net = new Network();
  net.addHost('h2', { ip: '10.0.2.1/24', gateway: '10.0.2.254' });
  const r1 = net.addRouter('r1', [{ name: 'eth1', addresses: ['10.0.2.254/24'] }]);
  assert.throws(
    () => net.addLink(r1, 'h2', { aPort: 'eth1', mtu: 24 }),
    /MTU 24 is below IPv4's minimum of 68 \(RFC 791\)/,
  );
});

test("an inbound ACL also filters packets for the router itself (as Cisco's ip access-group in)", () => {
  const net = new Network();
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', gateway: '10.0.1.254', announce: false });
  const r1 = net.addRouter('r1', [
    { name: 'eth0', addresses: ['10.0.1.254/24'] },
    { name: 'eth1', addresses: ['10.0.2.254/24'] },
  ]);
  net.addLink(h1, r1, { bPort: 'eth0' });
  r1.defineAcl('no-ping', [{ action: 'deny', protocol: 1 }, { action: 'permit' }]);
  r1.applyAcl('eth0', 'no-ping', 'in');
  const ping = h1.ping(ip('10.0.2.254'), { count: 1 });
  net.run({ until: 2e9 });
  assert.deepEqual(
    ping.results.map((r) => [r.status, r.message]),
    [['error', 'Packet filtered']],
  );
  assert.deepEqual(r1.acl('no-ping')!.hits, [1, 0]);
  assert.equal(r1.drops['acl-deny'], 1);
});

test("a host fragments its own packets that exceed the first link's MTU (RFC 791), unless DF", () => {
  const net = new Network();
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', announce: false });
  const h2 = net.addHost('h2', { ip: '10.0.1.2/24', announce: false });
  const link = net.addLink(h1, h2);
  const capture = net.capture().attachLink(link);
  const ping = h1.ping(ip('10.0.1.2'), { count: 1, size: 2000 });
  net.run({ until: 2e9 });
  const ipv4 = capture.frames
    .map((f) => decodeFrame(f.data).layers[1]!)
    .filter((l) => l.layer === 'ipv4' && l.src === '10.0.1.1');
  assert.deepEqual(
    ipv4.map((l) => [l.totalLength, l.fragmentOffset, l.mf]),
    [
      [1500, 0, true],
      [548, 185, false],
    ],
  );
  // h2 reassembles the request and fragments its reply the same way; h1 reassembles that.
  assert.deepEqual(
    [h2.ipCounters.reassembled, h1.ipCounters.reassembled, ping.results[0]!.status],
    [1, 1, 'reply'],
  );
  assert.equal(
    h1.sendIp({ dst: ip('10.0.1.2'), protocol: 17, payload: new Uint8Array(3000), df: true }),
    'message-too-long',
  );
});

test('martians and unicast packets in broadcast frames are not forwarded; errors about packets to the router come from the address targeted', () => {
  const net = new Network();
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', gateway: '10.0.1.254', announce: false });
  const r1 = net.addRouter('r1', [
    { name: 'eth0', addresses: ['10.0.1.254/24'] },
    { name: 'eth1', addresses: ['10.0.2.254/24'] },
  ]);
  net.addLink(h1, r1, { bPort: 'eth0' });
  r1.addStaticRoute({ prefix: cidr('0.0.0.0/0'), iface: 'eth1' });
  for (const dst of ['127.0.0.1', '224.0.0.5', '0.1.2.3']) h1.sendUdp(5000, ip(dst), 9, new Uint8Array(4));
  net.run({ until: 1e9 });
  assert.equal(r1.drops.martian, 3);
  assert.equal(r1.ipCounters.forwarded, 0);
  // UDP to the router's far address: port unreachable comes from 10.0.2.254, the address that was asked.
  h1.sendUdp(5000, ip('10.0.2.254'), 9, new Uint8Array(4));
  const errors: string[] = [];
  eth0(h1).tap((frame, dir) => {
    if (dir !== 'rx') return;
    const l = decodeFrame(frame).layers;
    if (l[2]?.layer === 'icmp') errors.push(`${l[1]!.src} ${l[2].type}/${l[2].code}`);
  });
  net.run({ until: 2e9 });
  assert.deepEqual(errors, ['10.0.2.254 3/3']);
});
