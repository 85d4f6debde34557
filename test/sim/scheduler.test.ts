/**
 * The discrete-event scheduler and the seeded RNG: (time, sequence) ordering, cancellation,
 * rounding of delays, the three ways `run` stops early (`until`, `budget`, `stopWhen`), a
 * fast-check property against a plain reference model, and the generator's exact output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MS, NS, Rng, Scheduler, SECOND, type Timer, US } from '../../src/sim/index.js';

/** A scheduler and a log of `[label, time]` for every event that ran. */
function logged() {
  const s = new Scheduler();
  const log: [string, number][] = [];
  const ev = (label: string) => () => log.push([label, s.now()]);
  return { s, log, ev };
}

test('time units are nanoseconds', () => {
  assert.equal(NS, 1);
  assert.equal(US, 1_000);
  assert.equal(MS, 1_000_000);
  assert.equal(SECOND, 1_000_000_000);
});

test('events due at the same time run in the order they were scheduled', () => {
  const { s, log, ev } = logged();
  for (const label of ['a', 'b', 'c', 'd', 'e']) s.schedule(10, ev(label));
  s.at(10, ev('f'));
  const r = s.run();
  assert.deepEqual(r, { reason: 'quiet', events: 6, now: 10 });
  assert.deepEqual(log, [
    ['a', 10],
    ['b', 10],
    ['c', 10],
    ['d', 10],
    ['e', 10],
    ['f', 10],
  ]);
});

test('an event scheduled later for an earlier time runs first', () => {
  const { s, log, ev } = logged();
  s.schedule(100, ev('late'));
  s.schedule(50, ev('early'));
  s.schedule(75, ev('middle'));
  s.schedule(0, ev('now'));
  s.run();
  assert.deepEqual(log, [
    ['now', 0],
    ['early', 50],
    ['middle', 75],
    ['late', 100],
  ]);
  assert.equal(s.now(), 100);
});

test('events scheduled from a callback at the current time run after those already due then', () => {
  const { s, log, ev } = logged();
  s.schedule(5, () => {
    log.push(['first', s.now()]);
    s.schedule(0, ev('nested'));
    s.schedule(-3, ev('nested-negative'));
  });
  s.schedule(5, ev('second'));
  s.schedule(6, ev('third'));
  s.run();
  assert.deepEqual(log, [
    ['first', 5],
    ['second', 5],
    ['nested', 5],
    ['nested-negative', 5],
    ['third', 6],
  ]);
});

test('a cancelled event does not run, and cancelling is harmless after it ran or twice', () => {
  const { s, log, ev } = logged();
  const a = s.schedule(10, ev('a'));
  const b = s.schedule(20, ev('b'));
  const c = s.schedule(30, ev('c'));
  assert.equal(b.cancelled, false);
  b.cancel();
  b.cancel();
  assert.equal(b.cancelled, true);
  assert.equal(b.time, 20);
  assert.equal(s.pending, 3, 'cancelled events stay pending until the run discards them');
  const r = s.run();
  assert.deepEqual(log, [
    ['a', 10],
    ['c', 30],
  ]);
  assert.deepEqual(r, { reason: 'quiet', events: 2, now: 30 });
  assert.equal(s.pending, 0);
  a.cancel();
  assert.equal(s.run().events, 0);
  assert.equal(s.executed, 2);
  assert.equal(c.cancelled, false);
});

test('an event cancelled by an earlier callback at the same time does not run', () => {
  const { s, log, ev } = logged();
  let victim: Timer | undefined;
  s.schedule(7, () => {
    log.push(['killer', s.now()]);
    victim?.cancel();
  });
  victim = s.schedule(7, ev('victim'));
  s.schedule(7, ev('bystander'));
  s.run();
  assert.deepEqual(log, [
    ['killer', 7],
    ['bystander', 7],
  ]);
});

