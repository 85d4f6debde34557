/** The TCP lab steps: tcp-server, tcp-session, tcp-status, tcp-bulk, `show NODE tcp`, their checks, and example 17. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLab } from '../../src/topo/lab/build.js';
import { formatIssue, validateLab } from '../../src/topo/lab/check.js';
import { renderLabRun } from '../../src/topo/lab/report.js';
import { LabRunner } from '../../src/topo/lab/run.js';
import { runExample, stepOf } from '../helpers/labs.js';

const NODES = {
  a: { kind: 'host', ip: '10.0.0.1/24' },
  b: { kind: 'host', ip: '10.0.0.2/24' },
};
const LINKS = [{ a: 'a', b: 'b', delay: '5ms', bandwidth: '10Mbps' }];

function run(script: unknown[]) {
  const checked = validateLab({ nodes: NODES, links: LINKS, script });
  assert.ok(checked.ok, checked.ok ? '' : checked.issues.map(formatIssue).join('; '));
  const runner = new LabRunner(checked.lab, buildLab(checked.lab));
  return { runner, result: runner.run() };
}

test('tcp-server, tcp-session and tcp-status run through the lab runner', () => {
  const { runner, result } = run([
    { 'tcp-server': { node: 'b', port: 7, app: 'echo' } },
    { 'tcp-session': { name: 's1', from: 'a', to: '10.0.0.2', port: 7, every: '100ms', size: 100 } },
    { wait: '1s' },
    { 'tcp-status': { session: 's1' } },
    { show: { node: 'a', table: 'tcp' } },
    { show: { node: 'b', table: 'counters' } },
  ]);
  assert.equal(result.stopped, null);
  assert.deepEqual(stepOf(result, 1, 'tcp-server'), {
    step: 'tcp-server',
    time: 0,
    node: 'b',
    port: 7,
    app: 'echo',
  });
  const session = stepOf(result, 2, 'tcp-session');
  assert.equal(session.established, true);
  assert.equal(session.state, 'ESTABLISHED');
  assert.equal(session.local, '10.0.0.1:32768');
  assert.equal(session.reason, null);
  const status = stepOf(result, 4, 'tcp-status').status;
  assert.equal(status.alive, true);
  assert.equal(status.sent, 11);
  assert.equal(status.echoed, 10);
  assert.equal(status.corrupt, 0);
  assert.deepEqual(status.failures, []);
  const table = stepOf(result, 5, 'show');
  assert.deepEqual(
    table.rows.map((r) => [r.local, r.remote, r.state, r.retransmits]),
    [['10.0.0.1:32768', '10.0.0.2:7', 'ESTABLISHED', 0]],
  );
  const counters = stepOf(result, 6, 'show').counters!;
  assert.equal(counters['tcp:bytesReceived'], 1000); // the 11th message is still on its way
  // The runner's sessions, for later steps (a migration) to find.
  const client = runner.tcpSessions.get('s1')!;
  assert.equal(client.from, 'a');
  assert.equal(client.server, 'b');
  const text = renderLabRun(result);
  assert.ok(text.includes('echo server listening on TCP port 7'));
  assert.ok(text.includes('messages: 11 sent, 10 echoed; last echo t=925.486 ms'), text.join('\n'));
});

test('a session to a closed port fails with "connection refused"; tcp-bulk reports throughput', () => {
  const { result } = run([
    { 'tcp-session': { name: 's1', from: 'a', to: '10.0.0.2', port: 7, every: '100ms' } },
    { 'tcp-server': { node: 'b', port: 9, app: 'discard' } },
    { 'tcp-bulk': { from: 'a', to: '10.0.0.2', port: 9, bytes: 500000 } },
  ]);
  const session = stepOf(result, 1, 'tcp-session');
  assert.equal(session.established, false);
  assert.equal(session.reason, 'connection refused');
  const bulk = stepOf(result, 3, 'tcp-bulk');
  assert.equal(bulk.done, true);
  assert.equal(bulk.bytes, 500000);
  assert.ok(bulk.throughput! > 7e6 && bulk.throughput! < 10e6, String(bulk.throughput));
  assert.match(
    renderLabRun(result).join('\n'),
    /500000 bytes in [\d.]+ ms: [\d.]+ Mbit\/s \(0 retransmissions/,
  );
});

test('the TCP steps are checked: hosts only, unique session names, status of a known session', () => {
  const r = validateLab({
    nodes: { ...NODES, sw: { kind: 'switch' } },
    links: LINKS,
    script: [
      { 'tcp-server': { node: 'sw', port: 7, app: 'echo' } },
      { 'tcp-status': { session: 's1' } },
      { 'tcp-session': { name: 's1', from: 'a', to: '10.0.0.2', port: 7, every: '1s' } },
      { 'tcp-session': { name: 's1', from: 'a', to: '10.0.0.2', port: 7, every: '1s' } },
      { 'tcp-bulk': { from: 'nobody', to: '10.0.0.2', port: 9, bytes: 10 } },
      { show: { node: 'sw', table: 'tcp' } },
    ],
  });
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.issues.map(formatIssue), [
    'script[0].tcp-server.node: sw is a switch; this step needs a host',
    'script[1].tcp-status.session: no tcp-session step before this one opens "s1"',
    'script[3].tcp-session.name: session "s1" is already opened by script[2].tcp-session',
    'script[4].tcp-bulk.from: unknown node "nobody"',
    'script[5].show.node: sw is a switch; this step needs a host or router',
  ]);
});

test('example 17: the session survives a 5 s blackout; the largest gap is the blackout plus backoff', () => {
  const { result } = runExample('examples/17-tcp-session.yaml');
  assert.equal(result.stopped, null);
  assert.equal(stepOf(result, 4, 'tcp-session').established, true);
  const before = stepOf(result, 6, 'tcp-status').status;
  assert.equal(before.retransmissions, 0);
  const after = stepOf(result, 11, 'tcp-status').status;
  assert.equal(after.alive, true);
  assert.deepEqual(after.failures, []);
  assert.equal(after.rtoExpiries, 5);
  assert.equal(after.sent, after.echoed + 1); // the last message is on its way
  assert.equal(after.corrupt, 0);
  assert.ok(after.largestGap > 6e9 && after.largestGap < 6.5e9, String(after.largestGap));
  const bulk = stepOf(result, 13, 'tcp-bulk');
  assert.equal(bulk.done, true);
  assert.equal(bulk.retransmissions, 0);
  assert.ok(bulk.throughput! > 8e6 && bulk.throughput! < 10e6);
});
