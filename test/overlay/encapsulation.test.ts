/**
 * The overlay encapsulations byte by byte: VXLAN (RFC 7348), GENEVE (RFC 8926) and NVGRE
 * (RFC 7637) headers as `encapsulate` writes them, the inner frame carried unchanged, the flow-hashed
 * UDP source port or NVGRE FlowID, `decapsulateUdp` / `decapsulateGre` giving back the VNI and the
 * inner offset, every malformed header refused with its reason, a fast-check round trip over
 * random VNIs and frames for all three kinds, and the overhead each adds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decapsulateGre,
  decapsulateUdp,
  ENCAPSULATIONS,
  type EncapsulationKind,
  encapsulate,
  encapsulationOverhead,
  encapsulationPort,
  outerIpOverhead,
} from '../../src/overlay/index.js';
import {
  concatBytes,
  EtherType,
  emitGeneve,
  flowSourcePort,
  fromHex,
  IpProtocol,
  ip,
  mac,
  readU16,
  readU32,
  toHex,
} from '../../src/wire/index.js';
import { ascii, ethernet, ipv4Udp } from '../helpers/build.js';

/** A VM's frame: 02:00:00:00:00:0b <- 02:00:00:00:00:0a, IPv4/UDP, 60 bytes after padding. */
const INNER = ethernet(
  mac('02:00:00:00:00:0b'),
  mac('02:00:00:00:00:0a'),
  EtherType.ipv4,
  ipv4Udp({ src: ip('10.1.0.10'), dst: ip('10.1.0.11') }, 40000, 53, ascii('hello')),
);

const hex = (b: Uint8Array) => toHex(b);

test('VXLAN: UDP 4789 (0x12b5), length, zero checksum, flags 0x08, VNI, reserved zero, then the inner frame', () => {
  const hash = 0x1234_5678;
  const enc = encapsulate('vxlan', 0xabcdef, INNER, hash);
  const port = flowSourcePort(hash);
  assert.equal(port, 49152 + (0x1234_5678 % 16384));
  assert.equal(port, 0xd678); // 0x12345678 % 0x4000 = 0x1678, + 0xc000
  assert.deepEqual(
    { protocol: enc.protocol, srcPort: enc.srcPort, length: enc.payload.length },
    { protocol: IpProtocol.udp, srcPort: 0xd678, length: 8 + 8 + INNER.length },
  );
  const p = enc.payload;
  // UDP: d6 78 | 12 b5 | length 0x004c (8 + 8 + 60 = 76) | checksum 0000.
  assert.equal(hex(p.subarray(0, 8)), 'd67812b5004c0000');
  // VXLAN: flags 08, reserved 000000, VNI abcdef, reserved 00.
  assert.equal(hex(p.subarray(8, 16)), '08000000abcdef00');
  assert.deepEqual(p.subarray(16), INNER);
  assert.equal(hex(p), `d67812b5004c000008000000abcdef00${hex(INNER)}`);

  const d = decapsulateUdp('vxlan', p, 8, p.length);
  assert.deepEqual(d, { ok: true, vni: 0xabcdef, innerOffset: 16, end: p.length });
  // At an offset inside a bigger buffer (an outer IPv4 header before it), the offsets move with it.
  const framed = concatBytes([new Uint8Array(20).fill(0xee), p]);
  assert.deepEqual(decapsulateUdp('vxlan', framed, 28, framed.length), {
    ok: true,
    vni: 0xabcdef,
    innerOffset: 36,
    end: framed.length,
  });
});

test('VXLAN VNI edge values: 1 and 2^24-1 in bytes 12..14 of the payload', () => {
  for (const [vni, bytes] of [
    [1, '000001'],
    [0xff_ffff, 'ffffff'],
    [10000, '002710'],
  ] as const) {
    const enc = encapsulate('vxlan', vni, INNER, 0);
    assert.equal(enc.srcPort, 49152);
    assert.equal(hex(enc.payload.subarray(0, 16)), `c00012b5004c000008000000${bytes}00`);
    const d = decapsulateUdp('vxlan', enc.payload, 8, enc.payload.length);
    assert.ok(d.ok);
    assert.equal(d.vni, vni);
  }
});

