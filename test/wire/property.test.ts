/**
 * Property tests for wire/ (fast-check): every codec gives back exactly the repr it was given
 * (parse(emit(repr)) === repr), and no view, parser, dissector or capture reader throws on random
 * bytes or on random damage to valid frames and capture files (result.ts: "no function in wire/
 * throws on input bytes").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type ArpRepr,
  ArpView,
  type CaptureFile,
  concatBytes,
  type DecodedFrame,
  decodeFrame,
  decrementTtl,
  type EthernetFrameRepr,
  EthernetView,
  EtherType,
  emitArp,
  emitEthernetFrame,
  emitGeneve,
  emitIcmp,
  emitIpv4,
  emitNvgre,
  emitTcp,
  emitTcpOptions,
  emitUdp,
  emitVxlan,
  formatCidr,
  formatIpv4,
  formatMac,
  type GeneveOption,
  type GeneveRepr,
  GeneveView,
  GreView,
  type IcmpRepr,
  IcmpView,
  IpProtocol,
  type Ipv4Repr,
  Ipv4View,
  icmpReprFromView,
  incrementalChecksumUpdate,
  internetChecksum,
  ipv4ReprFromView,
  isVlanTpid,
  layerTree,
  onesComplementSum,
  PcapWriter,
  parseArp,
  parseCidr,
  parseEthernetFrame,
  parseGeneve,
  parseIcmp,
  parseIpv4,
  parseIpv4Address,
  parseMac,
  parseNvgre,
  parseQuotedDatagram,
  parseTcp,
  parseUdp,
  parseVxlan,
  readCapture,
  readPcap,
  readPcapng,
  summarizeFrame,
  type TcpOptionSpec,
  type TcpRepr,
  TcpView,
  type Timestamp,
  tcpFlagNames,
  tcpReprFromView,
  timestampFromNanos,
  UdpView,
  type VlanTagRepr,
  VlanTagView,
  VxlanView,
  type WireError,
  type WireResult,
  walkIpv4Options,
  walkTcpOptions,
  writePcap,
} from '../../src/wire/index.js';

const RUNS = 200;

/** fc.record with plain objects (fast-check 4 defaults to null-prototype ones, which deepStrictEqual rejects). */
const record = <T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;

// ---------------------------------------------------------------------------------------------
// Arbitraries for field values and reprs
// ---------------------------------------------------------------------------------------------

/** Unsigned integers wider than fc.integer allows (it stops at 2^31-1). */
const uint = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }).map(Number);
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u24 = fc.integer({ min: 0, max: 0xff_ffff });
const u32 = uint(32);
const macArb = uint(48);
const ipArb = u32;
const bytesArb = (maxLength = 64) => fc.uint8Array({ maxLength });
const nonTunnelPort = u16.filter((p) => p !== 4789 && p !== 6081);

const vlanTagArb = (
  vid: fc.Arbitrary<number> = fc.integer({ min: 0, max: 4095 }),
): fc.Arbitrary<VlanTagRepr> =>
  record({
    tpid: fc.constantFrom(EtherType.vlan, EtherType.qinq),
    pcp: fc.integer({ min: 0, max: 7 }),
    dei: fc.boolean(),
    vid,
  });

const etherTypeArb = fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => !isVlanTpid(t));

const ethernetReprArb: fc.Arbitrary<EthernetFrameRepr> = record({
  dst: macArb,
  src: macArb,
  tags: fc.array(vlanTagArb(), { maxLength: 3 }),
  etherType: etherTypeArb,
});

/**
 * A valid IPv4 options area: NOPs and generic type-length-value options, optionally an EOL followed
 * by arbitrary bytes (RFC 791: what follows EOL is padding), padded with EOL or NOP to a multiple
 * of 4, at most 40 bytes.
 */
const ipv4OptionsArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.array(
      fc.oneof(
        fc.constant(Uint8Array.of(1)),
        fc
          // Types with a defined length (record route, timestamp, security, source routes, router alert) are left out: their lengths are checked.
          .tuple(
            fc.integer({ min: 2, max: 255 }).filter((t) => ![7, 68, 130, 131, 137, 148].includes(t)),
            fc.uint8Array({ maxLength: 4 }),
          )
          .map(([type, data]) => Uint8Array.of(type, 2 + data.length, ...data)),
        fc.constant(Uint8Array.of(148, 4, 0, 0)), // router alert (RFC 2113)
      ),
      { maxLength: 6 },
    ),
    fc.option(fc.uint8Array({ maxLength: 3 }), { nil: undefined }),
    fc.constantFrom(0, 1),
  )
  .map(([chunks, afterEol, padByte]) => {
    const area = concatBytes(afterEol ? [...chunks, Uint8Array.of(0, ...afterEol)] : chunks);
    const padded = new Uint8Array(Math.ceil(area.length / 4) * 4).fill(afterEol ? 0 : padByte);
    padded.set(area);
    return padded;
  })
  .filter((area) => area.length <= 40);

const ipv4ReprArb: fc.Arbitrary<Ipv4Repr> = record({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  id: u16,
  df: fc.boolean(),
  mf: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 8191 }),
  ttl: u8,
  protocol: u8,
  src: ipArb,
  dst: ipArb,
  options: ipv4OptionsArb,
});

/** True when an 'other' ICMP repr would not parse back as one of the specific kinds (icmpReprFromView). */
function staysOther(r: { type: number; code: number; restOfHeader: number }): boolean {
  if ((r.type === 0 || r.type === 8) && r.code === 0) return false;
  if (r.type === 3 && r.restOfHeader >>> 16 === 0) return false;
  if (r.type === 11 && r.restOfHeader === 0) return false;
  return true;
}

const icmpReprArb: fc.Arbitrary<IcmpRepr> = fc.oneof(
  record({
    kind: fc.constantFrom('echo-request' as const, 'echo-reply' as const),
    id: u16,
    seq: u16,
    data: bytesArb(),
  }),
  record({
    kind: fc.constant('destination-unreachable' as const),
    code: u8,
    nextHopMtu: u16,
    quoted: bytesArb(),
  }),
  record({ kind: fc.constant('time-exceeded' as const), code: u8, quoted: bytesArb() }),
  record({
    kind: fc.constant('other' as const),
    type: u8,
    code: u8,
    restOfHeader: u32,
    data: bytesArb(),
  }).filter(staysOther),
);

const be16 = (v: number) => [(v >>> 8) & 255, v & 255];
const be32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

/** One encoded TCP option and what walkTcpOptions must read back from it. */
interface TcpOptionChunk {
  readonly bytes: readonly number[];
  readonly expected: Record<string, unknown>;
}

function tcpChunk(bytes: number[], name: string, fields: Record<string, unknown> = {}): TcpOptionChunk {
  const single = bytes.length === 1;
  return {
    bytes,
    expected: {
      kind: bytes[0],
      name,
      length: bytes.length,
      data: Uint8Array.from(bytes.slice(single ? 1 : 2)),
      ...fields,
    },
  };
}

const sackBlocksArb = fc.array(record({ left: u32, right: u32 }), { minLength: 1, maxLength: 4 });

const tcpOptionChunkArb: fc.Arbitrary<TcpOptionChunk> = fc.oneof(
  fc.constant(tcpChunk([1], 'nop')),
  u16.map((mss) => tcpChunk([2, 4, ...be16(mss)], 'mss', { mss })),
  u8.map((shift) => tcpChunk([3, 3, shift], 'window-scale', { windowScale: shift })),
  fc.constant(tcpChunk([4, 2], 'sack-permitted')),
  sackBlocksArb.map((blocks) =>
    tcpChunk(
      [5, 2 + 8 * blocks.length, ...blocks.flatMap((b) => [...be32(b.left), ...be32(b.right)])],
      'sack',
      {
        sackBlocks: blocks,
      },
    ),
  ),
  fc
    .tuple(u32, u32)
    .map(([tsVal, tsEcr]) =>
      tcpChunk([8, 10, ...be32(tsVal), ...be32(tsEcr)], 'timestamps', { tsVal, tsEcr }),
    ),
  fc
    .tuple(
      fc.integer({ min: 6, max: 255 }).filter((k) => k !== 8),
      fc.uint8Array({ maxLength: 6 }),
    )
    .map(([kind, data]) => tcpChunk([kind, 2 + data.length, ...data], `option-${kind}`)),
);

