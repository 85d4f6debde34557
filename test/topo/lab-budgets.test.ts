/**
 * A run's budgets and what it says when one is spent: memory (a heap reader that passes the limit),
 * wall time (a fake clock), events; a large flood that is not a loop, a loop that is one, and a
 * storm still running when the script ends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLab } from '../../src/topo/lab/build.js';
import { validateLab } from '../../src/topo/lab/check.js';
import { runLab } from '../../src/topo/lab/run.js';
import type { LabFile } from '../../src/topo/lab/schema.js';
import type { RunLimits } from '../../src/topo/run-guard.js';
import { frameProtocol } from '../../src/topo/traffic-report.js';
import { fromHex } from '../../src/wire/index.js';
import { goldenFrames } from '../helpers/repo.js';

/** `n` hosts on one switch, host 1 pinging host 2 once. */
function hostsOnASwitch(n: number): LabFile {
  const nodes: Record<string, unknown> = { sw: { kind: 'switch' } };
  const links: unknown[] = [];
  for (let i = 1; i <= n; i++) {
    nodes[`h${i}x`] = { kind: 'host', ip: `10.0.${i >> 8}.${i & 255}/16` };
    links.push({ a: `h${i}x`, b: 'sw' });
  }
  const checked = validateLab({
    name: 'hosts',
    nodes,
    links,
    script: [{ ping: { from: 'h1x', to: '10.0.0.2', count: 1 } }],
  });
  assert.ok(checked.ok);
  return checked.lab;
}

/** Three switches in a triangle, spanning tree off, and a one-count ping from A to B. */
function triangle(bandwidth = '1Gbps', timeout = '1s'): LabFile {
  const checked = validateLab({
    name: 'triangle',
    linkDefaults: { bandwidth },
    nodes: {
      A: { kind: 'host', ip: '10.0.0.1/24', announce: false },
      B: { kind: 'host', ip: '10.0.0.2/24', announce: false },
      s1: { kind: 'switch' },
      s2: { kind: 'switch' },
      s3: { kind: 'switch' },
    },
    links: [
      { a: 's1:1', b: 's2:1' },
      { a: 's2:2', b: 's3:1' },
      { a: 's3:2', b: 's1:2' },
      { a: 'A', b: 's1:3' },
      { a: 'B', b: 's2:3' },
    ],
    script: [{ ping: { from: 'A', to: '10.0.0.2', count: 1, timeout } }],
  });
  assert.ok(checked.ok);
  return checked.lab;
}

const run = (lab: LabFile, budget: number, limits?: Omit<RunLimits, 'events'>) =>
  runLab(lab, buildLab(lab), budget, undefined, limits);

test('the memory guard stops the run when the heap reading passes 80% of the limit, with the figures', () => {
  const readings = [3.1, 3.3].map((gib) => ({ used: gib * 2 ** 30, limit: 4 * 2 ** 30 }));
  const result = run(hostsOnASwitch(100), 1_000_000, { heap: () => readings.shift()!, checkEvery: 1000 });
  assert.equal(result.stopReason, 'memory');
  assert.equal(result.traffic?.sample, null, 'nothing more runs once the heap is nearly full');
  assert.equal(result.events, 2000);
  assert.deepEqual(result.steps, []);
  assert.equal(
    result.stopped,
    'memory budget spent: the heap holds 3.3 GiB of the 4 GiB this machine allows (2,000 events) at t=15.44 us with 102 events still pending: 10,102 frames sent (10,000 forwarded by switches and hubs, 102 by hosts, routers and NVEs); top talkers: sw (switch) 10,000, h1x (host) 3, h100x (host) 1, h10x (host) 1, h11x (host) 1; no sample of the traffic was taken (the heap is nearly full); the lab needs more memory than the heap allows: make it smaller, or give the process a larger heap',
  );
});

test('the time budget stops the run through the clock it is given, naming top talkers and protocols', () => {
  let now = 0;
  const clock = () => {
    now += 25_000; // every look at the clock finds 25 s more gone
    return now;
  };
  const result = run(hostsOnASwitch(100), 1_000_000, { clock, seconds: 60, checkEvery: 1000 });
  assert.equal(result.stopReason, 'time');
  assert.equal(result.events, 3000);
  assert.equal(
    result.stopped,
    'time budget of 60 s spent (3,000 events) at t=22.16 us with 102 events still pending: 10,102 frames sent (10,000 forwarded by switches and hubs, 102 by hosts, routers and NVEs); top talkers: sw (switch) 10,000, h1x (host) 3, h100x (host) 1, h10x (host) 1, h11x (host) 1; protocols of the next 7,106 frames delivered (10 ms): ARP 7,103, ICMP 3; no frame went round a loop (none arrived at the same port 3 times): this is the traffic the lab makes; if that is what the lab should do, give it a larger --time-budget',
  );
});

