/**
 * The learning switch: learning, flooding (broadcast, multicast, unknown unicast), filtering,
 * lazy aging, the table's size limit, MAC moves; VLANs: access ports, trunks (allowed VLANs,
 * native VLAN), the ingress drops (`tagged-on-access`, `untagged-on-trunk`, `vlan-not-allowed`,
 * `bad-source-mac`, `runt`), priority tags, and the exact bytes that leave access and trunk ports.
 * A property over random trees of switches checks that VLANs isolate and that learned unicast
 * is delivered exactly once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Host } from '../../src/devices/ip/host.js';
import type { SwitchOptions } from '../../src/devices/l2/switch.js';
import type { TraceLog } from '../../src/devices/trace.js';
import { Network } from '../../src/topo/network.js';
import {
  ArpView,
  bytesEqual,
  concatBytes,
  EtherType,
  emitEthernetFrame,
  formatMac,
  ip,
  type Mac,
  mac,
  readMac,
  readU16,
} from '../../src/wire/index.js';
import { ascii, ethernet, tag } from '../helpers/build.js';
import { type Station, station } from '../helpers/station.js';

/** IEEE 802 local experimental EtherType: the switch must not care what it carries. */
const EXP = 0x88b5;
const A = mac('02:00:00:00:00:0a');
const B = mac('02:00:00:00:00:0b');
const C = mac('02:00:00:00:00:0c');
const D = mac('02:00:00:00:00:0d');
const BROADCAST = mac('ff:ff:ff:ff:ff:ff');
const MULTICAST = mac('01:00:5e:00:00:fb');

/** One frame to the switch's first port at 1 Gbps / 1 us: 60 bytes arrive 672 + 1000 ns after they leave. */
const ARRIVAL_60 = 1_672;

function lab(stations: number, options: SwitchOptions = {}, trace = false) {
  const net = new Network({ trace });
  const sw = net.addSwitch('sw', options);
  const st: Station[] = [];
  for (let i = 1; i <= stations; i++) {
    const s = station(net, `s${i}`);
    const link = net.addLink(s, sw);
    assert.equal(link.b.name, String(i)); // switch ports are numbered from 1, in link order
    st.push(s);
  }
  return { net, sw, st };
}

const frame = (dst: Mac, src: Mac, text = 'hello', tags = [] as ReturnType<typeof tag>[]) =>
  ethernet(dst, src, EXP, ascii(text), tags);

/** Frames each station received since the last call (and forgets them). */
function take(st: Station[]): Uint8Array[][] {
  const out = st.map((s) => s.received.map((r) => r.frame));
  for (const s of st) s.clear();
  return out;
}

const counts = (got: Uint8Array[][]) => got.map((frames) => frames.length);
const tableOf = (sw: ReturnType<typeof lab>['sw'], now: number) =>
  sw.macTable.entries(now).map((e) => [e.vlan, e.mac, e.port]);

