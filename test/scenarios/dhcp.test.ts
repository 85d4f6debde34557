/** DHCP (RFC 2131): DISCOVER, OFFER, REQUEST, ACK on the wire, leases by MAC, pools that skip reserved addresses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Network } from '../../src/topo/network.js';
import { decodeFrame, emitDhcp, formatIpv4, ip, mac, parseDhcp, readCapture } from '../../src/wire/index.js';
import { runExample, stepOf } from '../helpers/labs.js';

test('example 9: two hosts get their addresses, mask and router from the router, then reach another subnet', () => {
  const { result } = runExample('examples/09-dhcp.yaml');
  assert.deepEqual(stepOf(result, 3, 'show').rows, [
    {
      role: 'client',
      interface: 'eth0',
      state: 'bound',
      address: '192.168.0.100/24',
      router: '192.168.0.1',
      server: '192.168.0.1',
      leaseTime: 3600,
    },
  ]);
  assert.equal(stepOf(result, 4, 'show').rows[0]!.addresses, '192.168.0.101/24');
  assert.deepEqual(
    stepOf(result, 5, 'show').rows.map((r) => [r.mac, r.ip, r.state]),
    [
      ['02:00:00:00:00:01', '192.168.0.100', 'bound'],
      ['02:00:00:00:00:02', '192.168.0.101', 'bound'],
    ],
  );
  assert.equal(stepOf(result, 6, 'ping').statistics.received, 2);
  assert.equal(stepOf(result, 7, 'ping').statistics.received, 2);
  // The exchange on the wire, as Wireshark names it, for pc1 (the router's side of the LAN).
  const dhcp = readCapture(result.captures[0]!.pcap)
    .packets.map((p) => decodeFrame(p.data).layers)
    .filter((l) => l[3]?.layer === 'dhcp' && l[3].chaddr === '02:00:00:00:00:01')
    .map((l) => [l[1]!.src, l[1]!.dst, l[3]!.messageType, l[3]!.yiaddr]);
  assert.deepEqual(dhcp, [
    ['0.0.0.0', '255.255.255.255', 'discover', '0.0.0.0'],
    ['192.168.0.1', '255.255.255.255', 'offer', '192.168.0.100'],
    ['0.0.0.0', '255.255.255.255', 'request', '0.0.0.0'],
    ['192.168.0.1', '255.255.255.255', 'ack', '192.168.0.100'],
  ]);
});

test("the pool skips the server's own address, a client keeps its lease, an exhausted pool offers nothing, renewal extends the lease", () => {
  const net = new Network({ seed: 1 });
  const sw = net.addSwitch('sw');
  const r = net.addRouter('r', [{ name: 'lan', addresses: ['10.0.0.2/29'] }]);
  net.addLink(r, sw, { aPort: 'lan' });
  // Pool 10.0.0.0-10.0.0.7: network (.0), the router (.2) and broadcast (.7) are never handed out.
  const server = r.enableDhcpServer('lan', { first: ip('10.0.0.0'), last: ip('10.0.0.7'), leaseTime: 60 });
  const hosts = [1, 2, 3, 4, 5, 6].map((i) =>
    net.addHost(`pc${i}`, { dhcp: true, mac: mac(`02:00:00:00:01:0${i}`) }),
  );
  for (const h of hosts) net.addLink(h, sw);
  net.start();
  net.run({ until: 10e9 });
  assert.deepEqual(
    hosts.map((h) => h.dhcpClient!.status().address),
    ['10.0.0.1/29', '10.0.0.3/29', '10.0.0.4/29', '10.0.0.5/29', '10.0.0.6/29', null],
  );
  assert.equal(hosts[5]!.dhcpClient!.state, 'selecting'); // still asking: the pool is exhausted
  // Renewal at T1 (30 s) extends the lease, with the same address.
  net.run({ until: 40e9 });
  assert.deepEqual(server.table()[0], {
    mac: '02:00:00:00:01:01',
    ip: '10.0.0.1',
    state: 'bound',
    expiresIn: 50,
  });
  assert.equal(hosts[0]!.dhcpClient!.status().address, '10.0.0.1/29');
});

test('DHCP messages round-trip and refuse what is not DHCP', () => {
  const m = {
    op: 2 as const,
    xid: 0x12345678,
    secs: 0,
    broadcast: true,
    ciaddr: 0,
    yiaddr: ip('192.168.0.100'),
    siaddr: ip('192.168.0.1'),
    giaddr: 0,
    chaddr: mac('02:00:00:00:00:01'),
    type: 'ack' as const,
    serverId: ip('192.168.0.1'),
    leaseTime: 3600,
    subnetMask: ip('255.255.255.0'),
    router: ip('192.168.0.1'),
  };
  const bytes = emitDhcp(m);
  assert.equal(bytes.length, 300);
  const back = parseDhcp(bytes);
  assert.ok(back.ok);
  assert.deepEqual(back.value, m);
  assert.equal(formatIpv4(back.value.yiaddr), '192.168.0.100');
  const plainBootp = Uint8Array.from(bytes);
  plainBootp[236] = 0;
  assert.deepEqual(parseDhcp(plainBootp).ok ? null : parseDhcp(plainBootp), {
    ok: false,
    error: {
      layer: 'dhcp',
      code: 'bad-magic-cookie',
      offset: 236,
      message: 'no DHCP magic cookie (99.130.83.99): a plain BOOTP message',
    },
  });
  assert.equal(parseDhcp(bytes.subarray(0, 100)).ok, false);
});
