/**
 * Hosts: ARP as Linux does it (a request for us creates the requester's entry, gratuitous ARP
 * only refreshes, a probe teaches nothing, unsolicited replies are ignored), the gratuitous ARP of
 * `start()`, ARP cache timeout, ping statistics with RTTs computed from link delay and
 * serialisation, the UDP echo service and port unreachable, and a hub's repeated frames.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Host } from '../../src/devices/ip/host.js';
import type { TraceLog } from '../../src/devices/trace.js';
import { ETHERNET_WIRE_OVERHEAD } from '../../src/link/index.js';
import { Network } from '../../src/topo/network.js';
import {
  arpProbe,
  arpReply,
  arpRequest,
  decodeFrame,
  EtherType,
  emitArp,
  emitEthernetFrame,
  emitIpv4,
  formatIpv4,
  gratuitousArp,
  ip,
  type Layer,
  mac,
} from '../../src/wire/index.js';
import { ascii, ethernet, tag } from '../helpers/build.js';
import { station } from '../helpers/station.js';

const BROADCAST = 0xffff_ffff_ffff;
const H1 = mac('02:00:00:00:00:01');
const H2 = mac('02:00:00:00:00:02');
const H3 = mac('02:00:00:00:00:03');

const arpTable = (h: Host, now: number) =>
  h
    .iface('eth0')!
    .arp.table(now)
    .map((e) => [e.ip, e.mac]);

const layersOf = (frame: Uint8Array): Layer[] => {
  const d = decodeFrame(frame);
  assert.equal(d.error, null);
  return d.layers;
};
const layer = (ls: Layer[], name: string) => ls.find((l) => l.layer === name);

/** h1, h2, h3 (10.0.0.1-3/24) and a test station on one switch. */
function lan(options: { announce?: boolean } = {}) {
  const net = new Network({ trace: true });
  const sw = net.addSwitch('sw');
  const hosts = [H1, H2, H3].map((m, i) => {
    const h = net.addHost(`h${i + 1}`, { ip: `10.0.0.${i + 1}/24`, mac: m, ...options });
    net.addLink(h, sw);
    return h;
  });
  const s = station(net, 's');
  net.addLink(s, sw);
  return { net, h1: hosts[0]!, h2: hosts[1]!, h3: hosts[2]!, s };
}

test('ARP as Linux: the asked host learns the asker; bystanders learn nothing', () => {
  const { net, h1, h2, h3 } = lan();
  assert.equal(h1.resolveNeighbor(ip('10.0.0.2'))?.name, 'eth0');
  net.run();
  const now = net.scheduler.now();
  assert.deepEqual(arpTable(h1, now), [['10.0.0.2', '02:00:00:00:00:02']]);
  assert.deepEqual(arpTable(h2, now), [['10.0.0.1', '02:00:00:00:00:01']]); // a request for us creates the entry
  assert.deepEqual(arpTable(h3, now), []); // it saw the broadcast, but was not asked
  assert.equal(h1.ipCounters.arpRequestsSent, 1);
  assert.equal(h2.ipCounters.arpRepliesSent, 1);
  assert.equal(h3.ipCounters.arpRepliesSent, 0);
});

