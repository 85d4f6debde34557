/**
 * Tenant isolation, as a property: tenants that all use the very same subnet (so the fabric gives
 * their VMs the very same MACs and IPs, by index inside the tenant) share random fabrics (spines,
 * leaves, servers, VMs per server, control plane, NVE placement) and random pings, and no frame
 * ever crosses from one tenant to another.
 *
 * Since addresses repeat across tenants, a leak cannot be seen in the addresses alone. Each ping
 * therefore carries a payload length of its own (8 + its number), which identifies it wherever an
 * echo request or reply shows up; and broadcasts are counted. For every VM port tap:
 * - every echo request a VM receives belongs to a ping of its own tenant aimed at its own address,
 *   and every echo reply a VM receives or sends answers a ping of that VM (receive) or of its
 *   tenant (send), so a twin of another tenant never answers;
 * - each ping got exactly `count` requests to its target and `count` replies when the target's IP
 *   exists in the sender's tenant, and none otherwise (a ping to an IP only another tenant has
 *   must time out);
 * - every frame a VM receives has a source MAC of its own tenant, and every ARP or IPv4 frame a
 *   (MAC, IP) pair of its own tenant;
 * - in flood-and-learn each VM receives exactly the broadcasts the other VMs of its tenant sent
 *   (once each); with the controller (ARP suppression) at most those.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Host } from '../../src/devices/ip/host.js';
import type { PingRun } from '../../src/devices/ip/ping.js';
import { buildFabric } from '../../src/topo/fabric.js';
import { Network } from '../../src/topo/network.js';
import {
  ArpView,
  cidr,
  EtherType,
  formatIpv4,
  IpProtocol,
  type Ipv4,
  ip,
  MAC_BROADCAST,
  type Mac,
  readMac,
  readU16,
  readU32,
} from '../../src/wire/index.js';

interface Vm {
  readonly host: Host;
  readonly tenant: string;
  /** Index inside its tenant: the fabric's MAC and IP come from it alone. */
  readonly index: number;
  readonly ip: Ipv4;
  readonly mac: Mac;
  readonly rx: Uint8Array[];
  readonly tx: Uint8Array[];
}

const SUBNET = cidr('10.1.0.0/24');
const COUNT = 2;

