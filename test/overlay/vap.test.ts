/**
 * VAPs: `VapTable.classify` over one table holding every kind of attachment (untagged, dot1q and
 * QinQ sub-interfaces on one port; VLAN-binding access and trunk ports on others), frame by frame
 * with the exact VAP and EtherType offset or the exact refusal; `tagForVap` and `untagFrame`
 * byte for byte (tags pushed per VAP, popped with padding to 60 bytes) and their round trip;
 * duplicate sub-interfaces and bindings refused; bindings applied to ports given a VLAN mode
 * before and after `bindVlan`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Port } from '../../src/link/index.js';
import {
  BridgeDomain,
  describeEncapsulation,
  tagForVap,
  untagFrame,
  type Vap,
  VapTable,
} from '../../src/overlay/index.js';
import { EtherType, fromHex, mac, toHex } from '../../src/wire/index.js';
import { ethernet, tag } from '../helpers/build.js';

const DST = mac('02:00:00:00:00:0b');
const SRC = mac('02:00:00:00:00:0a');
const MACS = '02000000000b02000000000a';
/** 46 bytes of IPv4-ish payload: 0x00, 0x01, ... so moved bytes show. */
const PAYLOAD = Uint8Array.from({ length: 46 }, (_, i) => i);

const untagged = () => ethernet(DST, SRC, EtherType.ipv4, PAYLOAD);
const dot1q = (vid: number, pcp = 0) => ethernet(DST, SRC, EtherType.ipv4, PAYLOAD, [tag(vid, pcp)]);
const qinq = (outer: number, inner: number) =>
  ethernet(DST, SRC, EtherType.ipv4, PAYLOAD, [tag(outer, 0, EtherType.qinq), tag(inner)]);

/**
 * nve:1 has an untagged VAP (BD 1), dot1q 10 (BD 2), dot1q 100 (BD 3) and QinQ 100.10 (BD 4);
 * nve:2 is an access port in VLAN 30; nve:3 a trunk allowing 30 and 40 with native VLAN 50;
 * nve:4 a trunk of every VLAN without a native one; nve:5 has only a dot1q 7 sub-interface.
 * VLANs 30, 40 and 50 are bound to BDs 5, 6 and 7; port 3 got its mode before the bindings,
 * port 4 after.
 */
function table() {
  const t = new VapTable();
  const p = [1, 2, 3, 4, 5].map((n) => new Port('nve', String(n))) as [Port, Port, Port, Port, Port];
  const bd = Array.from({ length: 8 }, (_, i) => new BridgeDomain(i, 10000 + i, 'A'));
  t.addSubinterface(p[0], { kind: 'untagged' }, bd[1]!);
  t.addSubinterface(p[0], { kind: 'dot1q', vid: 10 }, bd[2]!);
  t.addSubinterface(p[0], { kind: 'dot1q', vid: 100 }, bd[3]!);
  t.addSubinterface(p[0], { kind: 'qinq', outer: 100, inner: 10 }, bd[4]!);
  t.setPortMode(p[1], { mode: 'access', vlan: 30 });
  t.setPortMode(p[2], { mode: 'trunk', allowed: [30, 40], native: 50 });
  t.bindVlan(30, bd[5]!);
  t.bindVlan(40, bd[6]!);
  t.bindVlan(50, bd[7]!);
  t.setPortMode(p[3], { mode: 'trunk', allowed: 'all', native: null });
  t.addSubinterface(p[4], { kind: 'dot1q', vid: 7 }, bd[2]!);
  return { t, p, bd };
}

