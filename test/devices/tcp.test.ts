/**
 * TCP in the host stack: the handshake on the wire (flags, MSS, exact ACK numbers), echo, loss and
 * RTO backoff, a blackout survived, the user timeout with its reason and ICMP soft error, fast
 * retransmit, zero window and persist probes, reordering, RST (closed port, router, abort), FIN
 * both ways to TIME-WAIT and CLOSED, bad checksums, and a capture that decodes as TCP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Host } from '../../src/devices/ip/host.js';
import { TcpBulkTransfer, TcpMessageClient } from '../../src/devices/tcp/tcp-apps.js';
import type { TcpConnection } from '../../src/devices/tcp/tcp-connection.js';
import type { TraceLog } from '../../src/devices/trace.js';
import { Network } from '../../src/topo/network.js';
import {
  decodeFrame,
  emitTcp,
  IpProtocol,
  ip,
  type Layer,
  readCapture,
  TcpFlag,
  TcpView,
} from '../../src/wire/index.js';
import { parseTsv, runTshark, tsharkAvailable } from '../helpers/tshark.js';

const B = ip('10.0.0.2');

/** a (10.0.0.1) and b (10.0.0.2) on one cable: 5 ms each way, 10 Mbit/s. */
function pair(options: { loss?: number; seed?: number; trace?: boolean } = {}) {
  const net = new Network({ trace: options.trace ?? true, seed: options.seed });
  const a = net.addHost('a', { ip: '10.0.0.1/24' });
  const b = net.addHost('b', { ip: '10.0.0.2/24' });
  const link = net.addLink(a, b, { delay: 5e6, bandwidth: 10e6, loss: options.loss });
  net.start();
  return { net, a, b, link };
}

const tcpLayer = (frame: Uint8Array): Layer | undefined =>
  decodeFrame(frame).layers.find((l) => l.layer === 'tcp');

/** The TCP segment inside an Ethernet/IPv4 frame (for frame filters). */
function segmentOf(frame: Uint8Array): TcpView | undefined {
  if (frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== IpProtocol.tcp) return undefined;
  const ihl = (frame[14]! & 0x0f) * 4;
  const total = (frame[16]! << 8) | frame[17]!;
  const v = TcpView.check(frame, 14 + ihl, 14 + total);
  return v.ok ? v.value : undefined;
}

/** Lets `keep` decide, for each frame arriving at `host`'s eth0, whether it is received. */
function filterArrivals(host: Host, keep: (frame: Uint8Array) => boolean): void {
  const port = host.port('eth0')!;
  const deliver = port.onReceive;
  port.onReceive = (frame, p) => {
    if (keep(frame)) deliver(frame, p);
  };
}

/** Loses the first SYN-ACK arriving at `host`; counts every SYN-ACK that arrives. */
function dropFirstSynAck(host: Host): { seen: number } {
  const count = { seen: 0 };
  filterArrivals(host, (frame) => {
    const seg = segmentOf(frame);
    return !(seg && seg.flags === (TcpFlag.SYN | TcpFlag.ACK) && ++count.seen === 1);
  });
  return count;
}

const tcpTrace = (net: Network, node: string) =>
  (net.tracer as TraceLog).events.filter((e) => e.kind === 'tcp' && e.node === node).map((e) => e.message);