test('delays are rounded to whole nanoseconds and never in the past', () => {
  const { s, log, ev } = logged();
  s.schedule(100, () => {});
  s.run();
  assert.equal(s.now(), 100);
  const timers: [string, Timer][] = [
    ['neg', s.schedule(-50, ev('neg'))],
    ['neg-frac', s.schedule(-0.7, ev('neg-frac'))],
    ['0.4', s.schedule(0.4, ev('0.4'))],
    ['0.5', s.schedule(0.5, ev('0.5'))],
    ['2.6', s.schedule(2.6, ev('2.6'))],
    ['1.49', s.schedule(1.49, ev('1.49'))],
    ['at-past', s.at(50, ev('at-past'))],
    ['at-frac', s.at(150.5, ev('at-frac'))],
    ['at-frac-down', s.at(120.2, ev('at-frac-down'))],
  ];
  const expected: Record<string, number> = {
    neg: 100,
    'neg-frac': 100,
    '0.4': 100,
    '0.5': 101,
    '2.6': 103,
    '1.49': 101,
    'at-past': 100,
    'at-frac': 151,
    'at-frac-down': 120,
  };
  for (const [label, timer] of timers) assert.equal(timer.time, expected[label], label);
  s.run();
  for (const [label, time] of log) {
    assert.equal(time, expected[label], label);
    assert.ok(Number.isInteger(time));
  }
  assert.deepEqual(
    log.map(([label]) => label),
    ['neg', 'neg-frac', '0.4', 'at-past', '0.5', '1.49', '2.6', 'at-frac-down', 'at-frac'],
  );
});

test('run({until}) runs events due at `until`, stops before later ones, and leaves the clock at `until`', () => {
  const { s, log, ev } = logged();
  s.schedule(10, ev('a'));
  s.schedule(20, ev('b'));
  s.schedule(30, ev('c'));
  s.schedule(40, ev('d'));
  assert.deepEqual(s.run({ until: 20 }), { reason: 'time', events: 2, now: 20 });
  assert.deepEqual(s.run({ until: 25 }), { reason: 'time', events: 0, now: 25 });
  assert.equal(s.now(), 25);
  assert.equal(s.pending, 2);
  assert.deepEqual(log, [
    ['a', 10],
    ['b', 20],
  ]);
  // A delay is counted from where the clock was left, not from the last event.
  s.schedule(1, ev('from-25'));
  assert.deepEqual(s.run({ until: 35 }), { reason: 'time', events: 2, now: 35 });
  assert.deepEqual(log.slice(2), [
    ['from-25', 26],
    ['c', 30],
  ]);
  assert.deepEqual(s.run(), { reason: 'quiet', events: 1, now: 40 });
});

test('run({until}) leaves the clock at `until` when the queue runs dry first', () => {
  const { s, log, ev } = logged();
  s.schedule(10, ev('a'));
  assert.deepEqual(s.run({ until: 1_000 }), { reason: 'quiet', events: 1, now: 1_000 });
  assert.equal(s.now(), 1_000);
  s.schedule(5, ev('b'));
  s.run();
  assert.deepEqual(log, [
    ['a', 10],
    ['b', 1_005],
  ]);
  // An empty queue from the start: time still advances.
  const empty = new Scheduler();
  assert.deepEqual(empty.run({ until: 7 * US }), { reason: 'quiet', events: 0, now: 7 * US });
  // Only cancelled events left: they are discarded and the clock still moves to `until`.
  const cancelled = new Scheduler();
  cancelled.schedule(3, () => assert.fail('cancelled event ran')).cancel();
  assert.deepEqual(cancelled.run({ until: 9 }), { reason: 'quiet', events: 0, now: 9 });
  assert.equal(cancelled.pending, 0);
});

test('run({until}) with `until` before the current time does not move the clock backwards', () => {
  const { s, log, ev } = logged();
  s.schedule(100, ev('a'));
  s.schedule(500, ev('b'));
  s.run({ until: 100 });
  assert.equal(s.now(), 100);
  // Events pending (the `time` stop) and none pending (the `quiet` stop): the clock stays put.
  assert.deepEqual(s.run({ until: 50 }), { reason: 'time', events: 0, now: 100 });
  assert.equal(s.now(), 100, 'the clock went backwards');
  s.schedule(0, ev('c'));
  s.run({ until: 200 });
  assert.deepEqual(log, [
    ['a', 100],
    ['c', 100],
  ]);
  s.run();
  assert.deepEqual(s.run({ until: 10 }), { reason: 'quiet', events: 0, now: 500 });
});

