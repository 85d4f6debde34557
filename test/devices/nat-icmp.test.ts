/**
 * ICMP errors crossing a NAT (RFC 5508 4.2): the quoted header and port are translated with the
 * outer header, byte for byte what the other side sent or would have seen, checksums (outer IPv4,
 * ICMP, quoted IPv4, quoted UDP) as a fresh computation gives them. Source NAT (NAPT) and static
 * 1:1 NAT, in both directions, the border's own errors, and an error from an inside router without
 * a public address. When tshark is installed, the captures decode in it with every checksum it can
 * verify good.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SourceNat, StaticNat } from '../../src/devices/router/nat.js';
import type { CapturedFrame, Port } from '../../src/link/index.js';
import { Network } from '../../src/topo/network.js';
import {
  EtherType,
  emitIcmp,
  emitIpv4,
  type IcmpRepr,
  Ipv4View,
  internetChecksum,
  ip,
  ipv4ReprFromView,
  readU16,
  TcpFlag,
  writeU16,
} from '../../src/wire/index.js';
import { ascii, ipv4Icmp, ipv4Tcp, ipv4Udp } from '../helpers/build.js';
import { tsharkAvailable } from '../helpers/tshark.js';

const INSIDE = ip('10.1.0.10');
const PUBLIC = ip('100.64.0.2');
const ISP = ip('100.64.0.1');
const WEB = ip('198.51.100.10');
const EIP = ip('203.0.113.5');

/** The first `ihl + 8` bytes of a packet, as an ICMP error quotes it, with its TTL set to `ttl` (checksum recomputed). */
function quoteOf(packet: Uint8Array, ttl?: number): Uint8Array {
  const q = packet.slice(0, (packet[0]! & 0x0f) * 4 + 8);
  if (ttl !== undefined) {
    q[8] = ttl;
    writeU16(q, 10, 0);
    writeU16(q, 10, internetChecksum(q, 0, (q[0]! & 0x0f) * 4));
  }
  return q;
}

const portUnreachable = (quoted: Uint8Array): IcmpRepr => ({
  kind: 'destination-unreachable',
  code: 3,
  nextHopMtu: 0,
  quoted,
});
const timeExceeded = (quoted: Uint8Array): IcmpRepr => ({ kind: 'time-exceeded', code: 0, quoted });

test('NAPT: a time exceeded for the public address comes in with the inside address and port quoted, checksums fresh', () => {
  const nat = new SourceNat('ext', PUBLIC);
  const sent = ipv4Udp({ src: INSIDE, dst: WEB, id: 77 }, 40000, 53, ascii('query'));
  const out = sent.slice();
  assert.equal(nat.translateOut(out), true);
  const error = ipv4Icmp({ src: ISP, dst: PUBLIC, id: 9 }, timeExceeded(quoteOf(out)));
  const inside = nat.translateIn(error, 0, error.length);
  assert.deepEqual(inside, ipv4Icmp({ src: ISP, dst: INSIDE, id: 9 }, timeExceeded(quoteOf(sent))));
  assert.deepEqual([nat.counters.translatedOut, nat.counters.translatedIn], [1, 1]);
});

test('NAPT: a port unreachable from inside about a reply quotes the public address and port, and leaves from it', () => {
  const nat = new SourceNat('ext', PUBLIC);
  nat.translateOut(ipv4Udp({ src: INSIDE, dst: WEB }, 40000, 53, ascii('query')));
  const reply = ipv4Udp({ src: WEB, dst: PUBLIC, id: 5 }, 53, 1024, ascii('answer'));
  const delivered = nat.translateIn(reply, 0, reply.length)!;
  const error = ipv4Icmp({ src: INSIDE, dst: WEB, id: 3 }, portUnreachable(quoteOf(delivered)));
  assert.equal(nat.translateOut(error), true);
  assert.deepEqual(error, ipv4Icmp({ src: PUBLIC, dst: WEB, id: 3 }, portUnreachable(quoteOf(reply))));
});

