/**
 * Source NAT (NAPT): exact rewrites of address, port or echo identifier with checksums that still
 * verify (checked by the wire views, i.e. recomputed from scratch), mappings reused per flow and
 * distinct per inside host, replies translated back, and what passes untranslated.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SourceNat } from '../../src/devices/router/nat.js';
import { Network } from '../../src/topo/network.js';
import { IcmpView, Ipv4View, ip, readU16, TcpFlag, TcpView, UdpView } from '../../src/wire/index.js';
import { ascii, ipv4Icmp, ipv4Tcp, ipv4Udp } from '../helpers/build.js';

const INSIDE = ip('10.1.0.10');
const OTHER = ip('10.1.0.11');
const PUBLIC = ip('100.64.0.2');
const WEB = ip('198.51.100.10');

function checkAll(packet: Uint8Array) {
  const v = Ipv4View.check(packet);
  assert.ok(v.ok);
  assert.ok(v.value.checksumOk, 'IPv4 header checksum verifies');
  return v.value;
}

test('UDP: source address and port rewritten, checksum still verifies, the reply goes back to the inside port', () => {
  const nat = new SourceNat('ext', PUBLIC);
  const packet = ipv4Udp({ src: INSIDE, dst: WEB }, 40000, 7, ascii('hello'));
  assert.equal(nat.translateOut(packet), true);
  const ip4 = checkAll(packet);
  assert.equal(ip4.src, PUBLIC);
  const udp = UdpView.check(packet, ip4.payloadOffset, ip4.end);
  assert.ok(udp.ok);
  assert.deepEqual([udp.value.srcPort, udp.value.dstPort], [1024, 7]);
  assert.equal(udp.value.checksumOk(PUBLIC, WEB), true);
  const reply = ipv4Udp({ src: WEB, dst: PUBLIC }, 7, 1024, ascii('hello'));
  const back = nat.translateIn(reply, 0, reply.length);
  assert.ok(back);
  const b = checkAll(back);
  assert.equal(b.dst, INSIDE);
  const u = UdpView.check(back, b.payloadOffset, b.end);
  assert.ok(u.ok);
  assert.equal(u.value.dstPort, 40000);
  assert.equal(u.value.checksumOk(WEB, INSIDE), true);
  assert.deepEqual(nat.counters, {
    translatedOut: 1,
    exhausted: 0,
    translatedIn: 1,
    untranslatable: 0,
    noMapping: 0,
  });
});

test('UDP without a checksum keeps none (RFC 768)', () => {
  const nat = new SourceNat('ext', PUBLIC);
  const packet = ipv4Udp({ src: INSIDE, dst: WEB }, 40000, 7, ascii('x'), false);
  nat.translateOut(packet);
  const v = checkAll(packet);
  assert.equal(readU16(packet, v.payloadOffset + 6), 0);
});

test('TCP and ICMP echo: ports and identifiers are mapped per inside host, reused per flow', () => {
  const nat = new SourceNat('ext', PUBLIC);
  const tcp = (src: number, sport: number) =>
    ipv4Tcp(
      { src, dst: WEB },
      {
        srcPort: sport,
        dstPort: 443,
        seq: 1,
        ack: 0,
        flags: TcpFlag.SYN,
        window: 65535,
        urgentPointer: 0,
        options: new Uint8Array(0),
      },
      new Uint8Array(0),
    );
  const a = tcp(INSIDE, 5000);
  const b = tcp(OTHER, 5000);
  const a2 = tcp(INSIDE, 5000);
  for (const p of [a, b, a2]) assert.equal(nat.translateOut(p), true);
  const ports = [a, b, a2].map((p) => {
    const v = checkAll(p);
    const t = TcpView.check(p, v.payloadOffset, v.end);
    assert.ok(t.ok);
    assert.equal(t.value.checksumOk(PUBLIC, WEB), true);
    return t.value.srcPort;
  });
  assert.deepEqual(ports, [1024, 1025, 1024]);
  const echo = ipv4Icmp(
    { src: INSIDE, dst: WEB },
    { kind: 'echo-request', id: 7, seq: 1, data: ascii('ping') },
  );
  nat.translateOut(echo);
  const v = checkAll(echo);
  const icmp = IcmpView.check(echo, v.payloadOffset, v.end);
  assert.ok(icmp.ok);
  assert.deepEqual([icmp.value.id, icmp.value.checksumOk], [1024, true]);
  assert.deepEqual(nat.publicPortsFor(1, 7), [1024]);
});

test('fragments and other protocols pass untranslated; an unknown reply is not translated', () => {
  const nat = new SourceNat('ext', PUBLIC);
  const frag = ipv4Udp({ src: INSIDE, dst: WEB, mf: true }, 40000, 7, ascii('part'));
  assert.equal(nat.translateOut(frag), false);
  assert.equal(checkAll(frag).src, INSIDE);
  const reply = ipv4Udp({ src: WEB, dst: PUBLIC }, 7, 2000, ascii('?'));
  assert.equal(nat.translateIn(reply, 0, reply.length), null);
  assert.deepEqual(nat.counters, {
    translatedOut: 0,
    exhausted: 0,
    translatedIn: 0,
    untranslatable: 1,
    noMapping: 1,
  });
});

test('property: any UDP flow translated out and its reply translated in verify and restore the inside endpoint', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 0xfffffffe }),
      fc.integer({ min: 1, max: 65535 }),
      fc.uint8Array({ maxLength: 64 }),
      (src, sport, data) => {
        const nat = new SourceNat('ext', PUBLIC);
        const out = ipv4Udp({ src, dst: WEB }, sport, 53, data);
        nat.translateOut(out);
        const o = checkAll(out);
        const u = UdpView.check(out, o.payloadOffset, o.end);
        assert.ok(u.ok && u.value.checksumOk(PUBLIC, WEB) !== false);
        const reply = ipv4Udp({ src: WEB, dst: PUBLIC }, 53, u.value.srcPort, data);
        const back = nat.translateIn(reply, 0, reply.length)!;
        const b = checkAll(back);
        const bu = UdpView.check(back, b.payloadOffset, b.end);
        assert.ok(bu.ok);
        assert.deepEqual(
          [b.dst, bu.value.dstPort, bu.value.checksumOk(WEB, src) !== false],
          [src, sport, true],
        );
      },
    ),
  );
});

test('a router with SNAT on its outside interface: hosts inside reach the outside host, which sees only the public address', () => {
  const net = new Network();
  const inside = net.addHost('in', { ip: '10.1.0.10/24', gateway: '10.1.0.1' });
  const outside = net.addHost('out', { ip: '198.51.100.10/24', gateway: '198.51.100.1' });
  const r = net.addRouter('r', [
    { name: 'lan', addresses: ['10.1.0.1/24'] },
    { name: 'wan', addresses: ['100.64.0.2/30'] },
  ]);
  const isp = net.addRouter('isp', [
    { name: 'cust', addresses: ['100.64.0.1/30'] },
    { name: 'web', addresses: ['198.51.100.1/24'] },
  ]);
  r.addStaticRoute({ prefix: { address: 0, prefixLength: 0 }, nextHop: ip('100.64.0.1') });
  r.enableSnat('wan', PUBLIC);
  assert.throws(() => r.enableSnat('lan', PUBLIC), /not an address of lan/);
  net.addLink(inside, r, { bPort: 'lan' });
  net.addLink(r, isp, { aPort: 'wan', bPort: 'cust' });
  net.addLink(isp, outside, { aPort: 'web' });
  outside.enableUdpEcho();
  net.start();
  const ping = inside.ping(WEB, { count: 2 });
  inside.bindUdp(40000, () => {});
  inside.sendUdp(40000, WEB, 7, ascii('hi'));
  net.run({ until: 3e9 });
  assert.deepEqual(
    ping.results.map((x) => [x.status, x.ttl]),
    [
      ['reply', 62],
      ['reply', 62],
    ],
  );
  assert.deepEqual(
    outside.udpLog.map((d) => [d.src, d.srcPort]),
    [[PUBLIC, 1024]],
  );
  assert.equal(inside.udpLog.length, 1);
  assert.deepEqual(r.nats.get('wan')!.table(), [
    { protocol: 1, inside: '10.1.0.10:1', public: '100.64.0.2:1024' },
    { protocol: 17, inside: '10.1.0.10:40000', public: '100.64.0.2:1024' },
  ]);
});