test('learns each source, floods broadcast, multicast and unknown unicast, forwards known unicast', () => {
  const { net, sw, st } = lab(4, {}, true);
  const bcast = frame(BROADCAST, A);
  st[0]!.send(bcast);
  net.run();
  const got = take(st);
  assert.deepEqual(counts(got), [0, 1, 1, 1]); // everywhere but back where it came from
  for (const frames of got.slice(1)) assert.ok(bytesEqual(frames[0]!, bcast), 'flooded unchanged');
  assert.deepEqual(tableOf(sw, net.scheduler.now()), [[1, formatMac(A), '1']]);

  st[1]!.send(frame(A, B)); // A is known: out of port 1 only
  net.run();
  assert.deepEqual(counts(take(st)), [1, 0, 0, 0]);

  st[0]!.send(frame(C, A)); // C never spoke: unknown unicast floods
  net.run();
  assert.deepEqual(counts(take(st)), [0, 1, 1, 1]);

  st[0]!.send(frame(MULTICAST, A)); // group addresses are never looked up
  net.run();
  assert.deepEqual(counts(take(st)), [0, 1, 1, 1]);

  st[2]!.send(frame(B, C)); // C learned on 3; B known on 2
  net.run();
  assert.deepEqual(counts(take(st)), [0, 1, 0, 0]);
  st[0]!.send(frame(C, A));
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 1, 0]);

  assert.deepEqual(sw.counters, { forwarded: 3, flooded: 3, filtered: 0, learned: 3, moved: 0 });
  assert.deepEqual(tableOf(sw, net.scheduler.now()), [
    [1, formatMac(A), '1'],
    [1, formatMac(B), '2'],
    [1, formatMac(C), '3'],
  ]);
  const messages = (net.tracer as TraceLog).events.filter((e) => e.node === 'sw').map((e) => e.message);
  assert.deepEqual(messages.slice(0, 4), [
    'learned 02:00:00:00:00:0a on VLAN 1 port 1; dst ff:ff:ff:ff:ff:ff broadcast -> flood ports 2,3,4',
    'learned 02:00:00:00:00:0b on VLAN 1 port 2; dst 02:00:00:00:00:0a -> port 1',
    '02:00:00:00:00:0a known on port 1; dst 02:00:00:00:00:0c unknown -> flood ports 2,3,4',
    '02:00:00:00:00:0a known on port 1; dst 01:00:5e:00:00:fb multicast -> flood ports 2,3,4',
  ]);
});

test('a frame whose destination is on the port it came in on is filtered', () => {
  const { net, sw, st } = lab(3, {}, true);
  st[0]!.send(frame(BROADCAST, A)); // A on port 1
  net.run();
  take(st);
  st[0]!.send(frame(A, B)); // B is on the same segment as A (behind port 1)
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 0]);
  assert.equal(sw.counters.filtered, 1);
  assert.equal(sw.macTable.lookup(1, B, net.scheduler.now()), '1'); // still learned
  const last = (net.tracer as TraceLog).events.at(-1)!;
  assert.equal(last.kind, 'filter');
  assert.match(last.message, /dst 02:00:00:00:00:0a is on port 1, the port it came in on -> filtered/);
});

test('entries age out after agingTime, lazily: no timers, forgotten when next met', () => {
  const aging = 1_000_000;
  const { net, sw, st } = lab(4, { agingTime: aging });
  const s = net.scheduler;
  st[0]!.send(frame(BROADCAST, A)); // learned at ARRIVAL_60
  net.run();
  take(st);
  assert.equal(sw.macTable.lookup(1, A, s.now()), '1');
  // B -> A arrives exactly agingTime after A was last seen: still known.
  s.at(aging, () => st[1]!.send(frame(A, B)));
  net.run();
  assert.equal(s.now(), ARRIVAL_60 + aging + ARRIVAL_60);
  assert.deepEqual(counts(take(st)), [1, 0, 0, 0]);
  // One nanosecond later A is stale: listed nowhere, yet still held (aging is lazy), and no event is pending.
  net.run({ until: ARRIVAL_60 + aging + 1 });
  assert.deepEqual(tableOf(sw, s.now()), [[1, formatMac(B), '2']]);
  assert.equal(sw.macTable.size, 2);
  assert.equal(s.pending, 0);
  // C -> A now floods, and the lookup removes A.
  st[2]!.send(frame(A, C));
  net.run();
  assert.deepEqual(counts(take(st)), [1, 1, 0, 1]);
  assert.equal(sw.macTable.size, 2); // B and C
  assert.equal(sw.macTable.lookup(1, A, s.now()), undefined);
  // Traffic refreshes: B keeps sending every 0.9 ms and stays known long after 1 ms.
  for (let i = 1; i <= 5; i++) {
    s.at(s.now() + 900_000, () => st[1]!.send(frame(BROADCAST, B)));
    net.run();
  }
  assert.ok(s.now() > 4 * aging);
  take(st);
  st[2]!.send(frame(B, C));
  net.run();
  assert.deepEqual(counts(take(st)), [0, 1, 0, 0]);
});