test('NAPT: an error about an unknown flow, or with a bad ICMP checksum, is not translated', () => {
  const nat = new SourceNat('ext', PUBLIC);
  const sent = ipv4Udp({ src: INSIDE, dst: WEB }, 40000, 53, ascii('q'));
  nat.translateOut(sent);
  const stranger = ipv4Udp({ src: PUBLIC, dst: WEB }, 2000, 53, ascii('q'));
  const unknown = ipv4Icmp({ src: ISP, dst: PUBLIC }, timeExceeded(quoteOf(stranger)));
  assert.equal(nat.translateIn(unknown, 0, unknown.length), null);
  const corrupt = ipv4Icmp({ src: ISP, dst: PUBLIC }, timeExceeded(quoteOf(sent)));
  corrupt[22] = corrupt[22]! ^ 0xff; // the ICMP checksum's first byte
  assert.equal(nat.translateIn(corrupt, 0, corrupt.length), null);
  assert.deepEqual([nat.counters.noMapping, nat.counters.translatedIn], [1, 0]);
});

test('1:1 NAT: a TCP SYN quoted in an error comes back with the inside address; one sent from inside gets the public one', () => {
  const nat = new StaticNat('ext');
  nat.add(EIP, INSIDE);
  const syn = ipv4Tcp(
    { src: INSIDE, dst: WEB, id: 1 },
    {
      srcPort: 5000,
      dstPort: 443,
      seq: 0x01020304,
      ack: 0,
      flags: TcpFlag.SYN,
      window: 65535,
      urgentPointer: 0,
      options: new Uint8Array(0),
    },
    new Uint8Array(0),
  );
  const out = syn.slice();
  assert.equal(nat.translateOut(out), true);
  const error = ipv4Icmp({ src: ISP, dst: EIP }, timeExceeded(quoteOf(out)));
  assert.deepEqual(
    nat.translateIn(error, 0, error.length),
    ipv4Icmp({ src: ISP, dst: INSIDE }, timeExceeded(quoteOf(syn))),
  );
  // An inside router without a public address, about a packet that came in for the elastic IP:
  // the quote gets the public address back, and the error leaves from it (as Linux's NAT does).
  const arriving = ipv4Udp({ src: WEB, dst: EIP }, 53, 9, ascii('x'));
  const delivered = nat.translateIn(arriving, 0, arriving.length)!;
  const fromRouter = ipv4Icmp({ src: ip('10.1.0.2'), dst: WEB }, portUnreachable(quoteOf(delivered)));
  assert.equal(nat.translateOut(fromRouter), true);
  assert.deepEqual(fromRouter, ipv4Icmp({ src: EIP, dst: WEB }, portUnreachable(quoteOf(arriving))));
  assert.deepEqual(nat.counters, { translatedOut: 2, translatedIn: 2 });
});

/** inside host — (r: NAT on wan) — isp — outside host; `static` gives the inside host an elastic IP, else r does NAPT. */
function natNetwork(kind: 'napt' | 'static') {
  const net = new Network({ seed: 3 });
  const inside = net.addHost('in', { ip: '10.1.0.10/24', gateway: '10.1.0.1' });
  const outside = net.addHost('out', { ip: '198.51.100.10/24', gateway: '198.51.100.1' });
  const r = net.addRouter('r', [
    { name: 'lan', addresses: ['10.1.0.1/24'] },
    { name: 'wan', addresses: ['100.64.0.2/30'] },
  ]);
  const isp = net.addRouter('isp', [
    { name: 'cust', addresses: ['100.64.0.1/30'] },
    { name: 'web', addresses: ['198.51.100.1/24'] },
  ]);
  r.addStaticRoute({ prefix: { address: 0, prefixLength: 0 }, nextHop: ISP });
  isp.addStaticRoute({ prefix: { address: EIP, prefixLength: 32 }, nextHop: PUBLIC });
  if (kind === 'napt') r.enableSnat('wan', PUBLIC);
  else r.addStaticNat('wan', EIP, INSIDE);
  net.addLink(inside, r, { bPort: 'lan' });
  net.addLink(r, isp, { aPort: 'wan', bPort: 'cust' });
  net.addLink(isp, outside, { aPort: 'web' });
  const tx = (port: Port) => net.capture().attachPort(port, 'tx').frames;
  const rx = (port: Port) => net.capture().attachPort(port, 'rx').frames;
  return { net, inside, outside, r, tx, rx };
}