test('the handshake on the wire: SYN with MSS 1460, SYN-ACK acknowledging ISN+1, ACK of the server ISN+1', () => {
  const { net, a, b, link } = pair();
  b.enableTcpEcho();
  const capture = net.capture().attachLink(link);
  const conn = a.tcp.connect(B, 7);
  let established = 0;
  conn.onEstablished = () => established++;
  net.run({ until: 1e9 });
  const segments = capture.frames.map((f) => tcpLayer(f.data)).filter((l) => l !== undefined);
  assert.equal(segments.length, 3);
  const [syn, synAck, ack] = segments as Layer[];
  assert.deepEqual(syn!.flags, ['SYN']);
  assert.equal(syn!.srcPort, 32768); // the first ephemeral port
  assert.equal(syn!.dstPort, 7);
  assert.equal(syn!.seq, conn.iss);
  assert.equal(syn!.ack, 0);
  assert.equal(syn!.window, 65535);
  assert.deepEqual(
    (syn!.options as { kind: number; mss?: number }[]).map((o) => [o.kind, o.mss]),
    [[2, 1460]],
  );
  assert.deepEqual(synAck!.flags, ['SYN', 'ACK']);
  assert.equal(synAck!.ack, (conn.iss + 1) >>> 0);
  assert.equal((synAck!.options as { mss?: number }[])[0]!.mss, 1460);
  assert.deepEqual(ack!.flags, ['ACK']);
  assert.equal(ack!.seq, (conn.iss + 1) >>> 0);
  assert.equal(ack!.ack, ((synAck!.seq as number) + 1) >>> 0);
  assert.equal(conn.state, 'ESTABLISHED');
  assert.equal(conn.mss, 1460);
  assert.equal(established, 1);
  const server = b.tcp.connections()[0]!;
  assert.equal(server.state, 'ESTABLISHED');
  assert.equal(server.irs, conn.iss);
  // Deterministic: the same network gives the same ISN.
  const again = pair();
  again.b.enableTcpEcho();
  assert.equal(again.a.tcp.connect(B, 7).iss, conn.iss);
  assert.deepEqual(tcpTrace(net, 'a').slice(0, 2), [
    `TCP 10.0.0.1:32768 -> 10.0.0.2:7 SYN seq=${conn.iss} win=65535 len=0 mss=1460; SYN-SENT`,
    `TCP 10.0.0.2:7 -> 10.0.0.1:32768 SYN,ACK seq=${synAck!.seq} ack=${(conn.iss + 1) >>> 0} win=65535 len=0 mss=1460; SYN-SENT`,
  ]);
});

test('a message session is echoed byte for byte; RTT estimated from the exchange', () => {
  const { net, a, b } = pair();
  b.enableTcpEcho();
  const client = new TcpMessageClient(a.tcp, 's1', 'a', B, 7, { every: 100e6, size: 200 });
  net.run({ until: 1e9 - 1 });
  const s = client.status();
  assert.equal(s.established, true);
  assert.equal(s.alive, true);
  assert.equal(s.sent, 10);
  assert.equal(s.echoed, 10);
  assert.equal(s.corrupt, 0);
  assert.equal(s.retransmissions, 0);
  assert.deepEqual(s.failures, []);
  assert.equal(client.conn.stats.bytesSent, 2000);
  assert.equal(client.conn.stats.bytesAcked, 2000);
  assert.equal(client.conn.stats.bytesReceived, 2000);
  assert.equal(s.rto, 200e6); // the minimum: the RTT is about 10 ms
  assert.ok(s.srtt !== null && s.srtt > 10e6 && s.srtt < 12e6, String(s.srtt));
});

test('a 5 s blackout: retransmissions back off 400 ms, 800 ms, 1.6 s, 3.2 s, 6.4 s; the session survives', () => {
  const { net, a, b, link } = pair();
  b.enableTcpEcho();
  const client = new TcpMessageClient(a.tcp, 's1', 'a', B, 7, { every: 100e6 });
  net.run({ until: 1e9 });
  link.setUp(false);
  net.run({ until: 6e9 });
  link.setUp(true);
  net.run({ until: 12e9 });
  const s = client.status();
  assert.equal(s.alive, true);
  assert.deepEqual(s.failures, []);
  assert.equal(s.sent, 120);
  assert.equal(s.echoed, 120);
  assert.equal(s.corrupt, 0);
  assert.equal(s.rtoExpiries, 5);
  assert.deepEqual(
    tcpTrace(net, 'a')
      .filter((m) => m.includes('RTO expired'))
      .map((m) => m.replace(/.*\(RTO now (.*)\)/, '$1')),
    ['400 ms', '800 ms', '1.6 s', '3.2 s', '6.4 s'],
  );
  // The longest silence: from the last echo before the blackout to the first after it (the
  // retransmission at 7.2 s, after 6.4 s of backoff, gets through).
  assert.ok(s.largestGap > 6e9 && s.largestGap < 6.5e9, String(s.largestGap));
  assert.ok(s.largestGapEnd! > 7.2e9 && s.largestGapEnd! < 7.3e9, String(s.largestGapEnd));
});

