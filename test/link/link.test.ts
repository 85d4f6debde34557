/**
 * Ports and links on a scheduler clock: exact delivery times (propagation plus serialisation with
 * Ethernet's 24 bytes of wire overhead), transmit queueing and tail drop, MTU with VLAN tags,
 * seeded loss, link down/up, drop counters by reason, port counters and taps, and captures written
 * as nanosecond pcap and read back through wire/.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Capture,
  type Clock,
  DEFAULT_LINK,
  ETHERNET_WIRE_OVERHEAD,
  Link,
  type LinkProperties,
  l3PayloadLength,
  Port,
} from '../../src/link/index.js';
import { MS, type QueuedEvent, Rng, Scheduler, SECOND, US } from '../../src/sim/index.js';
import {
  arpRequest,
  decodeFrame,
  EtherType,
  emitArp,
  emitEthernetFrame,
  emitIpv4,
  emitUdp,
  formatMac,
  IpProtocol,
  ip,
  mac,
  readCapture,
  type VlanTagRepr,
} from '../../src/wire/index.js';

const MAC_A = mac('02:00:00:00:00:0a');
const MAC_B = mac('02:00:00:00:00:0b');

/** An untagged IPv4-typed frame whose L3 payload is `length` bytes of `fill` (padded to 60 bytes). */
function frame(
  length = 46,
  fill = 0,
  tags: readonly VlanTagRepr[] = [],
  src = MAC_A,
  dst = MAC_B,
): Uint8Array {
  return emitEthernetFrame({ dst, src, tags, etherType: EtherType.ipv4 }, new Uint8Array(length).fill(fill));
}

const tag = (vid: number, tpid: number = EtherType.vlan): VlanTagRepr => ({ tpid, pcp: 0, dei: false, vid });

interface Arrival {
  readonly time: number;
  readonly port: string;
  readonly frame: Uint8Array;
}

function setup(properties: LinkProperties = {}, seed = 1) {
  const s = new Scheduler();
  const clock: Clock = { now: () => s.now(), setTimer: (d, fn) => s.schedule(d, fn) };
  const a = new Port('a', 'eth0');
  const b = new Port('b', 'eth0');
  const link = new Link(a, b, clock, new Rng(seed), properties);
  const got: Arrival[] = [];
  const record = (f: Uint8Array, p: Port) => got.push({ time: s.now(), port: p.id, frame: f });
  a.onReceive = record;
  b.onReceive = record;
  /** Sends `f` from `port` at absolute time `time`. */
  const sendAt = (time: number, port: Port, f: Uint8Array) => s.at(time, () => port.send(f));
  return { s, clock, a, b, link, got, sendAt };
}

/** Serialisation of an `n`-byte frame at 1 Gbps: one ns per bit. */
const ser1g = (n: number) => (n + ETHERNET_WIRE_OVERHEAD) * 8;

test('defaults: 1 us delay, 1 Gbps, MTU 1500, 1000 queued frames, no loss', () => {
  assert.deepEqual(DEFAULT_LINK, { delay: 1_000, bandwidth: 1e9, mtu: 1500, queueFrames: 1000, loss: 0 });
  assert.equal(ETHERNET_WIRE_OVERHEAD, 24);
  const { a, b, link } = setup();
  assert.equal(link.delay, 1 * US);
  assert.equal(link.bandwidth, 1e9);
  assert.equal(link.mtu, 1500);
  assert.equal(link.queueFrames, 1000);
  assert.equal(link.loss, 0);
  assert.equal(link.up, true);
  assert.equal(a.link, link);
  assert.equal(b.link, link);
  assert.equal(a.peer, b);
  assert.equal(b.peer, a);
  assert.equal(link.other(a), b);
  assert.equal(link.other(b), a);
  assert.ok(a.isUp && b.isUp);
  assert.equal(a.id, 'a:eth0');
  assert.equal(link.serialisation(60), 672);
  assert.equal(link.serialisation(1514), 12_304);
});

test('a port already linked cannot be linked again', () => {
  const { s, a } = setup();
  const clock: Clock = { now: () => s.now(), setTimer: (d, fn) => s.schedule(d, fn) };
  assert.throws(() => new Link(a, new Port('c', '1'), clock, new Rng(1)), /a:eth0 is already linked/);
  assert.throws(() => new Link(new Port('c', '1'), a, clock, new Rng(1)), /a:eth0 is already linked/);
});