test('classify: each frame to its exact VAP and EtherType offset, or refused with the exact reason', () => {
  const { t, p, bd } = table();
  const stray = new Port('nve', '9');
  const cases: [string, Port, Uint8Array, string, number | string][] = [
    ['untagged on port 1', p[0], untagged(), '1', 12],
    ['802.1Q VID 10', p[0], dot1q(10), '1.10', 16],
    ['802.1Q VID 10 with PCP 5 (priority bits are not the VID)', p[0], dot1q(10, 5), '1.10', 16],
    ['802.1Q VID 20: no VAP', p[0], dot1q(20), 'no-vap', 'no VAP for VLAN 20 on port 1'],
    ['priority tag VID 0 -> the untagged VAP', p[0], dot1q(0, 6), '1', 16],
    ['QinQ 0x88a8 100 + 0x8100 10', p[0], qinq(100, 10), '1.100.10', 20],
    ['QinQ 100 + unknown inner 99 -> dot1q 100', p[0], qinq(100, 99), '1.100', 16],
    [
      'QinQ 200 + 10: neither QinQ nor dot1q 200',
      p[0],
      qinq(200, 10),
      'no-vap',
      'no VAP for VLAN 200 on port 1',
    ],
    ['access port, untagged -> its VLAN 30', p[1], untagged(), '2:vlan30', 12],
    ['access port, priority tag -> its VLAN 30', p[1], dot1q(0), '2:vlan30', 16],
    ['access port, tagged VID 30', p[1], dot1q(30), 'no-vap', 'no VAP for VLAN 30 on port 2'],
    ['access port, tagged VID 40', p[1], dot1q(40), 'no-vap', 'no VAP for VLAN 40 on port 2'],
    ['trunk, untagged -> native VLAN 50', p[2], untagged(), '3:vlan50', 12],
    ['trunk, priority tag -> native VLAN 50', p[2], dot1q(0), '3:vlan50', 16],
    ['trunk, tagged 30', p[2], dot1q(30), '3:vlan30', 16],
    ['trunk, tagged 40', p[2], dot1q(40), '3:vlan40', 16],
    ['trunk, VLAN 60 not allowed', p[2], dot1q(60), 'no-vap', 'no VAP for VLAN 60 on port 3'],
    ['trunk of all VLANs, tagged 50', p[3], dot1q(50), '4:vlan50', 16],
    ['trunk of all VLANs, tagged 99 (not bound)', p[3], dot1q(99), 'no-vap', 'no VAP for VLAN 99 on port 4'],
    [
      'trunk without native VLAN, untagged',
      p[3],
      untagged(),
      'no-vap',
      'untagged frame and no untagged VAP on port 4',
    ],
    ['trunk without native VLAN, priority tag', p[3], dot1q(0), 'no-vap', 'no VAP for VLAN 0 on port 4'],
    [
      'sub-interfaces only, untagged',
      p[4],
      untagged(),
      'no-vap',
      'untagged frame and no untagged VAP on port 5',
    ],
    ['sub-interfaces only, VID 7', p[4], dot1q(7), '5.7', 16],
    ['a port without VAPs', stray, untagged(), 'no-vap', 'port 9 has no VAP'],
    ['cut inside its tag', p[0], dot1q(10).subarray(0, 17), 'runt', 'cut inside its VLAN tag'],
  ];
  for (const [name, port, frame, expected, detail] of cases) {
    const c = t.classify(port, frame);
    if (typeof detail === 'number') {
      assert.ok(c.ok, `${name}: ${c.ok ? '' : c.why}`);
      assert.deepEqual([c.vap.name, c.vap.port, c.typeOffset], [expected, port, detail], name);
    } else {
      assert.equal(c.ok, false, name);
      if (!c.ok) assert.deepEqual([c.reason, c.why], [expected, detail], name);
    }
  }
  // The VAPs point at the right BDs and carry the right encapsulations.
  const byName = new Map(t.all().map((v) => [v.name, v]));
  assert.deepEqual(
    [...byName.values()].map((v) => [v.name, v.bd.id, describeEncapsulation(v.encap), v.role]),
    [
      ['1', 1, 'untagged', 'station'],
      ['1.10', 2, 'dot1q 10', 'station'],
      ['1.100', 3, 'dot1q 100', 'station'],
      ['1.100.10', 4, 'qinq 100.10', 'station'],
      ['2:vlan30', 5, 'vlan 30 binding', 'station'],
      ['3:vlan30', 5, 'vlan 30 binding (tagged)', 'station'],
      ['3:vlan40', 6, 'vlan 40 binding (tagged)', 'station'],
      ['3:vlan50', 7, 'vlan 50 binding', 'station'],
      ['4:vlan30', 5, 'vlan 30 binding (tagged)', 'station'],
      ['4:vlan40', 6, 'vlan 40 binding (tagged)', 'station'],
      ['4:vlan50', 7, 'vlan 50 binding (tagged)', 'station'],
      ['5.7', 2, 'dot1q 7', 'station'],
    ],
  );
  assert.deepEqual(
    bd.map((b) => b.vaps.map((v) => v.name)),
    [
      [],
      ['1'],
      ['1.10', '5.7'],
      ['1.100'],
      ['1.100.10'],
      ['2:vlan30', '3:vlan30', '4:vlan30'],
      ['3:vlan40', '4:vlan40'],
      ['3:vlan50', '4:vlan50'],
    ],
  );
  assert.deepEqual(
    [p[0], p[1], p[2], p[3], p[4], stray].map((x) => t.isAccessPort(x)),
    [true, true, true, true, true, false],
  );
});