test('the user timeout gives up with its reason; the ICMP error about the segments is named', () => {
  // a -- r -- b: once r loses its route to b, it answers every segment with net unreachable.
  const net = new Network({ trace: true });
  const a = net.addHost('a', { ip: '10.0.0.1/24', gateway: '10.0.0.254' });
  const b = net.addHost('b', { ip: '10.0.1.1/24', gateway: '10.0.1.254' });
  const r = net.addRouter('r', [
    { name: 'eth0', addresses: ['10.0.0.254/24'] },
    { name: 'eth1', addresses: ['10.0.1.254/24'] },
  ]);
  net.addLink(a, r, { delay: 1e6 });
  net.addLink(r, b, { delay: 1e6 });
  net.start();
  b.enableTcpEcho();
  const client = new TcpMessageClient(a.tcp, 's1', 'a', ip('10.0.1.1'), 7, {
    every: 100e6,
    userTimeout: 10e9,
  });
  net.run({ until: 1e9 });
  assert.equal(client.status().echoed, 10);
  r.routes.remove((route) => route.prefixLength === 24 && route.iface === 'eth1');
  net.run({ until: 30e9 });
  const s = client.status();
  assert.equal(s.alive, false);
  assert.equal(s.state, 'CLOSED');
  assert.deepEqual(
    s.failures.map((f) => f.reason),
    [
      'timed out: no acknowledgement for 10 s (5 retransmissions); last ICMP error: Destination Net Unreachable from 10.0.0.254',
    ],
  );
  // 10 s after the first segment that was never acknowledged (sent just after 1 s).
  assert.ok(s.failures[0]!.time > 11e9 && s.failures[0]!.time < 11.1e9, String(s.failures[0]!.time));
  assert.equal(s.softError, 'Destination Net Unreachable from 10.0.0.254');
  assert.deepEqual(a.tcp.connections(), []);
});

test('a connect to a closed port is refused with a RST; routers answer RST too', () => {
  const net = new Network({ trace: true });
  const a = net.addHost('a', { ip: '10.0.0.1/24', gateway: '10.0.0.254' });
  const r = net.addRouter('r', [{ name: 'eth0', addresses: ['10.0.0.254/24'] }]);
  const b = net.addHost('b', { ip: '10.0.0.2/24' });
  const sw = net.addSwitch('sw');
  for (const n of [a, r, b]) net.addLink(n, sw, { delay: 1e6 });
  net.start();
  const reasons: string[] = [];
  const toHost = a.tcp.connect(B, 81);
  toHost.onClose = (reason) => reasons.push(`b: ${reason}`);
  const toRouter = a.tcp.connect(ip('10.0.0.254'), 22);
  toRouter.onClose = (reason) => reasons.push(`r: ${reason}`);
  net.run({ until: 1e9 });
  assert.deepEqual(reasons.sort(), ['b: connection refused', 'r: connection refused']);
  assert.equal(b.tcp.counters.rstsSent, 1);
  assert.equal(r.tcp.counters.rstsSent, 1);
  assert.equal(a.tcp.counters.rstsReceived, 2);
  assert.equal(b.drops['tcp-port-closed'], 1);
  assert.equal(b.drops['protocol-unreachable'], undefined);
});

test('a SYN nobody answers times out after the SYN retries, with the ICMP error ARP failure caused', () => {
  const { net, a } = pair();
  const conn = a.tcp.connect(ip('10.0.0.9'), 7, { synRetries: 2 });
  let reason = '';
  conn.onClose = (r) => {
    reason = r;
  };
  net.run({ until: 30e9 });
  assert.equal(reason, 'timed out; last ICMP error: Destination Host Unreachable from 10.0.0.1');
  assert.equal(conn.stats.retransmissions, 2);
});

test('abort sends a RST: the peer closes with "connection reset by peer"', () => {
  const { net, a, b } = pair();
  let server: TcpConnection | undefined;
  let serverReason = '';
  b.tcp.listen(5000, (c) => {
    server = c;
    c.onClose = (r) => {
      serverReason = r;
    };
  });
  const conn = a.tcp.connect(B, 5000);
  let clientReason = '';
  conn.onClose = (r) => {
    clientReason = r;
  };
  net.run({ until: 1e9 });
  assert.equal(server?.state, 'ESTABLISHED');
  conn.abort();
  net.run({ until: 2e9 });
  assert.equal(clientReason, 'aborted');
  assert.equal(serverReason, 'connection reset by peer');
  assert.equal(server!.state, 'CLOSED');
  assert.equal(a.tcp.counters.rstsSent, 1);
  assert.equal(b.tcp.counters.rstsReceived, 1);
});

