/** readForwardingKeys reads what the dissector reads, and rejects what it rejects, without allocating. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeFrame,
  formatIpv4,
  formatMac,
  fromHex,
  newForwardingKeys,
  readForwardingKeys,
} from '../../src/wire/index.js';
import { goldenFrames } from '../helpers/repo.js';

const golden = new Map(goldenFrames().map((f) => [f.name, fromHex(f.hex)]));

test('keys of a VXLAN frame inside a VLAN', () => {
  const keys = newForwardingKeys();
  assert.equal(readForwardingKeys(golden.get('vxlan-in-vlan')!, keys), null);
  assert.deepEqual(keys, {
    dstMac: 0x020000000201,
    srcMac: 0x020000000101,
    vid: 10,
    tagCount: 1,
    etherType: 0x0800,
    l3Offset: 18,
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    protocol: 17,
    ttl: 64,
    l4Offset: 38,
    srcPort: 61000,
    dstPort: 4789,
    vni: 16777215,
    innerOffset: 54,
  });
});

test('keys agree with the dissector on every golden frame', () => {
  const keys = newForwardingKeys();
  for (const [name, bytes] of golden) {
    assert.equal(readForwardingKeys(bytes, keys), null, name);
    const layers = decodeFrame(bytes).layers;
    assert.equal(formatMac(keys.dstMac), layers[0]!.dst, name);
    assert.equal(formatMac(keys.srcMac), layers[0]!.src, name);
    const vlan = layers.find((l) => l.layer === 'vlan');
    assert.equal(keys.vid, vlan ? vlan.vid : -1, name);
    const ipv4 = layers.find((l) => l.layer === 'ipv4');
    if (ipv4) {
      assert.equal(formatIpv4(keys.srcIp), ipv4.src, name);
      assert.equal(formatIpv4(keys.dstIp), ipv4.dst, name);
      assert.equal(keys.protocol, ipv4.protocol, name);
    }
    const vxlan = layers.find((l) => l.layer === 'vxlan');
    assert.equal(keys.vni, vxlan ? vxlan.vni : -1, name);
  }
});

const CHECKED_LAYERS = new Set(['ethernet', 'vlan', 'ipv4', 'udp', 'vxlan']);

test('on damaged frames, keys fail exactly where the dissector fails (outer layers up to VXLAN)', () => {
  const bases = ['vxlan-icmp', 'vxlan-in-vlan', 'udp-dns-query', 'ipv4-options', 'qinq-arp'].map(
    (n) => golden.get(n)!,
  );
  const keys = newForwardingKeys();
  fc.assert(
    fc.property(
      fc.constantFrom(...bases),
      fc.array(fc.tuple(fc.nat(120), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(120),
      (base, edits, cut) => {
        const bytes = Uint8Array.from(base.subarray(0, Math.max(cut, 0) >= base.length ? base.length : cut));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        const error = readForwardingKeys(bytes, keys);
        const decoded = decodeFrame(bytes);
        if (error) {
          assert.ok(decoded.error, 'the dissector fails too');
          assert.deepEqual(
            [decoded.error.layer, decoded.error.code, decoded.error.offset],
            [error.layer, error.code, error.offset],
          );
          return;
        }
        const e = decoded.error;
        const ipv4 = decoded.layers.find((l) => l.layer === 'ipv4');
        const fragment = ipv4 !== undefined && (ipv4.mf === true || ipv4.fragmentOffset !== 0);
        const inOuter = keys.innerOffset < 0 || (e !== null && e.offset < keys.innerOffset);
        if (e && CHECKED_LAYERS.has(e.layer) && inOuter && keys.etherType > 1500 && !fragment) {
          assert.fail(`dissector failed (${e.layer} ${e.code} at ${e.offset}) but keys did not`);
        }
      },
    ),
    { numRuns: 3000 },
  );
});
