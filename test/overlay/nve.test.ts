/**
 * The NVE on small networks: a VM-to-VM ping across two VTEPs and a routed underlay, checked byte
 * by byte on the underlay cable (outer IPv4 VTEP to VTEP, UDP 4789, the VNI, DF, TTL 64, the flow
 * source port, the VM's frame unchanged inside); exact BUM and replication counts in flood-and-learn
 * and controller mode (ARP suppression); remote learning and its aging; controller entries and MAC
 * mobility with sequence numbers; the encapsulation's MTU overhead at its exact boundary; malformed
 * or foreign packets at a VTEP dropped by reason; ECMP spreading VXLAN flows over four spines by
 * their source port; GENEVE and NVGRE fabrics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Host } from '../../src/devices/ip/host.js';
import type { Router } from '../../src/devices/router/router.js';
import type { CapturedFrame, Port } from '../../src/link/index.js';
import type { ControlPlane, EncapsulationKind, Nve } from '../../src/overlay/index.js';
import { buildFabric, type FabricSpec } from '../../src/topo/fabric.js';
import { Network } from '../../src/topo/network.js';
import {
  cidr,
  concatBytes,
  decodeFrame,
  EtherType,
  emitGeneve,
  emitIpv4,
  emitVxlan,
  flowSourcePort,
  formatIpv4,
  formatMac,
  fromHex,
  IpProtocol,
  innerFlowHash,
  ip,
  ipv4TupleHash,
  type Layer,
  type Mac,
  mac,
  readU16,
} from '../../src/wire/index.js';
import { ascii, ethernet, ipv4Icmp, ipv4Repr, ipv4Udp, tag } from '../helpers/build.js';
import { station } from '../helpers/station.js';

const VM_MAC = [mac('02:00:00:00:00:01'), mac('02:00:00:00:00:02'), mac('02:00:00:00:00:03')];
const VM_IP = ['10.1.0.1', '10.1.0.2', '10.1.0.3'];
const VTEP = ['10.255.0.1', '10.255.0.2', '10.255.0.3'];
const UPLINK_MAC = [mac('02:00:00:00:aa:01'), mac('02:00:00:00:aa:02'), mac('02:00:00:00:aa:03')];
const ROUTER_MAC = [mac('02:00:00:00:bb:01'), mac('02:00:00:00:bb:02'), mac('02:00:00:00:bb:03')];
const VNI = 5000;
const BD = 10;

interface Options {
  readonly count?: number;
  readonly mtu?: number;
  readonly controlPlane?: ControlPlane;
  readonly encapsulation?: EncapsulationKind;
  readonly agingTime?: number;
}

/**
 * `count` NVEs (nve1 ..) each with a loopback VTEP 10.255.0.N, an uplink `up` 172.16.N.2/30 to the
 * underlay router `r` (its `eN`, 172.16.N.1), and one VM vmN (10.1.0.N/24) on an untagged
 * sub-interface `vm` into BD 10, VNI 5000. `r` routes each VTEP /32 to its NVE.
 */
function overlay(options: Options = {}) {
  const count = options.count ?? 2;
  const net = new Network();
  const r = net.addRouter(
    'r',
    Array.from({ length: count }, (_, i) => ({
      name: `e${i + 1}`,
      addresses: [`172.16.${i + 1}.1/30`],
      mac: ROUTER_MAC[i],
    })),
  );
  const nves: Nve[] = [];
  const vms: Host[] = [];
  const underlay = [];
  for (let i = 0; i < count; i++) {
    const nve = net.addNve(`nve${i + 1}`, {
      vtep: VTEP[i]!,
      interfaces: [{ name: 'up', addresses: [`172.16.${i + 1}.2/30`], mac: UPLINK_MAC[i] }],
      ...(options.controlPlane ? { controlPlane: options.controlPlane } : {}),
      ...(options.encapsulation ? { encapsulation: options.encapsulation } : {}),
      ...(options.agingTime !== undefined ? { agingTime: options.agingTime } : {}),
    });
    nve.underlayRouter().addStaticRoute({ prefix: cidr('0.0.0.0/0'), nextHop: ip(`172.16.${i + 1}.1`) });
    r.addStaticRoute({ prefix: cidr(`${VTEP[i]}/32`), nextHop: ip(`172.16.${i + 1}.2`) });
    underlay.push(
      net.addLink(nve, r, {
        aPort: 'up',
        bPort: `e${i + 1}`,
        ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
      }),
    );
    nve.addBridgeDomain(BD, VNI, 'A');
    nve.addSubinterface('vm', { kind: 'untagged' }, BD);
    const vm = net.addHost(`vm${i + 1}`, { ip: `${VM_IP[i]}/24`, mac: VM_MAC[i] });
    net.addLink(vm, nve, { bPort: 'vm' });
    nves.push(nve);
    vms.push(vm);
  }
  return { net, r, nves, vms, underlay };
}

const layersOf = (data: Uint8Array): Layer[] => {
  const d = decodeFrame(data);
  assert.equal(d.error, null, JSON.stringify(d.error));
  return d.layers;
};
const isIpv4 = (data: Uint8Array) => readU16(data, 12) === EtherType.ipv4;
const names = (ls: Layer[]) => ls.map((l) => l.layer);
/** The inner frame of an outer Ethernet + IPv4 (no options) + UDP + VXLAN/GENEVE (no options) frame. */
const innerOfUdp = (data: Uint8Array) => data.subarray(14 + 20 + 8 + 8);
const innerOfGre = (data: Uint8Array) => data.subarray(14 + 20 + 8);
const macRow = (nve: Nve, m: Mac) => {
  const rows = nve.bridgeDomain(BD)!.macRows(nve.now());
  const row = rows.find((r) => r.mac === formatMac(m));
  return row === undefined ? undefined : { where: row.where, type: row.type, seq: row.seq };
};
const txFrames = (net: Network, port: Port): CapturedFrame[] => net.capture().attachPort(port, 'tx').frames;

