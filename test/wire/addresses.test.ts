/** MAC and IPv4/CIDR addresses, and the Internet checksum with its RFC 1624 incremental update. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cidr,
  cidrBroadcast,
  cidrContains,
  cidrMask,
  cidrNetwork,
  cidrSize,
  decrementTtl,
  formatCidr,
  formatIpv4,
  formatMac,
  fromHex,
  Ipv4View,
  incrementalChecksumUpdate,
  internetChecksum,
  ip,
  isBroadcastMac,
  isLocallyAdministeredMac,
  isMulticastMac,
  isUnicastMac,
  macKind,
  maskPrefixLength,
  parseCidr,
  parseIpv4Address,
  parseMac,
  readMac,
  sameSubnet,
  toHex,
  writeMac,
} from '../../src/wire/index.js';

test('MAC text forms, bytes, and the I/G and U/L bits', () => {
  const m = parseMac('00:0a:95:b1:2c:eb')!;
  assert.equal(m, 0x000a95b12ceb);
  assert.equal(formatMac(m), '00:0a:95:b1:2c:eb');
  assert.equal(parseMac('00-0A-95-B1-2C-EB'), m);
  assert.equal(parseMac('000a.95b1.2ceb'), m);
  for (const bad of ['00:0a:95:b1:2c', '00:0a:95:b1:2c:eb:01', 'gg:hh:ii:jj:kk:ll', '', '0:a:95:b1:2c:eb'])
    assert.equal(parseMac(bad), undefined, bad);
  const b = new Uint8Array(8);
  writeMac(b, 1, 0xffeeddccbbaa);
  assert.equal(toHex(b), '00ffeeddccbbaa00');
  assert.equal(readMac(b, 1), 0xffeeddccbbaa);
  assert.equal(macKind(0xffffffffffff), 'broadcast');
  assert.ok(isBroadcastMac(0xffffffffffff));
  assert.equal(macKind(0x01005e000001), 'multicast');
  assert.ok(isMulticastMac(0x333300000001));
  assert.ok(isUnicastMac(m));
  assert.ok(!isLocallyAdministeredMac(m));
  assert.ok(isLocallyAdministeredMac(0x020000000001));
});

test('IPv4 text is strict dotted quad', () => {
  assert.equal(parseIpv4Address('192.168.0.1'), 0xc0a80001);
  assert.equal(formatIpv4(0xc0a80001), '192.168.0.1');
  assert.equal(formatIpv4(0xffffffff), '255.255.255.255');
  for (const bad of ['256.0.0.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.-4'])
    assert.equal(parseIpv4Address(bad), undefined, bad);
});

test("CIDR: mask, network, broadcast, contains, same subnet (the lecture's ip & mask rule)", () => {
  const c = cidr('192.168.0.1/24');
  assert.equal(formatIpv4(cidrMask(c)), '255.255.255.0');
  assert.equal(formatIpv4(cidrNetwork(c)), '192.168.0.0');
  assert.equal(formatIpv4(cidrBroadcast(c)), '192.168.0.255');
  assert.equal(formatCidr(c), '192.168.0.1/24');
  assert.equal(cidrSize(c), 256);
  assert.ok(cidrContains(c, ip('192.168.0.254')));
  assert.ok(!cidrContains(c, ip('192.168.1.1')));
  assert.ok(sameSubnet(ip('192.168.0.1'), ip('192.168.0.2'), 24));
  assert.ok(!sameSubnet(ip('192.168.0.1'), ip('192.168.1.2'), 24));
  assert.ok(cidrContains(cidr('0.0.0.0/0'), ip('8.8.8.8')));
  assert.ok(cidrContains(cidr('10.0.0.5/32'), ip('10.0.0.5')));
  assert.equal(parseCidr('192.168.0.1/24', { strict: true }), undefined);
  assert.deepEqual(parseCidr('192.168.0.0/24', { strict: true }), { address: 0xc0a80000, prefixLength: 24 });
  for (const bad of ['192.168.0.0', '192.168.0.0/33', '192.168.0.0/', '192.168.0.0/024', 'x/8'])
    assert.equal(parseCidr(bad), undefined, bad);
  assert.equal(maskPrefixLength(ip('255.255.255.0')), 24);
  assert.equal(maskPrefixLength(ip('255.255.255.255')), 32);
  assert.equal(maskPrefixLength(0), 0);
  assert.equal(maskPrefixLength(ip('255.0.255.0')), undefined);
});

test('Internet checksum: RFC 1071 example and odd lengths', () => {
  // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2; the checksum is its complement.
  assert.equal(internetChecksum(fromHex('0001f203f4f5f6f7')), ~0xddf2 & 0xffff);
  assert.equal(internetChecksum(fromHex('01')), ~0x0100 & 0xffff);
});

test('RFC 1624 incremental update, including the -0 case where RFC 1141 goes wrong', () => {
  // RFC 1624 section 4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000 (eqn. 3), not 0xffff.
  assert.equal(incrementalChecksumUpdate(0xdd2f, 0x5555, 0x3285), 0x0000);
});

test('router TTL decrement keeps the header checksum valid', () => {
  // The golden ICMP echo request's IPv4 header (TTL 64, checksum 0x9c0f).
  const header = fromHex('45000054 1c464000 40019c0f c0a80001 c0a80102');
  assert.equal(decrementTtl(header), 63);
  assert.equal(header[8], 63);
  assert.equal(toHex(header.subarray(10, 12)), '9d0f');
  const view = Ipv4View.check(new Uint8Array([...header, ...new Uint8Array(64)]));
  assert.ok(view.ok && view.value.checksumOk);
  const dying = fromHex('45000054 1c464000 01019c0f c0a80001 c0a80102');
  assert.equal(decrementTtl(dying), -1);
  assert.equal(dying[8], 1);
});