test('gratuitous ARP updates an existing entry and creates none; a probe and unsolicited replies teach nothing', () => {
  const { net, h1, h2, h3, s } = lan();
  const S1 = mac('02:00:00:00:00:51');
  const S2 = mac('02:00:00:00:00:52');
  const arp = (dst: number, src: number, repr: Parameters<typeof emitArp>[0]) =>
    s.send(ethernet(dst, src, EtherType.arp, emitArp(repr)));
  const tables = () => [h1, h2, h3].map((h) => arpTable(h, net.scheduler.now()));

  // 10.0.0.50 asks h2: h2 learns it (and answers), nobody else does.
  arp(BROADCAST, S1, arpRequest(S1, ip('10.0.0.50'), ip('10.0.0.2')));
  net.run();
  assert.deepEqual(tables(), [[], [['10.0.0.50', '02:00:00:00:00:51']], []]);
  assert.equal(s.received.filter((r) => r.frame[0] !== 0xff).length, 1); // h2's reply
  s.clear();

  // 10.0.0.50 announces a new MAC (RFC 5227 announcement): h2 updates, h1 and h3 still create nothing.
  arp(BROADCAST, S2, gratuitousArp(S2, ip('10.0.0.50')));
  net.run();
  assert.deepEqual(tables(), [[], [['10.0.0.50', '02:00:00:00:00:52']], []]);
  // The same as a gratuitous reply, back to the first MAC.
  arp(BROADCAST, S1, arpReply(S1, ip('10.0.0.50'), BROADCAST, ip('10.0.0.50')));
  net.run();
  assert.deepEqual(tables(), [[], [['10.0.0.50', '02:00:00:00:00:51']], []]);
  assert.ok(
    (net.tracer as TraceLog).events.some(
      (e) => e.node === 'h2' && e.message === 'ARP cache eth0: 10.0.0.50 -> 02:00:00:00:00:52',
    ),
  );

  // An unsolicited reply unicast to h3: ignored (Linux's arp_accept=0).
  arp(H3, S1, arpReply(S1, ip('10.0.0.60'), H3, ip('10.0.0.3')));
  net.run();
  assert.deepEqual(tables(), [[], [['10.0.0.50', '02:00:00:00:00:51']], []]);
  assert.equal(s.received.length, 0);

  // A probe (sender 0.0.0.0) for h2's address: h2 defends it with a reply, and nobody learns anything.
  const S3 = mac('02:00:00:00:00:53');
  arp(BROADCAST, S3, arpProbe(S3, ip('10.0.0.2')));
  net.run();
  assert.deepEqual(tables(), [[], [['10.0.0.50', '02:00:00:00:00:51']], []]);
  assert.equal(s.received.length, 1);
  const reply = s.received[0]!.frame;
  assert.deepEqual(reply, ethernet(S3, H2, EtherType.arp, emitArp(arpReply(H2, ip('10.0.0.2'), S3, 0))));
  // A priority-tagged request (VID 0) is an untagged one to a host: answered, untagged.
  s.clear();
  s.send(
    ethernet(BROADCAST, S3, EtherType.arp, emitArp(arpRequest(S3, ip('10.0.0.50'), ip('10.0.0.3'))), [
      tag(0, 6),
    ]),
  );
  net.run();
  assert.equal(s.received.length, 1);
  assert.deepEqual(
    s.received[0]!.frame,
    ethernet(S3, H3, EtherType.arp, emitArp(arpReply(H3, ip('10.0.0.3'), S3, ip('10.0.0.50')))),
  );
  // h3 was asked, so it learns the asker; h2, which knew 10.0.0.50, refreshes it from the broadcast.
  assert.deepEqual(tables(), [
    [],
    [['10.0.0.50', '02:00:00:00:00:53']],
    [['10.0.0.50', '02:00:00:00:00:53']],
  ]);
  // A probe for an address nobody has gets no answer, and changes nothing.
  s.clear();
  const before = tables();
  arp(BROADCAST, S3, arpProbe(S3, ip('10.0.0.77')));
  net.run();
  assert.equal(s.received.length, 0);
  assert.deepEqual(tables(), before);
});

test('start() announces each address with a gratuitous ARP, unless announce is false', () => {
  const net = new Network();
  const sw = net.addSwitch('sw');
  const h1 = net.addHost('h1', { ip: '10.0.0.1/24', mac: H1 });
  const h2 = net.addHost('h2', { ip: '10.0.0.2/24', mac: H2, announce: false });
  net.addLink(h1, sw);
  net.addLink(h2, sw);
  const c1 = net.capture().attachPort(h1.port('eth0')!, 'tx').frames;
  const c2 = net.capture().attachPort(h2.port('eth0')!, 'tx').frames;
  net.start();
  net.run();
  assert.equal(c1.length, 1);
  assert.deepEqual(
    c1[0]!.data,
    ethernet(BROADCAST, H1, EtherType.arp, emitArp(gratuitousArp(H1, ip('10.0.0.1')))),
  );
  assert.equal(layer(layersOf(c1[0]!.data), 'arp')!.kind, 'announcement');
  assert.equal(c2.length, 0);
  // h2 had no entry for h1, so the announcement created none.
  assert.deepEqual(arpTable(h2, net.scheduler.now()), []);
  assert.equal(h2.port('eth0')!.counters.rxFrames, 1);
});