test('a RST with a sequence number off RCV.NXT does not reset: it earns a challenge ACK (RFC 5961)', () => {
  const { net, a, b } = pair();
  b.tcp.listen(5000, () => {});
  const conn = a.tcp.connect(B, 5000);
  net.run({ until: 1e9 });
  const server = b.tcp.connections()[0]!;
  // A forged RST inside the window but not at RCV.NXT.
  const forged = new Uint8Array(20);
  const view = (seq: number) => {
    forged.fill(0);
    forged[0] = conn.local.port >> 8;
    forged[1] = conn.local.port & 255;
    forged[2] = 5000 >> 8;
    forged[3] = 5000 & 255;
    forged[4] = seq >>> 24;
    forged[5] = (seq >>> 16) & 255;
    forged[6] = (seq >>> 8) & 255;
    forged[7] = seq & 255;
    forged[12] = 5 << 4;
    forged[13] = TcpFlag.RST;
    const checked = TcpView.check(forged);
    assert.ok(checked.ok);
    return checked.value;
  };
  const before = server.stats.segmentsSent;
  server.receive(view((server.rcvNxt + 100) >>> 0));
  assert.equal(server.state, 'ESTABLISHED');
  assert.equal(server.stats.segmentsSent, before + 1); // the challenge ACK
  server.receive(view(server.rcvNxt));
  assert.equal(server.state, 'CLOSED');
  assert.equal(server.closeReason, 'connection reset by peer');
});

test('FIN both ways: the closer waits in TIME-WAIT (1 s) then CLOSED; the other side passes LAST-ACK', () => {
  const { net, a, b } = pair();
  b.enableTcpEcho();
  const conn = a.tcp.connect(B, 7);
  conn.onEstablished = () => {
    conn.send(new Uint8Array(10));
    conn.close();
  };
  const echoed: number[] = [];
  conn.onData = (d) => echoed.push(d.length);
  let closed = -1;
  conn.onClose = (r) => {
    assert.equal(r, 'closed');
    closed = net.scheduler.now();
  };
  net.run({ until: 500e6 });
  assert.equal(conn.state, 'TIME-WAIT');
  assert.deepEqual(echoed, [10]);
  assert.deepEqual(b.tcp.connections(), []);
  const transitions = tcpTrace(net, 'b').filter((m) => m.includes(' -> ') && !m.includes(' len='));
  assert.deepEqual(
    transitions.map((m) => m.replace(/.*: /, '')),
    [
      'SYN-RECEIVED -> ESTABLISHED',
      'ESTABLISHED -> CLOSE-WAIT',
      'CLOSE-WAIT -> LAST-ACK',
      'LAST-ACK -> CLOSED',
    ],
  );
  net.run({ until: 3e9 });
  assert.equal(conn.state, 'CLOSED');
  assert.ok(closed > 1e9 && closed < 1.1e9, String(closed));
  assert.deepEqual(a.tcp.connections(), []);
});

/** A receiver on b:port that keeps every byte (and may start paused). */
function sink(
  b: Host,
  port: number,
  paused = false,
): { bytes: number[]; conn: () => TcpConnection | undefined } {
  const bytes: number[] = [];
  let accepted: TcpConnection | undefined;
  b.tcp.listen(port, (c) => {
    accepted = c;
    if (paused) c.pauseReading();
    c.onData = (d) => {
      for (const x of d) bytes.push(x);
    };
    c.onRemoteClose = () => c.close();
  });
  return { bytes, conn: () => accepted };
}

const inOrder = (bytes: number[], n: number) => bytes.length === n && bytes.every((x, i) => x === (i & 0xff));

test('fast retransmit: one lost segment is resent on the third duplicate ACK, without an RTO', () => {
  const { net, a, b } = pair();
  const { bytes } = sink(b, 9);
  let dataSegments = 0;
  filterArrivals(b, (frame) => {
    const seg = segmentOf(frame);
    if (seg && seg.payload.length > 0 && ++dataSegments === 5) return false; // the 5th data segment is lost
    return true;
  });
  const bulk = new TcpBulkTransfer(a.tcp, B, 9, 100_000);
  net.run({ until: 10e9 });
  const r = bulk.result();
  assert.equal(r.done, true);
  assert.equal(r.fastRetransmits, 1);
  assert.equal(r.rtoExpiries, 0);
  assert.equal(r.retransmissions, 1);
  assert.ok(bulk.conn.stats.dupAcksReceived >= 3);
  assert.ok(inOrder(bytes, 100_000));
  assert.ok(tcpTrace(net, 'a').some((m) => m.includes('3 duplicate ACKs: fast retransmit')));
});