test('many hosts flooding one switch spend the event budget without being called a loop', () => {
  const result = run(hostsOnASwitch(600), 200_000);
  assert.equal(result.stopReason, 'events');
  assert.equal(result.traffic?.loop, null);
  // 600 announcements flooded to 599 ports each, then h1's ARP request for h2 flooded too, and h2's reply.
  assert.deepEqual(result.traffic?.topTalkers.slice(0, 1), [{ node: 'sw', kind: 'switch', frames: 360_000 }]);
  assert.deepEqual(result.traffic?.sample?.protocols, { ARP: 10_000 });
  assert.equal(
    result.stopped,
    'event budget of 200,000 events spent at t=226.448 us with 602 events still pending: 360,602 frames sent (360,000 forwarded by switches and hubs, 602 by hosts, routers and NVEs); top talkers: sw (switch) 360,000, h1x (host) 3, h100x (host) 1, h101x (host) 1, h102x (host) 1; protocols of the next 10,000 frames delivered (10.752 us): ARP 10,000; no frame went round a loop (none arrived at the same port 3 times): this is the traffic the lab makes; if that is what the lab should do, give it a larger --budget',
  );
  assert.doesNotMatch(result.stopped!, /switching loop/);
});

test('a triangle without spanning tree still storming when the script ends: the drain spends the budget, and it is a loop', () => {
  const result = run(triangle('1Gbps', '10ms'), 200_000);
  assert.equal(result.steps.length, 1);
  assert.equal(result.stopReason, 'events');
  assert.equal(
    result.warning,
    'the script ended with traffic still flowing: the event budget was spent after its last step',
  );
  // A's broadcast keeps reaching B from s2: it goes round the triangle.
  assert.deepEqual(result.traffic?.loop, {
    port: 'B:eth0',
    repeats: 1429,
    frame: 'ARP frame from 02:56:4e:00:00:01 to ff:ff:ff:ff:ff:ff',
  });
  assert.equal(
    result.stopped,
    'event budget of 200,000 events spent at t=71.66 ms with 6 events still pending, after the script had ended: 200,005 frames sent (171,433 forwarded by switches and hubs, 28,572 by hosts, routers and NVEs); top talkers: s2 (switch) 85,715, s1 (switch) 57,146, s3 (switch) 28,572, B (host) 28,571, A (host) 1; protocols of the next 10,000 frames delivered (3.583 ms): ARP 10,000; a switching loop: the same ARP frame from 02:56:4e:00:00:01 to ff:ff:ff:ff:ff:ff arrived at B:eth0 1,429 times: frames go round without end (turn spanning tree on, stp: true, or take a link out of the loop)',
  );
});

test('a storm slow enough to outlast the drain without spending the budget is a warning, with the loop', () => {
  const result = run(triangle('1Mbps', '10ms'), 5_000_000);
  assert.equal(result.stopped, null);
  assert.equal(result.stopReason, null);
  assert.equal(result.events, 7034);
  assert.equal(
    result.warning,
    'the script ended with traffic still flowing 1 s after its last step: 7,052 frames sent (6,046 forwarded by switches and hubs, 1,006 by hosts, routers and NVEs); top talkers: s2 (switch) 3,016, s1 (switch) 2,020, s3 (switch) 1,010, B (host) 1,003, A (host) 3; protocols of the next 115 frames delivered (10 ms): ARP 110, ICMP 5; a switching loop: the same ARP frame from 02:56:4e:00:00:01 to ff:ff:ff:ff:ff:ff arrived at A:eth0 15 times: frames go round without end (turn spanning tree on, stp: true, or take a link out of the loop)',
  );
});

test('a quiet network drains at once: nothing is added to the run', () => {
  const result = run(hostsOnASwitch(3), 1_000_000);
  assert.equal(result.stopped, null);
  assert.equal(result.warning, null);
  assert.equal(result.traffic, null);
  assert.equal(result.steps.length, 1);
});

test('the traffic report names each frame by its protocol, VLAN tags skipped and overlays by their outer header', () => {
  const names = Object.fromEntries(goldenFrames().map((f) => [f.name, frameProtocol(fromHex(f.hex))]));
  assert.deepEqual(
    [
      'arp-request',
      'rarp-announce',
      'icmp-echo-request',
      'udp-dns-query',
      'tcp-syn-options',
      'vlan-icmp',
      'qinq-arp',
      'vxlan-in-vlan',
      'geneve-arp',
      'nvgre-icmp',
      'llc-stp-bpdu',
    ].map((n) => names[n]),
    ['ARP', 'RARP', 'ICMP', 'UDP', 'TCP', 'ICMP', 'ARP', 'VXLAN', 'GENEVE', 'NVGRE', 'STP'],
  );
});