test('a 60-byte frame on 1 Gbps with 1 us delay arrives at 1000 + (60+24)*8 = 1672 ns, unchanged', () => {
  const { s, a, got, link } = setup();
  const f = frame();
  assert.equal(f.length, 60);
  a.send(f);
  assert.equal(got.length, 0, 'nothing arrives synchronously');
  s.run();
  assert.equal(got.length, 1);
  assert.equal(got[0]!.time, 1672);
  assert.equal(got[0]!.port, 'b:eth0');
  assert.equal(got[0]!.frame, f, 'the same bytes are delivered');
  assert.equal(link.delivered, 1);
  assert.deepEqual(link.drops, {});
});

test('back-to-back frames queue behind each other, one serialisation apart', () => {
  const { s, a, got, sendAt } = setup();
  const big = frame(1500, 2);
  assert.equal(big.length, 1514);
  a.send(frame(46, 0));
  a.send(frame(46, 1));
  a.send(big);
  a.send(frame(46, 3));
  // Sent while the transmitter is still busy: waits for the queue.
  sendAt(300, a, frame(46, 4));
  // Sent after the queue has drained: starts at once.
  sendAt(100_000, a, frame(46, 5));
  s.run();
  const times = [1672, 1672 + 672, 1672 + 672 + 12_304, 1672 + 672 + 12_304 + 672];
  times.push(times[3]! + 672, 100_000 + 1672);
  assert.deepEqual(
    got.map((g) => g.time),
    times,
  );
  assert.deepEqual(
    got.map((g) => g.frame[14]),
    [0, 1, 2, 3, 4, 5],
    'in order',
  );
});

test('the two directions are independent (full duplex)', () => {
  const { s, a, b, got } = setup();
  a.send(frame(46, 1));
  a.send(frame(46, 2));
  b.send(frame(46, 3, [], MAC_B, MAC_A));
  s.run();
  assert.deepEqual(
    got.map((g) => [g.port, g.time, g.frame[14]]),
    [
      ['b:eth0', 1672, 1],
      ['a:eth0', 1672, 3],
      ['b:eth0', 2344, 2],
    ],
  );
});

test('bandwidth is in bits per second and delay in ns', () => {
  const cases: [LinkProperties, number, number][] = [
    [{ bandwidth: 1e8 }, 60, 1000 + 6_720],
    [{ bandwidth: 1e7 }, 60, 1000 + 67_200],
    [{ bandwidth: 1e10 }, 60, 1000 + 67],
    [{ bandwidth: 1e10 }, 1514, 1000 + 1230],
    [{ bandwidth: 4e10 }, 1514, 1000 + 308], // 307.6 rounds to 308
    [{ bandwidth: 1e9, delay: 0 }, 60, 672],
    [{ bandwidth: 1e9, delay: 5 * MS }, 100, 5 * MS + 992],
    [{ bandwidth: 1e8, delay: 20 * US }, 1514, 20 * US + 123_040],
  ];
  for (const [props, length, arrival] of cases) {
    const { s, a, got } = setup(props);
    a.send(frame(length - 14));
    s.run();
    assert.equal(got[0]?.time, arrival, `${JSON.stringify(props)} ${length} bytes`);
  }
  // Two frames back to back at 100 Mbps: the second one 6720 ns later.
  const { s, a, got } = setup({ bandwidth: 1e8 });
  a.send(frame());
  a.send(frame());
  s.run();
  assert.deepEqual(
    got.map((g) => g.time),
    [7_720, 14_440],
  );
});

test('the transmit queue holds `queueFrames` besides the one on the wire, and tail-drops the rest', () => {
  const { s, a, b, got, link, sendAt } = setup({ queueFrames: 2 });
  for (let i = 0; i < 5; i++) a.send(frame(46, i));
  assert.deepEqual(link.drops, { 'queue-full': 2 });
  // At 671 ns the first frame is still on the wire: three frames in the queue, so drop.
  sendAt(671, a, frame(46, 10));
  // At 672 ns it has finished: room for one more, which starts after the third (at 2016).
  sendAt(672, a, frame(46, 11));
  sendAt(672, a, frame(46, 12));
  s.run();
  assert.deepEqual(link.drops, { 'queue-full': 4 });
  assert.deepEqual(
    got.map((g) => [g.time, g.frame[14]]),
    [
      [1672, 0],
      [2344, 1],
      [3016, 2],
      [3688, 11],
    ],
  );
  assert.deepEqual(a.drops, {}, 'queue drops are counted on the link, not the port');
  assert.equal(link.delivered, 4);
  assert.equal(b.counters.rxFrames, 4);
  // The port counts every frame it handed to the link, including the ones the link dropped.
  assert.equal(a.counters.txFrames, 8);
});

