/** Switching loops: without spanning tree the storm is cut off by the budget, and called a loop; with it, one port blocks and traffic flows once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emitBpduFrame, fromHex, mac, parseBpdu, toHex } from '../../src/wire/index.js';
import { runExample, stepOf } from '../helpers/labs.js';
import { goldenFrames } from '../helpers/repo.js';

test('a loop without spanning tree storms until the event budget stops it, with a clear message', () => {
  const { result } = runExample('examples/07-switching-loop-storm.yaml');
  assert.equal(stepOf(result, 1, 'ping').statistics.received, 0);
  const s1 = stepOf(result, 2, 'show');
  // One broadcast became hundreds of thousands of copies, and A's address flapped between ports.
  assert.ok(s1.counters!.flooded! > 100_000, `flooded ${s1.counters!.flooded}`);
  assert.ok(s1.counters!.moved! > 100_000);
  assert.equal(result.steps.length, 2);
  assert.equal(result.events, 5_000_000);
  assert.equal(result.stopReason, 'events');
  assert.deepEqual(result.traffic?.loop, {
    port: 'A:eth0',
    repeats: 1086,
    frame: 'ARP frame from 02:00:00:00:00:0a to ff:ff:ff:ff:ff:ff',
  });
  assert.equal(
    result.stopped,
    'event budget of 5,000,000 events spent at t=1.33 s with 7 events still pending: 5,000,011 frames sent (4,361,553 forwarded by switches and hubs, 638,458 by hosts, routers and NVEs); top talkers: s2 (switch) 2,052,350, s1 (switch) 1,473,833, s3 (switch) 835,370, B (host) 638,455, A (host) 3; protocols of the next 10,000 frames delivered (1.496 ms): ARP 10,000; a switching loop: the same ARP frame from 02:00:00:00:00:0a to ff:ff:ff:ff:ff:ff arrived at A:eth0 1,086 times: frames go round without end (turn spanning tree on, stp: true, or take a link out of the loop)',
  );
});

test('spanning tree elects the root, blocks one port of the loop, and reconverges when a link fails', () => {
  const { result } = runExample('examples/08-spanning-tree.yaml');
  assert.equal(result.stopped, null);
  const roles = (n: number) => stepOf(result, n, 'show').rows.map((r) => [r.port, r.role, r.state]);
  assert.deepEqual(roles(2), [
    ['1', 'designated', 'forwarding'],
    ['2', 'designated', 'forwarding'],
    ['3', 'designated', 'forwarding'],
  ]);
  assert.deepEqual(roles(3), [
    ['1', 'root', 'forwarding'],
    ['2', 'designated', 'forwarding'],
    ['3', 'designated', 'forwarding'],
  ]);
  assert.deepEqual(roles(4), [
    ['1', 'alternate', 'blocking'],
    ['2', 'root', 'forwarding'],
  ]);
  assert.equal(stepOf(result, 5, 'ping').statistics.received, 3);
  // s3 saw A's ARP broadcast once, on its blocked port, and dropped it there: no copy circled back.
  assert.equal(stepOf(result, 6, 'show').counters!['drop:stp-not-forwarding'], 1);
  // s1-s2 fails: s3's blocked port becomes designated and forwards, and the ping goes round the other way.
  assert.deepEqual(roles(9), [
    ['1', 'designated', 'forwarding'],
    ['2', 'root', 'forwarding'],
  ]);
  assert.equal(stepOf(result, 10, 'ping').statistics.received, 3);
});

test('configuration BPDUs are byte-exact (the scapy golden frame) and parse back', () => {
  const golden = goldenFrames().find((f) => f.name === 'llc-stp-bpdu')!;
  const bridge = { priority: 32768, mac: mac('00:0a:95:b1:2c:eb') };
  const bpdu = {
    type: 'config' as const,
    flags: 0,
    root: bridge,
    rootPathCost: 0,
    bridge,
    portId: 0x8001,
    messageAge: 1,
    maxAge: 20,
    helloTime: 2,
    forwardDelay: 15,
  };
  const frame = emitBpduFrame(bridge.mac, bpdu);
  assert.equal(toHex(frame), golden.hex);
  const parsed = parseBpdu(fromHex(golden.hex).subarray(17));
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, bpdu);
  assert.deepEqual(parseBpdu(fromHex('00000080')), { ok: true, value: { type: 'tcn' } });
  assert.equal(parseBpdu(fromHex('00000002')).ok, false); // RSTP BPDUs are not decoded
});

test('a ring of 24 spanning-tree switches converges with exactly one blocked port (message age grows one per hop)', () => {
  const { result, net } = runExample('test/fixtures/labs/ring24.yaml');
  assert.equal(result.stopped, null);
  const blocked: string[] = [];
  for (const [name, node] of net.nodes) {
    const stp = (node as { stp?: { table(): { port: string; role: string; state: string }[] } | null }).stp;
    for (const row of stp?.table() ?? []) if (row.state === 'blocking') blocked.push(`${name}:${row.port}`);
  }
  assert.equal(blocked.length, 1, blocked.join(' '));
  const pings = result.steps.filter((s) => s.step === 'ping');
  assert.ok(pings.length > 0);
  for (const p of pings) assert.equal(p.step === 'ping' && p.statistics.lossPercent, 0);
});

test('after a failover the topology change reaches every bridge, so no one keeps a stale MAC entry', () => {
  const { result } = runExample('test/fixtures/labs/tc.yaml');
  assert.equal(stepOf(result, 2, 'ping').statistics.received, 2);
  assert.equal(stepOf(result, 7, 'ping').statistics.received, 5); // s2 relearned B behind its new path
});