test('an address that aged out and reappears on another port is learned again, not moved', () => {
  const aging = 1_000_000;
  const { net, sw, st } = lab(3, { agingTime: aging });
  st[0]!.send(frame(BROADCAST, A));
  net.run();
  net.run({ until: 10 * aging });
  st[2]!.send(frame(BROADCAST, A)); // A, forgotten long ago, shows up on port 3
  net.run();
  assert.deepEqual(sw.counters, { forwarded: 0, flooded: 2, filtered: 0, learned: 2, moved: 0 });
  assert.deepEqual(tableOf(sw, net.scheduler.now()), [[1, formatMac(A), '3']]);
  assert.equal(sw.macTable.size, 1);
});

test('a full table learns nothing new (overflow counted); frames to unlearned stations keep flooding', () => {
  const aging = 1_000_000;
  const { net, sw, st } = lab(4, { macTableSize: 2, agingTime: aging });
  st[0]!.send(frame(BROADCAST, A));
  net.run();
  st[1]!.send(frame(BROADCAST, B));
  net.run();
  st[2]!.send(frame(BROADCAST, C)); // no room for C
  net.run();
  take(st);
  assert.equal(sw.macTable.size, 2);
  assert.equal(sw.macTable.overflows, 1);
  assert.deepEqual(
    tableOf(sw, net.scheduler.now()).map((r) => r[1]),
    [formatMac(A), formatMac(B)],
  );
  st[0]!.send(frame(C, A)); // to C: flooded
  net.run();
  assert.deepEqual(counts(take(st)), [0, 1, 1, 1]);
  st[2]!.send(frame(A, C)); // from the unlearned C, to the known A: forwarded
  net.run();
  assert.deepEqual(counts(take(st)), [1, 0, 0, 0]);
  assert.equal(sw.macTable.overflows, 2); // C tried again
  assert.equal(sw.counters.learned, 2);
  st[0]!.send(frame(C, A)); // C has spoken, yet is still unknown: still flooded
  net.run();
  assert.deepEqual(counts(take(st)), [0, 1, 1, 1]);
  // Once A and B have aged out, the full table makes room for D.
  net.run({ until: net.scheduler.now() + 2 * aging });
  st[3]!.send(frame(BROADCAST, D));
  net.run();
  assert.equal(sw.macTable.lookup(1, D, net.scheduler.now()), '4');
  assert.equal(sw.macTable.size, 1);
});

test('a MAC that shows up on another port moves there', () => {
  const { net, sw, st } = lab(3, {}, true);
  st[0]!.send(frame(BROADCAST, A));
  net.run();
  st[2]!.send(frame(BROADCAST, A)); // the station moved to port 3
  net.run();
  take(st);
  assert.equal(sw.counters.moved, 1);
  assert.deepEqual(tableOf(sw, net.scheduler.now()), [[1, formatMac(A), '3']]);
  const sent = (net.tracer as TraceLog).events.filter((e) => e.node === 'sw').at(-1)!;
  assert.match(sent.message, /^02:00:00:00:00:0a moved to port 3 on VLAN 1;/);
  st[1]!.send(frame(A, B));
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 1]);
  st[2]!.send(frame(BROADCAST, A)); // seen again where it is: refreshed, not moved
  net.run();
  assert.equal(sw.counters.moved, 1);
});

test('access ports: one broadcast domain and one address table per VLAN', () => {
  const { net, sw, st } = lab(4, {}, true);
  sw.configurePort('1', { mode: 'access', vlan: 10 });
  sw.configurePort('2', { mode: 'access', vlan: 10 });
  sw.configurePort('3', { mode: 'access', vlan: 20 });
  sw.configurePort('4', { mode: 'access', vlan: 20 });
  st[0]!.send(frame(BROADCAST, A));
  net.run();
  assert.deepEqual(counts(take(st)), [0, 1, 0, 0]);
  st[2]!.send(frame(BROADCAST, A)); // the same MAC in VLAN 20: a different entry, not a move
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 0, 1]);
  assert.equal(sw.counters.moved, 0);
  assert.deepEqual(tableOf(sw, net.scheduler.now()), [
    [10, formatMac(A), '1'],
    [20, formatMac(A), '3'],
  ]);
  st[1]!.send(frame(A, B));
  net.run();
  assert.deepEqual(counts(take(st)), [1, 0, 0, 0]);
  st[3]!.send(frame(A, D));
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 1, 0]);
  st[1]!.send(frame(C, B)); // unknown unicast floods inside VLAN 10 only
  net.run();
  assert.deepEqual(counts(take(st)), [1, 0, 0, 0]);
  const floods = (net.tracer as TraceLog).events.filter((e) => e.kind === 'flood').map((e) => e.message);
  assert.match(floods[0]!, /broadcast -> flood ports 2$/);
  assert.match(floods[1]!, /^learned 02:00:00:00:00:0a on VLAN 20 port 3; .* -> flood ports 4$/);
});

