/**
 * The dissector on exact frames: the full JSON layer list of a VXLAN frame, and every kind of
 * damage the issue names (truncation at every layer boundary, bad lengths, bad checksums,
 * reserved VLAN IDs, VXLAN without the I flag, runts), each with its exact error or warning.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type DecodedFrame,
  decodeFrame,
  fromHex,
  type Layer,
  parseEthernetFrame,
  writeU16,
} from '../../src/wire/index.js';
import { goldenFrames } from '../helpers/repo.js';

const golden = new Map(goldenFrames().map((f) => [f.name, fromHex(f.hex)]));
function frame(name: string): Uint8Array {
  const bytes = golden.get(name);
  assert.ok(bytes, name);
  return Uint8Array.from(bytes);
}
const names = (d: DecodedFrame) => d.layers.map((l) => l.layer);

test('VXLAN frame decodes to the exact flat layer list, inner frame continuing the outer', () => {
  const d = decodeFrame(frame('vxlan-icmp'));
  assert.equal(d.error, null);
  assert.deepEqual(d.warnings, []);
  assert.deepEqual(d.layers, [
    { layer: 'ethernet', dst: '02:00:00:00:02:01', src: '02:00:00:00:01:01', etherType: 0x0800 },
    {
      layer: 'ipv4',
      version: 4,
      ihl: 5,
      dscp: 0,
      ecn: 0,
      totalLength: 90,
      id: 0x100,
      df: true,
      mf: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 17,
      checksum: 0x2591,
      checksumOk: true,
      src: '10.0.0.1',
      dst: '10.0.0.2',
      options: [],
    },
    { layer: 'udp', srcPort: 49320, dstPort: 4789, length: 70, checksum: 0, checksumOk: null },
    { layer: 'vxlan', flags: 0x08, vni: 5000 },
    { layer: 'ethernet', dst: '02:00:00:00:0a:02', src: '02:00:00:00:0a:01', etherType: 0x0800 },
    {
      layer: 'ipv4',
      version: 4,
      ihl: 5,
      dscp: 0,
      ecn: 0,
      totalLength: 40,
      id: 7,
      df: true,
      mf: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 1,
      checksum: 0xe2aa,
      checksumOk: true,
      src: '172.16.0.1',
      dst: '172.16.0.2',
      options: [],
    },
    { layer: 'icmp', type: 8, code: 0, checksum: 0xa41d, checksumOk: true, id: 0x42, seq: 3, dataLength: 12 },
  ]);
});

test('ARP kinds, QinQ tags, GENEVE options, NVGRE key, TCP options, IPv4 options and 802.3 LLC decode exactly', () => {
  assert.deepEqual(decodeFrame(frame('arp-probe')).layers[1], {
    layer: 'arp',
    op: 1,
    opName: 'request',
    kind: 'probe',
    senderMac: '00:0a:95:b1:2c:eb',
    senderIp: '0.0.0.0',
    targetMac: '00:00:00:00:00:00',
    targetIp: '192.168.0.9',
  });
  assert.equal(decodeFrame(frame('arp-gratuitous')).layers[1]!.kind, 'announcement'); // tshark: "ARP Announcement for 192.168.0.1"
  assert.equal(decodeFrame(frame('rarp-announce')).layers[1]!.kind, 'reverse-request');
  const qinq = decodeFrame(frame('qinq-arp'));
  assert.deepEqual(qinq.layers.slice(0, 3), [
    { layer: 'ethernet', dst: 'ff:ff:ff:ff:ff:ff', src: '00:0a:95:b1:2c:eb', etherType: 0x88a8, padding: 10 },
    { layer: 'vlan', tpid: 0x88a8, pcp: 0, dei: false, vid: 200, etherType: 0x8100 },
    { layer: 'vlan', tpid: 0x8100, pcp: 3, dei: true, vid: 100, etherType: 0x0806 },
  ]);
  const geneve = decodeFrame(frame('geneve-arp'));
  assert.deepEqual(geneve.layers[3], {
    layer: 'geneve',
    version: 0,
    optionsLength: 2,
    oam: false,
    critical: true,
    protocol: 0x6558,
    vni: 0x123456,
    options: [{ optionClass: 0x0102, type: 0x80, critical: true, length: 4, data: 'deadbeef' }],
  });
  assert.deepEqual(names(geneve), ['ethernet', 'ipv4', 'udp', 'geneve', 'ethernet', 'arp']);
  const nvgre = decodeFrame(frame('nvgre-icmp'));
  assert.deepEqual(nvgre.layers[2], {
    layer: 'nvgre',
    protocol: 0x6558,
    vsid: 0x1001,
    flowId: 7,
    checksumPresent: false,
    sequencePresent: false,
  });
  assert.deepEqual(names(nvgre), ['ethernet', 'ipv4', 'nvgre', 'ethernet', 'ipv4', 'icmp']);
  const syn = decodeFrame(frame('tcp-syn-options')).layers[2]!;
  assert.deepEqual(syn.flags, ['SYN']);
  assert.deepEqual(syn.options, [
    { kind: 2, name: 'mss', length: 4, mss: 1460 },
    { kind: 4, name: 'sack-permitted', length: 2 },
    { kind: 8, name: 'timestamps', length: 10, tsVal: 123456, tsEcr: 0 },
    { kind: 1, name: 'nop', length: 1 },
    { kind: 3, name: 'window-scale', length: 3, windowScale: 7 },
  ]);
  assert.deepEqual(decodeFrame(frame('ipv4-options')).layers[1]!.options, [
    { type: 148, name: 'router-alert', length: 4, data: '0000' },
    { type: 7, name: 'record-route', length: 11, data: '040000000000000000' },
    { type: 0, name: 'eol', length: 1, data: '' },
  ]);
  assert.deepEqual(decodeFrame(frame('llc-stp-bpdu')).layers, [
    { layer: 'ethernet', dst: '01:80:c2:00:00:00', src: '00:0a:95:b1:2c:eb', lengthField: 38, padding: 8 },
    { layer: 'payload', length: 38, protocol: 'llc', dsap: 0x42, ssap: 0x42, control: 3 },
    {
      layer: 'stp',
      bpduType: 'config',
      flags: 0,
      rootId: '32768/00:0a:95:b1:2c:eb',
      rootPathCost: 0,
      bridgeId: '32768/00:0a:95:b1:2c:eb',
      portId: 0x8001,
      messageAge: 1,
      maxAge: 20,
      helloTime: 2,
      forwardDelay: 15,
    },
  ]);
});

test('ICMP errors decode the quoted IPv4 header and the first 8 bytes', () => {
  const icmp = decodeFrame(frame('icmp-frag-needed')).layers[2]!;
  assert.equal(icmp.mtu, 1450);
  assert.deepEqual(icmp.quoted, [
    {
      layer: 'ipv4',
      ihl: 5,
      totalLength: 1428,
      id: 0x1111,
      df: true,
      mf: false,
      fragmentOffset: 0,
      ttl: 63,
      protocol: 17,
      checksum: 0x2794,
      checksumOk: true,
      src: '192.168.1.2',
      dst: '203.0.113.9',
    },
    { layer: 'udp', srcPort: 40000, dstPort: 33434, length: 1408, checksum: 0xd85e },
  ]);
  const quotedEcho = (decodeFrame(frame('icmp-time-exceeded')).layers[2]!.quoted as Layer[])[1];
  assert.deepEqual(quotedEcho, { layer: 'icmp', type: 8, code: 0, checksum: 0x706e });
});

test('Ethernet padding is not IP payload, and is reported on the Ethernet layer', () => {
  const d = decodeFrame(frame('udp-no-checksum')); // 49-byte frame padded to 60
  assert.equal(d.layers[0]!.padding, 11);
  assert.deepEqual(d.layers[2], {
    layer: 'udp',
    srcPort: 7,
    dstPort: 7,
    length: 15,
    checksum: 0,
    checksumOk: null,
  });
  assert.deepEqual(d.layers[3], { layer: 'payload', length: 7 });
});

test('fragments: the first carries the UDP header (checksum uncheckable), later ones are payload', () => {
  const first = decodeFrame(frame('ipv4-fragment-first'));
  assert.deepEqual(first.layers.slice(2), [
    { layer: 'udp', srcPort: 6000, dstPort: 6001, length: 1508, checksum: 0, checksumOk: null },
    { layer: 'payload', length: 1472, protocol: 'fragment' },
  ]);
  assert.deepEqual(decodeFrame(frame('ipv4-fragment-second')).layers[2], {
    layer: 'payload',
    length: 28,
    protocol: 'fragment',
  });
});

test('a runt frame is an ethernet truncation error', () => {
  assert.deepEqual(decodeFrame(new Uint8Array(10)), {
    layers: [],
    warnings: [],
    error: { layer: 'ethernet', code: 'truncated', offset: 10, message: 'ethernet: need 14 bytes, have 10' },
  });
});

test('truncation at every byte keeps the decoded prefix and names the failing layer', () => {
  for (const [name, bytes] of golden) {
    const full = decodeFrame(bytes);
    for (let n = 0; n < bytes.length; n++) {
      const cut = decodeFrame(bytes.subarray(0, n));
      const prefix = names(cut);
      assert.deepEqual(prefix, names(full).slice(0, prefix.length), `${name} cut at ${n}`);
      if (cut.error) assert.ok(cut.error.offset <= n, `${name} cut at ${n}: offset ${cut.error.offset}`);
    }
  }
});

test('a cut capture (original length known) fails exactly at the layer the cut falls in', () => {
  for (const [name, bytes] of golden) {
    const full = names(decodeFrame(bytes));
    for (let n = 0; n < bytes.length; n++) {
      const cut = decodeFrame(bytes.subarray(0, n), { originalLength: bytes.length });
      const prefix = names(cut);
      const at = `${name} cut at ${n}`;
      assert.deepEqual(prefix, full.slice(0, prefix.length), at);
      if (cut.error === null) {
        // Every header survived the cut: what is missing is payload.
        assert.ok(
          prefix.length === full.length || full[prefix.length] === 'payload' || prefix.at(-1) === 'payload',
          `${at}: no error but ${prefix.join(',')} of ${full.join(',')}`,
        );
        continue;
      }
      assert.ok(cut.error.offset <= n, `${at}: offset ${cut.error.offset}`);
      // The failing layer is the next one of the full decode (a GRE header cut before its key cannot
      // be told to be NVGRE yet), or an ICMP error whose quote was cut.
      const next = full[prefix.length];
      const expected =
        cut.error.layer === next ||
        (next === 'nvgre' && cut.error.layer === 'gre') ||
        (cut.error.layer === 'icmp' && prefix.at(-1) === 'icmp');
      assert.ok(expected, `${at}: error in ${cut.error.layer}, expected ${next}`);
    }
  }
});

test('truncation at the layer boundaries of a VXLAN frame gives the exact layer and code', () => {
  const bytes = frame('vxlan-icmp');
  const at = (n: number) => decodeFrame(bytes.subarray(0, n)).error;
  assert.deepEqual(at(13), {
    layer: 'ethernet',
    code: 'truncated',
    offset: 13,
    message: 'ethernet: need 14 bytes, have 13',
  });
  assert.deepEqual(at(33), {
    layer: 'ipv4',
    code: 'truncated',
    offset: 33,
    message: 'ipv4: need 20 bytes, have 19',
  });
  // Beyond the IPv4 header, the total length (90) no longer fits the bytes present.
  assert.deepEqual(at(41), {
    layer: 'ipv4',
    code: 'truncated',
    offset: 41,
    message: 'total length 90 exceeds the 27 bytes present',
  });
  // Make the IP and UDP lengths consistent with a cut so the inner layers are reached.
  const cutAt = (n: number) => {
    const b = Uint8Array.from(bytes.subarray(0, n));
    writeU16(b, 16, n - 14);
    writeU16(b, 38, n - 34);
    return decodeFrame(b);
  };
  assert.deepEqual(cutAt(49).error, {
    layer: 'vxlan',
    code: 'truncated',
    offset: 49,
    message: 'vxlan: need 8 bytes, have 7',
  });
  assert.deepEqual(names(cutAt(49)), ['ethernet', 'ipv4', 'udp']);
  assert.deepEqual(cutAt(63).error, {
    layer: 'ethernet',
    code: 'truncated',
    offset: 63,
    message: 'ethernet: need 14 bytes, have 13',
  });
  assert.deepEqual(names(cutAt(63)), ['ethernet', 'ipv4', 'udp', 'vxlan']);
  assert.deepEqual(cutAt(83).error, {
    layer: 'ipv4',
    code: 'truncated',
    offset: 83,
    message: 'ipv4: need 20 bytes, have 19',
  });
  assert.equal(cutAt(83).layers.find((l) => l.layer === 'ipv4')!.checksumOk, false); // outer header changed
});

test('VXLAN without the I flag is an error after the UDP layer; reserved bits are a warning', () => {
  const bytes = frame('vxlan-icmp');
  bytes[42] = 0x00;
  const d = decodeFrame(bytes);
  assert.deepEqual(names(d), ['ethernet', 'ipv4', 'udp']);
  assert.deepEqual(d.error, {
    layer: 'vxlan',
    code: 'missing-i-flag',
    offset: 42,
    message: 'VXLAN flags 0x00 lack the I flag (0x08) that marks a valid VNI',
  });
  const reserved = decodeFrame(frame('vxlan-reserved-bits'));
  assert.equal(reserved.error, null);
  assert.deepEqual(reserved.warnings, [
    {
      layer: 'vxlan',
      code: 'reserved-bits-set',
      message: 'reserved VXLAN bits are set (ignored on receipt, RFC 7348 5)',
    },
  ]);
  assert.equal(reserved.layers[3]!.vni, 5001);
});

test('reserved VLAN IDs 0 and 4095 are flagged', () => {
  assert.deepEqual(decodeFrame(frame('vlan-priority-tag')).warnings, [
    { layer: 'vlan', code: 'reserved-vid', message: 'VID 0 is reserved: a priority tag carrying no VLAN' },
  ]);
  const bytes = frame('vlan-icmp');
  writeU16(bytes, 14, 0xafff); // PCP 5, VID 4095
  const d = decodeFrame(bytes);
  assert.equal(d.layers[1]!.vid, 4095);
  assert.deepEqual(d.warnings, [
    { layer: 'vlan', code: 'reserved-vid', message: 'VID 4095 is reserved and must not be used' },
  ]);
});

test('bad checksums are reported per layer, not hidden', () => {
  const ip = frame('icmp-echo-request');
  ip[24]! ^= 0xff; // IPv4 checksum
  assert.equal(decodeFrame(ip).layers[1]!.checksumOk, false);
  assert.deepEqual(
    decodeFrame(ip).warnings.map((w) => [w.layer, w.code]),
    [['ipv4', 'bad-checksum']],
  );
  const icmp = frame('icmp-echo-request');
  icmp[40]! ^= 1; // ICMP data
  assert.deepEqual(
    decodeFrame(icmp).warnings.map((w) => [w.layer, w.code]),
    [['icmp', 'bad-checksum']],
  );
  const udp = frame('udp-dns-query');
  udp[45]! ^= 1;
  assert.equal(decodeFrame(udp).layers[2]!.checksumOk, false);
  const tcp = frame('tcp-psh-ack-data');
  tcp[60]! ^= 1;
  assert.deepEqual(
    decodeFrame(tcp).warnings.map((w) => [w.layer, w.code]),
    [['tcp', 'bad-checksum']],
  );
});

test('bad lengths: IHL, total length, UDP length, TCP data offset, 802.3 length, option lengths', () => {
  const errorOf = (name: string, mutate: (b: Uint8Array) => void) => {
    const b = frame(name);
    mutate(b);
    const e = decodeFrame(b).error;
    return e && [e.layer, e.code, e.offset];
  };
  assert.deepEqual(
    errorOf('icmp-echo-request', (b) => {
      b[14] = 0x44;
    }),
    ['ipv4', 'bad-ihl', 14],
  );
  assert.deepEqual(
    errorOf('icmp-echo-request', (b) => {
      b[14] = 0x65;
    }),
    ['ipv4', 'bad-version', 14],
  );
  assert.deepEqual(
    errorOf('icmp-echo-request', (b) => writeU16(b, 16, 19)),
    ['ipv4', 'bad-total-length', 16],
  );
  assert.deepEqual(
    errorOf('udp-dns-query', (b) => writeU16(b, 38, 7)),
    ['udp', 'bad-length', 38],
  );
  assert.deepEqual(
    errorOf('udp-dns-query', (b) => writeU16(b, 38, 35)),
    ['udp', 'bad-length', 38],
  );
  assert.deepEqual(
    errorOf('tcp-syn-options', (b) => {
      b[46] = 0x40;
    }),
    ['tcp', 'bad-data-offset', 46],
  );
  assert.deepEqual(
    errorOf('tcp-syn-options', (b) => {
      b[55] = 5;
    }),
    ['tcp', 'bad-option-length', 55],
  ); // MSS option with length 5
  assert.deepEqual(
    errorOf('ipv4-options', (b) => {
      b[39] = 30;
    }),
    ['ipv4', 'bad-option-length', 39],
  ); // record-route past the header
  assert.deepEqual(
    errorOf('ipv4-options', (b) => {
      b[35] = 1;
    }),
    ['ipv4', 'bad-option-length', 35],
  ); // router alert length 1
  assert.deepEqual(
    errorOf('llc-stp-bpdu', (b) => writeU16(b, 12, 100)),
    ['ethernet', 'bad-length', 12],
  );
  assert.deepEqual(
    errorOf('arp-request', (b) => {
      b[18] = 8;
    }),
    ['arp', 'bad-address-length', 18],
  );
  assert.deepEqual(
    errorOf('geneve-arp', (b) => {
      b[42] = 0x42;
    }),
    ['geneve', 'unsupported-version', 42],
  );
  assert.deepEqual(
    errorOf('geneve-arp', (b) => {
      b[53] = 0x05;
    }),
    ['geneve', 'bad-option-length', 53],
  );
  assert.deepEqual(
    errorOf('icmp-frag-needed', (b) => {
      b[42] = 0x45;
      b[43] = 0;
    }),
    null,
  ); // sanity: quoted header untouched at 42
  assert.deepEqual(
    errorOf('icmp-frag-needed', (b) => {
      b[42] = 0x4f;
    }),
    ['icmp', 'bad-quoted-ihl', 42],
  );
  const shortUdp = frame('udp-dns-query');
  writeU16(shortUdp, 38, 20);
  // The checksum covered the old length, so it fails too.
  assert.deepEqual(
    decodeFrame(shortUdp).warnings.map((w) => w.code),
    ['bad-checksum', 'length-mismatch'],
  );
});

test('the UDP ports that mean VXLAN and GENEVE are configurable', () => {
  const bytes = frame('vxlan-icmp');
  writeU16(bytes, 36, 8472); // Linux's default VXLAN port
  assert.deepEqual(names(decodeFrame(bytes)), ['ethernet', 'ipv4', 'udp', 'payload']);
  assert.deepEqual(names(decodeFrame(bytes, { vxlanPorts: [8472] })), [
    'ethernet',
    'ipv4',
    'udp',
    'vxlan',
    'ethernet',
    'ipv4',
    'icmp',
  ]);
  const geneve = frame('geneve-arp');
  assert.deepEqual(names(decodeFrame(geneve, { genevePorts: [] })), ['ethernet', 'ipv4', 'udp', 'payload']);
});

test('unknown EtherTypes and IP protocols pass through as payload with their numbers', () => {
  const b = frame('icmp-echo-request');
  writeU16(b, 12, 0x88b5);
  assert.deepEqual(decodeFrame(b).layers, [
    { layer: 'ethernet', dst: '02:00:00:00:00:0b', src: '00:0a:95:b1:2c:eb', etherType: 0x88b5 },
    { layer: 'payload', length: 84 },
  ]);
});

test('regressions: offsets of a short ICMP quote and of parseEthernetFrame behind tags count from the right start', () => {
  // An ICMP time exceeded whose quote has only 10 bytes: the error is at the end of the data (52).
  const short = fromHex(
    '00000000000200000000000108004500002600010000400166d40a0000010a0000020b009aa50000000045454545454545454545',
  );
  assert.deepEqual(decodeFrame(short).error, {
    layer: 'icmp',
    code: 'truncated',
    offset: 52,
    message: 'quoted datagram: need 20 bytes, have 10',
  });
  const tagged = parseEthernetFrame(fromHex(`000000000002 000000000001 8100 0005 0064 ${'00'.repeat(12)}`));
  assert.ok(!tagged.ok);
  assert.deepEqual([tagged.error.code, tagged.error.offset], ['bad-length', 16]);
  const cutTag = parseEthernetFrame(fromHex('000000000002 000000000001 8100 0005'));
  assert.ok(!cutTag.ok);
  assert.deepEqual([cutTag.error.layer, cutTag.error.code, cutTag.error.offset], ['vlan', 'truncated', 16]);
});

test('GRE that is not NVGRE: its own layer, or payload for another version or RFC 1701 routing', () => {
  const nvgre = frame('nvgre-icmp');
  const plain = Uint8Array.from(nvgre);
  plain[34] = 0x00; // no key
  writeU16(plain, 36, 0x0800);
  const d = decodeFrame(plain);
  assert.deepEqual(d.layers[2], {
    layer: 'gre',
    protocol: 0x0800,
    key: null,
    sequence: null,
    checksum: null,
    checksumOk: null,
  });
  const routed = Uint8Array.from(nvgre);
  routed[34] = 0x60; // R and K
  assert.deepEqual(decodeFrame(routed).layers.slice(2), [{ layer: 'payload', length: 62, protocol: 'gre' }]);
  const pptp = Uint8Array.from(nvgre);
  pptp[35] = 0x01; // version 1
  assert.deepEqual(decodeFrame(pptp).layers.slice(2), [{ layer: 'payload', length: 62, protocol: 'gre' }]);
  assert.equal(decodeFrame(pptp).error, null);
});

test('a capture cut by its snap length decodes the headers it kept', () => {
  const full = frame('vxlan-icmp');
  const cut = full.subarray(0, 70);
  assert.equal(decodeFrame(cut).error?.code, 'truncated'); // without the original length: an error at the IPv4 layer
  const d = decodeFrame(cut, { originalLength: full.length });
  assert.deepEqual(
    d.layers.map((l) => l.layer),
    ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet'],
  );
  assert.equal(d.layers[2]!.checksumOk, null);
  assert.deepEqual([d.error?.layer, d.error?.code, d.error?.offset], ['ipv4', 'truncated', 70]);
  const ping = decodeFrame(frame('icmp-echo-request').subarray(0, 70), { originalLength: 98 });
  assert.equal(ping.error, null);
  assert.deepEqual(ping.layers[2], {
    layer: 'icmp',
    type: 8,
    code: 0,
    checksum: 0xeeb7,
    checksumOk: null,
    id: 0x1234,
    seq: 1,
    dataLength: 28,
  });
});

test('IPv4 options with a defined length must have it (router alert is 4 bytes, RFC 2113)', () => {
  const b = frame('ipv4-options');
  b[35] = 2;
  b[36] = 1; // the two bytes after a 2-byte router alert read as NOPs
  b[37] = 1;
  assert.deepEqual(decodeFrame(b).error, {
    layer: 'ipv4',
    code: 'bad-option-length',
    offset: 35,
    message: 'IPv4 router-alert option at offset 34 has length 2, should be 4',
  });
});