const packetOf = (f: CapturedFrame) => {
  const v = Ipv4View.check(f.data, 14);
  assert.ok(v.ok);
  return f.data.slice(14, v.value.end);
};
const view = (p: Uint8Array) => {
  const v = Ipv4View.check(p);
  assert.ok(v.ok);
  return v.value;
};
const isIpv4 = (f: CapturedFrame) => readU16(f.data, 12) === EtherType.ipv4;
const packetsOf = (frames: CapturedFrame[]) => frames.filter(isIpv4).map(packetOf);
const icmpOnly = (frames: CapturedFrame[]) => packetsOf(frames).filter((p) => p[9] === 1);

/** `sent` re-emitted with its TTL `ttl` hops lower and some fields replaced: what it should look like when it arrives. */
function arrived(sent: Uint8Array, hops: number, fields: { src?: number; dst?: number }, icmp: IcmpRepr) {
  const v = view(sent);
  return emitIpv4({ ...ipv4ReprFromView(v), ttl: v.ttl - hops, ...fields }, emitIcmp(icmp));
}

test('NAPT on a router: a UDP port unreachable and a ping time exceeded reach the inside host as about its own packets', () => {
  const { net, inside, outside, r, tx, rx } = natNetwork('napt');
  const insideSent = tx(inside.port('eth0')!);
  const insideGot = rx(inside.port('eth0')!);
  const outsideSent = tx(outside.port('eth0')!);
  net.start();
  inside.sendUdp(40000, WEB, 9, ascii('anyone?')); // nothing listens on 9: port unreachable
  const ping = inside.ping(WEB, { count: 1, ttl: 2 }); // expires at isp
  net.run({ until: 2e9 });
  assert.deepEqual(ping.results, [
    { seq: 1, status: 'error', from: '100.64.0.1', message: 'Time to live exceeded' },
  ]);
  const udp = packetsOf(insideSent).find((p) => p[9] === 17)!;
  const [unreachable] = icmpOnly(outsideSent);
  const [got] = icmpOnly(insideGot).filter((p) => p[20] === 3);
  // What the outside host sent (to the public address), two hops older, for the inside address,
  // quoting the datagram exactly as the inside host sent it, aged by the two hops it made.
  assert.deepEqual(got, arrived(unreachable!, 2, { dst: INSIDE }, portUnreachable(quoteOf(udp, 62))));
  const echo = packetsOf(insideSent).find((p) => p[9] === 1)!;
  const [exceeded] = icmpOnly(insideGot).filter((p) => p[20] === 11);
  assert.deepEqual(view(exceeded!).src, ISP);
  assert.deepEqual(exceeded!.subarray(28), quoteOf(echo, 1));
  assert.equal(internetChecksum(exceeded!, 20, exceeded!.length), 0);
  assert.deepEqual(r.nats.get('wan')!.counters, {
    translatedOut: 2,
    exhausted: 0,
    translatedIn: 2,
    untranslatable: 0,
    noMapping: 0,
  });
  // tshark: outer and quoted IPv4 header checksums good (1), the ICMP error's too; a quoted echo's
  // cannot be checked (2: its data is not quoted).
  if (tsharkAvailable())
    assert.deepEqual(tsharkRows('napt', [...outsideSent, ...insideGot]), [
      ['100.64.0.1,10.1.0.10', '10.1.0.10,198.51.100.10', '1,1', '1,2', ''],
      ['198.51.100.10,100.64.0.2', '100.64.0.2,198.51.100.10', '1,1', '1', '1024'],
      ['198.51.100.10,10.1.0.10', '10.1.0.10,198.51.100.10', '1,1', '1', '40000'],
    ]);
});