test('VM to VM across two VTEPs: every frame on the underlay is VXLAN VTEP to VTEP, VNI 5000, DF, TTL 64 from the NVE, carrying the VM frame unchanged', () => {
  const { net, nves, vms, underlay } = overlay();
  const [nve1, nve2] = nves as [Nve, Nve];
  const [vm1, vm2] = vms as [Host, Host];
  const cable = net.capture().attachLink(underlay[0]!).frames;
  const sent1 = txFrames(net, vm1.port('eth0')!);
  const sent2 = txFrames(net, vm2.port('eth0')!);
  const got1 = net.capture().attachPort(vm1.port('eth0')!, 'rx').frames;
  const got2 = net.capture().attachPort(vm2.port('eth0')!, 'rx').frames;
  net.start();
  const run = vm1.ping(ip(VM_IP[1]!), { count: 3 });
  net.run();
  assert.deepEqual(
    run.results.map((r) => [r.status, r.from, r.ttl]),
    [
      ['reply', '10.1.0.2', 64],
      ['reply', '10.1.0.2', 64],
      ['reply', '10.1.0.2', 64],
    ],
  );
  // vm1 sent its gratuitous ARP, the ARP request and three echo requests; vm2 its gratuitous
  // ARP, the ARP reply and three echo replies. Each went through the fabric once.
  assert.equal(sent1.length, 5);
  assert.equal(sent2.length, 5);
  const data = cable.filter((f) => isIpv4(f.data));
  const fromNve1 = data.filter((f) => f.where === 'nve1:up tx');
  const fromR = data.filter((f) => f.where === 'r:e1 tx');
  assert.equal(fromNve1.length, 5);
  assert.equal(fromR.length, 5);
  assert.equal(data.length, 10); // nothing else crossed in IPv4: no stray packet
  const check = (f: CapturedFrame, vm: CapturedFrame, out: boolean) => {
    const ls = layersOf(f.data);
    const inner = innerOfUdp(f.data);
    assert.deepEqual(inner, vm.data, 'the inner frame is the VM frame, byte for byte');
    const [eth, ipv4, udp, vxlan] = ls as [Layer, Layer, Layer, Layer];
    assert.deepEqual(names(ls).slice(0, 5), ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet']);
    assert.deepEqual(
      [eth.src, eth.dst],
      out
        ? [formatMac(UPLINK_MAC[0]!), formatMac(ROUTER_MAC[0]!)]
        : [formatMac(ROUTER_MAC[0]!), formatMac(UPLINK_MAC[0]!)],
    );
    assert.deepEqual(
      {
        src: ipv4.src,
        dst: ipv4.dst,
        ttl: ipv4.ttl,
        df: ipv4.df,
        protocol: ipv4.protocol,
        totalLength: ipv4.totalLength,
        checksumOk: ipv4.checksumOk,
      },
      {
        src: out ? VTEP[0] : VTEP[1],
        dst: out ? VTEP[1] : VTEP[0],
        ttl: out ? 64 : 63, // 64 as the NVE sends it; r has routed the other direction once
        df: true,
        protocol: IpProtocol.udp,
        totalLength: 20 + 8 + 8 + vm.data.length,
        checksumOk: true,
      },
    );
    assert.deepEqual(
      { srcPort: udp.srcPort, dstPort: udp.dstPort, length: udp.length, checksum: udp.checksum },
      {
        srcPort: flowSourcePort(innerFlowHash(vm.data)),
        dstPort: 4789,
        length: 8 + 8 + vm.data.length,
        checksum: 0,
      },
    );
    assert.deepEqual({ flags: vxlan.flags, vni: vxlan.vni }, { flags: 0x08, vni: VNI });
    assert.ok((udp.srcPort as number) >= 49152 && (udp.srcPort as number) <= 65535);
  };
  for (const [i, f] of fromNve1.entries()) check(f, sent1[i]!, true);
  for (const [i, f] of fromR.entries()) check(f, sent2[i]!, false);
  // And each VM received exactly what the other sent (the echo replies, in order, untouched).
  assert.deepEqual(
    got2.map((f) => f.data),
    sent1.map((f) => f.data),
  );
  assert.deepEqual(
    got1.map((f) => f.data),
    sent2.map((f) => f.data),
  );
  assert.deepEqual(
    [
      nve1.counters.encapsulated,
      nve1.counters.decapsulated,
      nve2.counters.encapsulated,
      nve2.counters.decapsulated,
    ],
    [5, 5, 5, 5],
  );
  assert.deepEqual(nve1.drops, {});
  assert.deepEqual(nve2.drops, {});
});

const FABRIC: FabricSpec = {
  spines: 2,
  leaves: 2,
  serversPerLeaf: 1,
  vmsPerServer: 2,
  tenants: [{ name: 'A', subnets: [cidr('10.1.0.0/24')] }],
};

for (const placement of ['leaf', 'hypervisor'] as const) {
  test(`BUM counts, ${placement} placement: flood-and-learn floods the ARP request, the controller suppresses both ARP requests`, () => {
    /**
     * A-vm1 and A-vm2 sit behind the first NVE, A-vm3 and A-vm4 behind the second; A-vm1 pings
     * A-vm3 (10.1.0.12) once.
     *
     * At start each VM sends one gratuitous ARP (a broadcast): each NVE sees 2 BUM frames from its
     * VAPs (bumFrames 2), replicated to the one other VTEP (replicated 2), and floods the 2 it
     * receives from the fabric to its VAPs: BD bum = 2 + 2 = 4.
     *
     * Flood-and-learn: A-vm1's ARP request is one more BUM frame at the first NVE (bumFrames 3,
     * replicated 3, bum 5) and one more decapsulated broadcast at the second (bum 5). A-vm3 learns
     * A-vm1 from the request and answers unicast to a MAC its NVE learned from the gratuitous ARP:
     * no BUM. Echo request and reply are known unicast. Replicated copies in all: 3 + 2 = 5.
     * Encapsulated: 2 gratuitous ARPs + 1 ARP + 1 echo = 4 each way.
     *
     * Controller: the first NVE answers A-vm1's ARP request itself (arpSuppressed 1). A-vm3 never
     * saw a request (and a gratuitous ARP creates no entry on a host it is not for), so it ARPs
     * for A-vm1 before replying: suppressed by the second NVE (arpSuppressed 1). BUM stays at the
     * 2 gratuitous ARPs each (bumFrames 2, replicated 2, bum 4): 4 copies in all, one fewer.
     * Encapsulated: 2 gratuitous ARPs + 1 echo = 3 each way. The fabric provisions its VMs: each
     * NVE advertised its 2 VMs once (MAC and IP in one route each) and installed the other NVE's 2;
     * their traffic afterwards only confirms what the controller already knew.
     */
    const counts = (controlPlane: ControlPlane) => {
      const net = new Network();
      const f = buildFabric(net, { ...FABRIC, nve: placement, controlPlane });
      net.start();
      const vm1 = f.vms[0]!.host;
      assert.deepEqual(
        f.vms.map((v) => [v.host.name, v.leaf]),
        [
          ['A-vm1', 1],
          ['A-vm2', 1],
          ['A-vm3', 2],
          ['A-vm4', 2],
        ],
      );
      const run = vm1.ping(ip('10.1.0.12'), { count: 1 });
      net.run();
      assert.deepEqual(
        run.results.map((r) => [r.status, r.from]),
        [['reply', '10.1.0.12']],
      );
      assert.equal(f.nves.length, 2);
      for (const n of f.nves) assert.deepEqual(n.drops, {});
      return f.nves.map((n) => ({ ...n.counters, bd: { ...n.bridgeDomains()[0]!.counters } }));
    };
    const flood = counts('flood-and-learn');
    const ctrl = counts('controller');
    const bd = (o: Partial<Record<string, number>>) => ({
      fromVaps: 4,
      fromFabric: 4,
      bum: 4,
      replicated: 2,
      learnedLocal: 2,
      learnedRemote: 2,
      moves: 0,
      arpSuppressed: 0,
      ...o,
    });
    assert.deepEqual(flood, [
      {
        encapsulated: 4,
        decapsulated: 4,
        bumFrames: 3,
        replicated: 3,
        arpSuppressed: 0,
        advertised: 0,
        installed: 0,
        bd: bd({ bum: 5, replicated: 3 }),
      },
      {
        encapsulated: 4,
        decapsulated: 4,
        bumFrames: 2,
        replicated: 2,
        arpSuppressed: 0,
        advertised: 0,
        installed: 0,
        bd: bd({ bum: 5 }),
      },
    ]);
    const side = {
      encapsulated: 3,
      decapsulated: 3,
      bumFrames: 2,
      replicated: 2,
      arpSuppressed: 1,
      advertised: 2,
      installed: 2,
      bd: bd({ fromFabric: 3, arpSuppressed: 1 }),
    };
    assert.deepEqual(ctrl, [side, side]);
    const total = (c: typeof flood) => c.reduce((s, n) => s + n.replicated, 0);
    assert.deepEqual([total(flood), total(ctrl)], [5, 4]);
  });
}

test('flood-and-learn: the remote MAC is learned behind its VTEP and ages out exactly after the aging time', () => {
  const agingTime = 5e9;
  const { net, nves, vms } = overlay({ agingTime });
  const [nve1, nve2] = nves as [Nve, Nve];
  const [vm1] = vms as [Host, Host];
  net.start();
  const first = vm1.ping(ip(VM_IP[1]!), { count: 1 });
  net.run();
  assert.equal(first.results[0]!.status, 'reply');
  const bd1 = nve1.bridgeDomain(BD)!;
  assert.deepEqual(
    bd1.macRows(net.scheduler.now()).map(({ age: _age, ...r }) => r),
    [
      { mac: '02:00:00:00:00:01', where: 'vm', type: 'local', seq: 0 },
      { mac: '02:00:00:00:00:02', where: 'vtep 10.255.0.2', type: 'learned', seq: 0 },
    ],
  );
  assert.deepEqual(macRow(nve2, VM_MAC[0]!), { where: 'vtep 10.255.0.1', type: 'learned', seq: 0 });
  // Run the clock to the last instant the entry is still young enough, then one nanosecond on.
  const row = () => bd1.macRows(net.scheduler.now()).find((r) => r.mac === '02:00:00:00:00:02');
  const age = row()!.age;
  assert.ok(age > 0 && age < agingTime);
  net.run({ until: net.scheduler.now() + (agingTime - age) });
  assert.equal(row()?.age, agingTime);
  net.run({ until: net.scheduler.now() + 1 });
  assert.equal(row(), undefined);
  assert.deepEqual(macRow(nve1, VM_MAC[1]!), undefined);
  // vm1 still has vm2 in its ARP cache (60 s): its next echo request is a unicast the NVE no longer
  // knows, so it floods once (unknown unicast), and the reply teaches the NVE again.
  const before = { ...nve1.counters };
  const again = vm1.ping(ip(VM_IP[1]!), { count: 1 });
  net.run();
  assert.equal(again.results[0]!.status, 'reply');
  assert.equal(nve1.counters.bumFrames - before.bumFrames, 1);
  assert.equal(nve1.counters.replicated - before.replicated, 1);
  assert.equal(nve1.counters.encapsulated - before.encapsulated, 1);
  assert.deepEqual(macRow(nve1, VM_MAC[1]!), { where: 'vtep 10.255.0.2', type: 'learned', seq: 0 });
});

test('controller: remote MACs are controller entries with seq 0 that never age; a move advertised elsewhere wins with seq 1', () => {
  const { net, nves } = overlay({ count: 3, controlPlane: 'controller', agingTime: 1e9 });
  const [nve1, nve2, nve3] = nves as [Nve, Nve, Nve];
  net.start();
  net.run();
  for (const [i, nve] of nves.entries())
    for (const [j, m] of VM_MAC.entries())
      assert.deepEqual(
        macRow(nve, m),
        i === j
          ? { where: 'vm', type: 'local', seq: 0 }
          : { where: `vtep ${VTEP[j]}`, type: 'controller', seq: 0 },
      );
  // Learned (local) entries age; controller ones do not.
  net.run({ until: net.scheduler.now() + 10e9 });
  assert.deepEqual(macRow(nve3, VM_MAC[0]!), { where: 'vtep 10.255.0.1', type: 'controller', seq: 0 });
  assert.equal(macRow(nve3, VM_MAC[2]!), undefined);
  assert.deepEqual(
    net.overlay.table().find((r) => r.mac === '02:00:00:00:00:01'),
    { vni: VNI, mac: '02:00:00:00:00:01', ip: '10.1.0.1', vtep: '10.255.0.1', nve: 'nve1', seq: 0 },
  );
  // vm1's MAC now shows up behind nve2: the controller bumps the sequence number and installs it.
  net.overlay.advertise(nve2, nve2.bridgeDomain(BD)!, VM_MAC[0]!, null);
  assert.deepEqual(macRow(nve3, VM_MAC[0]!), { where: 'vtep 10.255.0.2', type: 'controller', seq: 1 });
  assert.deepEqual(macRow(nve1, VM_MAC[0]!), { where: 'vtep 10.255.0.2', type: 'controller', seq: 1 });
  assert.deepEqual(
    net.overlay.table().find((r) => r.mac === '02:00:00:00:00:01'),
    { vni: VNI, mac: '02:00:00:00:00:01', ip: '10.1.0.1', vtep: '10.255.0.2', nve: 'nve2', seq: 1 },
  );
  // The IP binding follows the MAC: nve3 would now answer ARP for 10.1.0.1 with it, as remote.
  assert.deepEqual(nve3.bridgeDomain(BD)!.arp.get(ip('10.1.0.1')), {
    ip: ip('10.1.0.1'),
    mac: VM_MAC[0],
    local: false,
  });
  // A stale route (lower sequence number) is refused and changes nothing; a newer one wins.
  const bd3 = nve3.bridgeDomain(BD)!;
  const moves = bd3.counters.moves;
  assert.equal(bd3.installRemote(VM_MAC[0]!, ip(VTEP[0]!), 0, net.scheduler.now()), false);
  assert.deepEqual(macRow(nve3, VM_MAC[0]!), { where: 'vtep 10.255.0.2', type: 'controller', seq: 1 });
  assert.equal(bd3.counters.moves, moves);
  assert.equal(nve3.installRemote(VNI, VM_MAC[0]!, ip(VTEP[0]!), 0, null), false);
  assert.equal(bd3.installRemote(VM_MAC[0]!, ip(VTEP[0]!), 2, net.scheduler.now()), true);
  assert.deepEqual(macRow(nve3, VM_MAC[0]!), { where: 'vtep 10.255.0.1', type: 'controller', seq: 2 });
  assert.equal(bd3.counters.moves, moves + 1);
  // A refresh with the same sequence number from the same VTEP is accepted (and is no move).
  assert.equal(bd3.installRemote(VM_MAC[0]!, ip(VTEP[0]!), 2, net.scheduler.now()), true);
  assert.equal(bd3.counters.moves, moves + 1);
  // An unknown VNI installs nothing.
  assert.equal(nve3.installRemote(VNI + 1, VM_MAC[0]!, ip(VTEP[0]!), 9, null), false);
});

test('controller, a real move: the same MAC appearing behind another NVE is advertised with seq 1 and traffic follows it', () => {
  const { net, nves, vms } = overlay({ count: 3, controlPlane: 'controller' });
  const [nve1, nve2, nve3] = nves as [Nve, Nve, Nve];
  const [vm1, , vm3] = vms as [Host, Host, Host];
  // vm1's twin (the same VM after a migration) on a second VAP of nve2, silent until it announces.
  nve2.addSubinterface('moved', { kind: 'untagged' }, BD);
  // Its cable is down until the move (it would otherwise answer vm1's gratuitous ARP for its own address).
  const moved = net.addHost('vm1-moved', { ip: '10.1.0.1/24', mac: VM_MAC[0]!, announce: false });
  const movedLink = net.addLink(moved, nve2, { bPort: 'moved' });
  movedLink.setUp(false);
  net.start();
  net.run();
  assert.deepEqual(macRow(nve3, VM_MAC[0]!), { where: 'vtep 10.255.0.1', type: 'controller', seq: 0 });
  assert.deepEqual(macRow(nve2, VM_MAC[0]!), { where: 'vtep 10.255.0.1', type: 'controller', seq: 0 });
  vm1.port('eth0')!.link!.setUp(false); // the old location goes away, the new one comes up
  movedLink.setUp(true);
  moved.announce();
  net.run();
  assert.deepEqual(macRow(nve2, VM_MAC[0]!), { where: 'moved', type: 'local', seq: 0 });
  assert.deepEqual(macRow(nve3, VM_MAC[0]!), { where: 'vtep 10.255.0.2', type: 'controller', seq: 1 });
  assert.deepEqual(macRow(nve1, VM_MAC[0]!), { where: 'vtep 10.255.0.2', type: 'controller', seq: 1 });
  const run = vm3.ping(ip('10.1.0.1'), { count: 2 });
  net.run();
  assert.deepEqual(
    run.results.map((r) => [r.status, r.from]),
    [
      ['reply', '10.1.0.1'],
      ['reply', '10.1.0.1'],
    ],
  );
  assert.equal(moved.ipCounters.delivered, 2); // the echo requests reached the moved VM
  assert.equal(vm1.ipCounters.delivered, 0);
});

for (const [mtu, size, ok] of [
  [1500, 1472, false], // 1500-byte packet, 1514-byte frame + 36 = 1550 > 1500
  [1550, 1472, true], // exactly fits: 1550
  [1500, 1422, true], // 1464-byte frame + 36 = 1500
  [1500, 1423, false], // 1465 + 36 = 1501
] as const) {
  test(`MTU: underlay MTU ${mtu}, ping size ${size} ${ok ? 'crosses' : 'is dropped at the ingress NVE (overlay-mtu-exceeded)'}`, () => {
    const { net, nves, vms, underlay } = overlay({ mtu });
    const [nve1, nve2] = nves as [Nve, Nve];
    const [vm1] = vms as [Host, Host];
    const cable = net.capture().attachLink(underlay[0]!).frames;
    net.start();
    const run = vm1.ping(ip(VM_IP[1]!), { count: 1, size });
    net.run();
    assert.deepEqual(
      run.results.map((r) => r.status),
      [ok ? 'reply' : 'timeout'],
    );
    const biggest = Math.max(...cable.map((f) => f.data.length));
    if (ok) {
      assert.deepEqual(nve1.drops, {});
      assert.deepEqual(nve2.drops, {});
      assert.equal(biggest, 14 + 20 + 8 + 8 + 14 + 20 + 8 + size);
    } else {
      assert.deepEqual(nve1.drops, { 'overlay-mtu-exceeded': 1 });
      assert.ok(biggest < 200, 'only the small frames (ARP) crossed');
    }
    assert.deepEqual(underlay[0]!.drops, {}); // the NVE, not the link, refused it
  });
}

/**
 * nve1 with two equal-cost uplinks to r (`up1` 172.16.1.2/30 and `up2` 172.16.3.2/30, MTUs as
 * given, default routes added in `order`), nve2 behind r on a 1550 link; vm1 and vm2 as above.
 * Returns a UDP source port whose VXLAN packet nve1 sends on the second default route added.
 */
function twoUplinks(mtu: { up1: number; up2: number }, order: readonly ('up1' | 'up2')[]) {
  const net = new Network();
  const r = net.addRouter('r', [
    { name: 'e1', addresses: ['172.16.1.1/30'], mac: ROUTER_MAC[0] },
    { name: 'e2', addresses: ['172.16.2.1/30'], mac: ROUTER_MAC[1] },
    { name: 'e3', addresses: ['172.16.3.1/30'], mac: ROUTER_MAC[2] },
  ]);
  const nve1 = net.addNve('nve1', {
    vtep: VTEP[0]!,
    interfaces: [
      { name: 'up1', addresses: ['172.16.1.2/30'], mac: UPLINK_MAC[0] },
      { name: 'up2', addresses: ['172.16.3.2/30'], mac: UPLINK_MAC[2] },
    ],
  });
  const nve2 = net.addNve('nve2', {
    vtep: VTEP[1]!,
    interfaces: [{ name: 'up', addresses: ['172.16.2.2/30'], mac: UPLINK_MAC[1] }],
  });
  const via = { up1: '172.16.1.1', up2: '172.16.3.1' };
  for (const u of order)
    nve1.underlayRouter().addStaticRoute({ prefix: cidr('0.0.0.0/0'), nextHop: ip(via[u]), iface: u });
  nve2.underlayRouter().addStaticRoute({ prefix: cidr('0.0.0.0/0'), nextHop: ip('172.16.2.1') });
  r.addStaticRoute({ prefix: cidr(`${VTEP[0]}/32`), nextHop: ip('172.16.3.2') });
  r.addStaticRoute({ prefix: cidr(`${VTEP[1]}/32`), nextHop: ip('172.16.2.2') });
  net.addLink(nve1, r, { aPort: 'up1', bPort: 'e1', mtu: mtu.up1 });
  net.addLink(nve1, r, { aPort: 'up2', bPort: 'e3', mtu: mtu.up2 });
  net.addLink(r, nve2, { aPort: 'e2', bPort: 'up', mtu: 1550 });
  const vms: Host[] = [];
  for (const [i, nve] of [nve1, nve2].entries()) {
    nve.addBridgeDomain(BD, VNI, 'A');
    nve.addSubinterface('vm', { kind: 'untagged' }, BD);
    const vm = net.addHost(`vm${i + 1}`, { ip: `${VM_IP[i]}/24`, mac: VM_MAC[i] });
    net.addLink(vm, nve, { bPort: 'vm' });
    vms.push(vm);
  }
  // The flow vm1:PORT -> vm2:9 is hashed twice: its inner frame gives the VXLAN source port, and
  // the outer 5-tuple (VTEP, VTEP, UDP, that port, 4789) picks the uplink.
  const outerIndex = (srcPort: number) => {
    const inner = ethernet(
      VM_MAC[1]!,
      VM_MAC[0]!,
      EtherType.ipv4,
      ipv4Udp({ src: ip(VM_IP[0]!), dst: ip(VM_IP[1]!) }, srcPort, 9, new Uint8Array(8)),
    );
    const udp = new Uint8Array(4);
    const vxlanPort = flowSourcePort(innerFlowHash(inner));
    udp.set([vxlanPort >> 8, vxlanPort & 0xff, 0x12, 0xb5]);
    return (ipv4TupleHash(ip(VTEP[0]!), ip(VTEP[1]!), IpProtocol.udp, udp) >>> 0) % 2;
  };
  let port = 40000;
  while (outerIndex(port) !== 1) port++;
  return { net, nve1, nve2, vm1: vms[0]!, vm2: vms[1]!, port, second: order[1]! };
}

for (const [mtu, order, delivered] of [
  [{ up1: 1500, up2: 1550 }, ['up1', 'up2'], true],
  [{ up1: 1500, up2: 1550 }, ['up2', 'up1'], false],
] as const) {
  test(`MTU with ECMP uplinks of different MTUs: the check is against the uplink the packet takes (${order[1]}, MTU ${mtu[order[1]]})`, () => {
    const { net, nve1, vm1, vm2, port, second } = twoUplinks(mtu, order);
    vm2.bindUdp(9, () => {});
    net.start();
    net.run();
    // A small datagram of the flow first: it leaves by the second route's uplink, as computed.
    const tunnel = tunnelTx(nve1.underlayRouter(), ['up1', 'up2']);
    vm1.sendUdp(port, ip(VM_IP[1]!), 9, new Uint8Array(8));
    net.run();
    assert.equal(vm2.udpLog.length, 1);
    // (vm1's ARP request for vm2, another flow, went first: only the datagram's own packet counts.)
    assert.deepEqual(
      tunnel.filter((x) => readU16(innerOfUdp(x.data), 12) === EtherType.ipv4).map((x) => x.port),
      [second],
    );
    // 1472 bytes of data: a 1514-byte inner frame, a 1550-byte outer packet.
    vm1.sendUdp(port, ip(VM_IP[1]!), 9, new Uint8Array(1472));
    net.run();
    if (delivered) {
      assert.equal(vm2.udpLog.length, 2, JSON.stringify(nve1.drops));
      assert.deepEqual(nve1.drops, {});
    } else {
      assert.equal(vm2.udpLog.length, 1);
      assert.deepEqual(nve1.drops, { 'overlay-mtu-exceeded': 1 });
    }
  });
}

/**
 * One NVE (VTEP 10.255.0.1, uplink `up` 172.16.1.2/30) with vm1 on BD 10 / VNI 5000, and a test
 * station on its uplink in the underlay router's place (172.16.1.1), to inject crafted packets.
 */
function lone(encapsulation?: EncapsulationKind) {
  const net = new Network();
  const nve = net.addNve('nve1', {
    vtep: VTEP[0]!,
    interfaces: [{ name: 'up', addresses: ['172.16.1.2/30'], mac: UPLINK_MAC[0] }],
    ...(encapsulation ? { encapsulation } : {}),
  });
  nve.underlayRouter().addStaticRoute({ prefix: cidr('0.0.0.0/0'), nextHop: ip('172.16.1.1') });
  nve.addBridgeDomain(BD, VNI, 'A');
  nve.addSubinterface('vm', { kind: 'untagged' }, BD);
  const vm = net.addHost('vm1', { ip: `${VM_IP[0]}/24`, mac: VM_MAC[0] });
  net.addLink(vm, nve, { bPort: 'vm' });
  const st = station(net, 'st');
  net.addLink(st, nve, { bPort: 'up' });
  // nve1 knows the station's MAC, so that an ICMP error it sends leaves at once.
  nve.underlayRouter().iface('up')!.arp.set(ip('172.16.1.1'), ST_MAC, 0);
  const vmRx = net.capture().attachPort(vm.port('eth0')!, 'rx').frames;
  net.start();
  net.run();
  const send = (frame: Uint8Array) => {
    st.send(frame);
    net.run();
  };
  return { net, nve, vm, st, vmRx, send };
}

const ST_MAC = mac('02:00:00:00:cc:01');
const REMOTE_MAC = mac('02:00:00:00:dd:01');
/** A frame of a remote station (02:00:00:00:dd:01, 10.1.0.99) for vm1: an echo request. */
const GOOD_INNER = ethernet(
  VM_MAC[0]!,
  REMOTE_MAC,
  EtherType.ipv4,
  ipv4Icmp(
    { src: ip('10.1.0.99'), dst: ip(VM_IP[0]!) },
    { kind: 'echo-request', id: 7, seq: 1, data: ascii('x') },
  ),
);
/** An outer frame from the station to nve1: IPv4 10.255.0.9 -> `dst`, UDP 50000 -> `dstPort`, zero checksum. */
const udpToNve = (dst: string, payload: Uint8Array, dstPort = 4789) =>
  ethernet(
    UPLINK_MAC[0]!,
    ST_MAC,
    EtherType.ipv4,
    ipv4Udp({ src: ip('10.255.0.9'), dst: ip(dst), ttl: 63 }, 50000, dstPort, payload, false),
  );

test('a VXLAN VTEP drops unknown VNIs, inner VLAN tags, bad headers, runts and group sources by reason, and decapsulates a good one', () => {
  const { nve, vm, st, vmRx, send } = lone();
  const drops = () => ({ ...nve.drops });
  send(udpToNve(VTEP[0]!, emitVxlan({ vni: VNI + 1 }, GOOD_INNER)));
  assert.deepEqual(drops(), { 'unknown-vni': 1 });
  const tagged = ethernet(VM_MAC[0]!, REMOTE_MAC, EtherType.ipv4, new Uint8Array(46), [tag(10)]);
  send(udpToNve(VTEP[0]!, emitVxlan({ vni: VNI }, tagged)));
  assert.deepEqual(drops(), { 'unknown-vni': 1, 'inner-vlan-tag': 1 });
  const qinq = ethernet(VM_MAC[0]!, REMOTE_MAC, EtherType.ipv4, new Uint8Array(46), [
    tag(100, 0, EtherType.qinq),
    tag(10),
  ]);
  send(udpToNve(VTEP[0]!, emitVxlan({ vni: VNI }, qinq)));
  assert.deepEqual(drops(), { 'unknown-vni': 1, 'inner-vlan-tag': 2 });
  const noI = emitVxlan({ vni: VNI }, GOOD_INNER);
  noI[0] = 0x00;
  send(udpToNve(VTEP[0]!, noI));
  assert.deepEqual(drops(), { 'unknown-vni': 1, 'inner-vlan-tag': 2, 'vxlan-missing-i-flag': 1 });
  send(udpToNve(VTEP[0]!, fromHex('080000000013'))); // 6 bytes: a VXLAN header cut short
  send(udpToNve(VTEP[0]!, emitVxlan({ vni: VNI }, GOOD_INNER.subarray(0, 13))));
  const groupSource = GOOD_INNER.slice();
  groupSource[6] = 0x03; // 03:00:00:00:dd:01 as the inner source: a group address
  send(udpToNve(VTEP[0]!, emitVxlan({ vni: VNI }, groupSource)));
  assert.deepEqual(drops(), {
    'unknown-vni': 1,
    'inner-vlan-tag': 2,
    'vxlan-missing-i-flag': 1,
    'vxlan-truncated': 1,
    'inner-runt': 1,
    'bad-source-mac': 1,
  });
  assert.equal(nve.counters.decapsulated, 0);
  assert.equal(vmRx.length, 0, 'nothing reached the VM');
  assert.equal(nve.bridgeDomain(BD)!.counters.fromFabric, 0);
  // VXLAN to the uplink address, not the VTEP: not decapsulated, answered "port unreachable".
  st.clear();
  send(udpToNve('172.16.1.2', emitVxlan({ vni: VNI }, GOOD_INNER)));
  assert.equal(nve.drops['port-unreachable'], 1);
  assert.equal(nve.counters.decapsulated, 0);
  const icmp = st.received
    .map((r) => layersOf(r.frame))
    .flatMap((ls) => ls.filter((l) => l.layer === 'icmp'));
  assert.deepEqual(
    icmp.map((l) => [l.type, l.code]),
    [[3, 3]],
  );
  // The good one: decapsulated, learned behind its VTEP, and delivered to the VM byte for byte.
  send(udpToNve(VTEP[0]!, emitVxlan({ vni: VNI }, GOOD_INNER)));
  assert.equal(nve.counters.decapsulated, 1);
  assert.deepEqual(
    vmRx.map((f) => f.data),
    [GOOD_INNER],
  );
  assert.deepEqual(macRow(nve, REMOTE_MAC), { where: 'vtep 10.255.0.9', type: 'learned', seq: 0 });
  assert.equal(vm.ipCounters.received, 1);
});

test('a GENEVE VTEP drops critical options and non-Ethernet payloads; an NVGRE VTEP drops plain GRE; both take a good one', () => {
  const inner = ethernet(VM_MAC[0]!, REMOTE_MAC, EtherType.ipv4, new Uint8Array(46));
  {
    const { nve, vmRx, send } = lone('geneve');
    const geneve = (critical: boolean, protocol: number) =>
      emitGeneve(
        {
          oam: false,
          critical,
          protocol,
          vni: VNI,
          options: critical ? [{ optionClass: 0x0102, type: 0x80, data: new Uint8Array(4) }] : [],
        },
        inner,
      );
    send(udpToNve(VTEP[0]!, geneve(true, EtherType.transparentEthernetBridging), 6081));
    send(udpToNve(VTEP[0]!, geneve(false, EtherType.ipv4), 6081));
    // VXLAN's port means nothing to a GENEVE VTEP: no socket there.
    send(udpToNve(VTEP[0]!, emitVxlan({ vni: VNI }, inner), 4789));
    assert.deepEqual(nve.drops, {
      'geneve-critical-option': 1,
      'geneve-not-ethernet': 1,
      'port-unreachable': 1,
    });
    assert.equal(vmRx.length, 0);
    send(udpToNve(VTEP[0]!, geneve(false, EtherType.transparentEthernetBridging), 6081));
    assert.equal(nve.counters.decapsulated, 1);
    assert.deepEqual(
      vmRx.map((f) => f.data),
      [inner],
    );
  }
  {
    const { nve, vmRx, send } = lone('nvgre');
    const gre = (payload: Uint8Array) =>
      ethernet(
        UPLINK_MAC[0]!,
        ST_MAC,
        EtherType.ipv4,
        emitIpv4(ipv4Repr({ src: ip('10.255.0.9'), dst: ip(VTEP[0]!), protocol: IpProtocol.gre }), payload),
      );
    send(gre(concatBytes([fromHex('00000800'), new Uint8Array(20)]))); // plain GRE carrying IPv4
    send(gre(concatBytes([fromHex('00006558'), inner]))); // Ethernet, but no key
    assert.deepEqual(nve.drops, { 'gre-not-nvgre': 2 });
    assert.equal(vmRx.length, 0);
    send(gre(concatBytes([fromHex('2000655800138800'), inner]))); // K, 0x6558, VSID 5000, FlowID 0
    assert.equal(nve.counters.decapsulated, 1);
    assert.deepEqual(
      vmRx.map((f) => f.data),
      [inner],
    );
  }
});

test('a GENEVE VTEP does not forward the payload of a control packet (O bit, RFC 8926 3.4) to its VMs', () => {
  const { nve, vmRx, send } = lone('geneve');
  const inner = ethernet(VM_MAC[0]!, REMOTE_MAC, EtherType.ipv4, new Uint8Array(46));
  const oam = emitGeneve(
    { oam: true, critical: false, protocol: EtherType.transparentEthernetBridging, vni: VNI, options: [] },
    inner,
  );
  send(udpToNve(VTEP[0]!, oam, 6081));
  assert.deepEqual(
    vmRx.map((f) => f.data),
    [],
  );
  assert.equal(nve.counters.decapsulated, 0);
  assert.equal(nve.bridgeDomain(BD)!.counters.fromFabric, 0);
  assert.equal(macRow(nve, REMOTE_MAC), undefined, 'nothing learned from a control packet');
});

test('bridge domain configuration: ids and VNIs are unique, VNIs are 1..2^24-1, for L2 and L3 VNIs alike', () => {
  const net = new Network();
  const nve = net.addNve('nve1', { vtep: '10.255.0.1' });
  // No interface carried the VTEP address: a loopback got it.
  assert.deepEqual(
    nve
      .underlayRouter()
      .interfaces.map((i) => [i.name, i.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`)]),
    [['lo', ['10.255.0.1/32']]],
  );
  const bd = nve.addBridgeDomain(10, 5000, 'A');
  assert.deepEqual([bd.id, bd.vni, bd.tenant], [10, 5000, 'A']);
  assert.equal(nve.bridgeDomainByVni(5000), bd);
  assert.throws(() => nve.addBridgeDomain(10, 5001), { message: 'nve1 already has bridge domain 10' });
  assert.throws(() => nve.addBridgeDomain(11, 5000), {
    message: 'nve1: VNI 5000 is already mapped to a bridge domain',
  });
  for (const vni of [0, 0x100_0000, -5, 2.5])
    assert.throws(() => nve.addBridgeDomain(12, vni), { message: `nve1: VNI ${vni} is not 1..16777215` });
  assert.throws(() => nve.addSubinterface('x', { kind: 'untagged' }, 99), {
    message: 'nve1 has no bridge domain 99',
  });
  assert.throws(() => nve.addL3BridgeDomain(5000, 'A'), {
    message: 'nve1: VNI 5000 is already mapped to a bridge domain',
  });
  // An L3 VNI goes on the wire like any other: the same range applies.
  for (const vni of [0, 0x100_0000])
    assert.throws(() => nve.addL3BridgeDomain(vni, 'A'), /is not 1\.\.16777215/, `L3 VNI ${vni}`);
  const l3 = nve.addL3BridgeDomain(50000, 'A');
  assert.deepEqual(
    nve.bridgeDomains().map((b) => [b.id, b.vni]),
    [
      [10, 5000],
      [0, 50000],
    ],
  );
  assert.equal(nve.bridgeDomainByVni(50000), l3);
});

/** Every encapsulated frame a node sent on its ports, with the port. */
function tunnelTx(node: Router, ports: readonly string[]) {
  const frames: { port: string; data: Uint8Array }[] = [];
  for (const p of ports) {
    const port = node.port(p)!;
    port.tap((data, dir) => {
      if (dir === 'tx' && isIpv4(data)) frames.push({ port: p, data });
    });
  }
  return frames;
}

test('ECMP, leaf placement, 4 spines: 256 VM-to-VM flows spread over every spine (10%..40% each), one path and one source port per flow', () => {
  const net = new Network();
  const f = buildFabric(net, {
    spines: 4,
    leaves: 2,
    serversPerLeaf: 2,
    vmsPerServer: 8,
    tenants: [{ name: 'A', subnets: [cidr('10.1.0.0/24')] }],
  });
  const leaf1 = f.leaves[0]!;
  const uplinks = ['to-spine1', 'to-spine2', 'to-spine3', 'to-spine4'];
  const frames = tunnelTx(leaf1, uplinks);
  net.start();
  net.run();
  const left = f.vms.filter((v) => v.leaf === 1).map((v) => v.host);
  const right = f.vms.filter((v) => v.leaf === 2).map((v) => v.host);
  assert.deepEqual([left.length, right.length], [16, 16]);
  const runs = [];
  for (const a of left)
    for (const b of right) runs.push(a.ping(b.interfaces[0]!.primary!.address, { count: 2, interval: 1e6 }));
  net.run();
  assert.equal(runs.length, 256);
  assert.equal(runs.flatMap((r) => r.results).filter((x) => x.status === 'reply').length, 512);
  const perUplink = uplinks.map((u) => frames.filter((x) => x.port === u).length);
  const total = perUplink.reduce((a, b) => a + b, 0);
  for (const n of perUplink) assert.ok(n >= total * 0.1 && n <= total * 0.4, `${perUplink}`);
  // The uplinks carried no IPv4 but VXLAN from leaf1's VTEP to leaf2's, each with its flow's source port.
  const flows = new Map<string, { ports: Set<number>; uplinks: Set<string>; n: number }>();
  for (const x of frames) {
    const ls = layersOf(x.data);
    assert.deepEqual(names(ls).slice(0, 4), ['ethernet', 'ipv4', 'udp', 'vxlan']);
    assert.deepEqual([ls[1]!.src, ls[1]!.dst, ls[3]!.vni], ['10.255.0.1', '10.255.0.2', 10000]);
    const udp = ls[2]!;
    const inner = innerOfUdp(x.data);
    assert.equal(udp.srcPort, flowSourcePort(innerFlowHash(inner)));
    const innerIcmp = ls.find((l, i) => i > 4 && l.layer === 'icmp');
    if (innerIcmp?.type !== 8) continue;
    const innerIp = ls.filter((l) => l.layer === 'ipv4')[1]!;
    const key = `${innerIp.src}>${innerIp.dst}`;
    const flow = flows.get(key) ?? { ports: new Set(), uplinks: new Set(), n: 0 };
    flow.ports.add(udp.srcPort as number);
    flow.uplinks.add(x.port);
    flow.n++;
    flows.set(key, flow);
  }
  assert.equal(flows.size, 256);
  for (const [key, flow] of flows) {
    assert.equal(flow.n, 2, key);
    assert.equal(flow.ports.size, 1, `${key}: one source port per flow`);
    assert.equal(flow.uplinks.size, 1, `${key}: one spine per flow`);
  }
  const distinctPorts = new Set([...flows.values()].map((x) => [...x.ports][0]));
  assert.ok(distinctPorts.size >= 250, `${distinctPorts.size} distinct source ports for 256 flows`);
  // Echo-request flows alone spread too.
  const requestsPer = uplinks.map((u) => [...flows.values()].filter((x) => x.uplinks.has(u)).length);
  for (const n of requestsPer) assert.ok(n >= 256 * 0.1 && n <= 256 * 0.4, `${requestsPer}`);
});

test('ECMP, hypervisor placement, 4 spines: leaf1 spreads the VTEPs packets, ecmpChoices equal to what each uplink carried', () => {
  const net = new Network();
  const f = buildFabric(net, {
    spines: 4,
    leaves: 2,
    serversPerLeaf: 2,
    vmsPerServer: 6,
    nve: 'hypervisor',
    tenants: [{ name: 'A', subnets: [cidr('10.1.0.0/24')] }],
  });
  const leaf1 = f.leaves[0]!;
  const uplinks = ['to-spine1', 'to-spine2', 'to-spine3', 'to-spine4'];
  const frames = tunnelTx(leaf1, uplinks);
  net.start();
  net.run();
  const left = f.vms.filter((v) => v.leaf === 1).map((v) => v.host);
  const right = f.vms.filter((v) => v.leaf === 2).map((v) => v.host);
  for (const a of left) for (const b of right) a.ping(b.interfaces[0]!.primary!.address, { count: 1 });
  net.run();
  const perUplink = uplinks.map((u) => frames.filter((x) => x.port === u).length);
  const total = perUplink.reduce((a, b) => a + b, 0);
  assert.ok(total > 144, `${total}`);
  assert.deepEqual(
    uplinks.map((u) => leaf1.ecmpChoices[u] ?? 0),
    perUplink,
  );
  for (const n of perUplink) assert.ok(n >= total * 0.1 && n <= total * 0.4, `${perUplink}`);
});

for (const encapsulation of ['geneve', 'nvgre'] as const) {
  test(`a ${encapsulation.toUpperCase()} fabric: a cross-leaf ping works and the uplink capture decodes as ${encapsulation.toUpperCase()} with VNI 10000`, () => {
    const net = new Network();
    const f = buildFabric(net, { ...FABRIC, encapsulation });
    const leaf1 = f.leaves[0]!;
    const frames = tunnelTx(leaf1, ['to-spine1', 'to-spine2']);
    const vm1 = f.vms[0]!.host;
    const sent = txFrames(net, vm1.port('eth0')!);
    net.start();
    const run = vm1.ping(ip('10.1.0.12'), { count: 2 });
    net.run();
    assert.deepEqual(
      run.results.map((r) => [r.status, r.from]),
      [
        ['reply', '10.1.0.12'],
        ['reply', '10.1.0.12'],
      ],
    );
    // A-vm1 and A-vm2 each sent a gratuitous ARP; A-vm1 the ARP request and two echo requests.
    assert.equal(frames.length, 5);
    const innerSource = (data: Uint8Array) => layersOf(data).filter((l) => l.layer === 'ethernet')[1]?.src;
    const fromVm1 = frames.filter((x) => innerSource(x.data) === '02:01:00:00:00:01');
    assert.equal(fromVm1.length, sent.length);
    for (const x of frames) {
      const ls = layersOf(x.data);
      const outer = ls[1]!;
      assert.deepEqual([outer.src, outer.dst, outer.ttl, outer.df], ['10.255.0.1', '10.255.0.2', 64, true]);
      if (encapsulation === 'geneve') {
        assert.deepEqual(names(ls).slice(0, 5), ['ethernet', 'ipv4', 'udp', 'geneve', 'ethernet']);
        const inner = innerOfUdp(x.data);
        assert.equal(ls[2]!.dstPort, 6081);
        assert.equal(ls[2]!.srcPort, flowSourcePort(innerFlowHash(inner)));
        assert.deepEqual(
          [ls[3]!.vni, ls[3]!.protocol, ls[3]!.optionsLength, ls[3]!.critical],
          [10000, 0x6558, 0, false],
        );
      } else {
        assert.deepEqual(names(ls).slice(0, 4), ['ethernet', 'ipv4', 'nvgre', 'ethernet']);
        assert.equal(outer.protocol, IpProtocol.gre);
        const inner = innerOfGre(x.data);
        assert.deepEqual(
          [ls[2]!.vsid, ls[2]!.protocol, ls[2]!.flowId],
          [10000, 0x6558, innerFlowHash(inner) & 0xff],
        );
      }
    }
    for (const [i, x] of fromVm1.entries())
      assert.deepEqual(encapsulation === 'geneve' ? innerOfUdp(x.data) : innerOfGre(x.data), sent[i]!.data);
    assert.equal(formatIpv4(f.nves[1]!.vtep), '10.255.0.2');
  });
}

test('controller mode: the fabric provisions its VMs, so every NVE knows them before they send anything', () => {
  const net = new Network();
  const f = buildFabric(net, { ...FABRIC, controlPlane: 'controller' });
  net.start(); // no event has run yet: nothing was learned from traffic
  const leaf2 = f.nves[1]!;
  const bd = leaf2.bridgeDomain(10)!;
  assert.deepEqual(
    bd.macRows(0).map((r) => [r.mac, r.where, r.type, r.seq]),
    [
      ['02:01:00:00:00:01', 'vtep 10.255.0.1', 'controller', 0],
      ['02:01:00:00:00:02', 'vtep 10.255.0.1', 'controller', 0],
    ],
  );
  assert.deepEqual(
    [...bd.arp.values()].map((b) => [b.ip, b.local]),
    [
      [ip('10.1.0.10'), false],
      [ip('10.1.0.11'), false],
      [ip('10.1.0.12'), true],
      [ip('10.1.0.13'), true],
    ].sort((a, b) => Number(a[0]) - Number(b[0])),
  );
  assert.equal(net.overlay.table().length, 4);
  // Flood-and-learn fabrics provision nothing: their NVEs learn from traffic only.
  const quiet = new Network();
  const g = buildFabric(quiet, FABRIC);
  quiet.start();
  assert.deepEqual([g.nves[1]!.bridgeDomain(10)!.size, quiet.overlay.table().length], [0, 0]);
});

test('fabric announce: by default every VM sends one gratuitous ARP at start; with announce false none', () => {
  const startUp = (announce: boolean | undefined) => {
    const net = new Network();
    const f = buildFabric(net, announce === undefined ? FABRIC : { ...FABRIC, announce });
    net.start();
    net.run();
    return {
      sentByVms: f.vms.map((v) => v.host.interfaces[0]!.port.counters.txFrames),
      delivered: net.links.reduce((n, l) => n + l.delivered, 0),
    };
  };
  // Without the VMs' announcements, only the underlay's routers announce their link addresses
  // (2 leaves x 2 spines, both ends of each link).
  assert.deepEqual(startUp(false), { sentByVms: [0, 0, 0, 0], delivered: 8 });
  const announced = startUp(undefined);
  assert.deepEqual(announced.sentByVms, [1, 1, 1, 1]);
  // Each announcement: VM -> server -> leaf, to the other VM on the server, and across a spine to
  // the other leaf, its server and both VMs there: 8 deliveries.
  assert.equal(announced.delivered, 8 + 4 * 8);
  assert.deepEqual(startUp(true), announced);
});