test('classify: a trunk accepts its native VLAN tagged too, as a switch port does (IEEE 802.1Q: the tag decides)', () => {
  const { t, p } = table();
  // A frame tagged with VID 50 on trunk port 3 (native 50, allowed 30, 40): the project's Switch
  // puts it in VLAN 50 (`c.native === vid`), so the VLAN-binding VAP for VLAN 50 must take it.
  const c = t.classify(p[2], dot1q(50));
  assert.ok(c.ok, c.ok ? '' : `${c.reason}: ${c.why}`);
  assert.deepEqual([c.vap.name, c.typeOffset], ['3:vlan50', 16]);
});

/** The VAPs of the table by name. */
function vaps(): Map<string, Vap> {
  return new Map(
    table()
      .t.all()
      .map((v) => [v.name, v]),
  );
}

test('tagForVap: dot1q pushes 0x8100+VID, QinQ 0x88a8 outer then 0x8100 inner, a tagged binding its VLAN; others leave the frame as is', () => {
  const v = vaps();
  const frame = untagged();
  const rest = toHex(frame.subarray(12)); // 0800 + payload
  const out = (name: string) => toHex(tagForVap(frame, v.get(name)!));
  assert.equal(out('1.10'), `${MACS}8100000a${rest}`);
  assert.equal(out('1.100'), `${MACS}81000064${rest}`);
  assert.equal(out('1.100.10'), `${MACS}88a800648100000a${rest}`);
  assert.equal(out('3:vlan30'), `${MACS}8100001e${rest}`);
  assert.equal(out('4:vlan50'), `${MACS}81000032${rest}`);
  assert.equal(out('5.7'), `${MACS}81000007${rest}`);
  // Untagged VAPs, access bindings and the native VLAN of a trunk: the very same frame.
  for (const name of ['1', '2:vlan30', '3:vlan50']) assert.equal(tagForVap(frame, v.get(name)!), frame, name);
  assert.equal(tagForVap(frame, v.get('1.10')!).length, 64);
  assert.equal(tagForVap(frame, v.get('1.100.10')!).length, 68);
  // The input is never modified.
  assert.deepEqual(frame, untagged());
});

test('untagFrame pops the tags (the bytes after them follow the MACs), pads to 60, and gives an untagged frame back as is', () => {
  const frame = untagged();
  assert.equal(untagFrame(frame, 12), frame);
  assert.deepEqual(untagFrame(dot1q(10), 16), frame);
  assert.deepEqual(untagFrame(qinq(100, 10), 20), frame);
  // A short tagged frame (unpadded: 18 + 2 bytes of payload) pops to 60 bytes, zero-padded.
  const short = ethernet(DST, SRC, EtherType.arp, fromHex('abcd'), [tag(10)], false);
  assert.equal(short.length, 20);
  const popped = untagFrame(short, 16);
  assert.equal(popped.length, 60);
  assert.equal(toHex(popped), `${MACS}0806abcd${'00'.repeat(44)}`);
  // A QinQ frame that fell back to its outer dot1q VAP keeps the inner C-tag.
  assert.equal(toHex(untagFrame(qinq(100, 99), 16)), `${MACS}81000063${toHex(frame.subarray(12))}`);
  // A long frame keeps every byte: 1518 tagged -> 1514.
  const big = ethernet(DST, SRC, EtherType.ipv4, new Uint8Array(1500).fill(7), [tag(10)]);
  assert.deepEqual(untagFrame(big, 16), ethernet(DST, SRC, EtherType.ipv4, new Uint8Array(1500).fill(7)));
});

test('property: classify then untagFrame undoes tagForVap, for every VAP and any payload', () => {
  const v = vaps();
  const { t } = table();
  const byName = new Map(t.all().map((x) => [x.name, x]));
  fc.assert(
    fc.property(
      fc.constantFrom(...v.keys()),
      fc.uint8Array({ minLength: 46, maxLength: 1500 }),
      fc.constantFrom(EtherType.ipv4, EtherType.arp, 0x86dd),
      (name, payload, type) => {
        const vap = byName.get(name)!;
        const frame = ethernet(DST, SRC, type, payload);
        const wire = tagForVap(frame, vap);
        const c = t.classify(vap.port, wire);
        assert.ok(c.ok, c.ok ? '' : c.why);
        assert.equal(c.vap, vap);
        assert.deepEqual(untagFrame(wire, c.typeOffset), frame);
      },
    ),
    { numRuns: 200 },
  );
});

