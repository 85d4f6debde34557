/**
 * The push parsers (capture-stream.ts) against the whole-file readers: the same file fed in any
 * chunks, down to one byte at a time, cut anywhere or damaged anywhere, gives exactly the packets
 * and error of reading it whole; and a parser never waits for bytes it does not need.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type CaptureFile,
  type CaptureStreamParser,
  CaptureStreamReader,
  PCAPNG_MAX_BLOCK,
  PcapngStreamParser,
  PcapStreamParser,
  readCapture,
  readPcap,
  readPcapng,
  toHex,
  type WireError,
  writeU32,
} from '../../src/wire/index.js';
import { readFixture } from '../helpers/repo.js';

const FIXTURES = ['golden.pcap', 'golden-nsec.pcap', 'golden.pcapng'] as const;

/** The three readers, each as a whole-file function and as a push parser. */
const READERS: readonly {
  name: string;
  whole: (b: Uint8Array) => CaptureFile;
  push: () => CaptureStreamParser;
}[] = [
  { name: 'pcap', whole: readPcap, push: () => new PcapStreamParser() },
  { name: 'pcapng', whole: readPcapng, push: () => new PcapngStreamParser() },
  { name: 'capture', whole: readCapture, push: () => new CaptureStreamReader() },
];

function fixture(name: string): Uint8Array {
  return Uint8Array.from(readFixture(name)); // a plain Uint8Array, as chunks copied by the parser are
}

/** A capture with packet bytes as hex, comparable whether `data` is a view or a copy. */
function comparable(c: CaptureFile) {
  return { ...c, packets: c.packets.map((p) => ({ ...p, data: toHex(p.data) })) };
}

/** Feeds `bytes` cut at `cuts` (sorted offsets), checking each feed's packets continue the count. */
function readInChunks(parser: CaptureStreamParser, bytes: Uint8Array, cuts: readonly number[]): CaptureFile {
  const packets = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    const got = parser.feed(bytes.subarray(from, to));
    assert.deepEqual(
      got.map((p) => p.index),
      got.map((_, i) => packets.length + i + 1),
    );
    packets.push(...got);
    assert.equal(parser.packetCount, packets.length);
    from = to;
  }
  const error = parser.end();
  return { format: parser.format, resolution: parser.resolution, packets, error };
}

function bytewise(bytes: Uint8Array): number[] {
  return Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1);
}

test('every fixture fed one byte at a time gives exactly the packets of the whole-file read', () => {
  for (const name of FIXTURES) {
    const bytes = fixture(name);
    for (const r of READERS) {
      const whole = r.whole(bytes);
      if (r.name === 'capture' || name.endsWith(r.name)) {
        assert.equal(whole.error, null, `${name} ${r.name}`);
        assert.equal(whole.packets.length, 26, `${name} ${r.name}`);
      }
      assert.deepEqual(comparable(readInChunks(r.push(), bytes, bytewise(bytes))), comparable(whole), name);
    }
  }
});

test('every prefix of every fixture (a file cut anywhere), fed one byte at a time near its end, reads as the whole prefix', () => {
  for (const name of FIXTURES) {
    const bytes = fixture(name);
    for (let n = 0; n <= bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      // One chunk up to 32 bytes before the cut, then single bytes: the last unit is always
      // assembled across chunks, and the file ends at every point of its header and body.
      const cuts = Array.from({ length: Math.min(n, 32) }, (_, i) => n - i).reverse();
      for (const r of READERS) {
        const whole = r.whole(prefix);
        assert.deepEqual(
          comparable(readInChunks(r.push(), prefix, cuts.slice(0, -1))),
          comparable(whole),
          `${name} cut at ${n}, ${r.name}`,
        );
      }
    }
  }
});

