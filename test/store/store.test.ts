/** The store alone: pragmas, migrations, the database's own guarantees, the compiler's seam. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { leastLoaded, reservedReason } from '../../src/store/allocate.js';
import { ServiceError } from '../../src/store/errors.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { type IntentHooks, Store } from '../../src/store/store.js';
import { type Intent, OBJECT_KINDS } from '../../src/vpc/intent.js';
import { cidr, ip } from '../../src/wire/index.js';
import { tempDb } from '../helpers/service.js';

test('WAL, synchronous=FULL, foreign keys on; migrations 1 to 3 recorded; reopening applies nothing twice', () => {
  const path = tempDb('vnet-store-');
  const store = Store.open(path);
  assert.deepEqual(store.settings(), { journalMode: 'wal', synchronous: 2, foreignKeys: 1 });
  assert.equal(store.schemaVersion, 3);
  store.close();
  const again = Store.open(path);
  assert.equal(again.schemaVersion, 3);
  again.close();
  const db = new Database(path);
  assert.deepEqual(db.prepare('SELECT version, name FROM schema_migrations').all(), [
    { version: 1, name: MIGRATIONS[0]!.name },
    { version: 2, name: MIGRATIONS[1]!.name },
    { version: 3, name: MIGRATIONS[2]!.name },
  ]);
  db.close();
});

test('migrations apply in order, once; a database from a newer vnet is refused', () => {
  const db = new Database(':memory:');
  const extra = [...MIGRATIONS, { version: 4, name: 'four', sql: 'CREATE TABLE four (x INTEGER)' }];
  assert.equal(migrate(db, extra), 4);
  assert.equal(migrate(db, extra), 4);
  assert.equal((db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n, 4);
  assert.throws(() => migrate(db, MIGRATIONS), /schema version 4, newer than this vnet knows \(3\)/);
  db.close();
});

test('the database itself refuses what the service forbids: deleting a referenced object, a second MAC', () => {
  const path = tempDb('vnet-store-');
  const store = Store.open(path);
  const tenant = store.create(null, 'tenant', { name: 't' }).body.id as string;
  const vpc = store.create(tenant, 'vpc', { name: 'v', cidrs: ['10.0.0.0/16'] }).body.id as string;
  const subnet = store.create(tenant, 'subnet', { name: 's', vpc, cidr: '10.0.0.0/24' }).body;
  const i1 = store.create(tenant, 'instance', { name: 'i1', subnet: subnet.id }).body;
  store.create(tenant, 'instance', { name: 'i2', subnet: subnet.id });
  store.close();
  const db = new Database(path);
  db.pragma('foreign_keys = ON');
  assert.throws(
    () => db.prepare('DELETE FROM objects WHERE id = ?').run(vpc),
    /FOREIGN KEY constraint failed/,
  );
  assert.throws(
    () =>
      db
        .prepare(
          `UPDATE objects SET body = json_set(body, '$.mac', ?) WHERE name = 'i2' AND kind = 'instance'`,
        )
        .run(i1.mac),
    /UNIQUE constraint failed/,
  );
  assert.throws(
    () =>
      db
        .prepare(
          `UPDATE objects SET body = json_set(body, '$.ip', ?) WHERE name = 'i2' AND kind = 'instance'`,
        )
        .run(i1.ip),
    /UNIQUE constraint failed/,
  );
  db.close();
});

test('loadIntent: every object, in the intent shapes the compiler reads', () => {
  const store = Store.open(tempDb('vnet-store-'));
  const tenant = store.create(null, 'tenant', { name: 't' }).body.id as string;
  const vpc = store.create(tenant, 'vpc', { name: 'v', cidrs: ['10.0.0.0/16'] }).body.id as string;
  const sg = store.create(tenant, 'security-group', { name: 'sg', vpc }).body.id as string;
  const subnet = store.create(tenant, 'subnet', { name: 's', vpc, cidr: '10.0.0.0/24' }).body.id as string;
  store.create(tenant, 'instance', { name: 'i', subnet, securityGroups: [sg] });
  const intent = store.loadIntent();
  for (const kind of Object.keys(OBJECT_KINDS) as (keyof typeof OBJECT_KINDS)[]) {
    const { key, schema } = OBJECT_KINDS[kind];
    for (const o of intent[key]) assert.ok(schema.safeParse(o).success, `${kind} ${JSON.stringify(o)}`);
  }
  assert.deepEqual(Object.fromEntries(Object.entries(intent).map(([k, v]) => [k, (v as unknown[]).length])), {
    tenants: 1,
    vpcs: 1,
    subnets: 1,
    routeTables: 0,
    internetGateways: 0,
    elasticIps: 0,
    peerings: 0,
    securityGroups: 1,
    networkAcls: 0,
    instances: 1,
  });
  store.close();
});

test('the compiler seam: check() vetoes a change inside its transaction (422, nothing stored); changed() hears each commit', async () => {
  const heard: Intent[] = [];
  const hooks: IntentHooks = {
    check: (intent) =>
      intent.vpcs
        .map((v, i) => ({ v, i }))
        .filter(({ v }) => v.cidrs.includes('10.99.0.0/16'))
        .map(({ i }) => ({ path: `vpcs[${i}].cidrs`, message: 'overlaps the fabric underlay' })),
    changed: (intent) => {
      heard.push(intent);
    },
  };
  const store = Store.open(tempDb('vnet-store-'), { hooks });
  const tenant = store.create(null, 'tenant', { name: 't' }).body.id as string;
  store.create(tenant, 'vpc', { name: 'ok', cidrs: ['10.0.0.0/16'] });
  assert.equal(heard.length, 2);
  assert.equal(heard[1]!.vpcs.length, 1);
  assert.throws(
    () => store.create(tenant, 'vpc', { name: 'bad', cidrs: ['10.99.0.0/16'] }),
    (e: unknown) =>
      e instanceof ServiceError &&
      e.status === 422 &&
      e.code === 'invalid-intent' &&
      e.problems[0]!.path === 'vpcs[1].cidrs',
  );
  assert.equal(store.loadIntent().vpcs.length, 1, 'the vetoed VPC was rolled back');
  assert.equal(heard.length, 2, 'a vetoed change is not announced');
  // A read changes nothing and announces nothing; an idempotent create announces once.
  store.list(tenant, 'vpc');
  const r = store.idempotent(tenant, 'k', 'f', () => ({
    status: 201,
    body: store.create(tenant, 'vpc', { name: 'v2', cidrs: ['10.1.0.0/16'] }).body,
  }));
  assert.equal(r.replayed, false);
  assert.equal(heard.length, 3);
  store.idempotent(tenant, 'k', 'f', () => assert.fail('not run again'));
  assert.equal(heard.length, 3);
  // publish() hands over the stored intent as is (what `vnet serve` does at start).
  store.publish();
  assert.equal(heard.length, 4);
  assert.equal(heard[3]!.vpcs.length, 2);
  // A failing changed() is reported, never thrown at the caller whose change is committed.
  const errors: unknown[] = [];
  const failing = Store.open(tempDb('vnet-store-'), {
    hooks: { changed: () => Promise.reject(new Error('apply failed')), onError: (e) => errors.push(e) },
  });
  failing.create(null, 'tenant', { name: 'x' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal((errors[0] as Error).message, 'apply failed');
  assert.equal(failing.loadIntent().tenants.length, 1);
  failing.close();
  store.close();
});

test('allocation rules, as pure functions', () => {
  const c24 = cidr('10.0.1.0/24');
  assert.equal(reservedReason(c24, ip('10.0.1.4')), undefined);
  assert.equal(reservedReason(c24, ip('10.0.1.254')), undefined);
  assert.deepEqual(
    ['10.0.1.0', '10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.255', '10.0.2.4'].map((a) =>
      reservedReason(c24, ip(a)),
    ),
    [
      '10.0.1.0 is the network address of 10.0.1.0/24',
      "10.0.1.1 is reserved for the subnet's gateway (.1 of 10.0.1.0/24)",
      '10.0.1.2 is reserved for DNS (.2 of 10.0.1.0/24)',
      '10.0.1.3 is reserved for future use (.3 of 10.0.1.0/24)',
      '10.0.1.255 is the broadcast address of 10.0.1.0/24',
      "10.0.2.4 is not inside the subnet's 10.0.1.0/24",
    ],
  );
  assert.equal(
    leastLoaded(
      ['a', 'b', 'c'],
      new Map([
        ['a', 2],
        ['b', 1],
        ['c', 1],
      ]),
    ),
    'b',
  );
  assert.equal(leastLoaded(['a', 'b'], new Map()), 'a');
  assert.equal(leastLoaded([], new Map()), undefined);
});

test('a change hands the hooks only the tenants it touched, with everything they own', () => {
  const heard: { tenants: string[] | null; vpcs: string[]; tenantRows: string[] }[] = [];
  const seen = (intent: Intent, tenants: ReadonlySet<string> | null) => {
    heard.push({
      tenants: tenants === null ? null : [...tenants],
      vpcs: intent.vpcs.map((v) => v.name),
      tenantRows: intent.tenants.map((t) => t.name),
    });
  };
  const checked: string[][] = [];
  const store = Store.open(tempDb('vnet-store-'), {
    hooks: {
      check: (_intent, tenants) => {
        checked.push([...tenants]);
        return [];
      },
      changed: seen,
    },
  });
  const a = store.create(null, 'tenant', { name: 'a' }).body.id as string;
  const b = store.create(null, 'tenant', { name: 'b' }).body.id as string;
  store.create(a, 'vpc', { name: 'a1', cidrs: ['10.0.0.0/16'] });
  const b1 = store.create(b, 'vpc', { name: 'b1', cidrs: ['10.0.0.0/16'] }).body.id as string;
  store.update(b, 'vpc', b1, { name: 'b1-renamed' });
  assert.deepEqual(heard, [
    { tenants: [a], vpcs: [], tenantRows: ['a'] },
    { tenants: [b], vpcs: [], tenantRows: ['b'] },
    { tenants: [a], vpcs: ['a1'], tenantRows: ['a'] },
    { tenants: [b], vpcs: ['b1'], tenantRows: ['b'] },
    { tenants: [b], vpcs: ['b1-renamed'], tenantRows: ['b'] },
  ]);
  assert.deepEqual(checked, [[a], [b], [a], [b], [b]]);
  assert.deepEqual(
    store.loadIntentOf(new Set([a, b])).vpcs.map((v) => v.name),
    ['a1', 'b1-renamed'],
  );
  heard.length = 0;
  store.delete(b, 'vpc', b1);
  store.delete(null, 'tenant', b);
  assert.deepEqual(heard, [
    { tenants: [b], vpcs: [], tenantRows: ['b'] },
    { tenants: [b], vpcs: [], tenantRows: [] },
  ]);
  // At start (publish with no tenants) the whole intent, tenants null.
  heard.length = 0;
  store.publish();
  assert.deepEqual(heard, [{ tenants: null, vpcs: ['a1'], tenantRows: ['a'] }]);
  store.close();
});

test('instances per hypervisor are kept by triggers (create, move, delete), and built from the rows of a schema 1 database', () => {
  const path = tempDb('vnet-store-');
  // A database of schema 1 with two instances on leaf1-srv1 and one on leaf2-srv1.
  const old = new Database(path);
  migrate(old, MIGRATIONS.slice(0, 1));
  const insert = old.prepare(
    `INSERT INTO objects (id, kind, tenant, scope, name, body, created, updated) VALUES (?, ?, 't', 't', ?, ?, '', '')`,
  );
  insert.run('t', 'tenant', 't', JSON.stringify({ id: 't', name: 't' }));
  for (const [id, host] of [
    ['i-1', 'leaf1-srv1'],
    ['i-2', 'leaf1-srv1'],
    ['i-3', 'leaf2-srv1'],
  ])
    insert.run(id, 'instance', id, JSON.stringify({ id, host }));
  old.close();
  const store = Store.open(path, { hypervisors: ['leaf1-srv1', 'leaf2-srv1', 'leaf2-srv2'] });
  assert.equal(store.schemaVersion, 3);
  assert.deepEqual(store.hypervisorLoad(), [
    { name: 'leaf1-srv1', instances: 2 },
    { name: 'leaf2-srv1', instances: 1 },
    { name: 'leaf2-srv2', instances: 0 },
  ]);
  store.close();

  const fresh = Store.open(tempDb('vnet-store-'));
  const tenant = fresh.create(null, 'tenant', { name: 't' }).body.id as string;
  const vpc = fresh.create(tenant, 'vpc', { name: 'v', cidrs: ['10.0.0.0/16'] }).body.id as string;
  const subnet = fresh.create(tenant, 'subnet', { name: 's', vpc, cidr: '10.0.0.0/24' }).body.id as string;
  const load = () => Object.fromEntries(fresh.hypervisorLoad().map((h) => [h.name, h.instances]));
  // The scheduler fills the least loaded hypervisor first (ties by name).
  const ids = [0, 1, 2, 3, 4].map(
    (n) => fresh.create(tenant, 'instance', { name: `vm${n}`, subnet }).body as { id: string; host: string },
  );
  assert.deepEqual(
    ids.map((i) => i.host),
    ['leaf1-srv1', 'leaf1-srv2', 'leaf2-srv1', 'leaf2-srv2', 'leaf1-srv1'],
  );
  assert.deepEqual(load(), { 'leaf1-srv1': 2, 'leaf1-srv2': 1, 'leaf2-srv1': 1, 'leaf2-srv2': 1 });
  fresh.moveInstance(tenant, ids[0]!.id, 'leaf2-srv2');
  assert.deepEqual(load(), { 'leaf1-srv1': 1, 'leaf1-srv2': 1, 'leaf2-srv1': 1, 'leaf2-srv2': 2 });
  fresh.setInstanceState(tenant, ids[1]!.id, 'stopped');
  assert.deepEqual(
    load(),
    { 'leaf1-srv1': 1, 'leaf1-srv2': 1, 'leaf2-srv1': 1, 'leaf2-srv2': 2 },
    'a stop is no move',
  );
  fresh.delete(tenant, 'instance', ids[2]!.id);
  assert.deepEqual(load(), { 'leaf1-srv1': 1, 'leaf1-srv2': 1, 'leaf2-srv1': 0, 'leaf2-srv2': 2 });
  fresh.close();
});

test('the compiler allocations are stored, replaced, dropped, and go with their object', () => {
  const store = Store.open(tempDb('vnet-store-'));
  const tenant = store.create(null, 'tenant', { name: 't' }).body.id as string;
  const vpc = store.create(tenant, 'vpc', { name: 'v', cidrs: ['10.0.0.0/16'] }).body.id as string;
  const subnet = store.create(tenant, 'subnet', { name: 's', vpc, cidr: '10.0.0.0/24' }).body.id as string;
  store.saveAllocations({
    set: [
      { object: vpc, kind: 'l3-vni', value: 900000 },
      { object: vpc, kind: 'snat', value: '203.0.113.254' },
      { object: subnet, kind: 'l2-vni', value: 100003 },
      { object: 'subnet-gone', kind: 'l2-vni', value: 100004 },
    ],
    drop: [],
  });
  const plain = (a: ReturnType<Store['loadAllocations']>) => ({
    l3Vni: Object.fromEntries(a.l3Vni),
    l2Vni: Object.fromEntries(a.l2Vni),
    snat: Object.fromEntries(a.snat),
  });
  assert.deepEqual(plain(store.loadAllocations()), {
    l3Vni: { [vpc]: 900000 },
    l2Vni: { [subnet]: 100003 },
    snat: { [vpc]: '203.0.113.254' },
  });
  store.saveAllocations({
    set: [{ object: subnet, kind: 'l2-vni', value: 100001 }],
    drop: [{ object: vpc, kind: 'snat' }],
  });
  assert.deepEqual(plain(store.loadAllocations()), {
    l3Vni: { [vpc]: 900000 },
    l2Vni: { [subnet]: 100001 },
    snat: {},
  });
  store.delete(tenant, 'subnet', subnet);
  assert.deepEqual(plain(store.loadAllocations()), { l3Vni: { [vpc]: 900000 }, l2Vni: {}, snat: {} });
  store.close();
});
