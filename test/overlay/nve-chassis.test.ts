/**
 * The NVE and its underlay router in one box: the NVE is not a router, it owns a router (`nve.router`)
 * that shares its name, its ports (in the order they were added, each delivering to the function
 * that added it) and its drop counters. A frame on an access port is the NVE's; a frame on an uplink
 * is the router's; both count their drops in the one table `vnet show NODE counters` prints.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router } from '../../src/devices/router/router.js';
import type { TraceLog } from '../../src/devices/trace.js';
import { ipStackOf, routerOf } from '../../src/overlay/index.js';
import { Network } from '../../src/topo/network.js';
import { ip, mac } from '../../src/wire/index.js';
import { ethernet } from '../helpers/build.js';
import { station } from '../helpers/station.js';

function leaf(trace = false) {
  const net = new Network({ trace });
  const nve = net.addNve('leaf1', {
    vtep: ip('10.255.0.1'),
    interfaces: [{ name: 'up', addresses: ['172.16.1.2/30'], mac: mac('02:00:00:00:aa:01') }],
  });
  nve.addBridgeDomain(10, 5000, 'A');
  nve.addSubinterface('vm', { kind: 'untagged' }, 10);
  const up = station(net, 'up-peer');
  const vm = station(net, 'vm-peer');
  net.addLink(up, nve, { bPort: 'up' });
  net.addLink(vm, nve, { bPort: 'vm' });
  return { net, nve, up, vm };
}

test('an NVE is not a router: it owns one, in its box, with its name, its ports in order and its drop counters', () => {
  const { nve } = leaf();
  assert.ok(!((nve as unknown) instanceof Router));
  const router = nve.router;
  assert.ok(router instanceof Router);
  assert.equal(router.name, 'leaf1');
  assert.equal(router.ports, nve.ports);
  assert.equal(router.drops, nve.drops);
  // The uplink and the loopback the VTEP address got are the router's; the access port is the NVE's.
  assert.deepEqual(
    nve.ports.map((p) => `${p.index}:${p.name}`),
    ['0:up', '1:lo', '2:vm'],
  );
  assert.deepEqual(
    router.interfaces.map((i) => i.name),
    ['up', 'lo'],
  );
  assert.equal(router.port('vm'), nve.port('vm'));
  assert.equal(routerOf(nve), router);
  assert.equal(ipStackOf(nve), router);
  assert.equal(nve.underlayRouter(), router);
});

test('frames go to the function that owns their port; drops of both land in the box’s one table, traced under its name', () => {
  const { net, nve, up, vm } = leaf(true);
  const events = (net.tracer as TraceLog).events;
  net.start();
  net.run();
  events.length = 0;
  // On the uplink, a frame for another MAC: the router's NIC filter drops it.
  up.send(ethernet(mac('02:00:00:00:99:99'), mac('02:00:00:00:00:0a'), 0x0800, new Uint8Array(46)));
  // On the access port, a frame from a group address: the NVE drops it.
  vm.send(ethernet(mac('02:00:00:00:00:0b'), mac('01:00:5e:00:00:01'), 0x0800, new Uint8Array(46)));
  net.run();
  assert.deepEqual(nve.drops, { 'mac-filtered': 1, 'bad-source-mac': 1 });
  assert.deepEqual(
    events.filter((e) => e.kind === 'drop').map((e) => `${e.node} ${e.port} ${e.message}`),
    [
      'leaf1 up drop (mac-filtered)',
      'leaf1 vm drop (bad-source-mac): source 01:00:5e:00:00:01 is a group address',
    ],
  );
});
