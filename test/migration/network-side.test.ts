/**
 * The network side of live migration: a VM moves between two vSwitches of one VLAN (a ToR above
 * them), and between two hypervisor NVEs of a VXLAN fabric, under both control planes. Checks the
 * timeline, the tables after convergence (every entry for the VM's MAC leads to its new port), the
 * frames lost, that nothing reaches the old place after convergence, and the address fit check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Host } from '../../src/devices/ip/host.js';
import type { Switch } from '../../src/devices/l2/switch.js';
import { TcpMessageClient } from '../../src/devices/tcp/tcp-apps.js';
import type { Nve } from '../../src/overlay/index.js';
import { buildFabric } from '../../src/topo/fabric.js';
import { Network } from '../../src/topo/network.js';
import { cidr, formatIpv4, ip, mac } from '../../src/wire/index.js';

const MS = 1_000_000;

/** tor with srv1 and srv2 (vSwitches, VLAN 10 access ports, trunk uplinks), the VM on srv1, a client on tor. */
function vlanLab() {
  const net = new Network();
  const tor = net.addSwitch('tor');
  const srv1 = net.addSwitch('srv1');
  const srv2 = net.addSwitch('srv2');
  const vm = net.addHost('vm', { ip: '192.168.10.10/24', mac: mac('02:00:00:00:00:10') });
  const client = net.addHost('client', { ip: '192.168.10.1/24', mac: mac('02:00:00:00:00:01') });
  net.addLink(vm, srv1, { bPort: '1' });
  net.addLink(client, tor, { bPort: '1' });
  net.addLink(srv1, tor, { aPort: 'up', bPort: '2' });
  net.addLink(srv2, tor, { aPort: 'up', bPort: '3' });
  for (const sw of [srv1, srv2, tor] as Switch[]) {
    for (const p of sw.ports) {
      const trunk = p.name === 'up' || (sw === tor && p.name !== '1');
      sw.configurePort(
        p.name,
        trunk ? { mode: 'trunk', allowed: [10], native: null } : { mode: 'access', vlan: 10 },
      );
    }
  }
  net.start();
  return { net, tor, srv1, srv2, vm, client };
}

test('a VM moves between two vSwitches of one VLAN: tables converge on RARP, nothing reaches the old port after', () => {
  const { net, tor, srv2, vm, client } = vlanLab();
  vm.enableUdpEcho();
  client.bindUdp(5000, () => {});
  net.run({ until: 10 * MS });
  // Traffic before: the tor learns the VM behind srv1 (port 2).
  client.sendUdp(5000, ip('192.168.10.10'), 7, new Uint8Array(8));
  net.run({ until: 20 * MS });
  assert.equal(tor.macTable.lookup(10, vm.interfaces[0]!.mac, net.scheduler.now()), '2');
  const m = net.migrate(vm, 'srv2', { timing: { stopAfter: 100 * MS, downtime: 5 * MS, total: 105 * MS } });
  // A datagram during the downtime is lost at the old place.
  net.run({ until: 20 * MS + 102 * MS });
  assert.equal(m.phase, 'stopped');
  client.sendUdp(5000, ip('192.168.10.10'), 7, new Uint8Array(8));
  net.run({ until: 20 * MS + 2_000 * MS });
  const r = m.report();
  assert.equal(r.from, 'srv1:1');
  assert.equal(r.to, 'srv2:1');
  assert.equal(r.stoppedAt, 120 * MS);
  assert.equal(r.resumedAt, 125 * MS);
  assert.equal(r.downtime, 5 * MS);
  assert.equal(r.announcements, 5);
  // The first RARP reaches srv2 then the tor: converged once the tor's entry moved (one link hop
  // of 1 us plus serialisation), sampled every microsecond.
  assert.ok(
    r.convergedAfter !== null && r.convergedAfter > 0 && r.convergedAfter <= 5_000,
    `converged after ${r.convergedAfter}`,
  );
  assert.deepEqual(r.staleEntries, []);
  assert.equal(tor.macTable.lookup(10, vm.interfaces[0]!.mac, net.scheduler.now()), '3');
  assert.equal(srv2.macTable.lookup(10, vm.interfaces[0]!.mac, net.scheduler.now()), '1');
  assert.equal(r.framesLostToVm, 1, 'the datagram sent during the downtime');
  assert.equal(r.toOldPlaceAfterConvergence, 0);
  assert.equal(r.address.fits, true);
  assert.match(
    r.address.why,
    /192\.168\.10\.10\/24 fits the destination segment: client eth0 is 192\.168\.10\.1\/24/,
  );
  // And traffic reaches the VM at its new place.
  const before = client.udpLog.length;
  client.sendUdp(5000, ip('192.168.10.10'), 7, new Uint8Array(8));
  net.run({ until: 20 * MS + 2_100 * MS });
  assert.equal(client.udpLog.length, before + 1);
  m.finish();
});

