/**
 * Flow hashes: pinned values, every hashed bit matters and nothing else does, VLAN tags skipped,
 * fragments hashed without ports, the tuple hash equal to the packet hash, no throw and no read
 * out of bounds on random input (fast-check), and an even spread over ECMP buckets and source ports.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  EtherType,
  emitIpv4,
  flowSourcePort,
  IpProtocol,
  type Ipv4,
  innerFlowHash,
  ip,
  ipv4FlowHash,
  ipv4TupleHash,
  mac,
} from '../../src/wire/index.js';
import { ascii, ethernet, ipv4Repr, ipv4Tcp, ipv4Udp, tag } from '../helpers/build.js';

const A = mac('02:00:00:00:00:0a');
const B = mac('02:00:00:00:00:0b');
const SRC = ip('10.0.1.1');
const DST = ip('10.0.2.1');
const SCTP = 132;

const udp = (srcPort = 40000, dstPort = 53, fields: { id?: number; ttl?: number } = {}) =>
  ipv4Udp({ src: SRC, dst: DST, ...fields }, srcPort, dstPort, ascii('flow payload'));
const tcp = (srcPort = 40000, dstPort = 443) =>
  ipv4Tcp(
    { src: SRC, dst: DST },
    {
      srcPort,
      dstPort,
      seq: 1,
      ack: 0,
      flags: 0x002,
      window: 1024,
      urgentPointer: 0,
      options: new Uint8Array(0),
    },
    ascii('hello'),
  );
/** An SCTP packet: the common header starts with the two ports (RFC 9260 3.1). */
const sctp = (srcPort = 40000, dstPort = 5060) =>
  emitIpv4(
    ipv4Repr({ src: SRC, dst: DST, protocol: SCTP }),
    Uint8Array.of(srcPort >>> 8, srcPort & 0xff, dstPort >>> 8, dstPort & 0xff, 0, 0, 0, 1, 0, 0, 0, 0),
  );
const frame = (packet: Uint8Array, tags = [] as ReturnType<typeof tag>[]) =>
  ethernet(B, A, EtherType.ipv4, packet, tags);

const hex = (h: number) => `0x${h.toString(16).padStart(8, '0')}`;

/** Frame offsets of the hashed fields of an untagged IPv4 frame whose L4 header starts at 34 (IHL 5). */
const HASHED_BYTES = [
  ...range(0, 14), // dst MAC, src MAC, EtherType
  23, // protocol
  ...range(26, 34), // src, dst
  ...range(34, 38), // ports
];

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** A view of `bytes` that throws on any index read outside 0..limit-1. */
function guarded(bytes: Uint8Array, limit = bytes.length): Uint8Array {
  return new Proxy(bytes, {
    get(target, key) {
      if (typeof key === 'string' && key !== '' && Number.isFinite(Number(key))) {
        const i = Number(key);
        if (!(i >= 0 && i < limit && Number.isInteger(i))) throw new RangeError(`read of index ${key}`);
      }
      if (typeof key === 'string' && key === 'NaN') throw new RangeError('read of index NaN');
      return Reflect.get(target, key);
    },
  });
}

test('the hash is a pinned, deterministic uint32 of the fields, wherever the bytes sit', () => {
  const f = frame(udp());
  const h = innerFlowHash(f);
  assert.equal(h, innerFlowHash(f.slice()));
  assert.equal(h, innerFlowHash(Uint8Array.of(7, 7, ...f).subarray(2)));
  assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffff_ffff);
  // Pinned: a change of these values moves every ECMP path and tunnel source port in traces and captures.
  assert.deepEqual(
    [hex(h), hex(innerFlowHash(frame(tcp()))), hex(ipv4FlowHash(udp(), 0, udp().length))],
    ['0x040e5188', '0x4a9cca4b', '0x2eaf3c2c'],
  );
  const packet = udp();
  const p = ipv4FlowHash(packet, 0, packet.length);
  const shifted = Uint8Array.of(0xde, 0xad, ...packet, 0xbe, 0xef);
  assert.equal(ipv4FlowHash(shifted, 2, 2 + packet.length), p);
  assert.equal(ipv4FlowHash(frame(packet), 14, 14 + packet.length), p);
  assert.equal(flowSourcePort(h), 49152 + (h % 16384));
});