test('queueFrames 0: only the frame on the wire', () => {
  const { s, a, got, link, sendAt } = setup({ queueFrames: 0 });
  a.send(frame(46, 0));
  a.send(frame(46, 1));
  sendAt(672, a, frame(46, 2));
  s.run();
  assert.deepEqual(link.drops, { 'queue-full': 1 });
  assert.deepEqual(
    got.map((g) => [g.time, g.frame[14]]),
    [
      [1672, 0],
      [2344, 2],
    ],
  );
});

test('frames whose L3 payload exceeds the MTU are dropped (VLAN tags do not count)', () => {
  assert.equal(l3PayloadLength(frame(1500)), 1500);
  assert.equal(l3PayloadLength(frame(46)), 46);
  assert.equal(l3PayloadLength(frame(10)), 46, 'padding is part of the payload');
  assert.equal(l3PayloadLength(frame(1500, 0, [tag(10)])), 1500);
  assert.equal(l3PayloadLength(frame(1500, 0, [tag(10, EtherType.qinq), tag(20)])), 1500);
  assert.equal(frame(1500, 0, [tag(10)]).length, 1518);
  assert.equal(frame(1500, 0, [tag(10, EtherType.qinq), tag(20)]).length, 1522);

  const { s, a, b, got, link } = setup();
  const ok = [frame(1500, 1), frame(1500, 2, [tag(10)]), frame(1500, 3, [tag(10, EtherType.qinq), tag(20)])];
  const tooBig = [
    frame(1501, 4),
    frame(1501, 5, [tag(10)]),
    frame(1501, 6, [tag(10, EtherType.qinq), tag(20)]),
  ];
  for (const f of [...ok, ...tooBig]) a.send(f);
  s.run();
  assert.deepEqual(link.drops, { 'mtu-exceeded': 3 });
  assert.deepEqual(
    got.map((g) => g.frame),
    ok,
  );
  // Dropped frames take no time on the wire: 1514, 1518 and 1522 bytes back to back.
  assert.deepEqual(
    got.map((g) => g.time),
    [1000 + ser1g(1514), 1000 + ser1g(1514) + ser1g(1518), 1000 + ser1g(1514) + ser1g(1518) + ser1g(1522)],
  );
  assert.deepEqual(a.drops, {});
  assert.equal(b.counters.rxFrames, 3);

  const small = setup({ mtu: 1000 });
  small.a.send(frame(1000));
  small.a.send(frame(1001));
  small.s.run();
  assert.equal(small.got.length, 1);
  assert.equal(small.got[0]!.frame.length, 1014);
  assert.deepEqual(small.link.drops, { 'mtu-exceeded': 1 });
});

/** Sends `n` frames a→b, one per microsecond (never queued); returns the indices delivered. */
function lossRun(loss: number, seed: number, n: number): { delivered: number[]; link: Link } {
  const { s, a, got, link, sendAt } = setup({ loss }, seed);
  for (let i = 0; i < n; i++) {
    const f = frame(46);
    f[14] = i & 0xff;
    f[15] = i >> 8;
    sendAt(i * US, a, f);
  }
  s.run();
  return { delivered: got.map((g) => g.frame[14]! | (g.frame[15]! << 8)), link };
}

test('seeded loss drops about the right fraction, the same frames for the same seed', () => {
  const n = 4000;
  const first = lossRun(0.3, 7, n);
  const lost = n - first.delivered.length;
  assert.ok(lost > 1050 && lost < 1350, `lost ${lost} of ${n} at 30%`);
  assert.deepEqual(first.link.drops, { loss: lost });
  assert.equal(first.link.delivered, first.delivered.length);
  assert.deepEqual(lossRun(0.3, 7, n).delivered, first.delivered, 'same seed, same losses');
  assert.notDeepEqual(lossRun(0.3, 8, n).delivered, first.delivered, 'another seed, other losses');
  const low = n - lossRun(0.01, 7, n).delivered.length;
  assert.ok(low > 20 && low < 70, `lost ${low} of ${n} at 1%`);
  assert.equal(lossRun(0, 7, 500).delivered.length, 500);
  const all = lossRun(1, 7, 500);
  assert.equal(all.delivered.length, 0);
  assert.deepEqual(all.link.drops, { loss: 500 });
});