/** A TCP options area (at most 40 bytes, padded with EOL or NOPs) and the options it walks to. */
const tcpOptionsArb = fc
  .tuple(fc.array(tcpOptionChunkArb, { maxLength: 8 }), fc.constantFrom(0, 1))
  .map(([chunks, padByte]) => {
    const bytes: number[] = [];
    const expected: Record<string, unknown>[] = [];
    for (const c of chunks) {
      if (bytes.length + c.bytes.length > 40) break;
      bytes.push(...c.bytes);
      expected.push(c.expected);
    }
    while (bytes.length % 4 !== 0) {
      if (padByte === 0 && expected.at(-1)?.kind !== 0) expected.push(tcpChunk([0], 'eol').expected);
      if (padByte === 1) expected.push(tcpChunk([1], 'nop').expected);
      bytes.push(padByte);
    }
    return { area: Uint8Array.from(bytes), expected };
  });

const tcpReprArb = (options: fc.Arbitrary<Uint8Array>): fc.Arbitrary<TcpRepr> =>
  record({
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    ack: u32,
    flags: fc.integer({ min: 0, max: 0x1ff }),
    window: u16,
    urgentPointer: u16,
    options,
  });

const geneveOptionArb: fc.Arbitrary<GeneveOption> = record({
  optionClass: u16,
  type: u8,
  data: fc
    .integer({ min: 0, max: 31 })
    .chain((words) => fc.uint8Array({ minLength: 4 * words, maxLength: 4 * words })),
});

/** Options whose encodings fit the 252 bytes Opt Len can describe. */
const geneveOptionsArb = fc.array(geneveOptionArb, { maxLength: 6 }).map((options) => {
  const kept: GeneveOption[] = [];
  let total = 0;
  for (const o of options) {
    if (total + 4 + o.data.length > 252) break;
    kept.push(o);
    total += 4 + o.data.length;
  }
  return kept;
});

const geneveReprArb: fc.Arbitrary<GeneveRepr> = record({
  oam: fc.boolean(),
  critical: fc.boolean(),
  protocol: u16,
  vni: u24,
  options: geneveOptionsArb,
});

const timestampArb: fc.Arbitrary<Timestamp> = record({
  seconds: u32,
  nanos: fc.integer({ min: 0, max: 999_999_999 }),
});

const pcapPacketsArb = fc.array(record({ data: bytesArb(128), timestamp: timestampArb }), { maxLength: 5 });

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function value<T>(r: WireResult<T>): T {
  if (!r.ok)
    assert.fail(`unexpected ${r.error.layer} error ${r.error.code} at ${r.error.offset}: ${r.error.message}`);
  return r.value;
}

/** Byte-exact comparison (normalizes subarrays and Buffers to plain Uint8Arrays). */
function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.deepStrictEqual(Uint8Array.from(actual), Uint8Array.from(expected));
}