test('flipping any bit of any hashed field changes the hash (UDP, TCP, SCTP)', () => {
  for (const [name, packet] of [
    ['udp', udp()],
    ['tcp', tcp()],
    ['sctp', sctp()],
  ] as const) {
    const f = frame(packet);
    const h = innerFlowHash(f);
    const p = ipv4FlowHash(packet, 0, packet.length);
    for (const at of HASHED_BYTES) {
      for (let bit = 0; bit < 8; bit++) {
        const g = f.slice();
        g[at]! ^= 1 << bit;
        assert.notEqual(innerFlowHash(g), h, `${name}: frame byte ${at} bit ${bit}`);
        if (at >= 14) {
          const q = g.subarray(14, 14 + packet.length);
          assert.notEqual(ipv4FlowHash(q, 0, q.length), p, `${name}: IPv4 byte ${at - 14} bit ${bit}`);
        }
      }
    }
  }
});

test('fields outside the flow do not change the hash: TTL, ID, DSCP, DF, checksums, options, payload, padding', () => {
  const base = udp();
  const h = innerFlowHash(frame(base));
  const p = ipv4FlowHash(base, 0, base.length);
  fc.assert(
    fc.property(
      fc.record({
        ttl: fc.integer({ min: 0, max: 255 }),
        id: fc.integer({ min: 0, max: 0xffff }),
        dscp: fc.integer({ min: 0, max: 63 }),
        df: fc.boolean(),
        payload: fc.uint8Array({ maxLength: 100 }),
        padding: fc.uint8Array({ minLength: 1, maxLength: 20 }),
      }),
      (v) => {
        const packet = emitIpv4(
          ipv4Repr({
            src: SRC,
            dst: DST,
            protocol: IpProtocol.udp,
            ttl: v.ttl,
            id: v.id,
            dscp: v.dscp,
            df: v.df,
          }),
          // The UDP ports, then anything (length and checksum included).
          Uint8Array.of(40000 >>> 8, 40000 & 0xff, 0, 53, ...v.payload),
        );
        assert.equal(innerFlowHash(frame(packet)), h);
        assert.equal(ipv4FlowHash(packet, 0, packet.length), p);
        // Bytes after the total length (Ethernet padding) are not the packet's.
        const padded = Uint8Array.of(...packet, ...v.padding);
        assert.equal(innerFlowHash(ethernet(B, A, EtherType.ipv4, padded, [], false)), h);
        assert.equal(ipv4FlowHash(padded, 0, padded.length), p);
      },
    ),
  );
  // IP options move the ports (IHL respected) but are not hashed themselves.
  const withOptions = (option: number[]) =>
    ipv4Udp({ src: SRC, dst: DST, options: Uint8Array.from(option) }, 40000, 53, ascii('flow payload'));
  const nop = withOptions([1, 1, 1, 0]);
  const rr = withOptions([7, 3, 4, 0]);
  assert.equal(nop[0]! & 0x0f, 6);
  assert.equal(ipv4FlowHash(nop, 0, nop.length), p);
  assert.equal(ipv4FlowHash(rr, 0, rr.length), p);
  assert.equal(innerFlowHash(frame(rr)), h);
});

