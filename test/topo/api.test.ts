/** The Mininet-style API as docs/api.md shows it, and the classic generators. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TraceLog } from '../../src/devices/trace.js';
import { linear, singleSwitch, tree } from '../../src/topo/generators.js';
import { buildLab } from '../../src/topo/lab/build.js';
import { validateLab } from '../../src/topo/lab/check.js';
import { runLab } from '../../src/topo/lab/run.js';
import { Network } from '../../src/topo/network.js';
import { formatCidr, formatMac, ip } from '../../src/wire/index.js';

test('the docs/api.md example runs as written', () => {
  const net = new Network({ seed: 1 });
  const s1 = net.addSwitch('s1');
  const h1 = net.addHost('h1');
  const h2 = net.addHost('h2');
  net.addLink(h1, s1);
  net.addLink(h2, s1, { delay: 5_000, bandwidth: 100e6 });
  net.start();
  const ping = h1.ping(ip('10.0.0.2'), { count: 3 });
  net.run({ until: 4e9 });
  const st = ping.statistics();
  assert.deepEqual([st.transmitted, st.received, st.lossPercent], [3, 3, 0]);
  assert.deepEqual(
    [formatCidr(h1.interfaces[0]!.primary!), formatMac(h1.interfaces[0]!.mac)],
    ['10.0.0.1/8', '00:00:00:00:00:01'],
  );
  assert.deepEqual(
    s1.macTable.entries(net.scheduler.now()).map((e) => [e.mac, e.port]),
    [
      ['00:00:00:00:00:01', '1'],
      ['00:00:00:00:00:02', '2'],
    ],
  );
});

test("generators: single switch, linear and tree have Mininet's shape and everyone reaches everyone", () => {
  for (const build of [
    (n: Network) => singleSwitch(n, 4),
    (n: Network) => linear(n, 3, 2),
    (n: Network) => tree(n, 2, 3),
  ]) {
    const net = new Network({ seed: 7 });
    const { hosts } = build(net);
    net.start();
    const runs = hosts.slice(1).map((h) => hosts[0]!.ping(h.interfaces[0]!.primary!.address, { count: 1 }));
    net.run({ until: 3e9 });
    for (const r of runs) assert.equal(r.statistics().received, 1, `${r.source} -> ${r.destination}`);
  }
  const t = tree(new Network(), 2, 3);
  assert.deepEqual([t.switches.length, t.hosts.length], [4, 9]);
  const l = linear(new Network(), 3, 2);
  assert.deepEqual(
    [l.switches.map((s) => s.name), l.hosts.map((h) => h.name)],
    [
      ['s1', 's2', 's3'],
      ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'],
    ],
  );
});

test('drops on a link are traced too, with their reason', () => {
  const net = new Network({ seed: 1, trace: true });
  const h1 = net.addHost('h1', { announce: false });
  const h2 = net.addHost('h2', { announce: false });
  net.addLink(h1, h2, { loss: 1 });
  net.start();
  h1.ping(ip('10.0.0.2'), { count: 1 });
  net.run({ until: 2e9 });
  const drops = (net.tracer as TraceLog).events
    .filter((e) => e.kind === 'drop')
    .map((e) => `${e.node}: ${e.message}`);
  assert.equal(drops[0], 'h1:eth0--h2:eth0: link drop (loss) of a frame from h1:eth0');
});

test('a multi-homed host (nics) reaches both of its subnets and does not forward between them', () => {
  const parsed = validateLab({
    nodes: {
      M: { kind: 'host', ip: '10.0.1.1/24', nics: { eth1: { ip: '10.0.2.1/24' } }, announce: false },
      A: { kind: 'host', ip: '10.0.1.2/24', gateway: '10.0.1.1', announce: false },
      B: { kind: 'host', ip: '10.0.2.2/24', announce: false },
    },
    links: [
      { a: 'M', b: 'A' },
      { a: 'M', b: 'B' },
    ],
    script: [
      { ping: { from: 'M', to: '10.0.1.2', count: 1 } },
      { ping: { from: 'M', to: '10.0.2.2', count: 1 } },
      { ping: { from: 'A', to: '10.0.2.2', count: 1 } },
    ],
  });
  assert.ok(parsed.ok);
  const net = buildLab(parsed.lab);
  const result = runLab(parsed.lab, net);
  assert.deepEqual(
    result.steps.map((s) => (s.step === 'ping' ? s.statistics.received : -1)),
    [1, 1, 0],
  );
  assert.equal(net.node('M').drops['not-for-me'], 1);
});