const scenario = fc.record({
  tenants: fc.integer({ min: 2, max: 4 }),
  spines: fc.integer({ min: 1, max: 2 }),
  leaves: fc.integer({ min: 2, max: 3 }),
  serversPerLeaf: fc.integer({ min: 1, max: 2 }),
  vmsPerServer: fc.integer({ min: 2, max: 4 }),
  controlPlane: fc.constantFrom('flood-and-learn' as const, 'controller' as const),
  nve: fc.constantFrom('leaf' as const, 'hypervisor' as const),
  pings: fc.array(
    fc.record({
      from: fc.nat(),
      to: fc.nat(),
      delay: fc.integer({ min: 0, max: 3_000_000 }),
    }),
    { minLength: 1, maxLength: 8 },
  ),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function isolationHolds(s: Scenario): void {
  const net = new Network();
  const tenants = Array.from({ length: s.tenants }, (_, t) => ({
    name: String.fromCharCode(65 + t),
    subnets: [SUBNET],
  }));
  const f = buildFabric(net, {
    spines: s.spines,
    leaves: s.leaves,
    serversPerLeaf: s.serversPerLeaf,
    vmsPerServer: s.vmsPerServer,
    tenants,
    controlPlane: s.controlPlane,
    nve: s.nve,
  });
  const perTenant = new Map<string, number>();
  const vms: Vm[] = f.vms.map((v) => {
    const index = perTenant.get(v.tenant) ?? 0;
    perTenant.set(v.tenant, index + 1);
    const iface = v.host.interfaces[0]!;
    const vm: Vm = {
      host: v.host,
      tenant: v.tenant,
      index,
      ip: iface.primary!.address,
      mac: iface.mac,
      rx: [],
      tx: [],
    };
    // The fabric's address plan: the same index gives the same MAC and IP in every tenant.
    assert.equal(vm.ip, (ip('10.1.0.10') + index) >>> 0);
    assert.equal(vm.mac, 0x02_01_00_00_00_01 + index);
    v.host.port('eth0')!.tap((frame, dir) => (dir === 'rx' ? vm.rx : vm.tx).push(frame));
    return vm;
  });
  const pairs = new Map<string, Set<string>>();
  const macs = new Map<string, Set<Mac>>();
  for (const vm of vms) {
    if (!pairs.has(vm.tenant)) pairs.set(vm.tenant, new Set());
    if (!macs.has(vm.tenant)) macs.set(vm.tenant, new Set());
    pairs.get(vm.tenant)!.add(`${vm.mac}/${vm.ip}`);
    macs.get(vm.tenant)!.add(vm.mac);
  }
  const largest = Math.max(...perTenant.values());
  // Targets: any index up to one past the largest tenant, so some IPs exist in one tenant only,
  // and some in none.
  const pings = s.pings.map((p, i) => {
    const from = vms[p.from % vms.length]!;
    const target = (ip('10.1.0.10') + (p.to % (largest + 1))) >>> 0;
    const owner = vms.find((v) => v.tenant === from.tenant && v.ip === target);
    return { i, from, target, owner, size: 8 + i, delay: p.delay, run: null as PingRun | null };
  });
  net.start();
  for (const p of pings)
    net.scheduler.schedule(p.delay, () => {
      p.run = p.from.host.ping(p.target, { count: COUNT, size: p.size, interval: 100e6 });
    });
  net.run();

  const requestsTo = pings.map(() => 0);
  const repliesTo = pings.map(() => 0);
  const pingOf = (frame: Uint8Array) => {
    const size = readU16(frame, 16) - 20 - 8;
    const p = pings[size - 8];
    assert.ok(p !== undefined, `an echo of ${size} bytes belongs to no ping`);
    return p;
  };
  const bcastTx = new Map<Vm, number>();
  const bcastRx = new Map<Vm, number>();
  for (const vm of vms) {
    const own = pairs.get(vm.tenant)!;
    for (const frame of vm.rx) {
      const where = `${vm.host.name} received ${Buffer.from(frame.subarray(0, 42)).toString('hex')}`;
      const src = readMac(frame, 6);
      assert.ok(macs.get(vm.tenant)!.has(src), `${where}: source MAC of another tenant`);
      if (readMac(frame, 0) === MAC_BROADCAST) bcastRx.set(vm, (bcastRx.get(vm) ?? 0) + 1);
      const type = readU16(frame, 12);
      if (type === EtherType.arp) {
        const arp = ArpView.check(frame, 14);
        assert.ok(arp.ok);
        assert.ok(
          own.has(`${arp.value.senderMac}/${arp.value.senderIp}`),
          `${where}: ARP sender of another tenant`,
        );
        continue;
      }
      assert.equal(type, EtherType.ipv4, where);
      const srcIp = readU32(frame, 26);
      assert.ok(own.has(`${src}/${srcIp}`), `${where}: IPv4 source of another tenant`);
      if (frame[23] !== IpProtocol.icmp) continue;
      const icmpType = frame[34];
      if (icmpType === 8) {
        const p = pingOf(frame);
        assert.equal(
          p.from.tenant,
          vm.tenant,
          `${where}: echo request of ping ${p.i} from tenant ${p.from.tenant}`,
        );
        assert.equal(p.target, vm.ip, where);
        assert.equal(readU32(frame, 30), vm.ip, where);
        requestsTo[p.i]!++;
      } else if (icmpType === 0) {
        const p = pingOf(frame);
        assert.equal(p.from, vm, `${where}: echo reply of ping ${p.i}, sent by ${p.from.host.name}`);
        repliesTo[p.i]!++;
      }
    }
    for (const frame of vm.tx) {
      if (readMac(frame, 0) === MAC_BROADCAST) bcastTx.set(vm, (bcastTx.get(vm) ?? 0) + 1);
      if (readU16(frame, 12) === EtherType.ipv4 && frame[23] === IpProtocol.icmp && frame[34] === 0) {
        const p = pingOf(frame);
        assert.equal(
          p.from.tenant,
          vm.tenant,
          `${vm.host.name} answered ping ${p.i} of tenant ${p.from.tenant}`,
        );
        assert.equal(p.owner, vm, `${vm.host.name} answered ping ${p.i}, not its target`);
      }
    }
  }
  for (const p of pings) {
    const what = `ping ${p.i} ${p.from.host.name} -> ${formatIpv4(p.target)}`;
    const run = p.run!;
    assert.equal(run.done, true, what);
    const self = p.owner === p.from;
    if (p.owner !== undefined) {
      assert.deepEqual(
        run.results.map((r) => [r.status, r.from]),
        Array.from({ length: COUNT }, () => ['reply', formatIpv4(p.target)]),
        what,
      );
      // A ping of its own address never leaves the VM (loopback).
      assert.equal(requestsTo[p.i], self ? 0 : COUNT, `${what}: requests delivered`);
      assert.equal(repliesTo[p.i], self ? 0 : COUNT, `${what}: replies delivered`);
    } else {
      // The address exists, if at all, only in another tenant: nothing may answer.
      assert.ok(
        run.results.every((r) => r.status !== 'reply'),
        `${what}: ${JSON.stringify(run.results)}`,
      );
      assert.equal(requestsTo[p.i], 0, `${what}: requests delivered`);
      assert.equal(repliesTo[p.i], 0, `${what}: replies delivered`);
    }
  }
  for (const vm of vms) {
    const fromTenant = vms
      .filter((o) => o !== vm && o.tenant === vm.tenant)
      .reduce((n, o) => n + (bcastTx.get(o) ?? 0), 0);
    const got = bcastRx.get(vm) ?? 0;
    if (s.controlPlane === 'flood-and-learn')
      assert.equal(got, fromTenant, `${vm.host.name}: broadcasts received vs sent in its tenant`);
    else assert.ok(got <= fromTenant, `${vm.host.name}: ${got} broadcasts, its tenant sent ${fromTenant}`);
  }
  // Every NVE drops nothing by the overlay's rules (no frame was put in the wrong place).
  for (const nve of f.nves) assert.deepEqual(nve.drops, {}, nve.name);
}

test('property: tenants with identical subnets, MACs and IPs never see each other’s frames', () => {
  fc.assert(fc.property(scenario, isolationHolds), { numRuns: 40 });
});

test("isolation, fixed cases: A-vm2 and B-vm2 share MAC and IP, and each tenant's ping to 10.1.0.11 reaches its own", () => {
  // Two tenants, 5 VMs: A gets vm1..vm3, B vm1..vm2 (VM v goes to tenant v mod 2), one per leaf.
  isolationHolds({
    tenants: 2,
    spines: 1,
    leaves: 5,
    serversPerLeaf: 1,
    vmsPerServer: 1,
    controlPlane: 'flood-and-learn',
    nve: 'leaf',
    pings: [
      { from: 0, to: 1, delay: 0 }, // A-vm1 -> 10.1.0.11 (A-vm2; B-vm2 has the same address)
      { from: 1, to: 2, delay: 0 }, // B-vm1 -> 10.1.0.12: only A-vm3 has it
      { from: 3, to: 0, delay: 1000 }, // B-vm2 -> 10.1.0.10 (B-vm1; A-vm1 has the same address)
      { from: 1, to: 1, delay: 0 }, // B-vm1 -> 10.1.0.11 (B-vm2)
    ],
  });
  for (const controlPlane of ['flood-and-learn', 'controller'] as const) {
    const net = new Network();
    const f = buildFabric(net, {
      spines: 1,
      leaves: 2,
      serversPerLeaf: 1,
      vmsPerServer: 2,
      controlPlane,
      tenants: [
        { name: 'A', subnets: [SUBNET] },
        { name: 'B', subnets: [SUBNET] },
      ],
    });
    const host = (name: string) => f.vms.find((v) => v.host.name === name)!.host;
    assert.deepEqual(
      f.vms.map((v) => `${v.host.name}@leaf${v.leaf}`),
      ['A-vm1@leaf1', 'B-vm1@leaf1', 'A-vm2@leaf2', 'B-vm2@leaf2'],
    );
    net.start();
    net.run();
    // Both pings at once, 3 and 2 requests: each twin gets its own tenant's count.
    const a = host('A-vm1').ping(ip('10.1.0.11'), { count: 3 });
    const b = host('B-vm1').ping(ip('10.1.0.11'), { count: 2 });
    net.run();
    assert.deepEqual(
      [a.results.map((r) => r.status), b.results.map((r) => r.status)],
      [
        ['reply', 'reply', 'reply'],
        ['reply', 'reply'],
      ],
    );
    assert.deepEqual(
      [host('A-vm2').ipCounters.delivered, host('B-vm2').ipCounters.delivered],
      [3, 2],
      controlPlane,
    );
    // The leaves hold the same MAC twice, once per VNI, behind the same remote VTEP.
    const leaf1 = f.nves[0]!;
    assert.deepEqual(
      leaf1
        .bridgeDomains()
        .map((bd) => [bd.vni, bd.tenant, bd.macRows(net.scheduler.now()).map((r) => `${r.mac} ${r.where}`)]),
      [
        [10000, 'A', ['02:01:00:00:00:01 srv1:vlan10', '02:01:00:00:00:02 vtep 10.255.0.2']],
        [10001, 'B', ['02:01:00:00:00:01 srv1:vlan11', '02:01:00:00:00:02 vtep 10.255.0.2']],
      ],
    );
  }
});