test('duplicates are refused: a second VAP for the same port and encapsulation, a VLAN bound twice', () => {
  const { t, p, bd } = table();
  assert.throws(() => t.addSubinterface(p[0], { kind: 'untagged' }, bd[0]!), {
    message: 'port 1 already has a VAP for untagged',
  });
  assert.throws(() => t.addSubinterface(p[0], { kind: 'dot1q', vid: 10 }, bd[0]!), {
    message: 'port 1 already has a VAP for dot1q 10',
  });
  assert.throws(() => t.addSubinterface(p[0], { kind: 'qinq', outer: 100, inner: 10 }, bd[0]!), {
    message: 'port 1 already has a VAP for qinq 100.10',
  });
  assert.throws(() => t.bindVlan(30, bd[0]!), { message: 'VLAN 30 is already bound to a bridge domain' });
  // Nothing was added by the failed calls.
  assert.equal(bd[0]!.vaps.length, 0);
  assert.equal(t.all().length, 12);
  // The same encapsulation on another port, and QinQ 100.11 beside 100.10, are fine.
  assert.equal(t.addSubinterface(p[1], { kind: 'dot1q', vid: 10 }, bd[0]!).name, '2.10');
  assert.equal(t.addSubinterface(p[0], { kind: 'qinq', outer: 100, inner: 11 }, bd[0]!).name, '1.100.11');
});

test('bindings apply to ports whatever the order: a mode set before bindVlan, and one set after', () => {
  const t = new VapTable();
  const before = new Port('nve', 'before');
  const after = new Port('nve', 'after');
  const access = new Port('nve', 'access');
  const bd = new BridgeDomain(20, 20020, 'B');
  t.setPortMode(before, { mode: 'trunk', allowed: [20], native: null });
  t.setPortMode(access, { mode: 'access', vlan: 21 });
  t.bindVlan(20, bd, 'gateway');
  t.setPortMode(after, { mode: 'trunk', allowed: [20, 21], native: 21 });
  // VLAN 21 is bound last: it reaches the access port and the native VLAN of `after`.
  const bd21 = new BridgeDomain(21, 20021, 'B');
  t.bindVlan(21, bd21);
  assert.deepEqual(
    t.all().map((v) => [v.name, v.bd.id, describeEncapsulation(v.encap), v.role]),
    [
      ['before:vlan20', 20, 'vlan 20 binding (tagged)', 'gateway'],
      ['access:vlan21', 21, 'vlan 21 binding', 'station'],
      ['after:vlan20', 20, 'vlan 20 binding (tagged)', 'gateway'],
      ['after:vlan21', 21, 'vlan 21 binding', 'station'],
    ],
  );
  const name = (port: Port, frame: Uint8Array) => {
    const c = t.classify(port, frame);
    return c.ok ? `${c.vap.name}@${c.typeOffset}` : c.reason;
  };
  assert.deepEqual(
    [
      name(before, dot1q(20)),
      name(after, dot1q(20)),
      name(after, untagged()),
      name(access, untagged()),
      name(before, untagged()),
      name(before, dot1q(21)),
    ],
    ['before:vlan20@16', 'after:vlan20@16', 'after:vlan21@12', 'access:vlan21@12', 'no-vap', 'no-vap'],
  );
  // Setting a mode again does not duplicate VAPs already bound.
  t.setPortMode(before, { mode: 'trunk', allowed: [20], native: null });
  assert.equal(t.all().length, 4);
  assert.deepEqual(
    bd.vaps.map((v) => v.name),
    ['before:vlan20', 'after:vlan20'],
  );
});

test('a port given a new VLAN mode leaves the BDs of the VLANs it no longer carries', () => {
  const t = new VapTable();
  const port = new Port('nve', '1');
  const bd20 = new BridgeDomain(20, 20020, 'B');
  const bd21 = new BridgeDomain(21, 20021, 'B');
  t.bindVlan(20, bd20);
  t.bindVlan(21, bd21);
  t.setPortMode(port, { mode: 'trunk', allowed: [20], native: null });
  assert.deepEqual(
    t.all().map((v) => v.name),
    ['1:vlan20'],
  );
  // Reconfigured as an access port of VLAN 21: BD 20 must no longer flood out of it (tagged, on an
  // access port), and the table lists only what the port carries now.
  t.setPortMode(port, { mode: 'access', vlan: 21 });
  assert.deepEqual(
    t.all().map((v) => `${v.name} ${describeEncapsulation(v.encap)}`),
    ['1:vlan21 vlan 21 binding'],
  );
  assert.deepEqual(
    bd20.vaps.map((v) => v.name),
    [],
  );
  assert.deepEqual(
    bd21.vaps.map((v) => v.name),
    ['1:vlan21'],
  );
});