test('ARP entries expire after the cache timeout; the next packet asks again', () => {
  const net = new Network();
  const timeout = 5e9;
  const h1 = net.addHost('h1', { ip: '10.0.0.1/24', mac: H1, arp: { timeout } });
  const h2 = net.addHost('h2', { ip: '10.0.0.2/24', mac: H2, arp: { timeout } });
  net.addLink(h1, h2);
  const first = h1.ping(ip('10.0.0.2'), { count: 1 });
  net.run();
  assert.equal(first.results[0]!.status, 'reply');
  // Request and reply, 60 bytes each over the default link (1 Gbps, 1 us): the entry was made at 2 x 1672 ns.
  const made = 2 * ((60 + ETHERNET_WIRE_OVERHEAD) * 8 + 1_000);
  const cache = h1.iface('eth0')!.arp;
  assert.deepEqual(
    cache.table(made).map((e) => [e.ip, e.age]),
    [['10.0.0.2', 0]],
  );
  net.run({ until: 4e9 });
  h1.ping(ip('10.0.0.2'), { count: 1 });
  net.run();
  assert.equal(h1.ipCounters.arpRequestsSent, 1, 'still cached at 4 s');
  assert.equal(cache.lookup(ip('10.0.0.2'), made + timeout), H2, 'alive for exactly the timeout');
  assert.equal(cache.lookup(ip('10.0.0.2'), made + timeout + 1), undefined);
  assert.deepEqual(cache.table(made + timeout + 1), []);
  net.run({ until: 6e9 });
  const later = h1.ping(ip('10.0.0.2'), { count: 1 });
  net.run();
  assert.equal(later.results[0]!.status, 'reply');
  assert.equal(h1.ipCounters.arpRequestsSent, 2);
});

/** One-way time of a `bytes`-long frame over a link: serialisation (with preamble, FCS, gap) plus delay. */
const hop = (bytes: number, bandwidth: number, delay: number) =>
  Math.round(((bytes + ETHERNET_WIRE_OVERHEAD) * 8 * 1e9) / bandwidth) + delay;