test('reordering: a segment delayed behind the next is held out of order, and the stream stays in order', () => {
  const { net, a, b } = pair();
  const { bytes, conn } = sink(b, 9);
  let dataSegments = 0;
  let held: Uint8Array | null = null;
  const port = b.port('eth0')!;
  const deliver = port.onReceive;
  port.onReceive = (frame, p) => {
    const seg = segmentOf(frame);
    if (seg && seg.payload.length > 0) {
      dataSegments++;
      if (dataSegments === 2) {
        held = frame;
        return;
      }
      deliver(frame, p);
      if (dataSegments === 3 && held) deliver(held, p);
      return;
    }
    deliver(frame, p);
  };
  const bulk = new TcpBulkTransfer(a.tcp, B, 9, 10_000);
  net.run({ until: 5e9 });
  assert.equal(bulk.result().done, true);
  assert.equal(conn()?.stats.outOfOrderSegments ?? b.tcp.counters.outOfOrderSegments, 1);
  assert.equal(b.tcp.counters.outOfOrderSegments, 1);
  assert.ok(inOrder(bytes, 10_000));
  assert.equal(bulk.result().retransmissions, 0);
});

test('zero window: a receiver that stops reading closes the window; persist probes; reading again finishes the transfer', () => {
  const { net, a, b } = pair();
  const { bytes, conn } = sink(b, 9, true);
  const bulk = new TcpBulkTransfer(a.tcp, B, 9, 200_000);
  net.run({ until: 3e9 });
  assert.equal(bulk.conn.sndWnd, 0);
  assert.equal(conn()!.receiveWindow(), 0);
  assert.equal(bytes.length, 0);
  assert.equal(bulk.conn.stats.bytesAcked, 65536);
  const probes = bulk.conn.stats.zeroWindowProbes;
  assert.ok(probes >= 2, `probes ${probes}`);
  assert.equal(bulk.conn.stats.rtoExpiries, 0); // persist probes are not RTO expiries
  conn()!.resumeReading();
  net.run({ until: 10e9 });
  assert.equal(bulk.result().done, true);
  assert.ok(inOrder(bytes, 200_000));
});

test('random loss: the transfer completes in order, with retransmissions', () => {
  const { net, a, b } = pair({ loss: 0.05, seed: 3, trace: false });
  const { bytes } = sink(b, 9);
  const bulk = new TcpBulkTransfer(a.tcp, B, 9, 300_000);
  net.run({ until: 120e9 });
  const r = bulk.result();
  assert.equal(r.done, true);
  assert.ok(inOrder(bytes, 300_000));
  assert.ok(r.retransmissions > 0);
  assert.ok(r.throughput! > 0 && r.throughput! < 10e6);
});

test('a bulk transfer over a clean 10 Mbit/s link runs near the line rate', () => {
  const { net, a, b } = pair({ trace: false });
  b.enableTcpDiscard();
  const bulk = new TcpBulkTransfer(a.tcp, B, 9, 1_000_000);
  net.run({ until: 20e9 });
  const r = bulk.result();
  assert.equal(r.done, true);
  assert.equal(r.retransmissions, 0);
  assert.ok(r.throughput! > 8e6 && r.throughput! < 10e6, String(r.throughput));
});

test('a corrupted segment is dropped as tcp-bad-checksum and retransmitted', () => {
  const { net, a, b } = pair();
  b.enableTcpEcho();
  let n = 0;
  filterArrivals(b, (frame) => {
    const seg = segmentOf(frame);
    if (seg && seg.payload.length > 0 && ++n === 2) {
      frame[frame.length - 1]! ^= 0xff; // one bit pattern flipped in the payload
    }
    return true;
  });
  const client = new TcpMessageClient(a.tcp, 's', 'a', B, 7, { every: 100e6, size: 100 });
  net.run({ until: 2e9 - 1 });
  assert.equal(b.drops['tcp-bad-checksum'], 1);
  assert.equal(client.status().echoed, 20);
  assert.equal(client.status().corrupt, 0);
  assert.equal(client.status().retransmissions, 1);
});

