/** The store alone: pragmas, migrations, the database's own guarantees, the compiler's seam. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { firstFreeInstanceIp, leastLoaded, reservedReason, serviceMac } from '../../src/store/allocate.js';
import { ServiceError } from '../../src/store/errors.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { type IntentHooks, Store } from '../../src/store/store.js';
import { type Intent, OBJECT_KINDS } from '../../src/vpc/intent.js';
import { cidr, ip } from '../../src/wire/index.js';
import { tempDb } from '../helpers/service.js';

test('WAL, synchronous=FULL, foreign keys on; migrations 1 and 2 recorded; reopening applies nothing twice', () => {
  const path = tempDb('vnet-store-');
  const store = Store.open(path);
  assert.deepEqual(store.settings(), { journalMode: 'wal', synchronous: 2, foreignKeys: 1 });
  assert.equal(store.schemaVersion, 2);
  store.close();
  const again = Store.open(path);
  assert.equal(again.schemaVersion, 2);
  again.close();
  const db = new Database(path);
  assert.deepEqual(db.prepare('SELECT version, name FROM schema_migrations').all(), [
    { version: 1, name: MIGRATIONS[0]!.name },
    { version: 2, name: MIGRATIONS[1]!.name },
  ]);
  db.close();
});

test('migrations apply in order, once; a database from a newer vnet is refused', () => {
  const db = new Database(':memory:');
  const extra = [...MIGRATIONS, { version: 3, name: 'three', sql: 'CREATE TABLE three (x INTEGER)' }];
  assert.equal(migrate(db, extra), 3);
  assert.equal(migrate(db, extra), 3);
  assert.equal((db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n, 3);
  assert.throws(() => migrate(db, MIGRATIONS), /schema version 3, newer than this vnet knows \(2\)/);
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
  assert.equal(firstFreeInstanceIp(c24, new Set()), ip('10.0.1.4'));
  assert.equal(firstFreeInstanceIp(c24, new Set([ip('10.0.1.4'), ip('10.0.1.5')])), ip('10.0.1.6'));
  const c29 = cidr('10.0.0.8/29');
  assert.equal(
    firstFreeInstanceIp(c29, new Set([ip('10.0.0.12'), ip('10.0.0.13'), ip('10.0.0.14')])),
    undefined,
  );
  assert.equal(reservedReason(c24, ip('10.0.1.4')), undefined);
  assert.equal(reservedReason(c24, ip('10.0.1.254')), undefined);
  assert.match(reservedReason(c24, ip('10.0.1.255'))!, /broadcast/);
  assert.equal(serviceMac(1), '02:76:6e:00:00:01');
  assert.equal(serviceMac(0xabcdef), '02:76:6e:ab:cd:ef');
  assert.throws(() => serviceMac(0x1000000));
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