test('a lost frame still occupies the wire', () => {
  const { s, a, got, link } = setup();
  link.loss = 1;
  a.send(frame(46, 1));
  link.loss = 0;
  a.send(frame(46, 2));
  s.run();
  assert.deepEqual(
    got.map((g) => [g.time, g.frame[14]]),
    [[2344, 2]],
  );
  assert.deepEqual(link.drops, { loss: 1 });
});

test('setUp(false) loses frames in flight and refuses new ones; setUp(true) starts afresh', () => {
  const { s, a, b, got, link, sendAt } = setup();
  const changes: [string, boolean, number][] = [];
  a.onLinkChange = (up, p) => changes.push([p.id, up, s.now()]);
  b.onLinkChange = (up, p) => changes.push([p.id, up, s.now()]);
  a.send(frame(46, 1)); // arrives 1672
  a.send(frame(46, 2)); // would arrive 2344
  a.send(frame(46, 3)); // would arrive 3016
  b.send(frame(46, 4, [], MAC_B, MAC_A)); // would arrive 1672 at a
  s.at(1500, () => link.setUp(false));
  s.at(1500, () => link.setUp(false)); // no change, no notification
  sendAt(1600, a, frame(46, 5));
  sendAt(1600, b, frame(46, 6, [], MAC_B, MAC_A));
  s.at(1700, () => {
    assert.equal(a.isUp, false);
    link.setUp(true);
  });
  // Sent when the link is back: the queue was flushed, so it starts at once.
  sendAt(1700, a, frame(46, 7));
  s.run();
  assert.deepEqual(
    got.map((g) => [g.port, g.time, g.frame[14]]),
    [['b:eth0', 1700 + 1672, 7]],
  );
  assert.deepEqual(link.drops, { 'link-down': 4 }, 'the four frames in flight');
  assert.deepEqual(a.drops, { 'link-down': 1 });
  assert.deepEqual(b.drops, { 'link-down': 1 });
  assert.equal(a.counters.txFrames, 4, 'refused frames are not counted as sent');
  assert.equal(b.counters.txFrames, 1);
  assert.equal(link.delivered, 1);
  assert.deepEqual(changes, [
    ['a:eth0', false, 1500],
    ['b:eth0', false, 1500],
    ['a:eth0', true, 1700],
    ['b:eth0', true, 1700],
  ]);
  assert.ok(a.isUp && b.isUp);
});

test('a frame that arrived before the link went down is delivered', () => {
  const { s, a, got, link } = setup();
  a.send(frame(46, 1));
  a.send(frame(46, 2));
  s.at(1672, () => link.setUp(false)); // scheduled after frame 1's delivery event, at the same time
  s.run();
  assert.deepEqual(
    got.map((g) => [g.time, g.frame[14]]),
    [[1672, 1]],
  );
  assert.deepEqual(link.drops, { 'link-down': 1 });
});

test('a port with no link counts no-link and sends nothing', () => {
  const p = new Port('lonely', '0');
  let tapped = 0;
  p.tap(() => tapped++);
  assert.equal(p.link, null);
  assert.equal(p.peer, null);
  assert.equal(p.isUp, false);
  p.send(frame());
  p.send(frame());
  assert.deepEqual(p.drops, { 'no-link': 2 });
  assert.deepEqual(p.counters, { txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0 });
  assert.equal(tapped, 0);
});

test('port counters count frames and bytes exactly in each direction', () => {
  const { s, a, b } = setup();
  const sizes = [60, 100, 1514, 61, 60];
  for (const n of sizes) a.send(frame(n - 14));
  b.send(frame(86, 0, [], MAC_B, MAC_A));
  b.send(frame(500, 0, [tag(3)], MAC_B, MAC_A));
  s.run();
  const aToB = sizes.reduce((x, y) => x + y, 0);
  const bToA = 100 + 518;
  assert.deepEqual(a.counters, { txFrames: 5, txBytes: aToB, rxFrames: 2, rxBytes: bToA });
  assert.deepEqual(b.counters, { txFrames: 2, txBytes: bToA, rxFrames: 5, rxBytes: aToB });
  assert.deepEqual(a.drops, {});
  assert.deepEqual(b.drops, {});
});

