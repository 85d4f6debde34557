/** pcap and pcapng readers and the pcap writer, on files written by scapy and Wireshark's editcap. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fromHex,
  PcapWriter,
  readCapture,
  readPcap,
  readPcapng,
  timestampFromNanos,
  toHex,
  writePcap,
  writeU32,
} from '../../src/wire/index.js';
import { goldenFrames, readFixture } from '../helpers/repo.js';

const golden = goldenFrames();

test('reads the scapy-written microsecond pcap: every frame, its bytes and timestamp', () => {
  const c = readPcap(readFixture('golden.pcap'));
  assert.equal(c.error, null);
  assert.equal(c.format, 'pcap');
  assert.equal(c.resolution, 'micro');
  assert.equal(c.packets.length, golden.length);
  c.packets.forEach((p, i) => {
    assert.equal(p.index, i + 1);
    assert.equal(toHex(p.data), golden[i]!.hex);
    assert.equal(p.originalLength, p.data.length);
    assert.equal(p.linkType, 1);
    assert.deepEqual(p.timestamp, { seconds: 1764576000, nanos: i * 1_000_000 });
  });
  assert.equal(c.packets[0]!.fileOffset, 24);
});

test('reads the nanosecond pcap and the pcapng written by editcap to the same packets', () => {
  const micro = readPcap(readFixture('golden.pcap'));
  for (const file of ['golden-nsec.pcap', 'golden.pcapng']) {
    const c = readCapture(readFixture(file));
    assert.equal(c.error, null, file);
    assert.equal(c.format, file.endsWith('ng') ? 'pcapng' : 'pcap');
    assert.equal(c.packets.length, micro.packets.length);
    c.packets.forEach((p, i) => {
      assert.equal(toHex(p.data), toHex(micro.packets[i]!.data));
      assert.deepEqual(p.timestamp, micro.packets[i]!.timestamp);
    });
  }
  assert.equal(readCapture(readFixture('golden-nsec.pcap')).resolution, 'nano');
});

test('writer output is byte-identical to libpcap layout and reads back exactly (micro and nano)', () => {
  const frame = Uint8Array.from({ length: 60 }, (_, i) => i);
  const nano = writePcap([{ data: frame, timestamp: { seconds: 5, nanos: 123_456_789 } }], {
    nanosecond: true,
  });
  assert.equal(
    toHex(nano.subarray(0, 40)),
    // magic (LE) | v2.4 | zone 0 | sigfigs 0 | snaplen 262144 | linktype 1 | ts 5 | 123456789 ns | 60 | 60
    '4d3cb2a1' +
      '02000400' +
      '00000000' +
      '00000000' +
      '00000400' +
      '01000000' +
      '05000000' +
      '15cd5b07' +
      '3c000000' +
      '3c000000',
  );
  const back = readPcap(nano);
  assert.equal(back.resolution, 'nano');
  assert.deepEqual(back.packets[0]!.timestamp, { seconds: 5, nanos: 123_456_789 });
  const micro = readPcap(writePcap([{ data: frame, timestamp: { seconds: 5, nanos: 123_456_789 } }]));
  assert.deepEqual(micro.packets[0]!.timestamp, { seconds: 5, nanos: 123_456_000 });
  assert.deepEqual(timestampFromNanos(3_000_000_042), { seconds: 3, nanos: 42 });
});

test('writer honours the snap length: captured bytes cut, original length kept', () => {
  const w = new PcapWriter({ snapLength: 20 });
  const c = readPcap(
    new Uint8Array([...w.header(), ...w.record(new Uint8Array(100), { seconds: 0, nanos: 0 })]),
  );
  assert.equal(c.packets[0]!.data.length, 20);
  assert.equal(c.packets[0]!.originalLength, 100);
});

test('big-endian pcap files are read too', () => {
  const le = writePcap([{ data: new Uint8Array(60).fill(7), timestamp: { seconds: 1, nanos: 2000 } }]);
  const be = Uint8Array.from(le);
  const swap32 = (o: number) => writeU32(be, o, new DataView(le.buffer, le.byteOffset).getUint32(o, true));
  for (const o of [0, 8, 12, 16, 20, 24, 28, 32, 36]) swap32(o);
  be[4] = 0;
  be[5] = 2;
  be[6] = 0;
  be[7] = 4;
  const c = readPcap(be);
  assert.equal(c.error, null);
  assert.deepEqual(c.packets[0]!.timestamp, { seconds: 1, nanos: 2000 });
  assert.equal(c.packets[0]!.data.length, 60);
});

test('a file cut anywhere keeps the records before the cut and names the byte offset', () => {
  const bytes = readFixture('golden.pcap');
  const offsets = readPcap(bytes).packets.map((p) => p.fileOffset);
  for (let n = 0; n < bytes.length; n++) {
    const c = readPcap(bytes.subarray(0, n));
    const complete = offsets.filter((_, i) => (offsets[i + 1] ?? bytes.length) <= n).length;
    if (n < 4) {
      assert.equal(c.error?.code, 'bad-magic');
    } else if (n < 24) {
      assert.deepEqual([c.error?.code, c.error?.offset], ['truncated', n]);
    } else if (offsets.includes(n) || n === 24) {
      assert.equal(c.error, null, `cut at record boundary ${n}`);
      assert.equal(c.packets.length, complete);
    } else {
      assert.equal(c.error?.code, 'truncated', `cut at ${n}`);
      assert.equal(c.packets.length, complete, `cut at ${n}`);
    }
  }
});

test('a file cut inside record 2 reports exactly where', () => {
  const bytes = readFixture('golden.pcap');
  const c = readPcap(bytes.subarray(0, 120)); // record 1 ends at 24+16+60 = 100; record 2 header 100..116, data from 116
  assert.equal(c.packets.length, 1);
  assert.deepEqual(c.error, {
    layer: 'pcap',
    code: 'truncated',
    offset: 120,
    message: 'record 2 at byte 100 cut short: 60 bytes announced, 4 present',
  });
});

test('damaged headers: bad magic, oversized record', () => {
  assert.deepEqual(readCapture(new TextEncoder().encode('hello world, not a capture')).error, {
    layer: 'pcap',
    code: 'bad-magic',
    offset: 0,
    message: 'not a capture file (neither a pcap nor a pcapng magic number in the first 4 bytes)',
  });
  const big = Uint8Array.from(readFixture('golden.pcap'));
  writeU32(big, 32, 0x00000100); // record 1 captured length (LE) -> 0x00010000_00 big
  big[35] = 0x7f;
  assert.equal(readPcap(big).error?.code, 'record-too-large');
});

test('a timestamp fraction not below one second is carried into the seconds, with a warning', () => {
  const micro = Uint8Array.from(readFixture('golden.pcap'));
  writeU32(micro, 28, 0x40420f00); // record 1: 1,000,000 microseconds (LE)
  const m = readPcap(micro);
  assert.equal(m.error, null);
  assert.equal(m.packets.length, golden.length);
  assert.deepEqual(m.packets[0]!.timestamp, { seconds: 1764576001, nanos: 0 });
  assert.deepEqual(m.packets[0]!.warnings, [
    {
      layer: 'pcap',
      code: 'bad-timestamp',
      message: 'timestamp fraction 1000000 microseconds is not below one second (carried into the seconds)',
    },
  ]);
  assert.equal(m.packets[1]!.warnings, undefined);
  assert.deepEqual(m.packets[1]!.timestamp, { seconds: 1764576000, nanos: 1_000_000 });
  const nano = Uint8Array.from(readFixture('golden-nsec.pcap'));
  writeU32(nano, 104, 0x2aca9a3b); // record 2: 1,000,000,042 nanoseconds (0x3b9aca2a, little-endian)
  const n = readPcap(nano);
  assert.equal(n.error, null);
  assert.equal(n.packets.length, golden.length);
  assert.deepEqual(n.packets[1]!.timestamp, { seconds: 1764576001, nanos: 42 });
  assert.equal(
    n.packets[1]!.warnings?.[0]?.message,
    'timestamp fraction 1000000042 nanoseconds is not below one second (carried into the seconds)',
  );
  // The largest fraction a microsecond record can hold: 4294 s and 967295 us.
  const max = Uint8Array.from(readFixture('golden.pcap'));
  writeU32(max, 28, 0xffffffff);
  assert.deepEqual(readPcap(max).packets[0]!.timestamp, { seconds: 1764576000 + 4294, nanos: 967_295_000 });
});

test('pcapng: cut files and bad block lengths are errors with offsets, earlier packets kept', () => {
  const bytes = readFixture('golden.pcapng');
  const full = readPcapng(bytes);
  const last = full.packets.at(-1)!;
  const cut = readPcapng(bytes.subarray(0, last.fileOffset + 20));
  assert.equal(cut.packets.length, full.packets.length - 1);
  assert.equal(cut.error?.code, 'truncated');
  assert.equal(cut.error?.offset, last.fileOffset + 20);
  const bad = Uint8Array.from(bytes);
  bad[last.fileOffset + 4] = 13; // block length not a multiple of 4
  assert.equal(readPcapng(bad).error?.code, 'bad-block-length');
  for (let n = 0; n < bytes.length; n += 7) assert.doesNotThrow(() => readPcapng(bytes.subarray(0, n)));
});

test('a simple packet block too short for its original length is an error, not a phantom packet', () => {
  const file = fromHex(
    '0a0d0d0a0000001c1a2b3c4d00010000ffffffffffffffff0000001c 00000001000000140001000000000000 00000014 000000030000000c0000000c',
  );
  const c = readPcapng(file);
  assert.equal(c.packets.length, 0);
  assert.deepEqual([c.error?.code, c.error?.offset], ['truncated', 56]); // the block starts at 48; its body (with no room for the length) at 56
});

test('frames with a trailing FCS (link-type field bit 26, length in bits 28-31) lose it', () => {
  const file = Uint8Array.from(readFixture('golden.pcap').subarray(0, 24 + 16 + 60));
  writeU32(file, 20, 0x01000024); // little endian 0x24000001: Ethernet, FCS present, 2 16-bit words
  const c = readPcap(file);
  assert.equal(c.packets[0]!.linkType, 1);
  assert.equal(c.packets[0]!.data.length, 56);
  assert.equal(c.packets[0]!.originalLength, 56);
});