test('a destination that cannot take the VM is refused with a reason', () => {
  const { net, vm } = vlanLab();
  assert.throws(
    () => net.migrate(vm, 'srv1', { timing: { stopAfter: 0, downtime: 0, total: 0 } }),
    /srv1 is where the VM already is/,
  );
  assert.throws(
    () => net.migrate(vm, 'client', { timing: { stopAfter: 0, downtime: 0, total: 0 } }),
    /client is a host: VMs run on hypervisors/,
  );
  assert.throws(
    () => net.migrate('tor', 'srv2', { timing: { stopAfter: 0, downtime: 0, total: 0 } }),
    /tor is not a host/,
  );
});

/** 2 spines, 2 leaves, 2 hypervisor NVEs per leaf, 2 VMs each, one tenant with one subnet. */
function fabricLab(controlPlane: 'flood-and-learn' | 'controller') {
  const net = new Network();
  const built = buildFabric(net, {
    spines: 2,
    leaves: 2,
    serversPerLeaf: 2,
    vmsPerServer: 2,
    nve: 'hypervisor',
    controlPlane,
    tenants: [{ name: 'A', subnets: [cidr('10.1.0.0/24')] }],
  });
  net.start();
  return { net, built };
}

for (const controlPlane of ['flood-and-learn', 'controller'] as const) {
  test(`a VM moves across racks of a VXLAN fabric (${controlPlane}): every NVE's entry follows it`, () => {
    const { net } = fabricLab(controlPlane);
    const vm = net.node('A-vm1') as Host;
    const peer = net.node('A-vm8') as Host;
    vm.enableUdpEcho();
    peer.bindUdp(5000, () => {});
    const vmIp = vm.interfaces[0]!.primary!.address;
    net.run({ until: 10 * MS });
    peer.sendUdp(5000, vmIp, 7, new Uint8Array(8));
    net.run({ until: 20 * MS });
    assert.equal(peer.udpLog.length, 1);
    const vni = 10000;
    const vtepOf = (name: string) => formatIpv4((net.node(name) as Nve).vtep);
    const whereIs = (nve: string) => {
      const e = (net.node(nve) as Nve)
        .bridgeDomainByVni(vni)!
        .lookup(vm.interfaces[0]!.mac, net.scheduler.now());
      return e === undefined ? null : e.vap ? `vap ${e.vap.name}` : `vtep ${formatIpv4(e.vtep)}`;
    };
    assert.equal(whereIs('leaf2-srv2'), `vtep ${vtepOf('leaf1-srv1')}`);
    const m = net.migrate(vm, 'leaf2-srv1', {
      timing: { stopAfter: 50 * MS, downtime: 3 * MS, total: 53 * MS },
    });
    net.run({ until: 20 * MS + 1_000 * MS });
    const r = m.report();
    assert.equal(r.from, 'leaf1-srv1:vm1');
    assert.equal(r.to, 'leaf2-srv1:vm3');
    assert.ok(r.convergedAfter !== null, JSON.stringify(r.staleEntries));
    assert.deepEqual(r.staleEntries, []);
    assert.equal(whereIs('leaf2-srv1'), 'vap vm3');
    for (const other of ['leaf1-srv2', 'leaf2-srv2'])
      assert.equal(whereIs(other), `vtep ${vtepOf('leaf2-srv1')}`, other);
    assert.equal(r.address.fits, true);
    assert.equal(r.toOldPlaceAfterConvergence, 0);
    // The peer reaches the VM at its new place.
    peer.sendUdp(5000, vmIp, 7, new Uint8Array(8));
    net.run({ until: 20 * MS + 1_100 * MS });
    assert.equal(peer.udpLog.length, 2);
    if (controlPlane === 'controller') {
      const route = net.overlay.table().find((x) => x.mac === r.mac)!;
      assert.equal(route.nve, 'leaf2-srv1');
      assert.equal(route.seq, 1, 'the move wins with MAC mobility sequence 1');
    }
    m.finish();
  });
}

test('tenants reuse MACs: a move is judged in its own VLAN and BD only (leaf NVEs, two tenants, live TCP)', () => {
  const net = new Network();
  const built = buildFabric(net, {
    spines: 2,
    leaves: 2,
    serversPerLeaf: 1,
    vmsPerServer: 4,
    nve: 'leaf',
    controlPlane: 'controller',
    tenants: [
      { name: 't1', subnets: [cidr('10.0.0.0/24')] },
      { name: 't2', subnets: [cidr('10.0.0.0/24')] },
    ],
  });
  net.start();
  // t1-vm1 and t2-vm1 share MAC and IP; each has a session from its tenant's VM on the other leaf.
  const [t1vm1, t2vm1] = [net.node('t1-vm1') as Host, net.node('t2-vm1') as Host];
  assert.equal(t1vm1.interfaces[0]!.mac, t2vm1.interfaces[0]!.mac);
  const clients: TcpMessageClient[] = [];
  for (const [server, client] of [
    [t1vm1, 't1-vm3'],
    [t2vm1, 't2-vm3'],
  ] as const) {
    server.enableTcpEcho(7);
    const from = net.node(client) as Host;
    clients.push(
      new TcpMessageClient(from.tcp, client, client, server.interfaces[0]!.primary!.address, 7, {
        every: 20 * MS,
      }),
    );
  }
  net.run({ until: 100 * MS });
  assert.ok(clients.every((c) => c.established));
  const m = net.migrate(t1vm1, 'leaf2-srv1', {
    timing: { stopAfter: 10 * MS, downtime: 30 * MS, total: 40 * MS },
  });
  net.run({ until: 3_000 * MS });
  const r = m.report();
  assert.equal(r.to, 'leaf2-srv1:5');
  assert.ok(r.convergedAfter !== null, JSON.stringify(r.staleEntries));
  assert.equal(r.toOldPlaceAfterConvergence, 0);
  assert.ok(r.framesLostToVm > 0, 'the session sent during the downtime');
  // Both sessions alive; t1's recovered after the move, t2's never noticed.
  assert.deepEqual(
    clients.map((c) => [c.alive, c.failures.length, (c.lastEcho ?? 0) > r.resumedAt]),
    [
      [true, 0, true],
      [true, 0, true],
    ],
  );
  assert.ok(clients[0]!.conn.stats.retransmissions > 0);
  assert.equal(clients[1]!.conn.stats.retransmissions, 0);
  assert.equal(built.vms.length, 8);
  m.finish();
});

