/**
 * `vnet serve --demo` (what `npm start` runs): on an empty database it loads the demo, prints each
 * tenant's token and the commands to try; the demo answers them (the same addresses in both
 * tenants, the database tier reachable from the web tier only, the way out through the border);
 * a second start on the same database loads nothing again; a demo that cannot be loaded leaves
 * nothing behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDemo } from '../../src/api/demo.js';
import { Store } from '../../src/store/store.js';
import { call, serveProcess } from '../helpers/serve-process.js';
import { tempDb } from '../helpers/service.js';

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(check(), what);
}

test('vnet serve --demo: two tenants, the same addresses, and the reach answers the demo suggests', async () => {
  const db = tempDb('vnet-demo-');
  const first = await serveProcess(['--db', db, '--demo']);
  try {
    await until(() => /point the CLI at it/.test(first.stdout()), 'the demo is announced');
    const out = first.stdout();
    assert.match(out, /demo loaded: tenants blue and green/);
    const tokens = Object.fromEntries(
      [...out.matchAll(/(\w+)'s token \(shown this once\): (vnet_\S+)/g)].map((m) => [m[1]!, m[2]!]),
    );
    assert.deepEqual(Object.keys(tokens), ['blue', 'green']);
    const byName = async (tenant: string) =>
      Object.fromEntries(
        (await call(first.url, tokens[tenant], 'GET', '/v1/instances')).body.items.map(
          (i: { name: string; id: string; ip: string }) => [i.name, i],
        ),
      );
    const blue = await byName('blue');
    const green = await byName('green');
    assert.deepEqual(
      ['web1', 'web2', 'db1'].map((n) => [blue[n].ip, green[n].ip]),
      [
        ['10.0.1.4', '10.0.1.4'],
        ['10.0.1.5', '10.0.1.5'],
        ['10.0.2.4', '10.0.2.4'],
      ],
    );
    const reach = async (src: string, dst: string, protocol: string, port?: number) => {
      const r = await call(first.url, tokens.blue, 'POST', '/v1/reach', {
        src: blue[src].id,
        dst: dst.includes('.') ? dst : blue[dst].id,
        protocol,
        ...(port ? { port } : {}),
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return [r.body.allowed, r.body.delivered, r.body.agree];
    };
    assert.deepEqual(await reach('web1', 'db1', 'tcp', 5432), [true, true, true]);
    assert.deepEqual(await reach('db1', 'web1', 'tcp', 22), [false, false, true]);
    assert.deepEqual(await reach('web1', '198.51.100.10', 'icmp'), [true, true, true]);
    const moved = await call(first.url, tokens.blue, 'POST', `/v1/instances/${blue.web1.id}/migrate`, {
      host: 'leaf2-srv2',
    });
    assert.equal(moved.body.host, 'leaf2-srv2');
    // A live migration on the data plane: pre-copy, a short stop, the tables converged.
    const m = moved.body.migration;
    assert.equal(m.from, `leaf1-srv1:${blue.web1.id}`);
    assert.equal(m.to, `leaf2-srv2:${blue.web1.id}`);
    assert.ok(m.downtime > 0 && m.downtime < 100e6, `downtime ${m.downtime}`);
    assert.ok(m.convergedAfter !== null);
    assert.equal(m.toOldPlaceAfterConvergence, 0);
    assert.deepEqual(await reach('web1', 'db1', 'tcp', 5432), [true, true, true]);
  } finally {
    first.child.kill('SIGTERM');
    await first.exited();
  }
  const second = await serveProcess(['--db', db, '--demo']);
  try {
    await until(() => /point the CLI at it/.test(second.stdout()), 'started');
    assert.match(second.stdout(), /--demo: the database already holds tenants/);
    assert.doesNotMatch(second.stdout(), /demo loaded/);
  } finally {
    second.child.kill('SIGTERM');
    await second.exited();
  }
});

test('a demo that cannot be loaded leaves nothing behind', () => {
  const store = Store.open(tempDb('vnet-demo-'), { hypervisors: ['h1', 'h2'] });
  try {
    assert.throws(() => loadDemo(store), /hypervisor/);
    assert.deepEqual(store.list(null, 'tenant').items, []);
    assert.deepEqual(store.list(null, 'vpc').items, []);
  } finally {
    store.close();
  }
});