/** Little- or big-endian byte writer for hand-built capture files. */
class ByteWriter {
  private readonly out: number[] = [];
  constructor(private readonly littleEndian: boolean) {}
  u8(v: number): this {
    this.out.push(v & 255);
    return this;
  }
  u16(v: number): this {
    const b = be16(v);
    this.out.push(...(this.littleEndian ? b.reverse() : b));
    return this;
  }
  u32(v: number): this {
    const b = be32(v);
    this.out.push(...(this.littleEndian ? b.reverse() : b));
    return this;
  }
  bytes(b: Uint8Array): this {
    for (const v of b) this.out.push(v);
    return this;
  }
  pad4(): this {
    while (this.out.length % 4 !== 0) this.out.push(0);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

function pcapngBlock(littleEndian: boolean, type: number, body: Uint8Array): Uint8Array {
  const total = 12 + Math.ceil(body.length / 4) * 4;
  return new ByteWriter(littleEndian).u32(type).u32(total).bytes(body).pad4().u32(total).finish();
}

interface PcapngSpec {
  readonly littleEndian: boolean;
  /** if_tsresol as a power of ten (undefined: no option, microseconds). */
  readonly tsresol: number | undefined;
  readonly linkType: number;
  readonly unknownBlock: Uint8Array | null;
  readonly packets: readonly {
    readonly simple: boolean;
    readonly data: Uint8Array;
    readonly extra: number;
    readonly timestamp: Timestamp;
  }[];
}

const pcapngSpecArb: fc.Arbitrary<PcapngSpec> = record({
  littleEndian: fc.boolean(),
  tsresol: fc.constantFrom(undefined, 3, 6, 9),
  linkType: u16,
  unknownBlock: fc.option(bytesArb(16), { nil: null }),
  packets: fc.array(
    record({
      simple: fc.boolean(),
      data: bytesArb(100),
      extra: fc.nat({ max: 100 }),
      timestamp: timestampArb,
    }),
    { maxLength: 4 },
  ),
});

/** A minimal pcapng writer: SHB, one IDB (snap length 65535), optional unknown block, EPBs/SPBs. */
function writePcapng(spec: PcapngSpec): Uint8Array {
  const le = spec.littleEndian;
  const shb = new ByteWriter(le).u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffff_ffff).u32(0xffff_ffff).finish();
  const idb = new ByteWriter(le).u16(spec.linkType).u16(0).u32(65535);
  if (spec.tsresol !== undefined) idb.u16(9).u16(1).u8(spec.tsresol).pad4();
  idb.u16(0).u16(0);
  const blocks = [pcapngBlock(le, 0x0a0d0d0a, shb), pcapngBlock(le, 1, idb.finish())];
  if (spec.unknownBlock) blocks.push(pcapngBlock(le, 0x0bad, spec.unknownBlock));
  const unitsPerSecond = 10n ** BigInt(spec.tsresol ?? 6);
  for (const p of spec.packets) {
    if (p.simple) {
      blocks.push(pcapngBlock(le, 3, new ByteWriter(le).u32(p.data.length).bytes(p.data).finish()));
      continue;
    }
    const units =
      BigInt(p.timestamp.seconds) * unitsPerSecond +
      (BigInt(p.timestamp.nanos) * unitsPerSecond) / 1_000_000_000n;
    const body = new ByteWriter(le)
      .u32(0)
      .u32(Number(units >> 32n))
      .u32(Number(units & 0xffff_ffffn))
      .u32(p.data.length)
      .u32(p.data.length + p.extra)
      .bytes(p.data)
      .finish();
    blocks.push(pcapngBlock(le, 6, body));
  }
  return concatBytes(blocks);
}

/** Classic pcap written big-endian by hand (PcapWriter only writes little-endian). */
function writePcapBigEndian(packets: readonly { data: Uint8Array; timestamp: Timestamp }[], nano: boolean) {
  const w = new ByteWriter(false)
    .u32(nano ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0);
  w.u32(262144).u32(1);
  for (const p of packets) {
    w.u32(p.timestamp.seconds).u32(nano ? p.timestamp.nanos : Math.floor(p.timestamp.nanos / 1000));
    w.u32(p.data.length).u32(p.data.length).bytes(p.data);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

test('Ethernet: parseEthernetFrame(emitEthernetFrame(repr, payload)) gives back repr and payload', () => {
  fc.assert(
    fc.property(ethernetReprArb, bytesArb(100), (repr, payload) => {
      const headerLength = 14 + 4 * repr.tags.length;
      const frame = emitEthernetFrame(repr, payload);
      assert.equal(frame.length, Math.max(60, headerLength + payload.length));
      const parsed = value(parseEthernetFrame(frame));
      assert.deepStrictEqual(parsed.repr, repr);
      assert.equal(parsed.payloadOffset, headerLength);
      // Emit pads to 60 bytes: the payload comes back with zero padding after it.
      assertBytes(parsed.payload.subarray(0, payload.length), payload);
      assert.ok(parsed.payload.subarray(payload.length).every((b) => b === 0));
      assert.equal(parsed.payload.length, frame.length - headerLength);

      const unpadded = emitEthernetFrame(repr, payload, { pad: false });
      assert.equal(unpadded.length, headerLength + payload.length);
      const parsedUnpadded = value(parseEthernetFrame(unpadded));
      assert.deepStrictEqual(parsedUnpadded.repr, repr);
      assertBytes(parsedUnpadded.payload, payload);
    }),
    { numRuns: RUNS },
  );
});

test('ARP: parseArp(emitArp(repr)) gives back repr', () => {
  const arpReprArb: fc.Arbitrary<ArpRepr> = record({
    op: u16,
    senderMac: macArb,
    senderIp: ipArb,
    targetMac: macArb,
    targetIp: ipArb,
  });
  fc.assert(
    fc.property(arpReprArb, (repr) => {
      const bytes = emitArp(repr);
      assert.equal(bytes.length, 28);
      assert.deepStrictEqual(value(parseArp(bytes)), repr);
    }),
    { numRuns: RUNS },
  );
});

test('IPv4: parseIpv4(emitIpv4(repr, payload)) gives back repr and payload, checksum verified', () => {
  fc.assert(
    fc.property(ipv4ReprArb, bytesArb(100), (repr, payload) => {
      const bytes = emitIpv4(repr, payload);
      assert.equal(bytes.length, 20 + repr.options.length + payload.length);
      const parsed = value(parseIpv4(bytes));
      assert.deepStrictEqual(parsed.repr, repr);
      assertBytes(parsed.payload, payload);
      const view = value(Ipv4View.check(bytes));
      assert.equal(view.checksumOk, true);
      assert.equal(view.totalLength, bytes.length);
      assert.equal(view.paddingLength, 0);
      assert.deepStrictEqual(value(walkIpv4Options(repr.options)), view.options);
      // Link-layer padding after total length is not payload.
      const padded = concatBytes([bytes, new Uint8Array(7)]);
      const parsedPadded = value(parseIpv4(padded));
      assert.deepStrictEqual(parsedPadded.repr, repr);
      assertBytes(parsedPadded.payload, payload);
    }),
    { numRuns: RUNS },
  );
});

test('ICMP: parseIcmp(emitIcmp(repr)) gives back repr, for every kind', () => {
  fc.assert(
    fc.property(icmpReprArb, (repr) => {
      const bytes = emitIcmp(repr);
      assert.equal(value(IcmpView.check(bytes)).checksumOk, true);
      assert.deepStrictEqual(value(parseIcmp(bytes)), repr);
    }),
    { numRuns: RUNS },
  );
});

test('UDP: parseUdp(emitUdp(repr, payload, pseudo?)) gives back repr and payload; checksumOk true/null', () => {
  fc.assert(
    fc.property(
      record({ srcPort: u16, dstPort: u16 }),
      bytesArb(200),
      record({ src: ipArb, dst: ipArb }),
      (repr, payload, pseudo) => {
        const withSum = emitUdp(repr, payload, pseudo);
        assert.equal(withSum.length, 8 + payload.length);
        assert.notEqual(value(UdpView.check(withSum)).checksum, 0); // a computed 0 is sent as 0xffff
        const checked = value(parseUdp(withSum, pseudo));
        assert.deepStrictEqual(checked, { repr, payload: checked.payload, checksumOk: true });
        assertBytes(checked.payload, payload);
        assert.equal(value(parseUdp(withSum)).checksumOk, null);

        const noSum = emitUdp(repr, payload);
        assert.equal(value(UdpView.check(noSum)).checksum, 0);
        for (const parsed of [value(parseUdp(noSum)), value(parseUdp(noSum, pseudo))]) {
          assert.deepStrictEqual(parsed.repr, repr);
          assert.equal(parsed.checksumOk, null);
          assertBytes(parsed.payload, payload);
        }
      },
    ),
    { numRuns: RUNS },
  );
});

test('UDP: a computed checksum of 0 is sent as 0xffff and still verifies', () => {
  fc.assert(
    fc.property(
      record({ srcPort: u16, dstPort: u16 }),
      bytesArb(100),
      record({ src: ipArb, dst: ipArb }),
      (repr, raw, pseudo) => {
        // An even payload plus one word chosen so that the data sums to 0xffff.
        const payload = new Uint8Array((raw.length & ~1) + 2);
        payload.set(raw.subarray(0, raw.length & ~1));
        const first = value(UdpView.check(emitUdp(repr, payload, pseudo))).checksum;
        if (first !== 0xffff) {
          payload[payload.length - 2] = first >>> 8;
          payload[payload.length - 1] = first & 255;
        }
        const bytes = emitUdp(repr, payload, pseudo);
        assert.equal(value(UdpView.check(bytes)).checksum, 0xffff);
        assert.equal(value(parseUdp(bytes, pseudo)).checksumOk, true);
      },
    ),
    { numRuns: RUNS },
  );
});

test('TCP: parseTcp(emitTcp(repr, payload, pseudo)) gives back repr and payload; options walk back', () => {
  fc.assert(
    fc.property(
      tcpOptionsArb.chain((options) => fc.tuple(fc.constant(options), tcpReprArb(fc.constant(options.area)))),
      bytesArb(100),
      record({ src: ipArb, dst: ipArb }),
      ([options, repr], payload, pseudo) => {
        const bytes = emitTcp(repr, payload, pseudo);
        assert.equal(bytes.length, 20 + repr.options.length + payload.length);
        const parsed = value(parseTcp(bytes, pseudo));
        assert.deepStrictEqual(parsed.repr, repr);
        assertBytes(parsed.payload, payload);
        assert.deepStrictEqual(value(parseTcp(bytes)).repr, repr);
        const view = value(TcpView.check(bytes));
        assert.equal(view.checksumOk(pseudo.src, pseudo.dst), true);
        assert.deepStrictEqual(view.options, options.expected);
        assert.deepStrictEqual(value(walkTcpOptions(options.area)), options.expected);
      },
    ),
    { numRuns: RUNS },
  );
});

test('emitTcpOptions refuses values that do not fit (RFC 7323 shift <= 14, 1..4 SACK blocks, 16-bit MSS)', () => {
  assert.throws(() => emitTcpOptions([{ kind: 'window-scale', shift: 15 }]), /shift 15 is not 0..14/);
  assert.throws(() => emitTcpOptions([{ kind: 'sack', blocks: [] }]), /1..4 blocks/);
  assert.throws(() => emitTcpOptions([{ kind: 'mss', mss: 70000 }]), /mss 70000/);
  assert.throws(() => emitTcpOptions([{ kind: 'timestamps', tsVal: -1, tsEcr: 0 }]), /tsVal -1/);
});

test('TCP: walkTcpOptions(emitTcpOptions(specs)) reads back every option', () => {
  const specArb: fc.Arbitrary<TcpOptionSpec> = fc.oneof(
    fc.constant({ kind: 'nop' as const }),
    u16.map((mss) => ({ kind: 'mss' as const, mss })),
    fc.integer({ min: 0, max: 14 }).map((shift) => ({ kind: 'window-scale' as const, shift })),
    fc.constant({ kind: 'sack-permitted' as const }),
    sackBlocksArb.map((blocks) => ({ kind: 'sack' as const, blocks })),
    fc.tuple(u32, u32).map(([tsVal, tsEcr]) => ({ kind: 'timestamps' as const, tsVal, tsEcr })),
  );
  const sizes = { nop: 1, mss: 4, 'window-scale': 3, 'sack-permitted': 2, timestamps: 10 } as const;
  const size = (s: TcpOptionSpec) => (s.kind === 'sack' ? 2 + 8 * s.blocks.length : sizes[s.kind]);
  const specsArb = fc.array(specArb, { maxLength: 8 }).map((specs) => {
    const kept: TcpOptionSpec[] = [];
    let total = 0;
    for (const s of specs) {
      if (total + size(s) > 40) break;
      kept.push(s);
      total += size(s);
    }
    return kept;
  });
  fc.assert(
    fc.property(specsArb, (specs) => {
      const area = emitTcpOptions(specs);
      assert.equal(area.length % 4, 0);
      const used = specs.reduce((n, s) => n + size(s), 0);
      assert.equal(area.length, Math.ceil(used / 4) * 4);
      const walked = value(walkTcpOptions(area));
      // Padding is EOL: the walk ends with one EOL option when there is any.
      assert.equal(walked.length, specs.length + (area.length > used ? 1 : 0));
      if (area.length > used) assert.equal(walked.at(-1)?.kind, 0);
      specs.forEach((s, i) => {
        const o = walked[i]!;
        assert.equal(o.length, size(s));
        switch (s.kind) {
          case 'nop':
            assert.equal(o.kind, 1);
            break;
          case 'mss':
            assert.equal(o.mss, s.mss);
            break;
          case 'window-scale':
            assert.equal(o.windowScale, s.shift);
            break;
          case 'sack-permitted':
            assert.equal(o.kind, 4);
            break;
          case 'sack':
            assert.deepStrictEqual(o.sackBlocks, s.blocks);
            break;
          case 'timestamps':
            assert.deepStrictEqual([o.tsVal, o.tsEcr], [s.tsVal, s.tsEcr]);
            break;
        }
      });
    }),
    { numRuns: RUNS },
  );
});

test('VXLAN: parseVxlan(emitVxlan(repr, inner)) gives back repr and inner frame', () => {
  fc.assert(
    fc.property(u24, bytesArb(100), (vni, inner) => {
      const bytes = emitVxlan({ vni }, inner);
      const parsed = value(parseVxlan(bytes));
      assert.deepStrictEqual(parsed.repr, { vni });
      assertBytes(parsed.payload, inner);
      assert.equal(value(VxlanView.check(bytes)).reservedBitsSet, false);
    }),
    { numRuns: RUNS },
  );
});

test('GENEVE: parseGeneve(emitGeneve(repr, payload)) gives back repr (with options) and payload', () => {
  fc.assert(
    fc.property(geneveReprArb, bytesArb(100), (repr, payload) => {
      const bytes = emitGeneve(repr, payload);
      const optionBytes = repr.options.reduce((n, o) => n + 4 + o.data.length, 0);
      assert.equal(bytes.length, 8 + optionBytes + payload.length);
      const parsed = value(parseGeneve(bytes));
      assert.deepStrictEqual(parsed.repr, repr);
      assertBytes(parsed.payload, payload);
      const view = value(GeneveView.check(bytes));
      assert.equal(view.version, 0);
      assert.equal(view.optionsLength * 4, optionBytes);
      assert.equal(view.reservedBitsSet, false);
    }),
    { numRuns: RUNS },
  );
});

test('NVGRE: parseNvgre(emitNvgre(repr, inner)) gives back repr and inner frame', () => {
  fc.assert(
    fc.property(record({ vsid: u24, flowId: u8 }), bytesArb(100), (repr, inner) => {
      const bytes = emitNvgre(repr, inner);
      const parsed = value(parseNvgre(bytes));
      assert.deepStrictEqual(parsed.repr, repr);
      assertBytes(parsed.payload, inner);
      const view = value(GreView.check(bytes));
      assert.deepStrictEqual(
        [view.checksumPresent, view.sequencePresent, view.isNvgre],
        [false, false, true],
      );
    }),
    { numRuns: RUNS },
  );
});

test('pcap: readPcap(writePcap(packets)) gives back every packet, nano exact, micro floored', () => {
  fc.assert(
    fc.property(pcapPacketsArb, fc.boolean(), fc.boolean(), (packets, nanosecond, bigEndian) => {
      const file = bigEndian
        ? writePcapBigEndian(packets, nanosecond)
        : writePcap(packets, nanosecond ? { nanosecond } : {});
      const read = readPcap(file);
      assert.equal(read.error, null);
      assert.equal(read.format, 'pcap');
      assert.equal(read.resolution, nanosecond ? 'nano' : 'micro');
      assert.deepStrictEqual(readCapture(file), read);
      let offset = 24;
      assert.equal(read.packets.length, packets.length);
      packets.forEach((p, i) => {
        const r = read.packets[i]!;
        const nanos = nanosecond ? p.timestamp.nanos : Math.floor(p.timestamp.nanos / 1000) * 1000;
        assert.deepStrictEqual(r.timestamp, { seconds: p.timestamp.seconds, nanos });
        assertBytes(r.data, p.data);
        assert.deepStrictEqual(
          [r.index, r.originalLength, r.linkType, r.fileOffset],
          [i + 1, p.data.length, 1, offset],
        );
        offset += 16 + p.data.length;
      });
    }),
    { numRuns: RUNS },
  );
});

test('pcap: PcapWriter with a snap length, link type and original length round-trips through readPcap', () => {
  fc.assert(
    fc.property(
      fc.array(record({ data: bytesArb(128), timestamp: timestampArb, extra: fc.nat({ max: 1000 }) }), {
        maxLength: 5,
      }),
      fc.boolean(),
      fc.integer({ min: 0, max: 150 }),
      uint(26), // the link type proper; higher bits of the field carry FCS information
      (packets, nanosecond, snapLength, linkType) => {
        const writer = new PcapWriter({ nanosecond, snapLength, linkType });
        const file = concatBytes([
          writer.header(),
          ...packets.map((p) => writer.record(p.data, p.timestamp, p.data.length + p.extra)),
        ]);
        const read = readPcap(file);
        assert.equal(read.error, null);
        assert.equal(read.resolution, nanosecond ? 'nano' : 'micro');
        assert.equal(read.packets.length, packets.length);
        packets.forEach((p, i) => {
          const r = read.packets[i]!;
          assertBytes(r.data, p.data.subarray(0, snapLength));
          assert.equal(r.originalLength, p.data.length + p.extra);
          assert.equal(r.linkType, linkType);
          const nanos = nanosecond ? p.timestamp.nanos : Math.floor(p.timestamp.nanos / 1000) * 1000;
          assert.deepStrictEqual(r.timestamp, { seconds: p.timestamp.seconds, nanos });
        });
      },
    ),
    { numRuns: RUNS },
  );
});

test('pcap: timestampFromNanos splits an integer nanosecond count exactly', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (ns) => {
      const t = timestampFromNanos(ns);
      assert.ok(Number.isInteger(t.seconds) && Number.isInteger(t.nanos));
      assert.ok(t.nanos >= 0 && t.nanos < 1e9);
      assert.equal(BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanos), BigInt(ns));
    }),
    { numRuns: RUNS },
  );
});