test('ping statistics: RTTs exactly as the links dictate, then loss when a link goes down', () => {
  const net = new Network();
  const sw = net.addSwitch('sw');
  const h1 = net.addHost('h1', { ip: '10.0.0.1/24', mac: H1 });
  const h2 = net.addHost('h2', { ip: '10.0.0.2/24', mac: H2 });
  net.addLink(h1, sw, { bandwidth: 100e6, delay: 10_000 });
  const far = net.addLink(sw, h2, { bandwidth: 1e9, delay: 5_000 });
  const oneWay = (bytes: number) => hop(bytes, 100e6, 10_000) + hop(bytes, 1e9, 5_000);
  const arp = oneWay(60); // ARP request and reply, padded to 60 bytes
  const echo = oneWay(14 + 20 + 8 + 56); // 98-byte echo request and reply
  assert.deepEqual([arp, echo], [22_392, 25_736]);
  const run = h1.ping(ip('10.0.0.2'), { count: 3 });
  net.run();
  const first = 2 * arp + 2 * echo; // the first request waited for ARP
  assert.deepEqual(
    run.results.map((r) => [r.seq, r.status, r.rtt, r.ttl, r.from]),
    [
      [1, 'reply', first, 64, '10.0.0.2'],
      [2, 'reply', 2 * echo, 64, '10.0.0.2'],
      [3, 'reply', 2 * echo, 64, '10.0.0.2'],
    ],
  );
  const rtts = [first, 2 * echo, 2 * echo];
  const avg = (first + 4 * echo) / 3;
  const stats = run.statistics();
  assert.deepEqual(
    { ...stats, rttAvg: null, rttMdev: null },
    {
      transmitted: 3,
      received: 3,
      errors: 0,
      lossPercent: 0,
      rttMin: 2 * echo,
      rttAvg: null,
      rttMax: first,
      rttMdev: null,
    },
  );
  assert.ok(Math.abs(stats.rttAvg! - avg) < 1e-6);
  assert.ok(Math.abs(stats.rttMdev! - Math.sqrt(rtts.reduce((a, r) => a + (r - avg) ** 2, 0) / 3)) < 1e-6);
  assert.equal(run.done, true);

  // Four more, one a second; h2's link fails after the second: 50% loss.
  const lossy = h1.ping(ip('10.0.0.2'), { count: 4 });
  net.scheduler.schedule(1.5e9, () => far.setUp(false));
  net.run();
  assert.deepEqual(
    lossy.results.map((r) => [r.seq, r.status, r.rtt]),
    [
      [1, 'reply', 2 * echo],
      [2, 'reply', 2 * echo],
      [3, 'timeout', undefined],
      [4, 'timeout', undefined],
    ],
  );
  assert.deepEqual(
    { ...lossy.statistics(), rttMdev: Math.round(lossy.statistics().rttMdev!) },
    {
      transmitted: 4,
      received: 2,
      errors: 0,
      lossPercent: 50,
      rttMin: 2 * echo,
      rttAvg: 2 * echo,
      rttMax: 2 * echo,
      rttMdev: 0,
    },
  );

  // No route at all: nothing is transmitted, and ping says why.
  const nowhere = h1.ping(ip('192.168.1.1'), { count: 2 });
  net.run();
  assert.deepEqual(
    nowhere.results.map((r) => [r.status, r.message]),
    [
      ['not-sent', 'Network is unreachable'],
      ['not-sent', 'Network is unreachable'],
    ],
  );
  assert.deepEqual([nowhere.statistics().transmitted, nowhere.statistics().lossPercent], [0, 100]);
});

test('UDP: the echo service answers; a closed port gets ICMP port unreachable quoting the datagram', () => {
  const net = new Network();
  const h1 = net.addHost('h1', { ip: '10.0.0.1/24', mac: H1 });
  const h2 = net.addHost('h2', { ip: '10.0.0.2/24', mac: H2 });
  net.addLink(h1, h2);
  h2.enableUdpEcho();
  assert.ok(h2.isBound(7));
  assert.throws(() => h2.bindUdp(7, () => {}), /port 7 is in use/);
  const got: [string, number, number, string][] = [];
  h1.bindUdp(5000, (d) =>
    got.push([formatIpv4(d.src), d.srcPort, d.dstPort, new TextDecoder().decode(d.payload)]),
  );
  assert.equal(h1.sendUdp(5000, ip('10.0.0.2'), 7, ascii('hello, echo')), true);
  net.run();
  assert.deepEqual(got, [['10.0.0.2', 7, 5000, 'hello, echo']]);
  assert.deepEqual(
    h2.udpLog.map((d) => [formatIpv4(d.src), d.srcPort, d.dstPort]),
    [['10.0.0.1', 5000, 7]],
  );

  const back = net.capture().attachPort(h1.port('eth0')!, 'rx').frames;
  h1.sendUdp(5001, ip('10.0.0.2'), 9999, ascii('anyone?'));
  h2.unbindUdp(7);
  h1.sendUdp(5000, ip('10.0.0.2'), 7, ascii('closed now'));
  net.run();
  assert.deepEqual(h2.drops, { 'port-unreachable': 2 });
  assert.equal(h2.ipCounters.icmpErrorsSent, 2);
  assert.equal(got.length, 1);
  const errors = back.map((f) => layersOf(f.data));
  assert.deepEqual(
    errors.map((l) => {
      const icmp = layer(l, 'icmp')!;
      const quoted = icmp.quoted as Layer[];
      return [
        layer(l, 'ipv4')!.src,
        icmp.type,
        icmp.code,
        quoted[0]!.src,
        quoted[1]!.srcPort,
        quoted[1]!.dstPort,
      ];
    }),
    [
      ['10.0.0.2', 3, 3, '10.0.0.1', 5001, 9999],
      ['10.0.0.2', 3, 3, '10.0.0.1', 5000, 7],
    ],
  );
});

