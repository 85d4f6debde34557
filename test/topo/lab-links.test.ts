/**
 * A script step naming a link by number (`link: N`) names the lab's `links[N]` for the whole run:
 * a `migrate` step unplugging the VM's cable (and plugging a new one) does not renumber it, and a
 * step naming the unplugged cable stops the run with a message saying so.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLab, labLinksOf } from '../../src/topo/lab/build.js';
import { formatIssue, validateLab } from '../../src/topo/lab/check.js';
import { runLab } from '../../src/topo/lab/run.js';
import { stepOf } from '../helpers/labs.js';

// A on sw1 with B, C on sw2; the trunk sw1--sw2 is links[2], C's cable links[3].
const NODES = {
  A: { kind: 'host', ip: '10.0.0.1/24' },
  B: { kind: 'host', ip: '10.0.0.2/24' },
  C: { kind: 'host', ip: '10.0.0.3/24' },
  sw1: { kind: 'switch' },
  sw2: { kind: 'switch' },
};
const LINKS = [
  { a: 'A', b: 'sw1:1' },
  { a: 'B', b: 'sw1:2' },
  { a: 'sw1:3', b: 'sw2:1' },
  { a: 'C', b: 'sw2:2' },
];
const MOVE_A = { migrate: { vm: 'A', to: 'sw2', memory: '64MiB', observe: '1s' } };
const ping = (to: string) => ({ ping: { from: 'A', to, count: 1 } });

function lab(script: unknown[]) {
  const checked = validateLab({ nodes: NODES, links: LINKS, script });
  assert.ok(checked.ok, checked.ok ? '' : checked.issues.map(formatIssue).join('; '));
  return checked.lab;
}

test('link: N after a migrate still names the lab’s links[N], not whatever Network.links now has at N', () => {
  const l = lab([
    MOVE_A,
    { link: { link: 2, state: 'down' } },
    ping('10.0.0.2'),
    ping('10.0.0.3'),
    { link: { link: 2, state: 'up' } },
    ping('10.0.0.2'),
  ]);
  const net = buildLab(l);
  const built = labLinksOf(net)!;
  assert.deepEqual(
    built.map((k) => `${k.a.id}--${k.b.id}`),
    ['A:eth0--sw1:1', 'B:eth0--sw1:2', 'sw1:3--sw2:1', 'C:eth0--sw2:2'],
  );
  const result = runLab(l, net);
  assert.equal(result.stopped, null);

  // The move unplugged links[0] and plugged A into a new port of sw2: Network.links renumbered.
  assert.equal(stepOf(result, 1, 'migrate').vm, 'A');
  assert.equal(built[0]!.detached, true);
  assert.deepEqual(
    net.links.map((k) => `${k.a.id}--${k.b.id}`),
    ['B:eth0--sw1:2', 'sw1:3--sw2:1', 'C:eth0--sw2:2', 'A:eth0--sw2:3'],
  );

  // links[2] is the trunk: with it down, A (now on sw2) reaches C but not B.
  assert.deepEqual(stepOf(result, 2, 'link'), {
    step: 'link',
    time: stepOf(result, 2, 'link').time,
    link: 'sw1:3--sw2:1',
    state: 'down',
  });
  assert.equal(stepOf(result, 3, 'ping').statistics.received, 0, 'B is behind the trunk that is down');
  assert.equal(stepOf(result, 4, 'ping').statistics.received, 1, 'C shares sw2 with A');
  assert.equal(stepOf(result, 5, 'link').link, 'sw1:3--sw2:1');
  assert.equal(stepOf(result, 5, 'link').state, 'up');
  assert.equal(stepOf(result, 6, 'ping').statistics.received, 1, 'the trunk is back');
  // The cables the steps did not name are as they were.
  assert.deepEqual(
    net.links.map((k) => k.up),
    [true, true, true, true],
  );
});

test('link: N naming the cable a migrate unplugged stops the run with a message saying so', () => {
  const l = lab([MOVE_A, { link: { link: 0, state: 'up' } }]);
  assert.throws(
    () => runLab(l, buildLab(l)),
    new Error('link 0 (A:eth0--sw1:1) was unplugged by an earlier step (a migrate moved its VM)'),
  );
  const capture = lab([MOVE_A, { capture: { link: 0, file: 'x.pcap' } }]);
  assert.throws(() => runLab(capture, buildLab(capture)), /link 0 \(A:eth0--sw1:1\) was unplugged/);
  // Named by its two nodes, the unplugged cable is not found either.
  const pair = lab([MOVE_A, { link: { link: ['A', 'sw1'], state: 'down' } }]);
  assert.throws(() => runLab(pair, buildLab(pair)), new Error('no link joins A and sw1 (any more)'));
});

test('without a migrate, link: N names links[N] as before', () => {
  const l = lab([{ link: { link: 3, state: 'down' } }, ping('10.0.0.2'), ping('10.0.0.3')]);
  const result = runLab(l, buildLab(l));
  assert.equal(stepOf(result, 1, 'link').link, 'C:eth0--sw2:2');
  assert.equal(stepOf(result, 2, 'ping').statistics.received, 1);
  assert.equal(stepOf(result, 3, 'ping').statistics.received, 0);
});

test('with a fabric, link: N names the lab’s own links[N], not the fabric’s Nth cable', () => {
  const checked = validateLab({
    fabric: {
      spines: 1,
      leaves: 1,
      serversPerLeaf: 1,
      vmsPerServer: 1,
      tenants: [{ name: 'A', subnets: ['10.1.0.0/24'] }],
    },
    nodes: { P: { kind: 'host', ip: '192.168.0.1/24' }, Q: { kind: 'host', ip: '192.168.0.2/24' } },
    links: [{ a: 'P', b: 'Q' }],
    script: [{ link: { link: 0, state: 'down' } }, { ping: { from: 'P', to: '192.168.0.2', count: 1 } }],
  });
  assert.ok(checked.ok, checked.ok ? '' : checked.issues.map(formatIssue).join('; '));
  const net = buildLab(checked.lab);
  assert.ok(net.links.length > 1, 'the fabric has cables of its own, numbered first in Network.links');
  const result = runLab(checked.lab, net);
  assert.equal(stepOf(result, 1, 'link').link, 'P:eth0--Q:eth0');
  assert.equal(stepOf(result, 2, 'ping').statistics.received, 0);
  assert.deepEqual(
    net.links.filter((k) => !k.up).map((k) => `${k.a.id}--${k.b.id}`),
    ['P:eth0--Q:eth0'],
  );
});