test('pcapng: readPcapng reads back what a minimal pcapng writer wrote (both byte orders, if_tsresol)', () => {
  fc.assert(
    fc.property(pcapngSpecArb, (spec) => {
      const file = writePcapng(spec);
      const read = readPcapng(file);
      assert.equal(read.error, null);
      assert.equal(read.format, 'pcapng');
      const tsresol = spec.tsresol ?? 6;
      assert.equal(read.resolution, tsresol === 6 ? 'micro' : tsresol === 9 ? 'nano' : 'other');
      assert.deepStrictEqual(readCapture(file), read);
      assert.equal(read.packets.length, spec.packets.length);
      const unit = 10 ** (9 - tsresol);
      spec.packets.forEach((p, i) => {
        const r = read.packets[i]!;
        assert.equal(r.index, i + 1);
        assert.equal(r.linkType, spec.linkType);
        assertBytes(r.data, p.data);
        assert.equal(r.originalLength, p.data.length + (p.simple ? 0 : p.extra));
        const timestamp = p.simple
          ? { seconds: 0, nanos: 0 }
          : { seconds: p.timestamp.seconds, nanos: Math.floor(p.timestamp.nanos / unit) * unit };
        assert.deepStrictEqual(r.timestamp, timestamp);
      });
    }),
    { numRuns: RUNS },
  );
});

