/**
 * The lecture's worked examples 1-6 (CONCEPTS.md), run from examples/*.yaml, with the exact
 * tables and outcomes the lecture shows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, readCapture, toHex } from '../../src/wire/index.js';
import { runExample, stepOf } from '../helpers/labs.js';

const macRows = (rows: Record<string, unknown>[]) => rows.map((r) => [r.vlan, r.mac, r.port]);

test('example 1: a hub repeats every frame out of every other port', () => {
  const { result } = runExample('examples/01-hub.yaml');
  assert.equal(result.stopped, null);
  const udp = stepOf(result, 2, 'udp');
  assert.deepEqual([udp.sent, udp.echoed], [1, 1]);
  // ARP request, ARP reply, datagram, echo: each came in on one port and left on the three others.
  const hub = stepOf(result, 3, 'show');
  assert.deepEqual(
    hub.rows.map((r) => [r.port, r.rxFrames, r.txFrames]),
    [
      ['1', 2, 2],
      ['2', 2, 2],
      ['3', 0, 4],
      ['4', 0, 4],
    ],
  );
  assert.equal(hub.counters?.repeated, 4);
  const c = stepOf(result, 4, 'show');
  assert.equal(c.rows[0]!.rxFrames, 4);
  assert.equal(c.counters?.['drop:mac-filtered'], 3); // all but the broadcast ARP request were for someone else
  assert.equal(result.captures[0]!.frames, 4);
});

test("example 2: the switch floods, learns aa -> 4, then bb -> 1; the final table is the lecture's", () => {
  const { result, trace } = runExample('examples/02-switch-learning.yaml', { trace: true });
  assert.deepEqual(stepOf(result, 1, 'show').rows, []);
  assert.deepEqual(macRows(stepOf(result, 3, 'show').rows), [
    [1, '02:00:00:00:00:aa', '4'],
    [1, '02:00:00:00:00:bb', '1'],
  ]);
  const switchEvents = trace!.events.filter((e) => e.node === 'sw').map((e) => `${e.port}: ${e.message}`);
  assert.deepEqual(switchEvents.slice(0, 2), [
    '4: learned 02:00:00:00:00:aa on VLAN 1 port 4; dst ff:ff:ff:ff:ff:ff broadcast -> flood ports 1,3,5',
    '1: learned 02:00:00:00:00:bb on VLAN 1 port 1; dst 02:00:00:00:00:aa -> port 4',
  ]);
  // The lecture's final table: bb -> 1, cc -> 3, aa -> 4, dd -> 5.
  const final = macRows(stepOf(result, 5, 'show').rows).sort((x, y) =>
    String(x[2]).localeCompare(String(y[2])),
  );
  assert.deepEqual(final, [
    [1, '02:00:00:00:00:bb', '1'],
    [1, '02:00:00:00:00:cc', '3'],
    [1, '02:00:00:00:00:aa', '4'],
    [1, '02:00:00:00:00:dd', '5'],
  ]);
});

test("example 3: each switch learns the far side's stations on its uplink", () => {
  const { result } = runExample('examples/03-chained-switches.yaml');
  const swA = stepOf(result, 5, 'show').rows.map((r) => [r.mac, r.port]);
  const swB = stepOf(result, 6, 'show').rows.map((r) => [r.mac, r.port]);
  const mac = (n: number) => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
  assert.deepEqual(swA, [
    [mac(0x0a), '1'],
    [mac(0x0b), '2'],
    [mac(0x0c), '3'],
    [mac(0x0d), '4'],
    [mac(0x0e), '6'],
    [mac(0x0f), '6'],
    [mac(0x10), '6'],
    [mac(0x11), '6'],
  ]);
  assert.deepEqual(swB, [
    [mac(0x0a), '1'],
    [mac(0x0b), '1'],
    [mac(0x0c), '1'],
    [mac(0x0d), '1'],
    [mac(0x0e), '2'],
    [mac(0x0f), '3'],
    [mac(0x10), '4'],
    [mac(0x11), '5'],
  ]);
});

test("example 4: the router's table is the lecture's four rows, and A pings C through it", () => {
  const { result } = runExample('examples/04-subnets-and-a-router.yaml');
  assert.deepEqual(
    stepOf(result, 1, 'show').rows.map((r) => [r.destination, r.nextHop, r.interface, r.source]),
    [
      ['192.168.0.0/24', 'direct', 'eth0', 'connected'],
      ['192.168.0.254/32', 'direct', 'eth0', 'local'],
      ['192.168.1.0/24', 'direct', 'eth1', 'connected'],
      ['192.168.1.254/32', 'direct', 'eth1', 'local'],
    ],
  );
  const ping = stepOf(result, 2, 'ping');
  assert.deepEqual(
    ping.replies.map((r) => [r.seq, r.status, r.ttl, r.from]),
    [
      [1, 'reply', 63, '192.168.1.1'],
      [2, 'reply', 63, '192.168.1.1'],
      [3, 'reply', 63, '192.168.1.1'],
    ],
  );
  // A resolved only its gateway (C is off-subnet), the router resolved A and C.
  assert.deepEqual(
    stepOf(result, 3, 'show').rows.map((r) => [r.ip, r.mac]),
    [['192.168.0.254', '02:00:00:00:fe:00']],
  );
  assert.deepEqual(
    stepOf(result, 4, 'show').rows.map((r) => [r.interface, r.ip, r.mac]),
    [
      ['eth0', '192.168.0.1', '02:00:00:00:00:0a'],
      ['eth1', '192.168.1.1', '02:00:00:00:00:0c'],
    ],
  );
});

test('example 5: an empty cache, a broadcast request, a unicast reply, and the entry', () => {
  const { result } = runExample('examples/05-arp.yaml');
  assert.deepEqual(stepOf(result, 1, 'show').rows, []);
  const arp = stepOf(result, 3, 'arp');
  assert.deepEqual([arp.mac, arp.requests], ['02:00:00:00:00:0b', 1]);
  assert.deepEqual(
    stepOf(result, 4, 'show').rows.map((r) => [r.ip, r.mac]),
    [['192.168.0.2', '02:00:00:00:00:0b']],
  );
  assert.deepEqual(
    stepOf(result, 5, 'show').rows.map((r) => [r.ip, r.mac]),
    [['192.168.0.1', '02:00:00:00:00:0a']],
  );
  assert.deepEqual(stepOf(result, 6, 'show').rows, []); // C saw the broadcast but was not asked: Linux learns nothing
  const frames = readCapture(result.captures[0]!.pcap).packets.map((p) => decodeFrame(p.data).layers);
  assert.deepEqual(
    frames.map((l) => [l[0]!.dst, l[1]!.kind, l[1]!.targetIp]),
    [
      ['ff:ff:ff:ff:ff:ff', 'request', '192.168.0.2'],
      ['02:00:00:00:00:0a', 'reply', '192.168.0.1'],
    ],
  );
});

test('example 6: broadcasts stay inside a department; the ACL lets only HR reach Finance', () => {
  const { result } = runExample('examples/06-department-vlans.yaml');
  assert.equal(stepOf(result, 2, 'ping').statistics.received, 2);
  // Sales' ARP broadcast reached no one in Engineering or Finance.
  assert.equal(stepOf(result, 3, 'show').rows[0]!.rxFrames, 0);
  assert.equal(stepOf(result, 4, 'show').rows[0]!.rxFrames, 0);
  assert.deepEqual(
    stepOf(result, 5, 'ping').replies.map((r) => [r.status, r.ttl]),
    [
      ['reply', 63],
      ['reply', 63],
    ],
  );
  assert.deepEqual(
    stepOf(result, 6, 'ping').replies.map((r) => [r.status, r.from, r.message]),
    [
      ['error', '10.0.10.1', 'Packet filtered'],
      ['error', '10.0.10.1', 'Packet filtered'],
    ],
  );
  assert.equal(stepOf(result, 7, 'ping').statistics.received, 2);
  assert.deepEqual(
    stepOf(result, 8, 'show').rows.map((r) => [r.rule, r.hits]),
    [
      [1, 2],
      [2, 2],
      [3, 0],
    ],
  );
  // On the trunk to the router every frame is tagged with its department's VLAN, and its
  // addresses belong to that department's subnet.
  for (const p of readCapture(result.captures[0]!.pcap).packets) {
    const layers = decodeFrame(p.data).layers;
    const vlan = layers[1]!;
    assert.equal(vlan.layer, 'vlan');
    const net = `10.0.${vlan.vid}.`;
    const l3 = layers[2]!;
    const addresses = l3.layer === 'arp' ? [l3.senderIp, l3.targetIp] : [];
    for (const a of addresses) assert.ok(String(a).startsWith(net), `${a} in VLAN ${vlan.vid}`);
  }
});

test('example 10: an L3 switch routes between VLANs through its VLANIF interfaces, with an ACL and DHCP', () => {
  const { result } = runExample('examples/10-l3-switch-vlanif.yaml');
  assert.deepEqual(
    stepOf(result, 2, 'show').rows.map((r) => [r.interface, r.vlan, r.addresses]),
    [
      ['vlanif10', 10, '10.0.10.1/24'],
      ['vlanif20', 20, '10.0.20.1/24'],
      ['vlanif30', 30, '10.0.30.1/24'],
      ['vlanif40', 40, '10.0.40.1/24'],
    ],
  );
  assert.equal(stepOf(result, 4, 'show').rows[0]!.address, '10.0.20.100/24');
  assert.deepEqual(
    stepOf(result, 5, 'ping').replies.map((r) => [r.status, r.ttl]),
    [
      ['reply', 63],
      ['reply', 63],
    ],
  );
  assert.deepEqual(
    stepOf(result, 6, 'ping').replies.map((r) => [r.status, r.message]),
    [['error', 'Packet filtered']],
  );
  assert.equal(stepOf(result, 7, 'ping').statistics.received, 1);
  // The core switch learned each host on its trunk and each VLANIF on its internal port, per VLAN.
  assert.deepEqual(
    stepOf(result, 8, 'show').rows.map((r) => [r.vlan, r.port]),
    [
      [10, '1'],
      [10, 'cpu'],
      [20, '1'],
      [20, 'cpu'],
      [30, '1'],
      [30, 'cpu'],
      [40, '1'],
      [40, 'cpu'],
    ],
  );
});

test('the same lab and seed give byte-identical results and captures on every run', () => {
  for (const file of [
    'examples/06-department-vlans.yaml',
    'examples/08-spanning-tree.yaml',
    'examples/09-dhcp.yaml',
  ]) {
    const a = runExample(file).result;
    const b = runExample(file).result;
    assert.equal(JSON.stringify({ ...a, captures: [] }), JSON.stringify({ ...b, captures: [] }), file);
    assert.deepEqual(
      a.captures.map((c) => toHex(c.pcap)),
      b.captures.map((c) => toHex(c.pcap)),
    );
  }
});
