/**
 * What a misbehaving VM cannot do to the overlay: take over a gateway's configured MAC, or make
 * its NVE advertise another station's MAC through an ARP whose sender field lies; and the fast
 * VXLAN path takes exactly the frames the general IPv4 path takes (an 802.1ad-tagged packet is
 * dropped by both).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Host } from '../../src/devices/ip/host.js';
import type { Nve } from '../../src/overlay/index.js';
import { buildLab } from '../../src/topo/lab/build.js';
import { parseLab, validateLab } from '../../src/topo/lab/check.js';
import type { LabFile } from '../../src/topo/lab/schema.js';
import { Network } from '../../src/topo/network.js';
import {
  emitArp,
  formatMac,
  ip,
  writeIpv4Header,
  writeMac,
  writeU16,
  writeUdpHeader,
  writeVxlanHeader,
} from '../../src/wire/index.js';
import { ipv4Repr } from '../helpers/build.js';
import { repoPath } from '../helpers/repo.js';

function started(lab: LabFile) {
  const net = buildLab({ ...lab, script: [] });
  net.start();
  net.run({ until: 1e6 });
  const ping = (from: string, to: string) => {
    const r = (net.node(from) as Host).ping(ip(to), { count: 1 });
    net.run({ until: net.scheduler.now() + 2e9 });
    return r.statistics().received;
  };
  const where = (leaf: string, mac: number, bd: number) =>
    (net.node(leaf) as Nve)
      .bridgeDomain(bd)!
      .macRows(net.scheduler.now())
      .filter((r) => r.mac === formatMac(mac))
      .map((r) => [r.where, r.type]);
  return { net, ping, where };
}

test("a VM sending from the anycast gateway's MAC does not take it over, here or on any other leaf", () => {
  const parsed = parseLab(readFileSync(repoPath('examples/14-distributed-gateway.yaml'), 'utf8'));
  assert.ok(parsed.ok);
  const { net, ping, where } = started(parsed.lab);
  assert.equal(ping('A-vm5', '10.2.0.12'), 1);
  const gw = 0x02_ac_00_00_00_01;
  const frame = new Uint8Array(60);
  writeMac(frame, 0, 0xffff_ffff_ffff);
  writeMac(frame, 6, gw);
  writeU16(frame, 12, 0x88b5);
  net.node('A-vm1').ports[0]!.send(frame); // A-vm1 is on leaf1
  net.run({ until: net.scheduler.now() + 1e6 });
  assert.deepEqual(where('leaf1', gw, 10), [['vbdif10', 'static']]);
  assert.deepEqual(where('leaf2', gw, 10), [['vbdif10', 'static']]);
  const rx = net.node('A-vm1').ports[0]!.counters.rxFrames;
  assert.equal(ping('A-vm5', '10.2.0.12'), 1, "leaf2's VMs still reach their gateway");
  assert.equal(net.node('A-vm1').ports[0]!.counters.rxFrames, rx, 'and none of it reaches the spoofer');
});

test("an ARP whose sender MAC is another station's is not snooped: the controller's routes stay right", () => {
  const lab = validateLab({
    fabric: {
      spines: 1,
      leaves: 2,
      serversPerLeaf: 1,
      vmsPerServer: 2,
      controlPlane: 'controller',
      tenants: [{ name: 'A', subnets: ['10.1.0.0/24'] }],
    },
  });
  assert.ok(lab.ok);
  const { net, ping, where } = started(lab.lab);
  const vm1 = net.node('A-vm1') as Host;
  const vm3 = net.node('A-vm3') as Host; // A-vm1 on leaf1, A-vm3 on leaf2
  const victim = vm3.interfaces[0]!.mac;
  const arp = emitArp({
    op: 1,
    senderMac: victim,
    senderIp: ip('10.1.0.99'),
    targetMac: 0,
    targetIp: ip('10.1.0.99'),
  });
  const frame = new Uint8Array(60);
  writeMac(frame, 0, 0xffff_ffff_ffff);
  writeMac(frame, 6, vm1.interfaces[0]!.mac);
  writeU16(frame, 12, 0x0806);
  frame.set(arp, 14);
  vm1.ports[0]!.send(frame);
  net.run({ until: net.scheduler.now() + 1e6 });
  assert.deepEqual(where('leaf2', victim, 10), [['srv1:vlan10', 'local']]);
  assert.deepEqual(where('leaf1', victim, 10), [['vtep 10.255.0.2', 'controller']]);
  assert.deepEqual(
    net.overlay.table().filter((r) => r.mac === formatMac(victim)),
    [{ vni: 10000, mac: formatMac(victim), ip: '10.1.0.12', vtep: '10.255.0.2', nve: 'leaf2', seq: 0 }],
  );
  assert.equal(ping('A-vm2', '10.1.0.12'), 1);
  assert.equal(ping('A-vm4', '10.1.0.12'), 1);
});

test('the fast VXLAN path takes what the IPv4 receive path takes: one 802.1Q tag yes, an 802.1ad tag no, traced or not', () => {
  const run = (trace: boolean, tpid: number) => {
    const net = new Network({ trace });
    const nve = net.addNve('n1', {
      vtep: '10.255.0.1',
      interfaces: [{ name: 'up', addresses: ['172.16.0.2/30'] }],
    });
    nve.addBridgeDomain(10, 100);
    nve.addSubinterface('vm', { kind: 'untagged' }, 10);
    const injector = net.addHost('inj', { ip: '172.16.0.1/30', announce: false });
    const vm = net.addHost('vm', { ip: '10.1.0.5/24', announce: false });
    net.addLink(injector, nve, { bPort: 'up' });
    net.addLink(vm, nve, { bPort: 'vm' });
    net.start();
    const inner = new Uint8Array(60);
    writeMac(inner, 0, 0xffff_ffff_ffff);
    writeMac(inner, 6, 0x02_00_00_00_00_99);
    writeU16(inner, 12, 0x88b5);
    const f = new Uint8Array(18 + 20 + 8 + 8 + inner.length);
    writeMac(f, 0, nve.underlayRouter().iface('up')!.mac);
    writeMac(f, 6, injector.interfaces[0]!.mac);
    writeU16(f, 12, tpid);
    writeU16(f, 14, 0); // VID 0: a priority tag
    writeU16(f, 16, 0x0800);
    writeIpv4Header(
      f,
      18,
      ipv4Repr({ src: ip('172.16.0.1'), dst: ip('10.255.0.1'), protocol: 17, id: 1, df: true }),
      16 + inner.length,
    );
    f.set(inner, 54);
    writeUdpHeader(f, 38, { srcPort: 50000, dstPort: 4789 }, 8 + inner.length);
    writeVxlanHeader(f, 46, { vni: 100 });
    injector.ports[0]!.send(f);
    net.run({ until: 1e6 });
    return [nve.counters.decapsulated, vm.ports[0]!.counters.rxFrames, nve.drops];
  };
  for (const trace of [false, true]) {
    assert.deepEqual(run(trace, 0x8100), [1, 1, {}], `802.1Q, traced ${trace}`);
    assert.deepEqual(run(trace, 0x88a8), [0, 0, { 'unknown-ethertype': 1 }], `802.1ad, traced ${trace}`);
  }
});