test('run({budget}) runs exactly `budget` events and leaves the rest pending', () => {
  const { s, log, ev } = logged();
  for (let i = 0; i < 10; i++) s.schedule(i * 10, ev(`e${i}`));
  assert.deepEqual(s.run({ budget: 3 }), { reason: 'budget', events: 3, now: 20 });
  assert.deepEqual(
    log.map(([l]) => l),
    ['e0', 'e1', 'e2'],
  );
  assert.equal(s.pending, 7);
  assert.equal(s.executed, 3);
  assert.deepEqual(s.run({ budget: 0 }), { reason: 'budget', events: 0, now: 20 });
  assert.equal(s.pending, 7);
  assert.deepEqual(s.run({ budget: 6 }), { reason: 'budget', events: 6, now: 80 });
  // A budget that runs out together with the queue: nothing was held back, so the run is quiet.
  assert.deepEqual(s.run({ budget: 1 }), { reason: 'quiet', events: 1, now: 90 });
  assert.deepEqual(s.run({ budget: 5 }), { reason: 'quiet', events: 0, now: 90 });
  assert.equal(s.executed, 10);
  assert.equal(log.length, 10);
});

test('run({budget}) stops a storm of events that keep scheduling more', () => {
  const s = new Scheduler();
  let fired = 0;
  const storm = () => {
    fired++;
    s.schedule(0, storm);
    s.schedule(1, storm);
  };
  s.schedule(0, storm);
  const r = s.run({ budget: 1000 });
  assert.equal(r.reason, 'budget');
  assert.equal(r.events, 1000);
  assert.equal(fired, 1000);
  assert.equal(s.executed, 1000);
  assert.equal(s.pending, 1001);
});

test('run({budget}) counts only events that ran, not cancelled ones', () => {
  const { s, log, ev } = logged();
  const timers = [0, 1, 2, 3, 4, 5].map((i) => s.schedule(i, ev(`e${i}`)));
  timers[1]!.cancel();
  timers[2]!.cancel();
  assert.deepEqual(s.run({ budget: 2 }), { reason: 'budget', events: 2, now: 3 });
  assert.deepEqual(
    log.map(([l]) => l),
    ['e0', 'e3'],
  );
});

test('run({stopWhen}) stops right after the event that makes it true', () => {
  const { s, log } = logged();
  let count = 0;
  for (let i = 0; i < 6; i++) {
    // Two events at each time: the condition becomes true on the first of a pair.
    s.schedule(Math.floor(i / 2) * 100, () => {
      count++;
      log.push([`e${i}`, s.now()]);
    });
  }
  let checks = 0;
  const r = s.run({
    stopWhen: () => {
      checks++;
      return count === 3;
    },
  });
  assert.deepEqual(r, { reason: 'condition', events: 3, now: 100 });
  assert.equal(checks, 3, 'checked once after each event');
  assert.deepEqual(log, [
    ['e0', 0],
    ['e1', 0],
    ['e2', 100],
  ]);
  assert.equal(s.pending, 3);
  // A later run carries on from the next event (which is due at the same time).
  assert.deepEqual(s.run({ budget: 1 }), { reason: 'budget', events: 1, now: 100 });
  assert.deepEqual(log.at(-1), ['e3', 100]);
});

test('run({stopWhen}) is not consulted before the first event, and `until` still applies', () => {
  const { s, log, ev } = logged();
  s.schedule(10, ev('a'));
  s.schedule(20, ev('b'));
  s.schedule(30, ev('c'));
  assert.deepEqual(s.run({ stopWhen: () => true }), { reason: 'condition', events: 1, now: 10 });
  assert.deepEqual(s.run({ stopWhen: () => false, until: 25 }), { reason: 'time', events: 1, now: 25 });
  assert.deepEqual(s.run({ stopWhen: () => false }), { reason: 'quiet', events: 1, now: 30 });
  assert.equal(log.length, 3);
});

test('`executed` counts every event run across calls, never cancelled ones', () => {
  const s = new Scheduler();
  assert.equal(s.executed, 0);
  for (let i = 0; i < 5; i++) s.schedule(i, () => {});
  s.schedule(2, () => {}).cancel();
  s.run({ budget: 2 });
  assert.equal(s.executed, 2);
  s.run({ until: 3 });
  assert.equal(s.executed, 4);
  s.run();
  assert.equal(s.executed, 5);
  s.schedule(1, () => s.schedule(1, () => {}));
  s.run();
  assert.equal(s.executed, 7);
});