test('GENEVE: UDP 6081 (0x17c1), version 0, no options, protocol 0x6558, VNI, reserved zero, then the inner frame', () => {
  const hash = 0xffff_ffff;
  const enc = encapsulate('geneve', 0x012345, INNER, hash);
  assert.equal(enc.protocol, IpProtocol.udp);
  assert.equal(enc.srcPort, flowSourcePort(hash));
  assert.equal(enc.srcPort, 65535); // 0xffffffff % 16384 = 16383
  const p = enc.payload;
  assert.equal(p.length, 8 + 8 + INNER.length);
  assert.equal(hex(p.subarray(0, 8)), 'ffff17c1004c0000');
  // Ver 0 / Opt Len 0 | O 0 C 0 | protocol 6558 | VNI 012345 | reserved 00.
  assert.equal(hex(p.subarray(8, 16)), '0000655801234500');
  assert.deepEqual(p.subarray(16), INNER);
  assert.deepEqual(decapsulateUdp('geneve', p, 8, p.length), {
    ok: true,
    vni: 0x012345,
    innerOffset: 16,
    end: p.length,
  });
});

test('GENEVE with a non-critical option: the inner frame starts after the options (Opt Len words)', () => {
  const geneve = emitGeneve(
    {
      oam: false,
      critical: false,
      protocol: EtherType.transparentEthernetBridging,
      vni: 777,
      options: [{ optionClass: 0x0102, type: 0x03, data: fromHex('aabbccdd') }],
    },
    INNER,
  );
  // Opt Len 2 words | flags 00 | 6558 | VNI 000309 | 00 || class 0102 | type 03 | length 1 word | data.
  assert.equal(hex(geneve.subarray(0, 16)), '020065580003090001020301aabbccdd');
  const d = decapsulateUdp('geneve', geneve, 0, geneve.length);
  assert.deepEqual(d, { ok: true, vni: 777, innerOffset: 16, end: geneve.length });
  assert.deepEqual(geneve.subarray(16), INNER);
});

test('NVGRE: IP protocol 47, flags 0x2000 (K bit only), protocol 0x6558, key = VSID << 8 | FlowID', () => {
  const hash = 0x0bad_c0de;
  const enc = encapsulate('nvgre', 0x0a0b0c, INNER, hash);
  assert.deepEqual(
    { protocol: enc.protocol, srcPort: enc.srcPort, length: enc.payload.length },
    { protocol: IpProtocol.gre, srcPort: -1, length: 8 + INNER.length },
  );
  const p = enc.payload;
  assert.equal(readU16(p, 0), 0x2000);
  assert.equal(readU16(p, 2), 0x6558);
  assert.equal(readU32(p, 4), ((0x0a0b0c << 8) | 0xde) >>> 0);
  assert.equal(hex(p.subarray(0, 8)), '200065580a0b0cde');
  assert.deepEqual(p.subarray(8), INNER);
  assert.deepEqual(decapsulateGre(p, 0, p.length), {
    ok: true,
    vni: 0x0a0b0c,
    innerOffset: 8,
    end: p.length,
  });
  // The top VSID bit survives (the key is read unsigned).
  const high = encapsulate('nvgre', 0xff_ffff, INNER, 0x42);
  assert.equal(hex(high.payload.subarray(0, 8)), '20006558ffffff42');
  const d = decapsulateGre(high.payload, 0, high.payload.length);
  assert.ok(d.ok);
  assert.equal(d.vni, 0xff_ffff);
});

test('the source port and FlowID come from the flow hash alone: the same hash gives the same header', () => {
  const other = ethernet(
    mac('02:00:00:00:00:0c'),
    mac('02:00:00:00:00:0d'),
    EtherType.arp,
    new Uint8Array(28),
  );
  for (const hash of [0, 1, 16383, 16384, 0x7fff_ffff, 0x8000_0000, -1]) {
    const a = encapsulate('vxlan', 5, INNER, hash);
    const b = encapsulate('vxlan', 5, other, hash);
    assert.equal(a.srcPort, flowSourcePort(hash));
    assert.equal(a.srcPort, b.srcPort);
    assert.ok(a.srcPort >= 49152 && a.srcPort <= 65535);
    assert.equal(readU16(a.payload, 0), a.srcPort);
    const g = encapsulate('geneve', 5, INNER, hash);
    assert.equal(readU16(g.payload, 0), flowSourcePort(hash));
    const n = encapsulate('nvgre', 5, INNER, hash);
    assert.equal(n.payload[7], hash & 0xff);
  }
  assert.deepEqual(
    [0, 16383, 16384, -1].map((h) => flowSourcePort(h)),
    [49152, 65535, 49152, 65535],
  );
});