test('a VLAN-tagged frame (802.1Q, 802.1ad QinQ) hashes the fields inside its tags, not the VLAN IDs', () => {
  const untagged = innerFlowHash(frame(udp()));
  const dot1q = frame(udp(), [tag(10)]);
  const qinq = frame(udp(), [tag(100, 0, EtherType.qinq), tag(10)]);
  assert.equal(innerFlowHash(dot1q), untagged);
  assert.equal(innerFlowHash(qinq), untagged);
  assert.equal(innerFlowHash(frame(udp(), [tag(20, 5)])), untagged);
  // Inner fields still count: the source port sits 4 (8) bytes further in.
  assert.notEqual(innerFlowHash(frame(udp(40001), [tag(10)])), untagged);
  assert.notEqual(innerFlowHash(frame(udp(40001), [tag(100, 0, EtherType.qinq), tag(10)])), untagged);
  const g = qinq.slice();
  g[14 + 8 + 12]! ^= 1; // the inner source address
  assert.notEqual(innerFlowHash(g), untagged);
  // An ARP frame hashes MACs and EtherType only, and differs from IPv4 between the same stations.
  assert.notEqual(innerFlowHash(ethernet(B, A, EtherType.arp, new Uint8Array(28))), untagged);
});

test('fragments hash without ports, every fragment of a datagram alike', () => {
  const fragment = (srcPort: number, fields: { mf: boolean; fragmentOffset: number }) =>
    ipv4Udp({ src: SRC, dst: DST, id: 9, ...fields }, srcPort, 53, ascii('flow payload'));
  const first = fragment(40000, { mf: true, fragmentOffset: 0 });
  const later = fragment(40000, { mf: true, fragmentOffset: 185 });
  const last = fragment(40000, { mf: false, fragmentOffset: 370 });
  const hash = (p: Uint8Array) => ipv4FlowHash(p, 0, p.length);
  assert.equal(hash(fragment(40001, { mf: true, fragmentOffset: 0 })), hash(first));
  assert.equal(hash(later), hash(first));
  assert.equal(hash(last), hash(first));
  assert.equal(innerFlowHash(frame(later)), innerFlowHash(frame(first)));
  // The 3-tuple of a fragment is the 5-tuple minus the ports: a whole datagram hashes differently.
  assert.equal(hash(first), ipv4TupleHash(SRC, DST, IpProtocol.udp, new Uint8Array(0)));
  assert.notEqual(hash(first), hash(udp()));
  // Protocols without ports (ICMP, GRE) ignore the first L4 bytes too; a too-short L4 header has no ports.
  const icmp = (b: number) =>
    emitIpv4(ipv4Repr({ src: SRC, dst: DST, protocol: IpProtocol.icmp }), Uint8Array.of(b, 0, 0, 0, 0));
  assert.equal(hash(icmp(8)), hash(icmp(0)));
  const short = (b: number) =>
    emitIpv4(ipv4Repr({ src: SRC, dst: DST, protocol: IpProtocol.udp }), Uint8Array.of(b, 1, 2));
  assert.equal(hash(short(1)), hash(short(2)));
});

test('ipv4TupleHash is the hash of the packet it describes, so a sender and a router choose alike', () => {
  const cases: [string, Uint8Array, number][] = [
    ['udp', udp(), IpProtocol.udp],
    ['tcp', tcp(), IpProtocol.tcp],
    ['sctp', sctp(), SCTP],
    [
      'icmp',
      emitIpv4(ipv4Repr({ src: SRC, dst: DST, protocol: IpProtocol.icmp }), Uint8Array.of(8, 0, 1, 2, 3)),
      1,
    ],
    [
      'short udp',
      emitIpv4(ipv4Repr({ src: SRC, dst: DST, protocol: IpProtocol.udp }), Uint8Array.of(1, 2)),
      17,
    ],
  ];
  for (const [name, packet, protocol] of cases)
    assert.equal(
      ipv4TupleHash(SRC, DST, protocol, packet.subarray(20)),
      ipv4FlowHash(packet, 0, packet.length),
      name,
    );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.constantFrom(1, 6, 17, 47, 132, 255),
      fc.uint8Array({ maxLength: 40 }),
      (src: Ipv4, dst: Ipv4, protocol, l4) => {
        const packet = emitIpv4(ipv4Repr({ src, dst, protocol }), l4);
        assert.equal(ipv4TupleHash(src, dst, protocol, l4), ipv4FlowHash(packet, 0, packet.length));
      },
    ),
  );
});