test('damaged files split into random chunks read exactly as when read whole', () => {
  const files = FIXTURES.map(fixture);
  const damage = fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
    minLength: 1,
    maxLength: 4,
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: files.length - 1 }),
      damage,
      fc.nat(),
      fc.uniqueArray(fc.nat({ max: 4400 }), { maxLength: 40 }),
      (which, sets, cutAt, splits) => {
        const bytes = Uint8Array.from(files[which]!);
        for (const s of sets) bytes[s.at % bytes.length] = s.value;
        const file = bytes.subarray(0, cutAt % (bytes.length + 1));
        const cuts = splits.filter((c) => c > 0 && c < file.length).sort((a, b) => a - b);
        for (const r of READERS) {
          assert.deepEqual(comparable(readInChunks(r.push(), file, cuts)), comparable(r.whole(file)), r.name);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('a record wholly inside a chunk is a view into it; one spanning chunks is a copy of the record alone', () => {
  const bytes = fixture('golden.pcap');
  const parser = new PcapStreamParser();
  const first = parser.feed(bytes.subarray(0, 110)); // header, record 1 (24..100), 10 bytes of record 2
  assert.equal(first.length, 1);
  assert.equal(first[0]!.data.buffer, bytes.buffer);
  assert.equal(first[0]!.data.byteOffset, 24 + 16);
  const second = parser.feed(bytes.subarray(110));
  const spanned = second[0]!;
  assert.notEqual(spanned.data.buffer, bytes.buffer);
  assert.equal(spanned.data.buffer.byteLength, 16 + 60); // its record's header and frame, nothing more
  assert.equal(second[1]!.data.buffer, bytes.buffer);
  assert.equal(parser.end(), null);
});

test('a length beyond the limit is an error as soon as the header is in, without waiting for the bytes', () => {
  const pcap = fixture('golden.pcap').slice(0, 24 + 16);
  writeU32(pcap, 24 + 8, 0x01000400); // record 1 captured length 262145 (LE), one over the limit
  const p = new PcapStreamParser();
  assert.deepEqual(p.feed(pcap), []);
  const tooLarge: WireError = {
    layer: 'pcap',
    code: 'record-too-large',
    offset: 32,
    message: 'record 1 at byte 24 claims 262145 captured bytes (limit 262144)',
  };
  assert.deepEqual(p.error, tooLarge);
  assert.deepEqual(p.end(), tooLarge);

  const ng = fixture('golden.pcapng'); // little-endian: a Section Header Block, an Interface Description Block, packets
  const ngView = new DataView(ng.buffer);
  const idbEnd = ngView.getUint32(4, true) + ngView.getUint32(ngView.getUint32(4, true) + 4, true);
  assert.equal(idbEnd, 128);
  const header = ng.slice(0, idbEnd + 12); // and the first packet block's first 12 bytes
  const view = new DataView(header.buffer);
  view.setUint32(idbEnd + 4, PCAPNG_MAX_BLOCK + 4, true);
  const q = new PcapngStreamParser();
  assert.deepEqual(q.feed(header), []);
  assert.deepEqual(q.error, {
    layer: 'pcapng',
    code: 'block-too-large',
    offset: idbEnd + 4,
    message: `block at byte ${idbEnd} claims ${PCAPNG_MAX_BLOCK + 4} bytes (limit ${PCAPNG_MAX_BLOCK})`,
  });
  // The same length at the limit is only cut short: the parser waits for the bytes.
  view.setUint32(idbEnd + 4, PCAPNG_MAX_BLOCK, true);
  const r = new PcapngStreamParser();
  r.feed(header);
  assert.equal(r.error, null);
  assert.equal(r.end()?.code, 'truncated');
});

test('the format is told from the first 4 bytes even when they arrive one at a time', () => {
  for (const [name, format, resolution] of [
    ['golden.pcap', 'pcap', 'micro'],
    ['golden-nsec.pcap', 'pcap', 'nano'],
    ['golden.pcapng', 'pcapng', 'micro'],
  ] as const) {
    const bytes = fixture(name);
    const reader = new CaptureStreamReader();
    for (let i = 0; i < 3; i++) assert.deepEqual(reader.feed(bytes.subarray(i, i + 1)), []);
    assert.equal(reader.format, 'pcap'); // not known yet
    assert.equal(reader.feed(bytes.subarray(3, 1000)).length > 0, true);
    assert.deepEqual([reader.format, reader.resolution], [format, resolution]);
  }
  const short = new CaptureStreamReader();
  short.feed(Uint8Array.of(0xa1, 0xb2));
  assert.deepEqual(short.end(), {
    layer: 'pcap',
    code: 'bad-magic',
    offset: 0,
    message: 'file is 2 bytes, too short for a capture header',
  });
});
