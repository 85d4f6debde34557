/**
 * vnet's emitters must produce, byte for byte, the golden frames that scapy (an independent
 * implementation) built in test/fixtures/make-golden.py from the same field values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ArpOp,
  EtherType,
  emitArp,
  emitEthernetFrame,
  emitGeneve,
  emitIpv4,
  emitNvgre,
  emitTcpOptions,
  emitVxlan,
  fromHex,
  IcmpType,
  IpProtocol,
  ip,
  MAC_BROADCAST,
  mac,
  TcpFlag,
  toHex,
  UnreachableCode,
} from '../../src/wire/index.js';
import { ascii, ethernet, ipv4Icmp, ipv4Repr, ipv4Tcp, ipv4Udp, tag } from '../helpers/build.js';
import { goldenFrames } from '../helpers/repo.js';

const A = mac('00:0a:95:b1:2c:eb');
const B = mac('02:00:00:00:00:0b');
const C = mac('02:00:00:00:00:0c');
const ZERO = 0;
const VTEP1 = mac('02:00:00:00:01:01');
const VTEP2 = mac('02:00:00:00:02:01');
const VM1 = mac('02:00:00:00:0a:01');
const VM2 = mac('02:00:00:00:0a:02');
const range = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

function arpFrame(
  dst: number,
  src: number,
  op: number,
  senderMac: number,
  senderIp: string,
  targetMac: number,
  targetIp: string,
  tags = [] as ReturnType<typeof tag>[],
  pad = true,
) {
  const arp = emitArp({ op, senderMac, senderIp: ip(senderIp), targetMac, targetIp: ip(targetIp) });
  return ethernet(dst, src, op >= 3 ? EtherType.rarp : EtherType.arp, arp, tags, pad);
}

function innerPing(): Uint8Array {
  const packet = ipv4Icmp(
    { src: ip('172.16.0.1'), dst: ip('172.16.0.2'), id: 7, df: true },
    { kind: 'echo-request', id: 0x42, seq: 3, data: ascii('vnet-overlay') },
  );
  return ethernet(VM2, VM1, EtherType.ipv4, packet, [], false); // inner frames are not padded
}

function innerArp(): Uint8Array {
  return arpFrame(MAC_BROADCAST, VM1, ArpOp.request, VM1, '172.16.0.1', ZERO, '172.16.0.2', [], false);
}

// The quoted datagrams of the ICMP errors: IPv4 header + first 8 bytes (RFC 792).
const quotedUdp = ipv4Udp(
  { src: ip('192.168.1.2'), dst: ip('203.0.113.9'), id: 0x1111, ttl: 63, df: true },
  40000,
  33434,
  new Uint8Array(1400),
).subarray(0, 28);
const quotedEcho = ipv4Icmp(
  { src: ip('192.168.0.1'), dst: ip('198.51.100.7'), id: 0x2222, ttl: 1 },
  { kind: 'echo-request', id: 9, seq: 1, data: ascii('x'.repeat(32)) },
).subarray(0, 28);

function vxlanFrame(
  id: number,
  srcPort: number,
  vni: number,
  inner: Uint8Array,
  udpChecksum: boolean,
  tags = [] as ReturnType<typeof tag>[],
): Uint8Array {
  const udp = ipv4Udp(
    { src: ip('10.0.0.1'), dst: ip('10.0.0.2'), id, df: true },
    srcPort,
    4789,
    emitVxlan({ vni }, inner),
    udpChecksum,
  );
  return ethernet(VTEP2, VTEP1, EtherType.ipv4, udp, tags);
}

const builders: Record<string, () => Uint8Array> = {
  'arp-request': () => arpFrame(MAC_BROADCAST, A, ArpOp.request, A, '192.168.0.1', ZERO, '192.168.0.2'),
  'arp-reply': () => arpFrame(A, B, ArpOp.reply, B, '192.168.0.2', A, '192.168.0.1'),
  'arp-gratuitous': () => arpFrame(MAC_BROADCAST, A, ArpOp.request, A, '192.168.0.1', ZERO, '192.168.0.1'),
  'arp-probe': () => arpFrame(MAC_BROADCAST, A, ArpOp.request, A, '0.0.0.0', ZERO, '192.168.0.9'),
  'rarp-announce': () => arpFrame(MAC_BROADCAST, C, ArpOp.reverseRequest, C, '0.0.0.0', C, '0.0.0.0'),
  'icmp-echo-request': () =>
    ethernet(
      B,
      A,
      EtherType.ipv4,
      ipv4Icmp(
        { src: ip('192.168.0.1'), dst: ip('192.168.1.2'), id: 0x1c46, df: true },
        { kind: 'echo-request', id: 0x1234, seq: 1, data: range(56) },
      ),
    ),
  'icmp-echo-reply': () =>
    ethernet(
      A,
      B,
      EtherType.ipv4,
      ipv4Icmp(
        { src: ip('192.168.1.2'), dst: ip('192.168.0.1'), id: 0x9e2f, ttl: 63 },
        { kind: 'echo-reply', id: 0x1234, seq: 1, data: range(56) },
      ),
    ),
  'icmp-frag-needed': () =>
    ethernet(
      A,
      B,
      EtherType.ipv4,
      ipv4Icmp(
        { src: ip('192.168.1.254'), dst: ip('192.168.1.2'), id: 3, ttl: 255 },
        {
          kind: 'destination-unreachable',
          code: UnreachableCode.fragmentationNeeded,
          nextHopMtu: 1450,
          quoted: quotedUdp,
        },
      ),
    ),
  'icmp-port-unreachable': () =>
    ethernet(
      A,
      B,
      EtherType.ipv4,
      ipv4Icmp(
        { src: ip('203.0.113.9'), dst: ip('192.168.1.2'), id: 4, ttl: 60 },
        { kind: 'destination-unreachable', code: UnreachableCode.port, nextHopMtu: 0, quoted: quotedUdp },
      ),
    ),
  'icmp-time-exceeded': () =>
    ethernet(
      A,
      B,
      EtherType.ipv4,
      ipv4Icmp(
        { src: ip('10.0.0.254'), dst: ip('192.168.0.1'), id: 5, ttl: 255 },
        { kind: 'time-exceeded', code: 0, quoted: quotedEcho },
      ),
    ),
  'udp-dns-query': () =>
    ethernet(
      B,
      A,
      EtherType.ipv4,
      ipv4Udp(
        { src: ip('192.168.0.1'), dst: ip('192.168.0.53'), id: 0x4000 },
        51000,
        53,
        fromHex('abcd01000001000000000000047669727403636f6d0000010001'),
      ),
    ),
  'udp-no-checksum': () =>
    ethernet(
      B,
      A,
      EtherType.ipv4,
      ipv4Udp({ src: ip('192.168.0.1'), dst: ip('192.168.0.2'), id: 0x4001 }, 7, 7, ascii('echo me'), false),
    ),
  'tcp-syn-options': () =>
    ethernet(
      B,
      A,
      EtherType.ipv4,
      ipv4Tcp(
        { src: ip('192.168.0.1'), dst: ip('192.168.1.2'), id: 0x5000, df: true },
        {
          srcPort: 43210,
          dstPort: 80,
          seq: 1000,
          ack: 0,
          flags: TcpFlag.SYN,
          window: 64240,
          urgentPointer: 0,
          options: emitTcpOptions([
            { kind: 'mss', mss: 1460 },
            { kind: 'sack-permitted' },
            { kind: 'timestamps', tsVal: 123456, tsEcr: 0 },
            { kind: 'nop' },
            { kind: 'window-scale', shift: 7 },
          ]),
        },
        new Uint8Array(0),
      ),
    ),
  'tcp-psh-ack-data': () =>
    ethernet(
      A,
      B,
      EtherType.ipv4,
      ipv4Tcp(
        { src: ip('192.168.1.2'), dst: ip('192.168.0.1'), id: 0x5001, df: true, ttl: 63 },
        {
          srcPort: 80,
          dstPort: 43210,
          seq: 2000,
          ack: 1001,
          flags: TcpFlag.PSH | TcpFlag.ACK,
          window: 65160,
          urgentPointer: 0,
          options: new Uint8Array(0),
        },
        ascii('HTTP/1.1 200 OK\r\n\r\n'),
      ),
    ),
  'vlan-icmp': () =>
    ethernet(
      B,
      A,
      EtherType.ipv4,
      ipv4Icmp(
        { src: ip('10.1.100.1'), dst: ip('10.1.100.2'), id: 6 },
        { kind: 'echo-request', id: 1, seq: 1, data: new Uint8Array(0) },
      ),
      [tag(100, 5)],
    ),
  'qinq-arp': () =>
    arpFrame(MAC_BROADCAST, A, ArpOp.request, A, '10.1.100.1', ZERO, '10.1.100.2', [
      tag(200, 0, EtherType.qinq),
      tag(100, 3, EtherType.vlan, true),
    ]),
  'vlan-priority-tag': () =>
    ethernet(
      B,
      A,
      EtherType.ipv4,
      ipv4Udp({ src: ip('10.0.0.1'), dst: ip('10.0.0.2'), id: 8 }, 5000, 5001, ascii('prio')),
      [tag(0, 6)],
    ),
  'ipv4-options': () =>
    ethernet(
      B,
      A,
      EtherType.ipv4,
      ipv4Icmp(
        {
          src: ip('192.168.0.1'),
          dst: ip('192.168.0.2'),
          id: 9,
          options: fromHex('94040000 070b0400000000 00000000 00'),
        },
        { kind: 'echo-request', id: 2, seq: 2, data: new Uint8Array(0) },
      ),
    ),
  'ipv4-fragment-first': () => {
    // The first 1480 bytes of a 1508-byte UDP datagram (ports 6000 -> 6001, no checksum).
    const fragment = new Uint8Array(1480).fill(0x46);
    fragment.set(fromHex('17701771 05e4 0000'));
    return ethernet(
      B,
      A,
      EtherType.ipv4,
      emitIpv4(
        ipv4Repr({
          src: ip('192.168.0.1'),
          dst: ip('192.168.0.2'),
          id: 0x7777,
          mf: true,
          protocol: IpProtocol.udp,
        }),
        fragment,
      ),
    );
  },
  'ipv4-fragment-second': () =>
    ethernet(
      B,
      A,
      EtherType.ipv4,
      emitIpv4(
        ipv4Repr({
          src: ip('192.168.0.1'),
          dst: ip('192.168.0.2'),
          id: 0x7777,
          fragmentOffset: 185,
          protocol: IpProtocol.udp,
        }),
        ascii('F'.repeat(28)),
      ),
    ),
  'vxlan-icmp': () => vxlanFrame(0x100, 49320, 5000, innerPing(), false),
  'vxlan-reserved-bits': () => {
    const frame = vxlanFrame(0x101, 50000, 5001, innerPing(), false);
    frame[42] = 0x0c; // VXLAN flags: I plus a reserved bit (scapy reads it as VXLAN-GPE's P bit)
    frame[45] = 0x03; // scapy's GPE "next protocol: Ethernet", a reserved octet for RFC 7348
    frame[49] = 0x7f; // the last reserved octet
    return frame;
  },
  'vxlan-in-vlan': () => vxlanFrame(0x102, 61000, 16777215, innerArp(), true, [tag(10)]),
  'geneve-arp': () => {
    const geneve = emitGeneve(
      {
        oam: false,
        critical: true,
        protocol: EtherType.transparentEthernetBridging,
        vni: 0x123456,
        options: [{ optionClass: 0x0102, type: 0x80, data: fromHex('deadbeef') }],
      },
      innerArp(),
    );
    return ethernet(
      VTEP2,
      VTEP1,
      EtherType.ipv4,
      ipv4Udp({ src: ip('10.0.0.1'), dst: ip('10.0.0.3'), id: 0x200, df: true }, 52000, 6081, geneve, false),
    );
  },
  'nvgre-icmp': () => {
    const gre = emitNvgre({ vsid: 0x1001, flowId: 7 }, innerPing());
    return ethernet(
      VTEP2,
      VTEP1,
      EtherType.ipv4,
      emitIpv4(
        ipv4Repr({ src: ip('10.0.0.1'), dst: ip('10.0.0.4'), id: 0x300, df: true, protocol: IpProtocol.gre }),
        gre,
      ),
    );
  },
  'llc-stp-bpdu': () =>
    emitEthernetFrame(
      { dst: mac('01:80:c2:00:00:00'), src: A, tags: [], etherType: 38 },
      fromHex('424203 0000 00 00 00 8000000a95b12ceb 00000000 8000000a95b12ceb 8001 0100 1400 0200 0f00'),
    ),
};

test('every golden frame has a builder', () => {
  assert.deepEqual(
    goldenFrames()
      .map((f) => f.name)
      .sort(),
    Object.keys(builders).sort(),
  );
});

for (const golden of goldenFrames()) {
  test(`emit matches scapy byte for byte: ${golden.name}`, () => {
    const build = builders[golden.name];
    assert.ok(build, `no builder for ${golden.name}`);
    assert.equal(toHex(build()), golden.hex);
  });
}

test('ICMP type constants match the wire', () => {
  assert.equal(IcmpType.echoRequest, 8);
  assert.equal(IcmpType.timeExceeded, 11);
});