test('1:1 NAT on a router: errors both ways quote the address the other side knows, the border own included', () => {
  const { net, inside, outside, r, tx, rx } = natNetwork('static');
  const insideSent = tx(inside.port('eth0')!);
  const insideGot = rx(inside.port('eth0')!);
  const outsideSent = tx(outside.port('eth0')!);
  const outsideGot = rx(outside.port('eth0')!);
  net.start();
  inside.sendUdp(40000, WEB, 9, ascii('out?')); // unreachable at the outside host
  outside.sendUdp(41000, EIP, 9, ascii('in?')); // unreachable at the inside host
  const ping = outside.ping(EIP, { count: 1, ttl: 2 }); // expires at the border, after its NAT
  net.run({ until: 2e9 });
  assert.deepEqual(ping.results, [
    { seq: 1, status: 'error', from: '100.64.0.2', message: 'Time to live exceeded' },
  ]);
  const [insideUdp] = packetsOf(insideSent).filter((p) => p[9] === 17);
  const [outsideUdp] = packetsOf(outsideSent).filter((p) => p[9] === 17);
  const [fromOutside] = icmpOnly(outsideSent).filter((p) => p[20] === 3);
  const [fromInside] = icmpOnly(insideSent).filter((p) => p[20] === 3);
  const [gotInside] = icmpOnly(insideGot).filter((p) => p[20] === 3);
  const [gotOutside] = icmpOnly(outsideGot).filter((p) => p[20] === 3);
  assert.deepEqual(
    gotInside,
    arrived(fromOutside!, 2, { dst: INSIDE }, portUnreachable(quoteOf(insideUdp!, 62))),
  );
  assert.deepEqual(
    gotOutside,
    arrived(fromInside!, 2, { src: EIP }, portUnreachable(quoteOf(outsideUdp!, 62))),
  );
  // The border's own time exceeded: from its outside address, quoting the echo as sent to the elastic IP.
  const echo = packetsOf(outsideSent).find((p) => p[9] === 1 && p[20] === 8)!;
  const [exceeded] = icmpOnly(outsideGot).filter((p) => p[20] === 11);
  assert.equal(view(exceeded!).src, PUBLIC);
  assert.deepEqual(exceeded!.subarray(28), quoteOf(echo, 1));
  assert.equal(internetChecksum(exceeded!, 20, exceeded!.length), 0);
  // Out: the inside UDP, the inside port unreachable, the border's time exceeded; in: the outside
  // UDP, the outside port unreachable, the echo request.
  assert.deepEqual(r.staticNats.get('wan')!.counters, { translatedOut: 3, translatedIn: 3 });
  if (tsharkAvailable())
    assert.deepEqual(tsharkRows('static', [...insideSent, ...outsideGot]), [
      ['10.1.0.10,198.51.100.10', '198.51.100.10,10.1.0.10', '1,1', '1', '41000'],
      ['100.64.0.2,198.51.100.10', '198.51.100.10,203.0.113.5', '1,1', '1,2', ''],
      ['203.0.113.5,198.51.100.10', '198.51.100.10,203.0.113.5', '1,1', '1', '41000'],
    ]);
});

/** tshark's decode of the ICMP frames among `frames`, in time order: a row of `fields` a frame, a quote's values after the outer ones. */
function tsharkRows(name: string, frames: CapturedFrame[]): string[][] {
  const net = new Network();
  const capture = net.capture();
  capture.frames.push(...frames.filter((f) => isIpv4(f) && f.data[23] === 1));
  const path = join(mkdtempSync(join(tmpdir(), 'vnet-nat-icmp-')), `${name}.pcap`);
  writeFileSync(path, capture.toPcap());
  const fields = ['ip.src', 'ip.dst', 'ip.checksum.status', 'icmp.checksum.status', 'udp.srcport'];
  const r = spawnSync(
    'tshark',
    ['-r', path, '-o', 'ip.check_checksum:TRUE', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((row) => row.split('\t'));
}
