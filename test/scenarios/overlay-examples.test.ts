/**
 * The lecture's overlay worked examples (CONCEPTS.md 7, 8 and 10), run from examples/11..14:
 * L2 across leaves inside VXLAN with its outer headers checked byte by byte, two tenants with the
 * same addresses, and the centralized against the distributed gateway (path length, ARP tables).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, readCapture } from '../../src/wire/index.js';
import { runExample, stepOf } from '../helpers/labs.js';

const rows = (r: Record<string, unknown>[], ...keys: string[]) => r.map((x) => keys.map((k) => x[k]));

test('example 11: VMs of one subnet on two leaves talk at L2 through VXLAN; the captures show VTEPs, UDP 4789, VNI 10000', () => {
  const { result } = runExample('examples/11-vxlan-fabric.yaml');
  assert.equal(result.stopped, null);
  assert.deepEqual(rows(stepOf(result, 3, 'show').rows, 'vap', 'encapsulation', 'bd', 'vni'), [
    ['srv1:vlan10', 'vlan 10 binding (tagged)', 10, 10000],
  ]);
  assert.deepEqual(rows(stepOf(result, 4, 'show').rows, 'bd', 'vni', 'tenant', 'floodList'), [
    [10, 10000, 'A', '10.255.0.2'],
  ]);
  const ping = stepOf(result, 5, 'ping');
  assert.deepEqual(
    ping.replies.map((r) => [r.status, r.ttl]),
    [
      ['reply', 64],
      ['reply', 64],
      ['reply', 64],
    ],
    'L2 across the fabric: no router on the path, the TTL is untouched',
  );
  // Flood-and-learn: leaf1 knows its own VMs on the server's trunk and leaf2's behind leaf2's VTEP.
  assert.deepEqual(rows(stepOf(result, 6, 'show').rows, 'mac', 'where', 'type'), [
    ['02:01:00:00:00:01', 'srv1:vlan10', 'local'],
    ['02:01:00:00:00:02', 'srv1:vlan10', 'local'],
    ['02:01:00:00:00:03', 'vtep 10.255.0.2', 'learned'],
    ['02:01:00:00:00:04', 'vtep 10.255.0.2', 'learned'],
  ]);
  assert.deepEqual(rows(stepOf(result, 7, 'show').rows, 'mac', 'where'), [
    ['02:01:00:00:00:01', 'vtep 10.255.0.1'],
    ['02:01:00:00:00:02', 'vtep 10.255.0.1'],
    ['02:01:00:00:00:03', 'srv1:vlan10'],
    ['02:01:00:00:00:04', 'srv1:vlan10'],
  ]);
  // Every VXLAN frame on leaf1's uplinks: outer IPs are the two VTEPs, UDP to 4789 from the
  // dynamic range, DF set, VNI 10000, and the inner frame is a frame of the subnet.
  let vxlan = 0;
  let echoes = 0;
  for (const capture of result.captures) {
    const file = readCapture(capture.pcap);
    assert.equal(file.error, null);
    for (const f of file.packets) {
      const d = decodeFrame(f.data);
      assert.equal(d.error, null);
      const names = d.layers.map((l) => l.layer);
      if (!names.includes('vxlan')) {
        assert.equal(names[1], 'arp', 'the only other frames are the underlay ARP of the uplinks');
        continue;
      }
      vxlan++;
      const [ethO, ipO, udpO, vx, ethI] = d.layers;
      assert.deepEqual(names.slice(0, 5), ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet']);
      assert.deepEqual(
        [ipO!.src, ipO!.dst].sort(),
        ['10.255.0.1', '10.255.0.2'],
        `outer IPs are the VTEPs (frame from ${ethO!.src})`,
      );
      assert.equal(ipO!.df, true);
      assert.equal(udpO!.dstPort, 4789);
      assert.ok((udpO!.srcPort as number) >= 49152 && (udpO!.srcPort as number) <= 65535);
      assert.equal(udpO!.checksum, 0, 'RFC 7348: the outer UDP checksum is zero');
      assert.equal(vx!.vni, 10000);
      assert.match(String(ethI!.src), /^02:01:00:00:00:0[1-4]$/);
      if (d.layers.some((l) => l.layer === 'icmp')) echoes++;
    }
  }
  assert.equal(echoes, 6, 'three requests out and three replies in, each once on one uplink');
  assert.ok(vxlan >= 10);
  const flood = stepOf(result, 8, 'show').rows[0]!;
  assert.equal(flood.vteps, 1);
  const counters = stepOf(result, 9, 'show').counters!;
  assert.equal(counters.encapsulated, 6);
  assert.equal(counters.decapsulated, 6);
});

test('example 12: two tenants with the same MACs and IPs each reach only their own VM', () => {
  const { result, net } = runExample('examples/12-two-tenants.yaml');
  assert.deepEqual(rows(stepOf(result, 1, 'show').rows, 'bd', 'vni', 'tenant'), [
    [10, 10000, 'A'],
    [11, 10001, 'B'],
  ]);
  assert.equal(stepOf(result, 2, 'ping').statistics.received, 2);
  assert.equal(stepOf(result, 3, 'ping').statistics.received, 2);
  // The same four MACs, once per VNI.
  const macs = rows(stepOf(result, 4, 'show').rows, 'vni', 'mac', 'where');
  const a = macs.filter((m) => m[0] === 10000).map((m) => m.slice(1));
  const b = macs
    .filter((m) => m[0] === 10001)
    .map((m) => m.slice(1).map((x) => String(x).replace('vlan11', 'vlan10')));
  assert.equal(a.length, 4);
  assert.deepEqual(a, b);
  // Each tenant's VM 3 got exactly its own tenant's two echo requests.
  for (const n of [5, 6]) assert.equal(stepOf(result, n, 'show').counters!.delivered, 2);
  const vmA = net.node('A-vm3');
  const vmB = net.node('B-vm3');
  assert.deepEqual(vmA.ports[0]!.counters, vmB.ports[0]!.counters);
});

test('example 10 (13 and 14): the distributed gateway shortens the path and keeps ARP tables local', () => {
  const central = runExample('examples/13-centralized-gateway.yaml').result;
  const distributed = runExample('examples/14-distributed-gateway.yaml').result;
  assert.equal(stepOf(central, 1, 'ping').replies[0]!.ttl, 63, 'routed once, on the border');
  assert.equal(stepOf(distributed, 1, 'ping').replies[0]!.ttl, 62, 'symmetric IRB routes on both leaves');
  assert.equal(stepOf(central, 2, 'ping').statistics.received, 1);
  assert.equal(stepOf(distributed, 2, 'ping').statistics.received, 1);
  const c = stepOf(central, 3, 'path');
  const d = stepOf(distributed, 3, 'path');
  assert.deepEqual(
    c.request.slice(2, 7).filter((n) => !n.startsWith('spine')),
    ['leaf1', 'border', 'leaf2'],
  );
  assert.equal(c.request.length - 1, 8, 'VM, server, leaf1, spine, border, spine, leaf2, server, VM');
  assert.equal(d.request.length - 1, 6, 'VM, server, leaf1, spine, leaf2, server, VM');
  assert.deepEqual(
    [c.request[0], c.request.at(-1), d.request[0], d.request.at(-1)],
    ['A-vm1', 'A-vm6', 'A-vm1', 'A-vm6'],
  );
  // The border learned every VM that talked across subnets; each leaf only its own VMs.
  assert.deepEqual(rows(stepOf(central, 4, 'show').rows, 'interface', 'ip'), [
    ['vbdif10', '10.1.0.10'],
    ['vbdif10', '10.1.0.12'],
    ['vbdif11', '10.2.0.10'],
    ['vbdif11', '10.2.0.12'],
  ]);
  const leafArp = (n: number) =>
    rows(stepOf(distributed, n, 'show').rows, 'interface', 'ip').filter((r) => r[0] !== 'l3vni');
  assert.deepEqual(leafArp(4), [
    ['vbdif10', '10.1.0.10'],
    ['vbdif11', '10.2.0.10'],
  ]);
  assert.deepEqual(leafArp(5), [
    ['vbdif10', '10.1.0.12'],
    ['vbdif11', '10.2.0.12'],
  ]);
  // leaf1 reaches leaf2's VMs through host routes from the controller, over the L3 VNI.
  const evpn = stepOf(distributed, 6, 'show').rows.filter((r) => r.source === 'evpn');
  assert.deepEqual(rows(evpn, 'destination', 'nextHop', 'interface'), [
    ['10.1.0.12/32', '169.254.0.2', 'l3vni'],
    ['10.1.0.13/32', '169.254.0.2', 'l3vni'],
    ['10.2.0.12/32', '169.254.0.2', 'l3vni'],
    ['10.2.0.13/32', '169.254.0.2', 'l3vni'],
  ]);
});

test('example 15: two overlapping tenants reach the outside through the border, each from its own public address', () => {
  const { result, net } = runExample('examples/15-border-nat.yaml');
  assert.deepEqual(
    stepOf(result, 1, 'ping').replies.map((r) => [r.status, r.ttl]),
    [
      ['reply', 61],
      ['reply', 61],
    ],
    'routed by leaf, border VRF and the internet router',
  );
  assert.equal(stepOf(result, 2, 'ping').statistics.received, 2);
  assert.deepEqual([stepOf(result, 3, 'udp').sent, stepOf(result, 3, 'udp').echoed], [1, 1]);
  assert.deepEqual(stepOf(result, 4, 'path').request, [
    'A-vm2',
    'leaf2-srv1',
    'leaf2',
    stepOf(result, 4, 'path').request[3],
    'border',
    'internet',
    'web',
  ]);
  // The outside host saw the two tenants' identical addresses as two public ones.
  const web = net.node('web') as import('../../src/devices/ip/host.js').Host;
  assert.deepEqual(
    web.udpLog.map((d) => d.src),
    [0x6440_0006],
  );
  assert.deepEqual(rows(stepOf(result, 7, 'show').rows, 'router', 'inside', 'public'), [
    ['border/A', '10.1.0.10:1', '100.64.0.2:1024'],
    ['border/A', '10.1.0.11:1', '100.64.0.2:1025'],
    ['border/B', '10.1.0.10:1', '100.64.0.6:1024'],
    ['border/B', '10.1.0.11:40000', '100.64.0.6:1024'],
  ]);
  const routes = stepOf(result, 5, 'show').rows;
  assert.deepEqual(
    rows(
      routes.filter((r) => r.destination === '0.0.0.0/0'),
      'tenant',
      'nextHop',
      'interface',
    ),
    [
      ['A', '169.254.0.3', 'l3vni'],
      ['B', '169.254.0.3', 'l3vni'],
    ],
  );
});

test('the untraced fast path puts the same bytes on the wire as the traced path', () => {
  for (const file of ['examples/11-vxlan-fabric.yaml', 'examples/12-two-tenants.yaml']) {
    const quiet = runExample(file).result;
    const traced = runExample(file, { trace: true }).result;
    assert.ok(quiet.captures.length > 0 || file.includes('12'));
    assert.deepEqual(
      quiet.captures.map((c) => c.pcap),
      traced.captures.map((c) => c.pcap),
    );
    assert.deepEqual(
      JSON.parse(JSON.stringify(quiet.steps)),
      JSON.parse(JSON.stringify(traced.steps)),
      `${file}: the same results with and without tracing`,
    );
  }
});

test('example 16: leaf1 bridges the legacy VLANs into their VNIs; leaf2 attaches by untagged and dot1q sub-interfaces', () => {
  const { result, net } = runExample('examples/16-l2-gateway.yaml');
  assert.deepEqual(rows(stepOf(result, 1, 'show').rows, 'vap', 'encapsulation', 'vni'), [
    ['legacy:vlan10', 'vlan 10 binding (tagged)', 5010],
    ['legacy:vlan20', 'vlan 20 binding (tagged)', 5020],
  ]);
  assert.deepEqual(rows(stepOf(result, 2, 'show').rows, 'vap', 'encapsulation', 'vni'), [
    ['vm1', 'untagged', 5010],
    ['tagged.20', 'dot1q 20', 5020],
  ]);
  assert.equal(stepOf(result, 3, 'ping').statistics.received, 2);
  assert.equal(stepOf(result, 4, 'ping').statistics.received, 2);
  assert.deepEqual(rows(stepOf(result, 5, 'show').rows, 'vni', 'mac', 'where'), [
    [5010, '02:00:00:00:10:01', 'vtep 10.255.0.1'],
    [5010, '02:00:00:00:10:02', 'vm1'],
    [5020, '02:00:00:00:20:01', 'vtep 10.255.0.1'],
    [5020, '02:00:00:00:20:02', 'tagged.20'],
  ]);
  // vm2's frames reached leaf2 tagged 20 and left the fabric untagged again at pc2 (only its own VLAN).
  const pc1 = net.node('pc1');
  const pc2 = net.node('pc2');
  assert.equal(pc1.drops['mac-filtered'] ?? 0, 0);
  assert.equal(pc2.drops['unknown-vlan'] ?? 0, 0);
});