test('a callback that throws stops the run and the error propagates', () => {
  const { s, log, ev } = logged();
  s.schedule(1, ev('a'));
  s.schedule(2, () => {
    throw new Error('boom');
  });
  s.schedule(3, ev('c'));
  assert.throws(() => s.run(), /boom/);
  assert.equal(s.now(), 2);
  assert.deepEqual(s.run(), { reason: 'quiet', events: 1, now: 3 });
  assert.deepEqual(
    log.map(([l]) => l),
    ['a', 'c'],
  );
});

// ---- Property: random schedules against a reference model -------------------------------------

/** An event to schedule: a delay, events its callback schedules, and a timer it cancels. */
interface Spec {
  readonly delay: number;
  /** Schedule with `at(now + delay)` instead of `schedule(delay)`. */
  readonly absolute: boolean;
  readonly children: readonly Spec[];
  /** Cancel the (k mod n)-th timer created so far, after scheduling the children. */
  readonly cancel: number | undefined;
}

function specArb(depth: number): fc.Arbitrary<Spec> {
  return fc.record({
    // Small range: many ties. Fractions and negatives exercise rounding and clamping.
    delay: fc.oneof(
      fc.integer({ min: -5, max: 30 }),
      fc.double({ min: -5, max: 30, noNaN: true, noDefaultInfinity: true }),
    ),
    absolute: fc.boolean(),
    children: depth === 0 ? fc.constant([]) : fc.array(specArb(depth - 1), { maxLength: 3 }),
    cancel: fc.option(fc.nat(), { nil: undefined }),
  });
}

interface Program {
  readonly roots: readonly Spec[];
  /** Timers cancelled before running, by index (mod the number created). */
  readonly cancels: readonly number[];
}

const programArb: fc.Arbitrary<Program> = fc.record({
  roots: fc.array(specArb(3), { maxLength: 12 }),
  cancels: fc.array(fc.nat(), { maxLength: 4 }),
});

type Trace = [label: number, time: number][];

/** The reference: a plain list, the next event found by linear scan for the least (time, seq). */
function reference(program: Program): Trace {
  interface Pending {
    readonly time: number;
    readonly seq: number;
    readonly label: number;
    readonly spec: Spec;
    cancelled: boolean;
    done: boolean;
  }
  let now = 0;
  const created: Pending[] = [];
  const queue: Pending[] = [];
  const trace: Trace = [];
  const schedule = (spec: Spec) => {
    const delay = Math.max(0, Math.round(spec.delay));
    const p: Pending = {
      time: now + delay,
      seq: created.length,
      label: created.length,
      spec,
      cancelled: false,
      done: false,
    };
    created.push(p);
    queue.push(p);
  };
  const cancel = (k: number) => {
    const p = created[k % created.length];
    if (p) p.cancelled = true;
  };
  for (const spec of program.roots) schedule(spec);
  for (const k of program.cancels) cancel(k);
  for (;;) {
    let best = -1;
    for (let i = 0; i < queue.length; i++) {
      const q = queue[i]!;
      const b = queue[best];
      if (!b || q.time < b.time || (q.time === b.time && q.seq < b.seq)) best = i;
    }
    if (best < 0) return trace;
    const [p] = queue.splice(best, 1);
    if (!p || p.cancelled) continue;
    now = p.time;
    p.done = true;
    trace.push([p.label, now]);
    for (const child of p.spec.children) schedule(child);
    if (p.spec.cancel !== undefined) cancel(p.spec.cancel);
  }
}

/** The same program on the real scheduler, run in chunks of the given budgets (cycled), then to the end. */
function actual(program: Program, budgets: readonly number[]): { trace: Trace; s: Scheduler } {
  const s = new Scheduler();
  const timers: Timer[] = [];
  const trace: Trace = [];
  const schedule = (spec: Spec) => {
    const label = timers.length;
    const fn = () => {
      trace.push([label, s.now()]);
      for (const child of spec.children) schedule(child);
      if (spec.cancel !== undefined) timers[spec.cancel % timers.length]!.cancel();
    };
    timers.push(spec.absolute ? s.at(s.now() + spec.delay, fn) : s.schedule(spec.delay, fn));
  };
  for (const spec of program.roots) schedule(spec);
  for (const k of program.cancels) if (timers.length > 0) timers[k % timers.length]!.cancel();
  for (let i = 0; i < budgets.length * 4; i++) {
    const budget = budgets[i % budgets.length]!;
    const before = trace.length;
    const r = s.run({ budget });
    assert.equal(r.events, trace.length - before);
    if (r.reason === 'quiet') return { trace, s };
    assert.equal(r.reason, 'budget');
    assert.equal(r.events, budget);
  }
  s.run();
  return { trace, s };
}

