/** Views checked at an offset inside a larger buffer read the same fields as views over a sub-buffer, and their errors count from the buffer's start. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ArpView,
  EthernetView,
  fromHex,
  GeneveView,
  GreView,
  IcmpView,
  Ipv4View,
  TcpView,
  UdpView,
  VlanTagView,
  VxlanView,
} from '../../src/wire/index.js';
import { goldenFrames } from '../helpers/repo.js';

const golden = new Map(goldenFrames().map((f) => [f.name, fromHex(f.hex)]));
const frame = (name: string) => golden.get(name)!;

function value<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

test('the VXLAN frame read by offsets, layer by layer, without sub-buffers', () => {
  const b = frame('vxlan-icmp');
  const eth = value(EthernetView.check(b));
  assert.equal(eth.payloadOffset, 14);
  const ip = value(Ipv4View.check(b, eth.payloadOffset));
  assert.deepEqual(
    [ip.src, ip.dst, ip.payloadOffset, ip.end, ip.paddingLength, ip.checksumOk],
    [0x0a000001, 0x0a000002, 34, 104, 0, true],
  );
  const udp = value(UdpView.check(b, ip.payloadOffset, ip.end));
  assert.deepEqual([udp.srcPort, udp.dstPort, udp.payloadOffset, udp.end], [49320, 4789, 42, 104]);
  const vxlan = value(VxlanView.check(b, udp.payloadOffset, udp.end));
  assert.deepEqual([vxlan.vni, vxlan.payloadOffset, vxlan.payload.length], [5000, 50, 54]);
  const inner = value(EthernetView.check(b, vxlan.payloadOffset, udp.end));
  const innerIp = value(Ipv4View.check(b, inner.payloadOffset, udp.end));
  const icmp = value(IcmpView.check(b, innerIp.payloadOffset, innerIp.end));
  assert.deepEqual([icmp.type, icmp.id, icmp.seq, icmp.bodyLength, icmp.checksumOk], [8, 0x42, 3, 12, true]);
});

test('views at an offset equal views over the sub-buffer', () => {
  const tcpFrame = frame('tcp-syn-options');
  const atOffset = value(TcpView.check(tcpFrame, 34));
  const alone = value(TcpView.check(tcpFrame.subarray(34)));
  assert.deepEqual(
    [
      atOffset.seq,
      atOffset.flags,
      atOffset.window,
      atOffset.options,
      atOffset.checksumOk(0xc0a80001, 0xc0a80102),
    ],
    [alone.seq, alone.flags, alone.window, alone.options, alone.checksumOk(0xc0a80001, 0xc0a80102)],
  );
  assert.equal(atOffset.checksumOk(0xc0a80001, 0xc0a80102), true);
  const arp = value(ArpView.check(frame('qinq-arp'), 22));
  assert.deepEqual(arp.toRepr(), value(ArpView.check(frame('qinq-arp').subarray(22))).toRepr());
  const tag = value(VlanTagView.check(frame('qinq-arp'), 14));
  assert.deepEqual([tag.vid, tag.etherType, tag.payloadOffset], [200, 0x8100, 18]);
  const geneve = value(GeneveView.check(frame('geneve-arp'), 42));
  assert.deepEqual([geneve.vni, geneve.options.length, geneve.payloadOffset], [0x123456, 1, 58]);
  const gre = value(GreView.check(frame('nvgre-icmp'), 34));
  assert.deepEqual([gre.vsid, gre.flowId, gre.payloadOffset, gre.checksumOk], [0x1001, 7, 42, null]);
});

test('errors of views checked at an offset count from the buffer start', () => {
  const b = frame('vxlan-icmp');
  assert.deepEqual(Ipv4View.check(b, 14, 30), {
    ok: false,
    error: { layer: 'ipv4', code: 'truncated', offset: 30, message: 'ipv4: need 20 bytes, have 16' },
  });
  const noI = Uint8Array.from(b);
  noI[42] = 0;
  const vxlan = VxlanView.check(noI, 42);
  assert.ok(!vxlan.ok);
  assert.deepEqual([vxlan.error.code, vxlan.error.offset], ['missing-i-flag', 42]);
  const badUdp = UdpView.check(b, 34, 60);
  assert.ok(!badUdp.ok);
  assert.deepEqual([badUdp.error.code, badUdp.error.offset], ['bad-length', 38]);
  const badOpt = Uint8Array.from(frame('tcp-syn-options'));
  badOpt[55] = 5;
  const tcp = TcpView.check(badOpt, 34);
  assert.ok(!tcp.ok);
  assert.deepEqual([tcp.error.code, tcp.error.offset], ['bad-option-length', 55]);
});