test('VXLAN decap errors: no I flag, a header cut short', () => {
  const good = encapsulate('vxlan', 100, INNER, 7).payload;
  const noI = good.slice();
  noI[8] = 0x00;
  const d = decapsulateUdp('vxlan', noI, 8, noI.length);
  assert.deepEqual(d.ok ? d : { ok: d.ok, reason: d.reason }, { ok: false, reason: 'vxlan-missing-i-flag' });
  if (!d.ok) assert.equal(d.why, 'VXLAN flags 0x00 lack the I flag (0x08) that marks a valid VNI');
  // Other flag bits are reserved and ignored; only the I bit matters.
  const otherFlags = good.slice();
  otherFlags[8] = 0xf7;
  assert.equal(decapsulateUdp('vxlan', otherFlags, 8, otherFlags.length).ok, false);
  otherFlags[8] = 0xff;
  assert.equal(decapsulateUdp('vxlan', otherFlags, 8, otherFlags.length).ok, true);
  for (const cut of [0, 1, 7]) {
    const r = decapsulateUdp('vxlan', good, 8, 8 + cut);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'vxlan-truncated');
  }
  // Exactly a header and no inner bytes is a valid header (the NVE checks the inner length itself).
  assert.deepEqual(decapsulateUdp('vxlan', good, 8, 16), { ok: true, vni: 100, innerOffset: 16, end: 16 });
});