test('Port.tap sees frames sent and received, with the time, until removed', () => {
  const { s, a, b } = setup();
  const seen: [string, string, number, Uint8Array][] = [];
  const untapA = a.tap((f, dir, p) => seen.push([p.id, dir, s.now(), f]));
  b.tap((f, dir, p) => seen.push([p.id, dir, s.now(), f]));
  const order: string[] = [];
  b.tap(() => order.push('tap'));
  b.onReceive = () => order.push('receive');
  const f1 = frame(46, 1);
  const f2 = frame(46, 2, [], MAC_B, MAC_A);
  a.send(f1);
  s.at(5000, () => b.send(f2));
  s.run();
  assert.deepEqual(seen, [
    ['a:eth0', 'tx', 0, f1],
    ['b:eth0', 'rx', 1672, f1],
    ['b:eth0', 'tx', 5000, f2],
    ['a:eth0', 'rx', 6672, f2],
  ]);
  assert.deepEqual(order, ['tap', 'receive', 'tap'], 'taps see a frame before the device does');
  untapA();
  untapA();
  seen.length = 0;
  a.send(frame(46, 3));
  s.run();
  assert.deepEqual(
    seen.map(([id, dir]) => `${id} ${dir}`),
    ['b:eth0 rx'],
  );
});

test('a link capture writes a nanosecond pcap with the exact bytes and simulated timestamps', () => {
  const { s, clock, a, b, link, sendAt } = setup();
  const capture = new Capture(clock).attachLink(link);
  const arp = emitEthernetFrame(
    { dst: 0xffff_ffff_ffff, src: MAC_A, tags: [], etherType: EtherType.arp },
    emitArp(arpRequest(MAC_A, ip('10.0.0.1'), ip('10.0.0.2'))),
  );
  const udp = emitEthernetFrame(
    { dst: MAC_A, src: MAC_B, tags: [tag(100)], etherType: EtherType.ipv4 },
    emitIpv4(
      {
        dscp: 0,
        ecn: 0,
        id: 1,
        df: true,
        mf: false,
        fragmentOffset: 0,
        ttl: 64,
        protocol: IpProtocol.udp,
        src: ip('10.0.0.2'),
        dst: ip('10.0.0.1'),
        options: new Uint8Array(0),
      },
      emitUdp({ srcPort: 4000, dstPort: 53 }, new TextEncoder().encode('hello'), {
        src: ip('10.0.0.2'),
        dst: ip('10.0.0.1'),
      }),
    ),
  );
  const late = frame(200, 0xab);
  sendAt(0, a, arp);
  sendAt(12_345, b, udp);
  sendAt(SECOND + 987_654_321, a, late); // past one second: seconds and nanoseconds fields
  s.run();
  assert.deepEqual(
    capture.frames.map((f) => [f.time, f.where, f.data]),
    [
      [0, 'a:eth0 tx', arp],
      [12_345, 'b:eth0 tx', udp],
      [SECOND + 987_654_321, 'a:eth0 tx', late],
    ],
  );

  const file = readCapture(capture.toPcap());
  assert.equal(file.error, null);
  assert.equal(file.format, 'pcap');
  assert.equal(file.resolution, 'nano');
  assert.deepEqual(
    file.packets.map((p) => [p.index, p.timestamp, p.linkType, p.originalLength, [...p.data]]),
    [
      [1, { seconds: 0, nanos: 0 }, 1, arp.length, [...arp]],
      [2, { seconds: 0, nanos: 12_345 }, 1, udp.length, [...udp]],
      [3, { seconds: 1, nanos: 987_654_321 }, 1, late.length, [...late]],
    ],
  );

  const arpDecoded = decodeFrame(file.packets[0]!.data);
  assert.equal(arpDecoded.error, null);
  assert.deepEqual(
    arpDecoded.layers.map((l) => l.layer),
    ['ethernet', 'arp'],
  );
  assert.equal(arpDecoded.layers[0]!.src, formatMac(MAC_A));
  assert.equal(arpDecoded.layers[0]!.dst, 'ff:ff:ff:ff:ff:ff');
  assert.equal(arpDecoded.layers[1]!.kind, 'request');
  assert.equal(arpDecoded.layers[1]!.targetIp, '10.0.0.2');

  const udpDecoded = decodeFrame(file.packets[1]!.data);
  assert.equal(udpDecoded.error, null);
  assert.deepEqual(udpDecoded.warnings, []);
  assert.deepEqual(
    udpDecoded.layers.map((l) => l.layer),
    ['ethernet', 'vlan', 'ipv4', 'udp', 'payload'],
  );
  assert.equal(udpDecoded.layers[1]!.vid, 100);
  assert.equal(udpDecoded.layers[2]!.src, '10.0.0.2');
  assert.equal(udpDecoded.layers[3]!.dstPort, 53);
  assert.equal(udpDecoded.layers[3]!.checksumOk, true);

  // Detached, it records nothing more.
  capture.detach();
  a.send(frame());
  s.run();
  assert.equal(capture.frames.length, 3);
});

