/**
 * The network side of live migration: a VM moves between two vSwitches of one VLAN (a ToR above
 * them), and between two hypervisor NVEs of a VXLAN fabric, under both control planes. Checks the
 * timeline, the tables after convergence (every entry for the VM's MAC leads to its new port), the
 * frames lost, that nothing reaches the old place after convergence, and the address fit check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Host } from '../../src/devices/host.js';
import type { Switch } from '../../src/devices/switch.js';
import { Network } from '../../src/topo/network.js';
import { ip, mac } from '../../src/wire/index.js';

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
  assert.equal(r.to, 'srv2:2');
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
  assert.equal(srv2.macTable.lookup(10, vm.interfaces[0]!.mac, net.scheduler.now()), '2');
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
void ({} as Host);
