/**
 * The MAC table against a plain reference model: random learns, lookups, flushes and time steps
 * give the same answers, sizes, overflow counts and entries; aging, moves and the size limit exactly;
 * and the table used slot by slot, as a bridge domain uses it (pinned entries, user values).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MacFlag, MacTable } from '../../src/devices/l2/mac-table.js';
import { formatMac } from '../../src/wire/index.js';

/** The table as the spec says it behaves, in the simplest form. */
class Model {
  readonly entries = new Map<string, { vlan: number; mac: number; port: string; seen: number }>();
  overflows = 0;
  constructor(
    readonly capacity: number,
    readonly aging: number,
  ) {}
  private live(now: number) {
    for (const [k, e] of this.entries) if (now - e.seen > this.aging) this.entries.delete(k);
  }
  lookup(vlan: number, mac: number, now: number) {
    this.live(now);
    return this.entries.get(`${vlan}/${mac}`)?.port;
  }
  learn(vlan: number, mac: number, port: string, now: number) {
    this.live(now);
    const key = `${vlan}/${mac}`;
    const e = this.entries.get(key);
    if (e) {
      e.seen = now;
      if (e.port === port) return 'refreshed';
      e.port = port;
      return 'moved';
    }
    if (this.entries.size >= this.capacity) {
      this.overflows++;
      return 'table-full';
    }
    this.entries.set(key, { vlan, mac, port, seen: now });
    return 'learned';
  }
  flushPort(port: string, now: number) {
    this.live(now);
    for (const [k, e] of this.entries) if (e.port === port) this.entries.delete(k);
  }
  rows(now: number) {
    this.live(now);
    return [...this.entries.values()]
      .sort((a, b) => a.vlan - b.vlan || a.mac - b.mac)
      .map((e) => ({ vlan: e.vlan, mac: formatMac(e.mac), port: e.port, age: now - e.seen }));
  }
}

test('learn, refresh, move, age out and the size limit', () => {
  const t = new MacTable(2, 100);
  const A = 0x02_00_00_00_00_0a;
  const B = 0x02_00_00_00_00_0b;
  const C = 0xffff_ffff_fffe;
  assert.equal(t.learn(1, A, '1', 0), 'learned');
  assert.equal(t.learn(1, A, '1', 10), 'refreshed');
  assert.equal(t.learn(1, A, '2', 20), 'moved');
  assert.equal(t.learn(2, A, '3', 20), 'learned', 'the same MAC in another VLAN is another entry');
  assert.equal(t.learn(1, C, '1', 30), 'table-full');
  assert.deepEqual([t.size, t.overflows], [2, 1]);
  assert.equal(t.lookup(1, A, 120), '2');
  assert.equal(t.lookup(2, A, 121), undefined, 'aged out after 100 ns without traffic');
  assert.equal(t.learn(1, B, '4', 121), 'learned', 'the aged entry made room');
  // A on VLAN 1 was last seen at 20: at 121 it is past its age too, and no longer listed.
  assert.deepEqual(t.entries(121), [{ vlan: 1, mac: '02:00:00:00:00:0b', port: '4', age: 0 }]);
  assert.equal(t.flushPort('2'), 1, 'the stale entry on port 2 is removed with the port');
  assert.equal(t.flush(), 1);
  assert.deepEqual([t.size, t.entries(200)], [0, []]);
});

test('a shortened aging time applies until its end (802.1D topology change)', () => {
  const t = new MacTable(10, 300e9);
  t.learn(1, 5, 'p', 0);
  t.shortenAging(20e9, 15e9);
  assert.equal(t.lookup(1, 5, 10e9), 'p');
  t.learn(1, 6, 'p', 0);
  assert.equal(t.lookup(1, 6, 16e9), undefined);
  assert.equal(t.lookup(1, 5, 16e9), undefined);
});

test('property: the table answers as the reference model, through growth, tombstones and aging', () => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('learn' as const),
      vlan: fc.integer({ min: 1, max: 4 }),
      mac: fc.oneof(
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom(0xffff_ffff_ffff, 2 ** 47 + 3, 0x02_56_4e_00_00_01),
      ),
      port: fc.constantFrom('1', '2', '3', 'uplink'),
      dt: fc.integer({ min: 0, max: 30 }),
    }),
    fc.record({
      kind: fc.constant('lookup' as const),
      vlan: fc.integer({ min: 1, max: 4 }),
      mac: fc.integer({ min: 0, max: 40 }),
      dt: fc.integer({ min: 0, max: 30 }),
    }),
    fc.record({
      kind: fc.constant('flushPort' as const),
      port: fc.constantFrom('1', '2', 'uplink'),
      dt: fc.constant(0),
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
      const t = new MacTable(capacity, 100);
      const m = new Model(capacity, 100);
      let now = 0;
      for (const o of ops) {
        now += o.dt;
        if (o.kind === 'learn')
          assert.equal(t.learn(o.vlan, o.mac, o.port, now), m.learn(o.vlan, o.mac, o.port, now));
        else if (o.kind === 'lookup')
          assert.equal(t.lookup(o.vlan, o.mac, now), m.lookup(o.vlan, o.mac, now));
        else {
          t.flushPort(o.port);
          m.flushPort(o.port, now);
        }
      }
      assert.deepEqual(t.entries(now), m.rows(now));
      assert.equal(t.overflows, m.overflows);
    }),
    { numRuns: 300 },
  );
});

test('100,000 entries in one table: every one found again, the rest not', () => {
  const t = new MacTable(100_000);
  for (let i = 0; i < 100_000; i++)
    assert.equal(t.learn(1 + (i % 7), 0x02_00_00_00_00_00 + i * 977, String(i % 48), 0), 'learned');
  assert.equal(t.size, 100_000);
  for (let i = 0; i < 100_000; i += 7)
    assert.equal(t.lookup(1 + (i % 7), 0x02_00_00_00_00_00 + i * 977, 1), String(i % 48));
  assert.equal(t.lookup(1, 0x02_00_00_00_00_00 + 1, 1), undefined);
  assert.equal(t.learn(1, 0x02_ff_00_00_00_00, '1', 1), 'table-full');
});

test('slot-level use (as a bridge domain): pinned entries never age nor are swept when full; values kept', () => {
  const t = new MacTable(2, 100, true);
  const A = 0x02_00_00_00_00_0a;
  const B = 0x02_00_00_00_00_0b;
  const C = 0x02_00_00_00_00_0c;
  const a = t.insert(0, A, 3, MacFlag.pinned, 0, 0x0a00_0001, 7);
  assert.deepEqual(
    [t.ownerAt(a), t.flagsAt(a), t.valueA(a), t.valueB(a), t.vlanAt(a)],
    [3, 1, 0x0a00_0001, 7, 0],
  );
  t.insert(0, B, 1, 0, 0, 0, 0);
  assert.equal(t.hasRoom(50), false); // full, nothing aged
  assert.equal(t.overflows, 1);
  assert.equal(t.hasRoom(500), true); // B aged out and swept; pinned A stays
  assert.equal(t.size, 1);
  assert.equal(t.liveSlot(0, A, 10_000), t.slotFor(0, A));
  t.insert(0, C, 1, MacFlag.fixed, 500, 0, 0);
  assert.equal(t.removeOwner(1), 1);
  assert.deepEqual([t.size, t.slotFor(0, C)], [1, -1]);
});