test('a port capture records each direction at its own time', () => {
  const { s, clock, a, b } = setup();
  const rx = new Capture(clock).attachPort(b, 'rx');
  const tx = new Capture(clock).attachPort(b, 'tx');
  const both = new Capture(clock).attachPort(b);
  a.send(frame(46, 1));
  s.at(10_000, () => b.send(frame(46, 2, [], MAC_B, MAC_A)));
  s.run();
  assert.deepEqual(
    rx.frames.map((f) => [f.time, f.where]),
    [[1672, 'b:eth0 rx']],
  );
  assert.deepEqual(
    tx.frames.map((f) => [f.time, f.where]),
    [[10_000, 'b:eth0 tx']],
  );
  assert.deepEqual(
    both.frames.map((f) => [f.time, f.where]),
    [
      [1672, 'b:eth0 rx'],
      [10_000, 'b:eth0 tx'],
    ],
  );
  const file = readCapture(both.toPcap());
  assert.deepEqual(
    file.packets.map((p) => p.timestamp.nanos),
    [1672, 10_000],
  );
});

test('a link capture sees only frames that go on the cable', () => {
  const { s, clock, a, link } = setup({ queueFrames: 0 });
  const capture = new Capture(clock).attachLink(link);
  a.send(frame(1501)); // mtu-exceeded
  a.send(frame(46, 1));
  a.send(frame(46, 2)); // queue-full
  s.run();
  assert.deepEqual(link.drops, { 'mtu-exceeded': 1, 'queue-full': 1 });
  assert.deepEqual(
    capture.frames.map((f) => f.data[14]),
    [1],
  );
});

test('a link capture stamps a queued frame when it starts on the wire', () => {
  const { s, clock, a, link } = setup();
  const capture = new Capture(clock).attachLink(link);
  a.send(frame(46, 1));
  a.send(frame(46, 2)); // waits 672 ns for the first
  s.run();
  assert.deepEqual(
    capture.frames.map((f) => f.time),
    [0, 672],
  );
});

test('frames in flight wait in a ring with one queued event, in exactly the order of one event per frame, through a link flap', () => {
  const run = (ordered: boolean) => {
    const s = new Scheduler();
    const clock: Clock = { now: () => s.now(), setTimer: (d, fn) => s.schedule(d, fn) };
    if (ordered)
      Object.assign(clock, {
        reserve: () => s.reserve(),
        atReserved: (t: number, q: number, f: () => void) => s.atReserved(t, q, f),
        requeue: (event: QueuedEvent, t: number, q: number) => s.requeue(event, t, q),
      });
    const a = new Port('A', 'a');
    const b = new Port('B', 'b');
    const link = new Link(a, b, clock, new Rng(1), { bandwidth: 1e6, delay: 1000 });
    const log: string[] = [];
    b.onReceive = (f) => log.push(`${s.now()} #${f[0]}`);
    a.onReceive = (f) => log.push(`${s.now()} back #${f[0]}`);
    for (let i = 1; i <= 10; i++) a.send(new Uint8Array(100).fill(i)); // ~1 ms each at 1 Mbps
    s.at(500_000, () => link.setUp(false)); // the ten in flight are lost
    s.at(600_000, () => link.setUp(true));
    s.at(700_000, () => a.send(new Uint8Array(100).fill(99))); // due long before the lost ones
    s.at(700_000, () => b.send(new Uint8Array(60).fill(7)));
    s.run();
    return { log, drops: link.drops };
  };
  const perFrame = run(false);
  assert.deepEqual(perFrame, run(true));
  assert.deepEqual(
    perFrame.log,
    // #7 leaves B at 0.7 ms: (60 + 24) x 8 us + 1 us; #99 waits for A's transmitter, which restarts at the flap.
    ['1373000 back #7', '1693000 #99'],
  );
  assert.deepEqual(perFrame.drops, { 'link-down': 10 });
});