test('MAC text: parseMac(formatMac(mac)) === mac, in every accepted spelling', () => {
  fc.assert(
    fc.property(macArb, (mac) => {
      const text = formatMac(mac);
      assert.match(text, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      assert.equal(parseMac(text), mac);
      assert.equal(parseMac(text.toUpperCase().replaceAll(':', '-')), mac);
      const hex = text.replaceAll(':', '');
      assert.equal(parseMac(`${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`), mac);
    }),
    { numRuns: RUNS },
  );
});

test('IPv4 text: parseIpv4Address(formatIpv4(ip)) === ip and parseCidr(formatCidr(c)) equals c', () => {
  fc.assert(
    fc.property(ipArb, fc.integer({ min: 0, max: 32 }), (address, prefixLength) => {
      const text = formatIpv4(address);
      assert.match(text, /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/);
      assert.equal(parseIpv4Address(text), address);
      const c = { address, prefixLength };
      const cidrText = formatCidr(c);
      assert.equal(cidrText, `${text}/${prefixLength}`);
      assert.deepStrictEqual(parseCidr(cidrText), c);
      const network = prefixLength === 0 ? 0 : (address & (0xffff_ffff << (32 - prefixLength))) >>> 0;
      const strict = parseCidr(cidrText, { strict: true });
      assert.deepStrictEqual(strict, network === address ? c : undefined);
      assert.deepStrictEqual(parseCidr(formatCidr({ address: network, prefixLength }), { strict: true }), {
        address: network,
        prefixLength,
      });
    }),
    { numRuns: RUNS },
  );
});

test('decrementTtl: ttl >= 2 decrements with a checksum equal to a full recomputation; 0 and 1 change nothing', () => {
  fc.assert(
    fc.property(ipv4ReprArb, bytesArb(40), fc.uint8Array({ maxLength: 8 }), (repr, payload, prefix) => {
      const o = prefix.length;
      const b = concatBytes([prefix, emitIpv4(repr, payload)]);
      const before = b.slice();
      const result = decrementTtl(b, o);
      if (repr.ttl <= 1) {
        assert.equal(result, -1);
        assertBytes(b, before);
        return;
      }
      assert.equal(result, repr.ttl - 1);
      assert.equal(b[o + 8], repr.ttl - 1);
      const view = value(Ipv4View.check(b.subarray(o)));
      assert.equal(view.checksumOk, true);
      const recomputed = b.slice(o, o + view.headerLength);
      recomputed[10] = 0;
      recomputed[11] = 0;
      assert.equal(view.checksum, internetChecksum(recomputed));
      // Only the TTL octet and the checksum changed.
      for (let i = 0; i < b.length; i++)
        if (![o + 8, o + 10, o + 11].includes(i)) assert.equal(b[i], before[i]);
      // Decrementing all the way down keeps the checksum right and stops at 1.
      let ttl = result;
      while (ttl > 1) {
        ttl = decrementTtl(b, o);
        assert.equal(value(Ipv4View.check(b.subarray(o))).checksumOk, true);
      }
      assert.equal(b[o + 8], 1);
      assert.equal(decrementTtl(b, o), -1);
    }),
    { numRuns: RUNS },
  );
});

test('incrementalChecksumUpdate equals internetChecksum recomputed after changing one 16-bit word', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 2, maxLength: 64 }),
      fc.nat(),
      u16,
      fc.boolean(),
      (raw, index, randomWord, toZeroChecksum) => {
        const b = raw.subarray(0, raw.length & ~1);
        const at = 2 * (index % (b.length / 2));
        const oldWord = (b[at]! << 8) | b[at + 1]!;
        const checksum = internetChecksum(b);
        b[at] = 0;
        b[at + 1] = 0;
        // Half the time, pick the word that makes the new checksum 0x0000 (the data sums to 0xffff):
        // the case RFC 1141's shortcut gets wrong.
        const newWord = toZeroChecksum ? ~onesComplementSum(b) & 0xffff : randomWord;
        b[at] = newWord >>> 8;
        b[at + 1] = newWord & 255;
        const updated = incrementalChecksumUpdate(checksum, oldWord, newWord);
        if (b.every((v) => v === 0)) {
          // One's-complement zero has two spellings: an all-zero buffer sums to +0, so its full
          // checksum is 0xffff while eqn. 3 yields 0x0000. Both verify; no IPv4 header is all zero.
          assert.equal(internetChecksum(b), 0xffff);
          assert.ok(updated === 0 || updated === 0xffff);
        } else {
          assert.equal(updated, internetChecksum(b));
        }
        if (toZeroChecksum) assert.equal(updated, 0);
      },
    ),
    { numRuns: 500 },
  );
});

test('emitters hand out independent buffers: later emits never change or overlap earlier ones', () => {
  const payload = bytesArb(100);
  const emitterArb: fc.Arbitrary<() => Uint8Array> = fc.oneof(
    fc.tuple(ethernetReprArb, payload).map(
      ([r, p]) =>
        () =>
          emitEthernetFrame(r, p),
    ),
    fc.tuple(ipv4ReprArb, payload).map(
      ([r, p]) =>
        () =>
          emitIpv4(r, p),
    ),
    icmpReprArb.map((r) => () => emitIcmp(r)),
    fc.tuple(u16, u16, payload).map(
      ([s, d, p]) =>
        () =>
          emitUdp({ srcPort: s, dstPort: d }, p, { src: s, dst: d }),
    ),
    fc.tuple(tcpReprArb(fc.constant(new Uint8Array(0))), payload).map(
      ([r, p]) =>
        () =>
          emitTcp(r, p, PSEUDO),
    ),
    fc.tuple(u24, payload).map(
      ([vni, p]) =>
        () =>
          emitVxlan({ vni }, p),
    ),
    fc.tuple(geneveReprArb, payload).map(
      ([r, p]) =>
        () =>
          emitGeneve(r, p),
    ),
    fc.tuple(u24, u8, payload).map(
      ([vsid, flowId, p]) =>
        () =>
          emitNvgre({ vsid, flowId }, p),
    ),
  );
  fc.assert(
    fc.property(
      fc.array(emitterArb, { minLength: 2, maxLength: 10 }),
      fc.nat({ max: 2500 }),
      (emitters, burst) => {
        const half = emitters.length >> 1;
        const outs: Uint8Array[] = [];
        const copies: Uint8Array[] = [];
        emitters.forEach((emit, i) => {
          // Enough small emits in the middle to roll any 64 KiB allocation slab over.
          if (i === half)
            for (let n = 0; n < burst; n++)
              emitArp({ op: 1, senderMac: n, senderIp: n, targetMac: 0, targetIp: 0 });
          const out = emit();
          outs.push(out);
          copies.push(out.slice());
        });
        for (const out of outs)
          emitEthernetFrame({ dst: 0, src: 0, tags: [], etherType: 0x0800 }, out).fill(0xee);
        for (const [i, out] of outs.entries()) assertBytes(out, copies[i]!);
        for (let i = 0; i < outs.length; i++) {
          for (let j = i + 1; j < outs.length; j++) {
            const a = outs[i]!;
            const b = outs[j]!;
            if (a.buffer !== b.buffer) continue;
            const disjoint =
              a.byteOffset + a.byteLength <= b.byteOffset || b.byteOffset + b.byteLength <= a.byteOffset;
            assert.ok(disjoint, `emits ${i} and ${j} share bytes`);
          }
        }
      },
    ),
    { numRuns: 100 },
  );
});

// ---------------------------------------------------------------------------------------------
// Valid frames through the dissector
// ---------------------------------------------------------------------------------------------

/** Bytes plus the layers decodeFrame must list for them (each a subset of the decoded layer's fields). */
interface Built {
  readonly bytes: Uint8Array;
  readonly layers: readonly Record<string, unknown>[];
}

const payloadLayers = (b: Uint8Array) => (b.length > 0 ? [{ layer: 'payload', length: b.length }] : []);