test('a trunk carries tagged frames of its allowed VLANs only; it drops others and untagged frames', () => {
  const { net, sw, st } = lab(4);
  sw.configurePort('1', { mode: 'access', vlan: 10 });
  sw.configurePort('2', { mode: 'access', vlan: 20 });
  sw.configurePort('3', { mode: 'access', vlan: 30 });
  sw.configurePort('4', { mode: 'trunk', allowed: [10, 20], native: null });
  const f1 = frame(BROADCAST, A);
  st[0]!.send(f1);
  net.run();
  let got = take(st);
  assert.deepEqual(counts(got), [0, 0, 0, 1]);
  assert.deepEqual(
    got[3]![0],
    concatBytes([f1.subarray(0, 12), Uint8Array.of(0x81, 0, 0, 10), f1.subarray(12)]),
  );

  st[2]!.send(frame(BROADCAST, C)); // VLAN 30 is not on the trunk: goes nowhere
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 0, 0]);

  const t20 = frame(BROADCAST, D, 'vlan twenty', [tag(20)]);
  st[3]!.send(t20);
  net.run();
  got = take(st);
  assert.deepEqual(counts(got), [0, 1, 0, 0]);
  assert.deepEqual(got[1]![0], concatBytes([t20.subarray(0, 12), t20.subarray(16), new Uint8Array(4)]));

  st[3]!.send(frame(BROADCAST, B, 'thirty', [tag(30)]));
  st[3]!.send(frame(BROADCAST, B, 'untagged'));
  st[3]!.send(frame(BROADCAST, B, 'priority', [tag(0, 5)]));
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 0, 0]);
  assert.deepEqual(sw.drops, { 'vlan-not-allowed': 1, 'untagged-on-trunk': 2 });
  // Dropped frames teach nothing: B is unknown (C, in VLAN 30 on an access port, was accepted).
  assert.deepEqual(tableOf(sw, net.scheduler.now()), [
    [10, formatMac(A), '1'],
    [20, formatMac(D), '4'],
    [30, formatMac(C), '3'],
  ]);
  // Known unicast across the trunk: tagged on the way out, untagged on the way in.
  st[1]!.send(frame(D, B));
  net.run();
  got = take(st);
  assert.deepEqual(counts(got), [0, 0, 0, 1]);
  assert.equal(readU16(got[3]![0]!, 12), EtherType.vlan);
  assert.equal(readU16(got[3]![0]!, 14), 20);
});