test('property: random schedules with cancellations and nested scheduling run in (time, sequence) order', () => {
  fc.assert(
    fc.property(
      programArb,
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
      (program, budgets) => {
        const expected = reference(program);
        const { trace, s } = actual(program, budgets);
        assert.deepEqual(trace, expected);
        assert.equal(s.executed, expected.length);
        assert.equal(s.pending, 0);
        assert.equal(s.now(), expected.at(-1)?.[1] ?? 0);
        for (let i = 1; i < trace.length; i++)
          assert.ok(trace[i - 1]![1] <= trace[i]![1], 'time went backwards');
      },
    ),
    { numRuns: 300 },
  );
});

// ---- RNG ---------------------------------------------------------------------------------------

function draw(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextU32());
}

test('RNG: the first outputs for seeds 1 and 42 are pinned (xoshiro128** seeded by splitmix32)', () => {
  // Computed once from this generator and checked against an independent implementation; a change
  // here changes every seeded simulation (loss patterns, STP tie-breaks, ...).
  assert.deepEqual(draw(new Rng(1), 5), [0x9190299e, 0xc1017b27, 0xe3af522f, 0x7d71fb05, 0x787816c2]);
  assert.deepEqual(draw(new Rng(42), 5), [0xa91e1cac, 0x207b36e9, 0x1c987ffa, 0xd09fde9e, 0x14404494]);
  assert.equal(new Rng(42).seed, 42);
});

test('RNG: the same seed gives the same sequence, different seeds differ', () => {
  for (const seed of [0, 1, 7, 42, 0xffffffff, 123456789]) {
    assert.deepEqual(draw(new Rng(seed), 100), draw(new Rng(seed), 100), `seed ${seed}`);
  }
  const firsts = new Set<string>();
  for (let seed = 0; seed < 200; seed++) firsts.add(draw(new Rng(seed), 4).join(','));
  assert.equal(firsts.size, 200, 'every seed in 0..199 starts its own sequence');
  const a = draw(new Rng(1), 1000);
  const b = draw(new Rng(2), 1000);
  assert.ok(a.filter((x, i) => x === b[i]).length < 3);
});

test('RNG: nextU32 is an unsigned 32-bit integer', () => {
  const rng = new Rng(99);
  for (let i = 0; i < 10_000; i++) {
    const x = rng.nextU32();
    assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff, String(x));
  }
});

test('RNG: float() is in [0, 1), int(n) in [0, n), and both spread over their range', () => {
  const rng = new Rng(5);
  let sum = 0;
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    const f = rng.float();
    assert.ok(f >= 0 && f < 1, String(f));
    sum += f;
  }
  assert.ok(Math.abs(sum / N - 0.5) < 0.01, `mean ${sum / N}`);
  for (const n of [1, 2, 3, 10, 1000]) {
    const seen = new Set<number>();
    for (let i = 0; i < 5_000; i++) {
      const k = rng.int(n);
      assert.ok(Number.isInteger(k) && k >= 0 && k < n, `int(${n}) = ${k}`);
      seen.add(k);
    }
    if (n <= 10) assert.equal(seen.size, n, `int(${n}) reaches every value`);
  }
});

test('RNG: chance(0) is never true, chance(1) always, chance(p) about p of the time', () => {
  const rng = new Rng(11);
  for (let i = 0; i < 10_000; i++) {
    assert.equal(rng.chance(0), false);
    assert.equal(rng.chance(1), true);
  }
  let hits = 0;
  for (let i = 0; i < 10_000; i++) if (rng.chance(0.25)) hits++;
  assert.ok(hits > 2_300 && hits < 2_700, `chance(0.25): ${hits} of 10000`);
});

test('nextTime: when the next pending event is due, cancelled ones included, undefined when none is', () => {
  const s = new Scheduler();
  assert.equal(s.nextTime(), undefined);
  const far = s.at(5 * MS, () => {});
  s.at(3 * US, () => {});
  assert.equal(s.nextTime(), 3 * US);
  s.run({ until: 4 * US });
  assert.equal(s.nextTime(), 5 * MS);
  far.cancel();
  assert.equal(s.nextTime(), 5 * MS);
  s.run();
  assert.equal(s.nextTime(), undefined);
});