function buildEthernet(repr: EthernetFrameRepr, inner: Built, pad: boolean): Built {
  return {
    bytes: emitEthernetFrame(repr, inner.bytes, { pad }),
    layers: [
      { layer: 'ethernet', dst: formatMac(repr.dst), src: formatMac(repr.src) },
      ...repr.tags.map((t) => ({ layer: 'vlan', tpid: t.tpid, pcp: t.pcp, dei: t.dei, vid: t.vid })),
      ...inner.layers,
    ],
  };
}

function buildIpv4(repr: Ipv4Repr, inner: Built): Built {
  const bytes = emitIpv4(repr, inner.bytes);
  const ipLayer = {
    layer: 'ipv4',
    ihl: 5 + repr.options.length / 4,
    totalLength: bytes.length,
    id: repr.id,
    ttl: repr.ttl,
    protocol: repr.protocol,
    checksumOk: true,
    src: formatIpv4(repr.src),
    dst: formatIpv4(repr.dst),
  };
  return { bytes, layers: [ipLayer, ...inner.layers] };
}

/** IPv4 header fields for unfragmented packets (the protocol is set by what it carries). */
const ipv4FieldsArb = ipv4ReprArb.map((r) => ({ ...r, df: false, mf: false, fragmentOffset: 0 }));

const usableTagsArb = fc.oneof(
  fc.constant([] as VlanTagRepr[]),
  vlanTagArb(fc.integer({ min: 1, max: 4094 })).map((t) => [{ ...t, tpid: EtherType.vlan }]),
  fc
    .tuple(vlanTagArb(fc.integer({ min: 1, max: 4094 })), vlanTagArb(fc.integer({ min: 1, max: 4094 })))
    .map(([s, c]) => [
      { ...s, tpid: EtherType.qinq },
      { ...c, tpid: EtherType.vlan },
    ]),
);

const l2Arb = record({ dst: macArb, src: macArb, tags: usableTagsArb, pad: fc.boolean() });

/** An IPv4 packet carrying UDP (any non-tunnel port), TCP with options, or ICMP. */
const ipPacketArb: fc.Arbitrary<Built> = fc.oneof(
  record({
    ip: ipv4FieldsArb,
    srcPort: u16,
    dstPort: nonTunnelPort,
    payload: bytesArb(),
    sum: fc.boolean(),
  }).map(({ ip, srcPort, dstPort, payload, sum }) => {
    const pseudo = sum ? { src: ip.src, dst: ip.dst } : undefined;
    const udp = emitUdp({ srcPort, dstPort }, payload, pseudo);
    const layers = [
      { layer: 'udp', srcPort, dstPort, length: udp.length, checksumOk: sum ? true : null },
      ...payloadLayers(payload),
    ];
    return buildIpv4({ ...ip, protocol: IpProtocol.udp }, { bytes: udp, layers });
  }),
  record({ ip: ipv4FieldsArb, options: tcpOptionsArb, payload: bytesArb() }).chain(
    ({ ip, options, payload }) =>
      tcpReprArb(fc.constant(options.area)).map((tcp) => {
        const bytes = emitTcp(tcp, payload, { src: ip.src, dst: ip.dst });
        const layers = [
          {
            layer: 'tcp',
            srcPort: tcp.srcPort,
            dstPort: tcp.dstPort,
            seq: tcp.seq,
            ack: tcp.ack,
            dataOffset: 5 + tcp.options.length / 4,
            flags: tcpFlagNames(tcp.flags),
            window: tcp.window,
            checksumOk: true,
            urgentPointer: tcp.urgentPointer,
          },
          ...payloadLayers(payload),
        ];
        return buildIpv4({ ...ip, protocol: IpProtocol.tcp }, { bytes, layers });
      }),
  ),
  record({
    ip: ipv4FieldsArb,
    icmp: fc.oneof(
      record({
        kind: fc.constantFrom('echo-request' as const, 'echo-reply' as const),
        id: u16,
        seq: u16,
        data: bytesArb(),
      }),
      record({
        kind: fc.constant('other' as const),
        type: fc.constantFrom(9, 10, 13, 14, 42), // not 4: source quench is an error message that quotes a datagram
        code: u8,
        restOfHeader: u32,
        data: bytesArb(),
      }),
    ),
  }).map(({ ip, icmp }) => {
    const bytes = emitIcmp(icmp);
    const layers = [{ layer: 'icmp', type: bytes[0], code: bytes[1], checksumOk: true }];
    return buildIpv4({ ...ip, protocol: IpProtocol.icmp }, { bytes, layers });
  }),
  // An ICMP error quoting the IPv4 header and first 8 bytes of a UDP, TCP or ICMP datagram (RFC 792).
  record({
    ip: ipv4FieldsArb,
    quotedIp: ipv4FieldsArb,
    transport: fc.constantFrom(IpProtocol.udp, IpProtocol.tcp, IpProtocol.icmp),
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    error: fc.constantFrom('destination-unreachable' as const, 'time-exceeded' as const),
    code: u8,
    mtu: u16,
  }).map(({ ip, quotedIp, transport, srcPort, dstPort, seq, error, code, mtu }) => {
    const pseudo = { src: quotedIp.src, dst: quotedIp.dst };
    const data = new Uint8Array(32);
    let segment: Uint8Array;
    let quotedTransport: Record<string, unknown>;
    if (transport === IpProtocol.udp) {
      segment = emitUdp({ srcPort, dstPort }, data, pseudo);
      quotedTransport = { layer: 'udp', srcPort, dstPort };
    } else if (transport === IpProtocol.tcp) {
      const tcp = { srcPort, dstPort, seq, ack: 0, flags: 0x002, window: 1024, urgentPointer: 0 };
      segment = emitTcp({ ...tcp, options: new Uint8Array(0) }, data, pseudo);
      quotedTransport = { layer: 'tcp', srcPort, dstPort };
    } else {
      segment = emitIcmp({ kind: 'echo-request', id: srcPort, seq: dstPort, data });
      quotedTransport = { layer: 'icmp', type: 8, code: 0 };
    }
    const original = emitIpv4({ ...quotedIp, protocol: transport }, segment);
    const quoted = original.subarray(0, 20 + quotedIp.options.length + 8);
    const repr: IcmpRepr =
      error === 'time-exceeded'
        ? { kind: error, code, quoted }
        : { kind: error, code, nextHopMtu: code === 4 ? mtu : 0, quoted };
    const bytes = emitIcmp(repr);
    const quotedLayers = [
      {
        layer: 'ipv4',
        totalLength: original.length,
        protocol: transport,
        src: formatIpv4(quotedIp.src),
        dst: formatIpv4(quotedIp.dst),
      },
      quotedTransport,
    ];
    const layers = [{ layer: 'icmp', type: bytes[0], code, checksumOk: true, quoted: quotedLayers }];
    return buildIpv4({ ...ip, protocol: IpProtocol.icmp }, { bytes, layers });
  }),
);

const arpLayerArb: fc.Arbitrary<Built> = record({
  op: fc.integer({ min: 1, max: 4 }),
  senderMac: macArb,
  senderIp: ipArb,
  targetMac: macArb,
  targetIp: ipArb,
}).map((repr) => ({
  bytes: emitArp(repr),
  layers: [
    {
      layer: 'arp',
      op: repr.op,
      senderMac: formatMac(repr.senderMac),
      senderIp: formatIpv4(repr.senderIp),
      targetMac: formatMac(repr.targetMac),
      targetIp: formatIpv4(repr.targetIp),
    },
  ],
}));

/** A frame with no tunnel: IPv4 (UDP/TCP/ICMP) or ARP, untagged, 802.1Q or QinQ. */
const plainFrameArb: fc.Arbitrary<Built> = fc.oneof(
  fc
    .tuple(l2Arb, ipPacketArb)
    .map(([l2, ip]) => buildEthernet({ ...l2, etherType: EtherType.ipv4 }, ip, l2.pad)),
  fc
    .tuple(l2Arb, arpLayerArb)
    .map(([l2, arp]) => buildEthernet({ ...l2, etherType: EtherType.arp }, arp, l2.pad)),
);