test('a hub repeats every frame to every other port; hosts filter frames not for their MAC', () => {
  const net = new Network({ trace: true });
  const hub = net.addHub('hub');
  const [h1, h2, h3] = [H1, H2, H3].map((m, i) => {
    const h = net.addHost(`h${i + 1}`, { ip: `10.0.0.${i + 1}/24`, mac: m });
    net.addLink(h, hub);
    return h;
  }) as [Host, Host, Host];
  const run = h1.ping(ip('10.0.0.2'), { count: 1 });
  net.run();
  assert.equal(run.results[0]!.status, 'reply');
  // ARP request, ARP reply, echo request, echo reply: each repeated to the two other ports.
  assert.equal(hub.repeated, 4);
  assert.deepEqual(
    hub.ports.map((p) => [p.name, p.counters.rxFrames, p.counters.txFrames]),
    [
      ['1', 2, 2],
      ['2', 2, 2],
      ['3', 0, 4],
    ],
  );
  assert.equal(h3.port('eth0')!.counters.rxFrames, 4);
  assert.deepEqual(h3.drops, { 'mac-filtered': 3 }); // all but the broadcast
  assert.deepEqual(h1.drops, {});
  assert.deepEqual(h2.drops, {});
  assert.deepEqual(arpTable(h3, net.scheduler.now()), []);
  const repeats = (net.tracer as TraceLog).events.filter((e) => e.node === 'hub').map((e) => e.message);
  assert.deepEqual(repeats, [
    'in port 1 -> repeated to ports 2,3',
    'in port 2 -> repeated to ports 1,3',
    'in port 1 -> repeated to ports 2,3',
    'in port 2 -> repeated to ports 1,3',
  ]);
});

test('a host does not forward packets that are not for it', () => {
  const net = new Network();
  const h1 = net.addHost('h1', { ip: '10.0.0.1/24', mac: H1, gateway: '10.0.0.2' });
  const h2 = net.addHost('h2', { ip: '10.0.0.2/24', mac: H2 });
  net.addLink(h1, h2);
  const run = h1.ping(ip('192.168.0.1'), { count: 1 });
  net.run();
  assert.equal(run.results[0]!.status, 'timeout');
  assert.deepEqual(h2.drops, { 'not-for-me': 1 });
  assert.equal(h2.ipCounters.forwarded, 0);
});

test('a datagram missing a fragment is abandoned after 30 s with ICMP fragment reassembly time exceeded (RFC 792)', () => {
  const net = new Network();
  const h1 = net.addHost('h1', { ip: '10.0.1.1/24', announce: false });
  const h2 = net.addHost('h2', { ip: '10.0.1.2/24', announce: false });
  net.addLink(h1, h2);
  const errors: string[] = [];
  h1.port('eth0')!.tap((frame, dir) => {
    const l = decodeFrame(frame).layers;
    if (dir === 'rx' && l[2]?.layer === 'icmp') errors.push(`${l[2].type}/${l[2].code}`);
  });
  // Only the first of two fragments is sent (MF set, nothing follows).
  const payload = new Uint8Array(100);
  const first = emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      id: 77,
      df: false,
      mf: true,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 17,
      src: ip('10.0.1.1'),
      dst: ip('10.0.1.2'),
      options: new Uint8Array(0),
    },
    payload,
  );
  h1.resolveNeighbor(ip('10.0.1.2'));
  net.run({ until: 1e9 });
  h1.port('eth0')!.send(
    emitEthernetFrame(
      { dst: h2.interfaces[0]!.mac, src: h1.interfaces[0]!.mac, tags: [], etherType: 0x0800 },
      first,
    ),
  );
  net.run({ until: 29e9 });
  assert.deepEqual(errors, []);
  net.run({ until: 32e9 });
  assert.deepEqual(errors, ['11/1']);
  assert.equal(h2.drops['reassembly-timeout'], 1);
});