test('a capture of a TCP exchange decodes as TCP (and as tshark decodes it, when installed)', () => {
  const { net, a, b, link } = pair();
  b.enableTcpEcho();
  const capture = net.capture().attachLink(link);
  const client = new TcpMessageClient(a.tcp, 's', 'a', B, 7, { every: 100e6, size: 32 });
  net.run({ until: 300e6 });
  client.stop();
  net.run({ until: 3e9 });
  const pcap = capture.toPcap();
  const file = readCapture(pcap);
  assert.equal(file.error, null);
  const tcp = file.packets
    .map((p) => decodeFrame(p.data))
    .filter((d) => d.layers.some((l) => l.layer === 'tcp'));
  assert.ok(tcp.length >= 12);
  for (const d of tcp) {
    assert.equal(d.error, null);
    assert.equal(d.layers.find((l) => l.layer === 'tcp')!.checksumOk, true);
  }
  const flags = tcp.map((d) => (d.layers.find((l) => l.layer === 'tcp')!.flags as string[]).join(','));
  assert.deepEqual(flags.slice(0, 3), ['SYN', 'SYN,ACK', 'PSH,ACK']); // the first message rides on the handshake's ACK
  assert.ok(flags.includes('FIN,ACK'));
  if (tsharkAvailable()) {
    const dir = mkdtempSync(join(tmpdir(), 'vnet-tcp-'));
    const path = join(dir, 'tcp.pcap');
    writeFileSync(path, pcap);
    const rows = parseTsv(runTshark(path)).filter((r) => r['tcp.srcport'] !== '');
    assert.equal(rows.length, tcp.length);
    for (const [i, d] of tcp.entries()) {
      const l = d.layers.find((x) => x.layer === 'tcp')!;
      assert.equal(rows[i]!['tcp.seq_raw'], String(l.seq));
      assert.equal(rows[i]!['tcp.ack_raw'], String(l.ack));
    }
  }
});

test('a lost SYN-ACK: the client retransmits its SYN after 1 s, and the server answers it with the SYN-ACK again', () => {
  const { net, a, b } = pair();
  b.enableTcpEcho();
  const synAcks = dropFirstSynAck(a);
  const conn = a.tcp.connect(B, 7);
  net.run({ until: 3e9 });
  assert.equal(conn.state, 'ESTABLISHED');
  assert.ok(conn.establishedAt! > 1e9 && conn.establishedAt! < 1.02e9, String(conn.establishedAt));
  assert.equal(conn.stats.retransmissions, 1);
  assert.equal(b.tcp.connections()[0]!.stats.retransmissions, 1);
  assert.equal(synAcks.seen, 2);
});

test("Karn's rule holds for the handshake: a retransmitted SYN or SYN-ACK gives no RTT sample", () => {
  const { net, a, b } = pair();
  b.enableTcpEcho();
  dropFirstSynAck(a);
  const conn = a.tcp.connect(B, 7);
  net.run({ until: 1.1e9 });
  assert.equal(conn.state, 'ESTABLISHED');
  const server = b.tcp.connections()[0]!;
  assert.equal(server.state, 'ESTABLISHED');
  // Both handshake segments were retransmitted: which copy the answer is for is ambiguous.
  assert.equal(conn.rto.srtt, null);
  assert.equal(server.rto.srtt, null);
  // The first data exchange gives the first sample: about 10 ms, not the 1 s of the SYN's timeout.
  conn.send(new Uint8Array(10));
  net.run({ until: 1.2e9 });
  assert.ok(conn.rto.srtt !== null && conn.rto.srtt > 10e6 && conn.rto.srtt < 12e6, String(conn.rto.srtt));
  assert.equal(conn.rto.rto, 200e6);
});

test('a stopped timer leaves nothing scheduled: an idle or closed connection lets the network go quiet at once', () => {
  const { net, a, b, link } = pair({ trace: false });
  b.enableTcpEcho();
  const conn = a.tcp.connect(B, 7);
  net.run({ until: 1e9 });
  assert.equal(conn.state, 'ESTABLISHED');
  // Idle: the handshake's retransmission timer was stopped, so nothing is left to run.
  assert.deepEqual(net.run(), { reason: 'quiet', events: 0, now: 1e9 });
  // Data unacknowledged behind a dead link: RTOs at 1.2 s, 1.6 s, 2.4 s; abort at t=3.9 s.
  link.setUp(false);
  conn.send(new Uint8Array(100));
  net.run({ until: 3.9e9 });
  assert.equal(conn.stats.rtoExpiries, 3);
  conn.abort();
  assert.equal(conn.state, 'CLOSED');
  // Closed: no timer of it runs afterwards (the next RTO would have been at 4 s).
  assert.deepEqual(net.run(), { reason: 'quiet', events: 0, now: 3.9e9 });
});