function udpTunnel(ip: Ipv4Repr, srcPort: number, dstPort: number, sum: boolean, inner: Built): Built {
  const udp = emitUdp({ srcPort, dstPort }, inner.bytes, sum ? { src: ip.src, dst: ip.dst } : undefined);
  const layers = [
    { layer: 'udp', srcPort, dstPort, length: udp.length, checksumOk: sum ? true : null },
    ...inner.layers,
  ];
  return buildIpv4({ ...ip, protocol: IpProtocol.udp }, { bytes: udp, layers });
}

/** Overlay frames: VXLAN and GENEVE over UDP, NVGRE over IPv4, each carrying a plain frame. */
const tunnelFrameArb: fc.Arbitrary<Built> = fc.oneof(
  record({
    l2: l2Arb,
    ip: ipv4FieldsArb,
    srcPort: u16,
    sum: fc.boolean(),
    vni: u24,
    inner: plainFrameArb,
  }).map(({ l2, ip, srcPort, sum, vni, inner }) => {
    const vxlan = {
      bytes: emitVxlan({ vni }, inner.bytes),
      layers: [{ layer: 'vxlan', flags: 8, vni }, ...inner.layers],
    };
    return buildEthernet(
      { ...l2, etherType: EtherType.ipv4 },
      udpTunnel(ip, srcPort, 4789, sum, vxlan),
      l2.pad,
    );
  }),
  record({
    l2: l2Arb,
    ip: ipv4FieldsArb,
    srcPort: u16,
    sum: fc.boolean(),
    geneve: geneveReprArb,
    inner: fc.oneof(
      plainFrameArb.map((b) => ({ protocol: EtherType.transparentEthernetBridging, built: b })),
      ipPacketArb.map((b) => ({ protocol: EtherType.ipv4, built: b })),
    ),
  }).map(({ l2, ip, srcPort, sum, geneve, inner }) => {
    const repr = { ...geneve, protocol: inner.protocol };
    const geneveLayer = {
      layer: 'geneve',
      version: 0,
      oam: repr.oam,
      critical: repr.critical,
      protocol: repr.protocol,
      vni: repr.vni,
      options: repr.options.map((o) => ({ optionClass: o.optionClass, type: o.type, length: o.data.length })),
    };
    const built = {
      bytes: emitGeneve(repr, inner.built.bytes),
      layers: [geneveLayer, ...inner.built.layers],
    };
    return buildEthernet(
      { ...l2, etherType: EtherType.ipv4 },
      udpTunnel(ip, srcPort, 6081, sum, built),
      l2.pad,
    );
  }),
  record({ l2: l2Arb, ip: ipv4FieldsArb, vsid: u24, flowId: u8, inner: plainFrameArb }).map(
    ({ l2, ip, vsid, flowId, inner }) => {
      const nvgre = {
        bytes: emitNvgre({ vsid, flowId }, inner.bytes),
        layers: [
          { layer: 'nvgre', vsid, flowId, checksumPresent: false, sequencePresent: false },
          ...inner.layers,
        ],
      };
      return buildEthernet(
        { ...l2, etherType: EtherType.ipv4 },
        buildIpv4({ ...ip, protocol: IpProtocol.gre }, nvgre),
        l2.pad,
      );
    },
  ),
);

const validFrameArb = fc.oneof(plainFrameArb, tunnelFrameArb);

/**
 * Less tidy seeds for the damage tests: any tag stack (reserved VIDs included), any IPv4 header
 * (fragments, odd protocols) and a random payload, or a random payload behind a random EtherType.
 */
const rawFrameArb: fc.Arbitrary<Built> = record({
  eth: ethernetReprArb,
  ip: ipv4ReprArb,
  protocol: fc.constantFrom(IpProtocol.icmp, IpProtocol.tcp, IpProtocol.udp, IpProtocol.gre, 0, 255),
  payload: bytesArb(80),
  inIpv4: fc.boolean(),
}).map(({ eth, ip, protocol, payload, inIpv4 }) => ({
  bytes: inIpv4
    ? emitEthernetFrame({ ...eth, etherType: EtherType.ipv4 }, emitIpv4({ ...ip, protocol }, payload))
    : emitEthernetFrame(eth, payload),
  layers: [],
}));

