/**
 * The NVE over an underlay of its own: two NVEs joined by an in-memory datagram network instead of
 * routed links (as a real UDP socket would stand behind the same `Underlay` interface). A VM-to-VM
 * ping crosses it; every datagram is UDP to port 4789 with the flow's source port, an 8-byte VXLAN
 * header with the VNI, and the VM's frame unchanged; a datagram the underlay refuses is counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  Nve,
  Underlay,
  UnderlayProtocol,
  UnderlayReceiver,
  UnderlayRefusal,
} from '../../src/overlay/index.js';
import { Network } from '../../src/topo/network.js';
import { flowSourcePort, type Ipv4, innerFlowHash, ip, mac, readU24 } from '../../src/wire/index.js';

interface Sent {
  readonly protocol: number;
  readonly src: Ipv4;
  readonly dst: Ipv4;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly bytes: Uint8Array;
}

/** Datagrams between VTEPs by address, delivered on the receiving NVE's clock (a new event each). */
class DatagramNetwork {
  readonly sent: Sent[] = [];
  readonly endpoints = new Map<Ipv4, { nve?: Nve; receivers: Map<number, UnderlayReceiver> }>();
  /** Datagrams longer than this (tunnel header and frame) are refused as too big. */
  limit = Number.POSITIVE_INFINITY;
  /** When set, every send is refused with this (a real socket's full buffer, say). */
  failure: string | null = null;

  underlay(address: Ipv4): Underlay {
    const net = this;
    const endpoint = { receivers: new Map<number, UnderlayReceiver>() } as {
      nve?: Nve;
      receivers: Map<number, UnderlayReceiver>;
    };
    this.endpoints.set(address, endpoint);
    const check = (_p: number, dst: Ipv4, _s: number, _d: number, length: number): UnderlayRefusal | null =>
      !net.endpoints.has(dst)
        ? { reason: 'no-route' }
        : 20 + 8 + length > net.limit
          ? { reason: 'too-big', mtu: net.limit, iface: 'sock0', port: 'sock0' }
          : null;
    return {
      address,
      check,
      send(protocol: UnderlayProtocol, dst, srcPort, dstPort, header, payload) {
        const refused = check(protocol, dst, srcPort, dstPort, header.length + payload.length);
        if (refused !== null) return refused;
        if (net.failure !== null) return { reason: 'send-failed', why: net.failure };
        const bytes = new Uint8Array(header.length + payload.length);
        bytes.set(header);
        bytes.set(payload, header.length);
        net.sent.push({ protocol, src: address, dst, srcPort, dstPort, bytes });
        const far = net.endpoints.get(dst)!;
        const receiver = far.receivers.get(protocol * 0x1_0000 + dstPort);
        if (receiver !== undefined)
          far.nve!.setTimer(0, () => receiver(address, srcPort, bytes, 0, bytes.length, undefined));
        return null;
      },
      listen(protocol, port, receiver) {
        endpoint.receivers.set(protocol * 0x1_0000 + port, receiver);
      },
      close(protocol, port) {
        endpoint.receivers.delete(protocol * 0x1_0000 + port);
      },
    };
  }
}

function twoNves() {
  const net = new Network();
  const wires = new DatagramNetwork();
  const nves = [1, 2].map((i) => {
    const vtep = ip(`10.255.0.${i}`);
    const nve = net.addNve(`nve${i}`, { vtep, underlay: wires.underlay(vtep) });
    wires.endpoints.get(vtep)!.nve = nve;
    nve.addBridgeDomain(10, 5000, 'A');
    nve.addSubinterface('vm', { kind: 'untagged' }, 10);
    const vm = net.addHost(`vm${i}`, { ip: `10.1.0.${i}/24`, mac: mac(`02:00:00:00:00:0${i}`) });
    net.addLink(vm, nve, { bPort: 'vm' });
    return { nve, vm };
  });
  return { net, wires, nves };
}

test('an NVE over an underlay of its own: the ping crosses as VXLAN datagrams, VTEP to VTEP, VNI 5000, the flow source port, the frame unchanged', () => {
  const { net, wires, nves } = twoNves();
  net.start();
  const run = nves[0]!.vm.ping(ip('10.1.0.2'), { count: 2 });
  net.run();
  assert.deepEqual(
    run.results.map((r) => r.status),
    ['reply', 'reply'],
  );
  assert.ok(wires.sent.length >= 4, `${wires.sent.length} datagrams`);
  for (const d of wires.sent) {
    assert.equal(d.protocol, 17);
    assert.equal(d.dstPort, 4789);
    assert.equal(d.bytes[0], 0x08, 'VXLAN I flag');
    assert.equal(readU24(d.bytes, 4), 5000);
    assert.equal(d.srcPort, flowSourcePort(innerFlowHash(d.bytes.subarray(8))));
    assert.notEqual(d.src, d.dst);
  }
  for (const { nve } of nves) {
    // No IP stack of its own: the NVE's only ports are its access ports.
    assert.equal(nve.router, null);
    assert.deepEqual(
      nve.ports.map((p) => p.name),
      ['vm'],
    );
    assert.equal(nve.counters.encapsulated, wires.sent.filter((d) => d.src === nve.vtep).length);
    assert.equal(nve.counters.decapsulated, wires.sent.filter((d) => d.dst === nve.vtep).length);
    assert.deepEqual(nve.drops, {});
  }
});

test('a datagram the underlay refuses is dropped by reason: too big for its path, no route to the VTEP, a send that failed', () => {
  const { net, wires, nves } = twoNves();
  wires.limit = 100;
  net.start();
  nves[0]!.vm.ping(ip('10.1.0.2'), { count: 1, size: 200 });
  net.run();
  const nve1 = nves[0]!.nve;
  assert.ok((nve1.drops['overlay-mtu-exceeded'] ?? 0) >= 1, JSON.stringify(nve1.drops));
  wires.limit = Number.POSITIVE_INFINITY;
  const far = wires.endpoints.get(nves[1]!.nve.vtep)!;
  wires.endpoints.delete(nves[1]!.nve.vtep);
  nves[0]!.vm.ping(ip('10.1.0.3'), { count: 1 });
  net.run();
  assert.ok((nve1.drops['no-route-to-vtep'] ?? 0) >= 1, JSON.stringify(nve1.drops));
  wires.endpoints.set(nves[1]!.nve.vtep, far);
  const encapsulated = nve1.counters.encapsulated;
  wires.failure = 'sendto: EAGAIN (send buffer full)';
  const drops = nve1.drops['underlay-send-failed'] ?? 0;
  nves[0]!.vm.sendUdp(9, ip('10.1.0.2'), 9, new Uint8Array(8));
  net.run();
  assert.equal(nve1.drops['underlay-send-failed'], drops + 1);
  assert.equal(nve1.counters.encapsulated, encapsulated);
});