test("the native VLAN crosses a trunk untagged; a frame tagged with the native VLAN's ID is accepted", () => {
  const { net, sw, st } = lab(4);
  sw.configurePort('1', { mode: 'access', vlan: 10 });
  sw.configurePort('2', { mode: 'access', vlan: 99 });
  sw.configurePort('3', { mode: 'trunk', allowed: [10], native: 99 });
  sw.configurePort('4', { mode: 'trunk', allowed: 'all', native: null });
  const f99 = frame(BROADCAST, B);
  st[1]!.send(f99);
  net.run();
  let got = take(st);
  assert.deepEqual(counts(got), [0, 0, 1, 1]);
  assert.ok(bytesEqual(got[2]![0]!, f99), 'untagged on the native VLAN');
  assert.deepEqual(
    got[3]![0],
    concatBytes([f99.subarray(0, 12), Uint8Array.of(0x81, 0, 0, 99), f99.subarray(12)]),
  );

  const untagged = frame(BROADCAST, C, 'from the trunk');
  st[2]!.send(untagged); // untagged on trunk 3: VLAN 99
  net.run();
  got = take(st);
  assert.deepEqual(counts(got), [0, 1, 0, 1]);
  assert.ok(bytesEqual(got[1]![0]!, untagged));
  assert.equal(readU16(got[3]![0]!, 14), 99);

  const tagged99 = frame(BROADCAST, D, 'tagged native', [tag(99, 2)]);
  st[2]!.send(tagged99);
  net.run();
  got = take(st);
  assert.deepEqual(counts(got), [0, 1, 0, 1]);
  assert.equal(got[1]![0]!.length, 60);
  assert.ok(bytesEqual(got[3]![0]!, tagged99), 'forwarded to the other trunk as it came');

  st[0]!.send(frame(BROADCAST, A)); // VLAN 10: tagged on both trunks
  net.run();
  got = take(st);
  assert.deepEqual(counts(got), [0, 0, 1, 1]);
  assert.equal(readU16(got[2]![0]!, 14), 10);
  assert.equal(readU16(got[3]![0]!, 14), 10);
  assert.deepEqual(sw.drops, {});
});

test('a tagged frame on an access port is dropped; a priority tag (VID 0) belongs to the port VLAN', () => {
  const { net, sw, st } = lab(3);
  sw.configurePort('1', { mode: 'access', vlan: 10 });
  sw.configurePort('2', { mode: 'access', vlan: 10 });
  sw.configurePort('3', { mode: 'trunk', allowed: 'all', native: null });
  st[0]!.send(frame(BROADCAST, A, 'own vlan', [tag(10)]));
  st[0]!.send(frame(BROADCAST, A, 'other vlan', [tag(20)]));
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 0]);
  assert.deepEqual(sw.drops, { 'tagged-on-access': 2 });
  assert.equal(sw.macTable.size, 0);

  const prio = frame(BROADCAST, A, 'voice', [tag(0, 5)]);
  st[0]!.send(prio);
  net.run();
  const got = take(st);
  assert.deepEqual(counts(got), [0, 1, 1]);
  assert.deepEqual(got[1]![0], concatBytes([prio.subarray(0, 12), prio.subarray(16), new Uint8Array(4)]));
  // Onto the trunk: the port's VLAN goes into the tag, and the priority stays.
  assert.deepEqual(
    got[2]![0],
    concatBytes([prio.subarray(0, 14), Uint8Array.of((5 << 5) | 0, 10), prio.subarray(16)]),
  );
  assert.deepEqual(tableOf(sw, net.scheduler.now()), [[10, formatMac(A), '1']]);
});

test('group source addresses and runts are dropped, and teach nothing', () => {
  const { net, sw, st } = lab(2);
  st[0]!.send(frame(BROADCAST, MULTICAST));
  st[0]!.send(frame(B, BROADCAST));
  st[0]!.send(frame(BROADCAST, A).subarray(0, 13));
  st[0]!.send(frame(BROADCAST, A, 'cut', [tag(1)]).subarray(0, 17));
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0]);
  assert.deepEqual(sw.drops, { 'bad-source-mac': 2, runt: 2 });
  assert.equal(sw.macTable.size, 0);
  assert.deepEqual(sw.counters, { forwarded: 0, flooded: 0, filtered: 0, learned: 0, moved: 0 });
});

test('a frame tagged with the reserved VID 4095 is not accepted on a trunk', () => {
  const { net, sw, st } = lab(3);
  sw.configurePort('1', { mode: 'trunk', allowed: 'all', native: null });
  sw.configurePort('2', { mode: 'trunk', allowed: 'all', native: null });
  const f = frame(BROADCAST, A, 'reserved', [tag(1)]);
  f[14] = 0x0f; // VID 4095
  f[15] = 0xff;
  st[0]!.send(f);
  net.run();
  assert.deepEqual(counts(take(st)), [0, 0, 0]);
  assert.equal(sw.macTable.size, 0);
  assert.deepEqual(sw.drops, { 'reserved-vid': 1 });
});