test('simultaneous open, closed in SYN-RECEIVED with data queued: every byte arrives, then the FIN', () => {
  const { net, a, b } = pair();
  net.run({ until: 1e6 });
  const ca = a.tcp.connect(B, 6000, { localPort: 5000 });
  const cb = b.tcp.connect(ip('10.0.0.1'), 5000, { localPort: 6000 });
  const got: number[] = [];
  cb.onData = (d) => got.push(...d);
  cb.onRemoteClose = () => cb.close();
  net.run({ until: 12e6 }); // both SYNs crossed: both answered SYN-ACK
  assert.deepEqual([ca.state, cb.state], ['SYN-RECEIVED', 'SYN-RECEIVED']);
  assert.equal(ca.send(new Uint8Array([1, 2, 3, 4, 5])), true);
  ca.close(); // RFC 9293 3.10.4: the FIN waits until ESTABLISHED, after the data
  assert.equal(ca.state, 'SYN-RECEIVED');
  net.run({ until: 500e6 });
  assert.deepEqual(got, [1, 2, 3, 4, 5]);
  assert.equal(ca.stats.bytesAcked, 5);
  assert.equal(ca.state, 'TIME-WAIT');
  assert.equal(cb.state, 'CLOSED');
  assert.equal(cb.closeReason, 'closed');
});

test('FIN-WAIT-2 ends after 60 s when the peer never closes its side (Linux tcp_fin_timeout)', () => {
  const { net, a, b } = pair();
  let server: TcpConnection | null = null;
  b.tcp.listen(80, (c) => {
    server = c; // accepts, never closes
  });
  const conn = a.tcp.connect(B, 80);
  conn.onEstablished = () => conn.close();
  let closedAt = -1;
  conn.onClose = () => {
    closedAt = net.scheduler.now();
  };
  net.run({ until: 1e9 });
  assert.equal(conn.state, 'FIN-WAIT-2');
  assert.equal((server as TcpConnection | null)?.state, 'CLOSE-WAIT');
  const finAcked = net.scheduler.now();
  net.run({ until: 70e9 });
  assert.equal(conn.state, 'CLOSED');
  assert.ok(closedAt > 60e9 && closedAt < finAcked + 60e9, `closed at ${closedAt}`);
  assert.deepEqual(a.tcp.connections(), []);
});

test('TIME-WAIT: a retransmitted FIN is acknowledged again and restarts the 2*MSL timer', () => {
  const { net, a, b } = pair();
  b.enableTcpEcho();
  const conn = a.tcp.connect(B, 7);
  conn.onEstablished = () => conn.close();
  net.run({ until: 300e6 });
  assert.equal(conn.state, 'TIME-WAIT');
  // The peer's FIN again, as if our last ACK had been lost: [FIN, ACK] at the FIN's sequence number.
  const acksBefore = conn.stats.segmentsSent;
  const fin = emitTcp(
    {
      srcPort: 7,
      dstPort: conn.local.port,
      seq: (conn.rcvNxt - 1) >>> 0,
      ack: conn.sndNxt,
      flags: TcpFlag.FIN | TcpFlag.ACK,
      window: 65535,
      urgentPointer: 0,
      options: new Uint8Array(0),
    },
    new Uint8Array(0),
    { src: B, dst: ip('10.0.0.1') },
  );
  // b has closed: it answers our new ACK with a RST, which ends TIME-WAIT at once (RFC 1337's
  // "assassination", as Linux does by default). Keep that RST away to see the timer.
  filterArrivals(a, (frame) => ((segmentOf(frame)?.flags ?? 0) & TcpFlag.RST) === 0);
  const at = net.scheduler.now();
  net.scheduler.schedule(0, () =>
    b.sendIp({ src: B, dst: ip('10.0.0.1'), protocol: IpProtocol.tcp, payload: fin }),
  );
  net.run({ until: at + 900e6 });
  assert.equal(conn.state, 'TIME-WAIT', 'still waiting: the timer restarted at the retransmitted FIN');
  assert.equal(conn.stats.segmentsSent, acksBefore + 1, 'the FIN was acknowledged again');
  net.run({ until: at + 1_200e6 });
  assert.equal(conn.state, 'CLOSED');
});