test('property: random bytes of any length never throw nor read out of bounds; the port is in 49152..65535', () => {
  const check = (h: number) => {
    assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffff_ffff, String(h));
    const port = flowSourcePort(h);
    assert.ok(port >= 49152 && port <= 65535, String(port));
  };
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 120 }),
      fc.integer({ min: -4, max: 130 }),
      fc.integer({ min: -4, max: 130 }),
      (bytes, offset, end) => {
        check(innerFlowHash(guarded(bytes)));
        check(ipv4FlowHash(guarded(bytes, Math.max(0, Math.min(end, bytes.length))), offset, end));
      },
    ),
    { numRuns: 2000 },
  );
  // Frames that look like what they are not: IPv4 EtherType behind tags, with a short or lying header.
  const ipv4ish = fc
    .tuple(fc.uint8Array({ minLength: 0, maxLength: 60 }), fc.integer({ min: 0, max: 3 }))
    .map(([rest, tags]) => {
      const head = [...range(0, 12).map(() => 0x11)];
      for (let i = 0; i < tags; i++) head.push(0x81, 0x00, 0, 10);
      return Uint8Array.from([...head, 0x08, 0x00, 0x45, ...rest]);
    });
  fc.assert(
    fc.property(ipv4ish, (f) => check(innerFlowHash(guarded(f)))),
    { numRuns: 2000 },
  );
  for (let n = 0; n <= 40; n++) check(innerFlowHash(guarded(frame(udp()).subarray(0, n))));
  for (const h of [-1, 0, 2 ** 32 - 1, 2 ** 32, 1.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    const port = flowSourcePort(h);
    assert.ok(Number.isInteger(port) && port >= 49152 && port <= 65535, `${h}: ${port}`);
  }
  assert.equal(flowSourcePort(-1), 49152 + 16383);
  assert.equal(flowSourcePort(0), 49152);
});

test('spread: 10,000 UDP flows differing only in source port fill 4 ECMP buckets and the source-port range evenly', () => {
  const flows = range(0, 10_000).map((i) => frame(udp(1024 + i)));
  const packets = range(0, 10_000).map((i) => udp(1024 + i));
  for (const hashes of [flows.map(innerFlowHash), packets.map((p) => ipv4FlowHash(p, 0, p.length))]) {
    // Buckets: 2,500 expected each, standard deviation ~43; 2,000..3,000 is more than 11 deviations wide.
    const buckets = [0, 0, 0, 0];
    for (const h of hashes) buckets[h % 4]!++;
    for (const b of buckets) assert.ok(b >= 2000 && b <= 3000, `buckets ${buckets}`);
    // Source ports: a uniform hash puts 10,000 flows on 16384 * (1 - e^(-10000/16384)) ~ 7,486 distinct
    // ports (the birthday bound; standard deviation ~34), so 7,000 is safe, and a hash ignoring ports gets 1.
    const ports = new Set(hashes.map(flowSourcePort));
    assert.ok(ports.size >= 7000 && ports.size <= 8000, `${ports.size} distinct source ports`);
  }
  // What the bounds catch: as first fragments (no ports hashed), the same flows all collapse to one.
  const fragments = range(0, 10_000).map((i) =>
    ipv4Udp({ src: SRC, dst: DST, mf: true }, 1024 + i, 53, ascii('flow payload')),
  );
  assert.equal(new Set(fragments.map((p) => flowSourcePort(ipv4FlowHash(p, 0, p.length)))).size, 1);
  // Flows differing in their source address only spread as well.
  const bySource = [0, 0, 0, 0];
  for (let i = 0; i < 10_000; i++)
    bySource[ipv4TupleHash(SRC + i, DST, IpProtocol.udp, Uint8Array.of(0x9c, 0x40, 0, 53)) % 4]!++;
  for (const b of bySource) assert.ok(b >= 2000 && b <= 3000, `buckets ${bySource}`);
});