test('GENEVE decap errors: critical option, not Ethernet, version 1, truncated, options past the end', () => {
  const good = encapsulate('geneve', 100, INNER, 7).payload;
  const reason = (b: Uint8Array, offset = 8, end = b.length) => {
    const r = decapsulateUdp('geneve', b, offset, end);
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(reason(good), 'ok');
  const critical = emitGeneve(
    {
      oam: false,
      critical: true,
      protocol: EtherType.transparentEthernetBridging,
      vni: 100,
      options: [{ optionClass: 0x0102, type: 0x80, data: new Uint8Array(4) }],
    },
    INNER,
  );
  assert.equal(critical[1], 0x40);
  assert.equal(reason(critical, 0), 'geneve-critical-option');
  const ipv4Payload = good.slice();
  ipv4Payload[10] = 0x08; // protocol 0x0800: an IPv4 packet, not an Ethernet frame
  ipv4Payload[11] = 0x00;
  assert.equal(reason(ipv4Payload), 'geneve-not-ethernet');
  const v1 = good.slice();
  v1[8] = 0x40;
  assert.equal(reason(v1), 'geneve-unsupported-version');
  assert.equal(reason(good, 8, 15), 'geneve-truncated');
  const optLen = good.slice();
  optLen[8] = 0x3f; // 252 bytes of options announced, fewer present
  assert.equal(reason(optLen, 8, 8 + 8 + 20), 'geneve-truncated');
});

test('NVGRE decap errors: GRE without the key, another protocol, version 1, truncated', () => {
  const good = encapsulate('nvgre', 100, INNER, 7).payload;
  const reason = (b: Uint8Array, end = b.length) => {
    const r = decapsulateGre(b, 0, end);
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(reason(good), 'ok');
  // Plain GRE carrying IPv4, no key: 0000 0800.
  const plain = concatBytes([fromHex('00000800'), INNER.subarray(14)]);
  assert.equal(reason(plain), 'gre-not-nvgre');
  // Key present but carrying IPv4.
  const keyedIpv4 = good.slice();
  keyedIpv4[2] = 0x08;
  keyedIpv4[3] = 0x00;
  assert.equal(reason(keyedIpv4), 'gre-not-nvgre');
  // No key but Ethernet.
  const unkeyed = concatBytes([fromHex('00006558'), INNER]);
  assert.equal(reason(unkeyed), 'gre-not-nvgre');
  const v1 = good.slice();
  v1[1] = 0x01;
  assert.equal(reason(v1), 'gre-unsupported-version');
  assert.equal(reason(good, 3), 'gre-truncated');
  assert.equal(reason(good, 7), 'gre-truncated'); // K set: 8 bytes needed
});

test('property: decap(encap(frame)) gives back the VNI and the very inner bytes, for every encapsulation', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<EncapsulationKind>(...ENCAPSULATIONS),
      fc.integer({ min: 1, max: 0xff_ffff }),
      fc.uint8Array({ minLength: 14, maxLength: 1500 }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.nat({ max: 40 }),
      (kind, vni, inner, hash, lead) => {
        const enc = encapsulate(kind, vni, inner, hash);
        // Embed the payload after `lead` bytes, as the outer IPv4 header would precede it.
        const buf = concatBytes([new Uint8Array(lead).fill(0xa5), enc.payload, new Uint8Array(3).fill(0x5a)]);
        const end = lead + enc.payload.length;
        const d =
          kind === 'nvgre' ? decapsulateGre(buf, lead, end) : decapsulateUdp(kind, buf, lead + 8, end);
        assert.ok(d.ok, d.ok ? '' : d.reason);
        assert.equal(d.vni, vni);
        assert.equal(d.end, end);
        assert.equal(d.innerOffset, lead + (kind === 'nvgre' ? 8 : 16));
        assert.deepEqual(buf.subarray(d.innerOffset, d.end), inner);
        if (kind === 'nvgre') {
          assert.equal(enc.srcPort, -1);
          assert.equal(enc.protocol, IpProtocol.gre);
          assert.equal(enc.payload[7], hash & 0xff);
        } else {
          assert.equal(enc.protocol, IpProtocol.udp);
          assert.equal(enc.srcPort, flowSourcePort(hash));
          assert.ok(enc.srcPort >= 49152 && enc.srcPort <= 65535);
          assert.equal(readU16(enc.payload, 0), enc.srcPort);
          assert.equal(readU16(enc.payload, 2), encapsulationPort(kind));
          assert.equal(readU16(enc.payload, 4), enc.payload.length);
          assert.equal(readU16(enc.payload, 6), 0);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('overheads: VXLAN and GENEVE add 50 bytes on the wire (36 after the outer IPv4 start), NVGRE 42 (28)', () => {
  assert.equal(encapsulationOverhead('vxlan'), 50);
  assert.equal(encapsulationOverhead('geneve'), 50);
  assert.equal(encapsulationOverhead('nvgre'), 42);
  assert.deepEqual(ENCAPSULATIONS.map(outerIpOverhead), [36, 36, 28]);
  assert.deepEqual(ENCAPSULATIONS.map(encapsulationPort), [4789, 6081, undefined]);
  // The payload encapsulate returns is the outer IPv4 packet minus its 20-byte header.
  for (const kind of ENCAPSULATIONS)
    assert.equal(encapsulate(kind, 1, INNER, 0).payload.length + 20, INNER.length + outerIpOverhead(kind));
});

test('GENEVE control packets (O bit) are not decapsulated for forwarding (RFC 8926 3.4: endpoints MUST NOT forward the payload)', () => {
  const oam = emitGeneve(
    { oam: true, critical: false, protocol: EtherType.transparentEthernetBridging, vni: 100, options: [] },
    INNER,
  );
  assert.equal(hex(oam.subarray(0, 8)), '0080655800006400');
  const d = decapsulateUdp('geneve', oam, 0, oam.length);
  assert.equal(d.ok, false, 'an OAM packet must not hand its inner frame to the bridge domain');
  if (!d.ok) assert.match(d.reason, /^geneve-/);
});

test('a VNI outside 0..2^24-1 is a programming error for every encapsulation: it throws rather than wrap', () => {
  for (const kind of ENCAPSULATIONS)
    for (const vni of [0x100_0000, -1, 1.5])
      assert.throws(() => encapsulate(kind, vni, INNER, 0), /is not 0\.\.16777215/, `${kind} VNI ${vni}`);
});