test('exact bytes: tags are pushed and popped per port, PCP and DEI kept, short frames padded to 60', () => {
  const { net, sw, st } = lab(4);
  sw.configurePort('1', { mode: 'access', vlan: 10 });
  sw.configurePort('2', { mode: 'trunk', allowed: [10], native: null });
  sw.configurePort('3', { mode: 'trunk', allowed: [10, 20], native: 10 });
  sw.configurePort('4', { mode: 'trunk', allowed: 'all', native: 20 });
  const payload46 = Uint8Array.from({ length: 46 }, (_, i) => i + 1);
  // A minimum-size untagged frame from the access port: 64 bytes on a trunk, untagged on the native trunk.
  const untagged = ethernet(BROADCAST, A, EXP, payload46);
  assert.equal(untagged.length, 60);
  st[0]!.send(untagged);
  net.run();
  let got = take(st);
  assert.deepEqual(counts(got), [0, 1, 1, 1]);
  const pushed = concatBytes([
    untagged.subarray(0, 12),
    Uint8Array.of(0x81, 0x00, 0x00, 0x0a),
    untagged.subarray(12),
  ]);
  assert.deepEqual(got[1]![0], pushed);
  assert.equal(got[1]![0]!.length, 64);
  assert.ok(bytesEqual(got[2]![0]!, untagged));
  assert.deepEqual(got[3]![0], pushed);

  // A 64-byte tagged frame (PCP 3, DEI) from trunk 2: popped to exactly 60 bytes, no padding needed.
  const tagged64 = ethernet(B, C, EXP, payload46, [tag(10, 3, EtherType.vlan, true)]);
  assert.equal(tagged64.length, 64);
  st[1]!.send(tagged64);
  net.run();
  got = take(st);
  assert.deepEqual(counts(got), [1, 0, 1, 1]);
  const popped = concatBytes([tagged64.subarray(0, 12), tagged64.subarray(16)]);
  assert.equal(popped.length, 60);
  assert.deepEqual(got[0]![0], popped);
  assert.deepEqual(got[2]![0], popped); // native VLAN 10 on trunk 3
  assert.ok(bytesEqual(got[3]![0]!, tagged64), 'tag kept, PCP and DEI included');

  // A 60-byte tagged frame (42 payload bytes) loses 4 bytes with its tag: padded back to 60 with zeros.
  const payload42 = payload46.subarray(0, 42);
  const tagged60 = ethernet(D, B, EXP, payload42, [tag(10, 7)]);
  assert.equal(tagged60.length, 60);
  st[3]!.send(tagged60);
  net.run();
  got = take(st);
  assert.deepEqual(counts(got), [1, 1, 1, 0]); // D unknown: flood
  const expected = concatBytes([tagged60.subarray(0, 12), tagged60.subarray(16), new Uint8Array(4)]);
  assert.equal(expected.length, 60);
  assert.deepEqual(got[0]![0], expected);
  assert.deepEqual(got[2]![0], expected);
  assert.ok(bytesEqual(got[1]![0]!, tagged60));

  // Untagged into trunk 4 (native 20) -> out of no other port (VLAN 20 is only allowed on 3, tagged).
  const native20 = ethernet(BROADCAST, D, EXP, payload46);
  st[3]!.send(native20);
  net.run();
  got = take(st);
  assert.deepEqual(counts(got), [0, 0, 1, 0]);
  assert.deepEqual(
    got[2]![0],
    concatBytes([native20.subarray(0, 12), Uint8Array.of(0x81, 0, 0, 20), native20.subarray(12)]),
  );
});

// ---- property: VLAN isolation and exactly-once unicast on random trees of switches ----

const VLANS = [10, 20, 30] as const;

interface TreeLab {
  /** parent[i] is the switch that switch i + 1 hangs from. */
  readonly parents: number[];
  /** Native VLAN of each trunk (the same at both ends), or null. */
  readonly natives: (number | null)[];
  readonly hosts: { sw: number; vlan: number; subnet: number }[];
  readonly pings: { from: number; to: number; peer: boolean }[];
}