/** Each expected key must be present with a deeply equal value (arrays: same length, element-wise). */
function assertSubset(actual: unknown, expected: unknown, path = '$'): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is not an array`);
    assert.equal(actual.length, expected.length, `${path} length`);
    for (const [i, e] of expected.entries()) assertSubset(actual[i], e, `${path}[${i}]`);
  } else if (typeof expected === 'object' && expected !== null && !(expected instanceof Uint8Array)) {
    assert.ok(typeof actual === 'object' && actual !== null, `${path} is not an object`);
    for (const [k, v] of Object.entries(expected))
      assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.deepStrictEqual(actual, expected, path);
  }
}

test('decodeFrame: frames built by the emitters decode layer by layer with no error or warning', () => {
  fc.assert(
    fc.property(validFrameArb, (built) => {
      const decoded = decodeFrame(built.bytes);
      assert.equal(decoded.error, null);
      assert.deepStrictEqual(decoded.warnings, []);
      assertSubset(decoded.layers, built.layers);
      assert.equal(typeof summarizeFrame(decoded), 'string');
      assert.equal(layerTree(decoded).length, decoded.layers.length);
    }),
    { numRuns: 300 },
  );
});

// ---------------------------------------------------------------------------------------------
// Robustness: nothing throws, results are well formed
// ---------------------------------------------------------------------------------------------

const LAYER_NAMES = new Set([
  'ethernet',
  'vlan',
  'arp',
  'ipv4',
  'icmp',
  'udp',
  'tcp',
  'vxlan',
  'geneve',
  'gre',
  'nvgre',
  'payload',
  'pcap',
  'pcapng',
]);

function assertWireError(e: WireError, maxOffset: number): void {
  assert.deepStrictEqual(Object.keys(e).sort(), ['code', 'layer', 'message', 'offset']);
  assert.ok(LAYER_NAMES.has(e.layer), `unknown layer ${e.layer}`);
  assert.match(e.code, /^[a-z0-9]+(-[a-z0-9]+)*$/);
  assert.ok(
    Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= maxOffset,
    `offset ${e.offset} > ${maxOffset}`,
  );
  assert.ok(typeof e.message === 'string' && e.message.length > 0);
}

function assertResult(r: WireResult<unknown>, maxOffset: number): void {
  assert.equal(typeof r.ok, 'boolean');
  if (!r.ok) assertWireError(r.error, maxOffset);
}

/** Reads every getter and calls every method of a view that passed check(). */
function touch(view: object): void {
  const descriptors = Object.getOwnPropertyDescriptors(Object.getPrototypeOf(view));
  for (const [name, d] of Object.entries(descriptors)) {
    if (name === 'constructor') continue;
    if (d.get) d.get.call(view);
    else if (typeof d.value === 'function') d.value.call(view, 0x0a00_0001, 0xc0a8_0001);
  }
}

const CHECKS: readonly ((b: Uint8Array) => WireResult<object>)[] = [
  (b) => EthernetView.check(b),
  (b) => VlanTagView.check(b),
  (b) => ArpView.check(b),
  (b) => Ipv4View.check(b),
  (b) => IcmpView.check(b),
  (b) => UdpView.check(b),
  (b) => TcpView.check(b),
  (b) => VxlanView.check(b),
  (b) => GeneveView.check(b),
  (b) => GreView.check(b),
];

const PSEUDO = { src: 0x0a00_0001, dst: 0xc0a8_0001 };

const PARSERS: readonly ((b: Uint8Array) => WireResult<unknown>)[] = [
  (b) => parseEthernetFrame(b),
  (b) => parseArp(b),
  (b) => parseIpv4(b),
  (b) => parseIpv4(b, { verifyChecksum: false }),
  (b) => parseIcmp(b),
  (b) => parseIcmp(b, { verifyChecksum: false }),
  (b) => parseUdp(b),
  (b) => parseUdp(b, PSEUDO),
  (b) => parseTcp(b),
  (b) => parseTcp(b, PSEUDO),
  (b) => parseVxlan(b),
  (b) => parseGeneve(b),
  (b) => parseNvgre(b),
  (b) => walkIpv4Options(b),
  (b) => walkTcpOptions(b),
];

/** Every view and parser on `b`; none may throw, every error offset must fall inside `b`. */
function runParsers(b: Uint8Array): void {
  for (const check of CHECKS) {
    const r = check(b);
    assertResult(r, b.length);
    if (r.ok) touch(r.value);
  }
  const ipv4 = Ipv4View.check(b);
  if (ipv4.ok) ipv4ReprFromView(ipv4.value);
  const tcp = TcpView.check(b);
  if (tcp.ok) tcpReprFromView(tcp.value);
  const icmp = IcmpView.check(b);
  if (icmp.ok) icmpReprFromView(icmp.value);
  // walkIpv4Options/walkTcpOptions report offsets relative to the header (area + 20).
  for (const parse of PARSERS) assertResult(parse(b), b.length + 20);
  // parseQuotedDatagram reports offsets relative to the ICMP message (quote + 8).
  assertResult(parseQuotedDatagram(b), b.length + 8);
}

function assertWellFormedDecode(frame: DecodedFrame, length: number): void {
  assert.ok(Array.isArray(frame.layers));
  for (const l of frame.layers) assert.ok(LAYER_NAMES.has(l.layer), `unknown layer ${String(l.layer)}`);
  assert.ok(Array.isArray(frame.warnings));
  for (const w of frame.warnings) {
    assert.ok(LAYER_NAMES.has(w.layer));
    assert.equal(typeof w.code, 'string');
    assert.equal(typeof w.message, 'string');
  }
  assert.ok(frame.error === null || typeof frame.error === 'object');
  if (frame.error !== null) assertWireError(frame.error, length);
}

/** decodeFrame and its renderings; the layers must be JSON-ready (they survive a JSON round trip). */
function runDecoder(b: Uint8Array): void {
  const frame = decodeFrame(b);
  assertWellFormedDecode(frame, b.length);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(frame)), frame);
  assert.equal(typeof summarizeFrame(frame), 'string');
  const tree = layerTree(frame);
  assert.ok(tree.every((line) => typeof line === 'string'));
  assert.equal(tree.length, frame.layers.length + frame.warnings.length + (frame.error ? 1 : 0));
  assertWellFormedDecode(decodeFrame(b, { vxlanPorts: [53, 4789, 8472], genevePorts: [6081, 80] }), b.length);
}

function assertWellFormedCapture(c: CaptureFile, bytes: Uint8Array): void {
  assert.ok(c.format === 'pcap' || c.format === 'pcapng');
  assert.ok(['micro', 'nano', 'other'].includes(c.resolution));
  assert.ok(Array.isArray(c.packets));
  c.packets.forEach((p, i) => {
    assert.equal(p.index, i + 1);
    assert.ok(p.data.length <= bytes.length);
    assert.ok(Number.isInteger(p.fileOffset) && p.fileOffset >= 0 && p.fileOffset < bytes.length);
    assert.ok(Number.isInteger(p.timestamp.seconds) && p.timestamp.seconds >= 0);
    assert.ok(Number.isInteger(p.timestamp.nanos) && p.timestamp.nanos >= 0 && p.timestamp.nanos < 1e9);
    assert.ok(Number.isInteger(p.originalLength) && p.originalLength >= 0);
  });
  if (c.error !== null) assertWireError(c.error, bytes.length);
}

function runCaptureReaders(b: Uint8Array): void {
  for (const read of [readPcap, readPcapng, readCapture]) {
    const c = read(b);
    assertWellFormedCapture(c, b);
    for (const p of c.packets) runDecoder(p.data);
  }
}

type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'insert'; readonly at: number; readonly value: number }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'truncate'; readonly at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: record({
      op: fc.constant('flip' as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    weight: 3,
  },
  { arbitrary: record({ op: fc.constant('set' as const), at: fc.nat(), value: u8 }), weight: 3 },
  { arbitrary: record({ op: fc.constant('insert' as const), at: fc.nat(), value: u8 }), weight: 1 },
  { arbitrary: record({ op: fc.constant('delete' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: record({ op: fc.constant('truncate' as const), at: fc.nat() }), weight: 1 },
);

const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 6 });

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Array.from(bytes);
  for (const m of mutations) {
    if (m.op === 'truncate') {
      b = b.slice(0, m.at % (b.length + 1));
      continue;
    }
    if (m.op === 'insert') {
      b.splice(m.at % (b.length + 1), 0, m.value);
      continue;
    }
    if (b.length === 0) continue;
    const at = m.at % b.length;
    if (m.op === 'flip') b[at] = b[at]! ^ (1 << m.bit);
    else if (m.op === 'set') b[at] = m.value;
    else b.splice(at, 1);
  }
  return Uint8Array.from(b);
}

test('robustness: random bytes never make decodeFrame, summarizeFrame or layerTree throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => runDecoder(b)),
    { numRuns: 2000 },
  );
  // Random bytes behind a plausible Ethernet header reach the deeper layers.
  const etherTypes = fc.constantFrom(0x0800, 0x0806, 0x8035, 0x8100, 0x88a8, 0x0600, 0x05dc, 0x002e, 0x0000);
  fc.assert(
    fc.property(macArb, macArb, etherTypes, fc.uint8Array({ maxLength: 200 }), (dst, src, etherType, rest) =>
      runDecoder(emitEthernetFrame({ dst, src, tags: [], etherType }, rest, { pad: false })),
    ),
    { numRuns: 1000 },
  );
});

test('robustness: random bytes never make a view check or parser throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => runParsers(b)),
    { numRuns: 1000 },
  );
});

test('robustness: random bytes never make readPcap, readPcapng or readCapture throw', () => {
  const magics = fc.constantFrom(
    Uint8Array.of(),
    Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4),
    Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1),
    Uint8Array.of(0xa1, 0xb2, 0x3c, 0x4d),
    Uint8Array.of(0x4d, 0x3c, 0xb2, 0xa1),
    Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a),
  );
  fc.assert(
    fc.property(magics, fc.uint8Array({ maxLength: 200 }), (magic, rest) =>
      runCaptureReaders(concatBytes([magic, rest])),
    ),
    { numRuns: 1000 },
  );
});

test('robustness: damaged valid frames (tunnels, TCP options, QinQ, ICMP errors) never make anything throw', () => {
  fc.assert(
    fc.property(fc.oneof(validFrameArb, rawFrameArb), mutationsArb, (built, mutations) => {
      const b = mutate(built.bytes, mutations);
      runDecoder(b);
      // Every parser on every suffix, so each layer's codec sees its own damaged header.
      for (let i = 0; i <= b.length; i++) runParsers(b.subarray(i));
    }),
    { numRuns: 500 },
  );
});

test('robustness: truncating a valid frame anywhere never makes anything throw', () => {
  fc.assert(
    fc.property(fc.oneof(validFrameArb, rawFrameArb), fc.nat(), (built, cut) => {
      const b = built.bytes.subarray(0, cut % (built.bytes.length + 1));
      runDecoder(b);
      runParsers(b);
    }),
    { numRuns: 500 },
  );
});

test('robustness: damaged pcap and pcapng files never make the capture readers throw', () => {
  const fileArb = fc.oneof(
    fc
      .tuple(
        fc.array(record({ data: validFrameArb.map((f) => f.bytes), timestamp: timestampArb }), {
          maxLength: 3,
        }),
        fc.boolean(),
      )
      .map(([packets, nanosecond]) => writePcap(packets, { nanosecond })),
    pcapngSpecArb.map(writePcapng),
  );
  fc.assert(
    fc.property(fileArb, mutationsArb, (file, mutations) => runCaptureReaders(mutate(file, mutations))),
    { numRuns: 500 },
  );
});