test('post-copy: the VM stops at once and runs at the destination after the switchover alone', () => {
  const { net, vm } = vlanLab();
  const m = net.migrate(vm, 'srv2', { timing: { stopAfter: 0, downtime: 5 * MS, total: 900 * MS } });
  net.run({ until: 10 * MS + 1 });
  const r = m.report();
  assert.equal(r.stoppedAt, r.startedAt, 'post-copy: no live rounds');
  assert.equal(r.resumedAt - r.stoppedAt, 5 * MS);
  assert.equal(m.phase, 'resumed');
  m.finish();
});

test('a VM already moving is refused a second move until it resumed; then it moves back to its first host', () => {
  const { net, srv1, vm, client } = vlanLab();
  vm.enableUdpEcho();
  client.bindUdp(5000, () => {});
  const timing = { stopAfter: 100 * MS, downtime: 5 * MS, total: 105 * MS };
  const m1 = net.migrate(vm, 'srv2', { timing });
  assert.throws(() => net.migrate(vm, 'tor', { timing }), /vm is already migrating \(from srv1:1 to srv2\)/);
  net.run({ until: 50 * MS });
  assert.throws(() => net.migrate(vm, 'tor', { timing }), /vm is already migrating/);
  net.run({ until: 1_000 * MS });
  assert.equal(m1.phase, 'resumed');
  assert.equal(m1.report().to, 'srv2:1');
  m1.finish();
  // Back home: into its old port, free again.
  const m2 = net.migrate(vm, 'srv1', { timing, port: '1' });
  net.run({ until: 2_000 * MS });
  const r = m2.report();
  assert.equal(r.from, 'srv2:1');
  assert.equal(r.to, 'srv1:1');
  assert.ok(r.convergedAfter !== null, JSON.stringify(r.staleEntries));
  assert.equal(srv1.macTable.lookup(10, vm.interfaces[0]!.mac, net.scheduler.now()), '1');
  const before = client.udpLog.length;
  client.sendUdp(5000, ip('192.168.10.10'), 7, new Uint8Array(8));
  net.run({ until: 2_100 * MS });
  assert.equal(client.udpLog.length, before + 1);
  m2.finish();
});

test('hubs: a frame that passes through the old hub on its way to the VM is not counted as lost', () => {
  const net = new Network();
  const hub1 = net.addHub('hub1');
  net.addHub('hub2');
  const vm = net.addHost('vm', { ip: '192.168.10.10/24', mac: mac('02:00:00:00:00:10') });
  const client = net.addHost('client', { ip: '192.168.10.1/24', mac: mac('02:00:00:00:00:01') });
  net.addLink(vm, hub1);
  net.addLink(client, hub1);
  net.addLink(hub1, 'hub2');
  net.start();
  vm.enableUdpEcho();
  client.bindUdp(5000, () => {});
  net.run({ until: 10 * MS });
  client.sendUdp(5000, ip('192.168.10.10'), 7, new Uint8Array(8));
  net.run({ until: 20 * MS });
  assert.equal(client.udpLog.length, 1);
  const m = net.migrate(vm, 'hub2', { timing: { stopAfter: 10 * MS, downtime: 5 * MS, total: 15 * MS } });
  net.run({ until: 32 * MS });
  assert.equal(m.phase, 'stopped');
  client.sendUdp(5000, ip('192.168.10.10'), 7, new Uint8Array(8)); // lost: nobody is there
  net.run({ until: 500 * MS });
  client.sendUdp(5000, ip('192.168.10.10'), 7, new Uint8Array(8)); // through hub1 to hub2: answered
  net.run({ until: 600 * MS });
  assert.equal(client.udpLog.length, 2);
  const r = m.report();
  assert.equal(r.from, 'hub1:1');
  assert.equal(r.to, 'hub2:2');
  assert.equal(r.convergedAfter, 0);
  assert.equal(r.framesLostToVm, 1, 'the datagram sent during the downtime');
  assert.equal(r.toOldPlaceAfterConvergence, 0);
  m.finish();
});