const treeLab: fc.Arbitrary<TreeLab> = fc
  .record({
    switches: fc.integer({ min: 1, max: 5 }),
    hostCount: fc.integer({ min: 2, max: 10 }),
  })
  .chain(({ switches, hostCount }) =>
    fc.record({
      parents: fc
        .array(fc.nat(), { minLength: switches - 1, maxLength: switches - 1 })
        .map((raw) => raw.map((r, i) => r % (i + 1))),
      natives: fc.array(fc.constantFrom<number | null>(null, ...VLANS), {
        minLength: switches - 1,
        maxLength: switches - 1,
      }),
      hosts: fc.array(
        fc.record({
          sw: fc.integer({ min: 0, max: switches - 1 }),
          vlan: fc.constantFrom(...VLANS),
          subnet: fc.constantFrom(0, 0, 0, 1), // mostly one subnet, so that VLANs alone separate hosts
        }),
        { minLength: hostCount, maxLength: hostCount },
      ),
      pings: fc.array(
        fc.record({
          from: fc.integer({ min: 0, max: hostCount - 1 }),
          to: fc.integer({ min: 0, max: hostCount - 1 }),
          // Most pings pick a peer that can answer (same VLAN and subnet), when there is one.
          peer: fc.boolean(),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    }),
  );

const hostMac = (i: number): Mac => 0x02_00_00_00_01_00 + i;
const hostIp = (i: number, subnet: number) => `10.0.${subnet}.${i + 1}`;

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

test('property: on a tree of switches, VLANs isolate and learned unicast arrives exactly once', () => {
  fc.assert(
    fc.property(treeLab, (t) => {
      const net = new Network();
      const switches = [net.addSwitch('s0')];
      t.parents.forEach((parent, i) => {
        const sw = net.addSwitch(`s${i + 1}`);
        switches.push(sw);
        const link = net.addLink(sw, switches[parent]!);
        const trunk = { mode: 'trunk', allowed: 'all', native: t.natives[i]! } as const;
        sw.configurePort(link.a.name, trunk);
        switches[parent]!.configurePort(link.b.name, trunk);
      });
      const hosts: Host[] = [];
      const seen: Uint8Array[][] = [];
      t.hosts.forEach((h, i) => {
        const host = net.addHost(`h${i}`, { ip: `${hostIp(i, h.subnet)}/24`, mac: hostMac(i) });
        const link = net.addLink(host, switches[h.sw]!);
        switches[h.sw]!.configurePort(link.b.name, { mode: 'access', vlan: h.vlan });
        const frames: Uint8Array[] = [];
        host.port('eth0')!.tap((f, dir) => {
          if (dir === 'rx') frames.push(f);
        });
        hosts.push(host);
        seen.push(frames);
      });
      net.start(); // gratuitous ARP: broadcasts that must stay in their VLAN too
      net.run();

      const vlanOfMac = new Map(t.hosts.map((h, i) => [hostMac(i), h.vlan]));
      const ok: [number, number][] = [];
      for (const p of t.pings) {
        const a = p.from;
        const peers = t.hosts.flatMap((h, i) =>
          i !== a && h.vlan === t.hosts[a]!.vlan && h.subnet === t.hosts[a]!.subnet ? [i] : [],
        );
        const b = p.peer && peers.length > 0 ? peers[p.to % peers.length]! : p.to;
        if (a === b) continue;
        const run = hosts[a]!.ping(ip(hostIp(b, t.hosts[b]!.subnet)), { count: 1 });
        net.run();
        const status = run.results[0]!.status;
        const sameVlan = t.hosts[a]!.vlan === t.hosts[b]!.vlan;
        const sameSubnet = t.hosts[a]!.subnet === t.hosts[b]!.subnet;
        if (sameVlan && sameSubnet) {
          assert.equal(status, 'reply', `h${a} -> h${b} in VLAN ${t.hosts[a]!.vlan}`);
          ok.push([a, b]);
        } else {
          assert.notEqual(status, 'reply', `h${a} -> h${b} must fail`);
          if (!sameSubnet) assert.equal(status, 'not-sent'); // no gateway
        }
      }

      // No host ever received a tagged frame, or any frame (or ARP) from a station of another VLAN.
      seen.forEach((frames, i) => {
        const vlan = t.hosts[i]!.vlan;
        for (const f of frames) {
          assert.notEqual(readU16(f, 12), EtherType.vlan, `h${i} got a tagged frame`);
          assert.equal(
            vlanOfMac.get(readMac(f, 6)),
            vlan,
            `h${i} (VLAN ${vlan}) got a frame from ${formatMac(readMac(f, 6))}`,
          );
          if (readU16(f, 12) === EtherType.arp) {
            const arp = ArpView.check(f, 14);
            assert.ok(arp.ok);
            assert.equal(vlanOfMac.get(arp.value.senderMac), vlan);
          }
        }
      });

      // After learning, one unicast datagram between hosts that pinged reaches its host, and only it, once.
      for (const [n, [a, b]] of ok.entries()) {
        for (const frames of seen) frames.length = 0;
        const marker = ascii(`marker-${n}-${a}-${b}`);
        if (!hosts[b]!.isBound(9)) hosts[b]!.bindUdp(9, () => {});
        const before = hosts[b]!.udpLog.length;
        assert.ok(hosts[a]!.sendUdp(4000, ip(hostIp(b, t.hosts[b]!.subnet)), 9, marker));
        net.run();
        const carriers = seen.map((frames) => frames.filter((f) => contains(f, marker)).length);
        assert.deepEqual(
          carriers,
          seen.map((_, i) => (i === b ? 1 : 0)),
          `h${a} -> h${b}: frames carrying the datagram per host`,
        );
        assert.equal(hosts[b]!.udpLog.length, before + 1);
      }
      for (const sw of switches) assert.deepEqual(sw.drops, {});
    }),
    { numRuns: 150 },
  );
});

test('link-local group frames (01:80:c2:00:00:01-0f: pause, LACP, LLDP) are never relayed (802.1D 7.12.6)', () => {
  const net = new Network();
  const sw = net.addSwitch('sw');
  const a = station(net, 'a');
  const b = station(net, 'b');
  net.addLink(a, sw);
  net.addLink(b, sw);
  a.send(
    emitEthernetFrame(
      { dst: mac('01:80:c2:00:00:0e'), src: mac('02:00:00:00:00:0a'), tags: [], etherType: 0x88cc },
      new Uint8Array(46),
    ),
  );
  net.run();
  assert.equal(b.received.length, 0);
  assert.equal(sw.drops['link-local-group'], 1);
});

test('two switches untagging the same tagged frame share one untagged copy, with the exact bytes', () => {
  // Two switches, each with a trunk (VLAN 10) and an access port of VLAN 10; the same tagged frame
  // object enters both trunks, as an NVE's copy of a flood reaches each server of the VLAN.
  const net = new Network();
  const out: Station[] = [];
  const trunks: Station[] = [];
  for (const name of ['swA', 'swB']) {
    const sw = net.addSwitch(name);
    const trunk = station(net, `${name}-t`);
    net.addLink(trunk, sw);
    const access = station(net, `${name}-a`);
    net.addLink(access, sw);
    sw.configurePort('1', { mode: 'trunk', allowed: [10], native: null });
    sw.configurePort('2', { mode: 'access', vlan: 10 });
    trunks.push(trunk);
    out.push(access);
  }
  const tagged = frame(BROADCAST, A, 'shared', [tag(10, 5)]);
  for (const t of trunks) t.send(tagged);
  net.run();
  const [a, b] = out.map((s) => s.received.map((r) => r.frame));
  const popped = concatBytes([tagged.subarray(0, 12), tagged.subarray(16)]);
  const padded = new Uint8Array(60);
  padded.set(popped);
  assert.deepEqual(a, [padded]);
  assert.deepEqual(b, [padded]);
  assert.equal(a![0], b![0], 'one copy for both switches');
  // A different frame object with the same bytes gets its own copy (frames are matched by identity).
  const again = tagged.slice();
  trunks[0]!.send(again);
  net.run();
  const c = out[0]!.received.map((r) => r.frame)[1]!;
  assert.deepEqual(c, padded);
  assert.notEqual(c, a![0]);
});
