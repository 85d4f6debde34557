/**
 * The memory-transfer model: pre-copy rounds worked out by hand (1 GiB, 4 KiB pages, 1 Gbit/s,
 * 10,000 pages/s) with every page count and nanosecond; agreement with the geometric closed form
 * of Liu et al. (HPDC 2011) over random parameters with λ < 1; the three stop reasons; the
 * writable working set cap; the stop threshold options; post-copy downtime, total time and
 * faults; the round table; and input validation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type PreCopyParams,
  postCopy,
  preCopy,
  preCopyClosedForm,
  stopThreshold,
} from '../../src/migration/index.js';
import { roundTable } from '../../src/topo/lab/migration-report.js';

/**
 * The reference case. 1 GiB / 4096 B = 262,144 pages. One page is 4096·8 = 32,768 bits, so at
 * 1 Gbit/s it takes 32,768 ns exactly and the link carries R = 1e9 / 32,768 = 30,517.578125 pages/s.
 * λ = D / R = 10,000 · 32,768e-9 = 0.32768. QEMU's 300 ms downtime fits floor(300e6 / 32,768) =
 * 9,155 pages. Switchover 5 ms (the default).
 */
const REF = { memoryBytes: 2 ** 30, dirtyRate: 10_000, bandwidth: 1e9 } as const;
const PAGE_NS = 32_768;
const SWITCH = 5_000_000;

test('pre-copy, worked by hand: 1 GiB, 4 KiB pages, 1 Gbit/s, 10,000 pages/s', () => {
  const plan = preCopy(REF);
  assert.equal(plan.totalPages, 262_144);
  assert.equal(plan.pageTime, PAGE_NS);
  assert.equal(plan.thresholdPages, 9_155);
  // round 1: 262,144 pages · 32,768 ns = 8,589,934,592 ns; dirtied 10,000 · 8.589934592 = 85,899.3 -> 85,899
  // round 2:  85,899 pages -> 2,814,738,432 ns; dirtied 28,147.38 -> 28,147
  // round 3:  28,147 pages ->   922,320,896 ns; dirtied  9,223.21 ->  9,223 (> 9,155: one more round)
  // round 4:   9,223 pages ->   302,219,264 ns; dirtied  3,022.19 ->  3,022 (<= 9,155: stop)
  // stop-and-copy: 3,022 pages -> 99,024,896 ns, + 5 ms switchover = downtime 104,024,896 ns
  assert.deepEqual(
    plan.rounds.map((r) => [r.index, r.pages, r.bytes, r.start, r.duration, r.dirtied]),
    [
      [1, 262_144, 1_073_741_824, 0, 8_589_934_592, 85_899],
      [2, 85_899, 351_842_304, 8_589_934_592, 2_814_738_432, 28_147],
      [3, 28_147, 115_290_112, 11_404_673_024, 922_320_896, 9_223],
      [4, 9_223, 37_777_408, 12_326_993_920, 302_219_264, 3_022],
    ],
  );
  assert.deepEqual(plan.stopAndCopy, {
    index: 5,
    pages: 3_022,
    bytes: 12_378_112,
    start: 12_629_213_184,
    duration: 99_024_896,
    dirtied: 0,
  });
  assert.equal(plan.stopReason, 'threshold');
  assert.equal(plan.converged, true);
  assert.equal(plan.downtime, 99_024_896 + SWITCH);
  // 262,144 + 85,899 + 28,147 + 9,223 + 3,022 = 388,435 pages; · 32,768 ns = 12,728,238,080 ns
  assert.equal(plan.pagesSent, 388_435);
  assert.equal(plan.bytesSent, 388_435 * 4096);
  assert.equal(plan.totalTime, 12_728_238_080 + SWITCH);
});

test('the reference case against the closed form: same rounds, pages within rounding', () => {
  const cf = preCopyClosedForm(REF);
  const plan = preCopy(REF);
  assert.equal(cf.lambda, 0.32768);
  // n = ceil(ln(9155/262144) / ln 0.32768) = ceil(3.0067) = 4 (V_mem·λ³ = 9,223.4 is just above 9,155)
  assert.equal(cf.rounds, 4);
  assert.equal(plan.rounds.length, cf.rounds);
  // V_mig = 262,144 · (1 − λ⁵) / (1 − λ) = 388,436.53; V_4 = 262,144 · λ⁴ = 3,022.31
  assert.ok(Math.abs(cf.pagesSent - 388_436.53) < 0.01);
  assert.ok(Math.abs(cf.remainderPages - 3_022.31) < 0.01);
  assert.ok(Math.abs(plan.pagesSent - cf.pagesSent) < 2);
  assert.ok(Math.abs(plan.stopAndCopy.pages - cf.remainderPages) < 1);
  assert.ok(Math.abs(plan.totalTime - cf.totalTime) < 2 * PAGE_NS);
  assert.ok(Math.abs(plan.downtime - cf.downtime) < PAGE_NS);
});

test('property: with λ < 1 the discrete rounds follow the geometric closed form within rounding', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2 ** 14, max: 2 ** 22 }), // pages: 64 MiB .. 16 GiB of 4 KiB pages
      fc.constantFrom(1e8, 1e9, 2.5e9, 1e10, 4e10, 1e11),
      fc.double({ min: 0.01, max: 0.9, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(0, 8, 64),
      (pages, bandwidth, lambda, thresholdAt, pageOverhead) => {
        const pageBytes = 4096 + pageOverhead;
        const linkPagesPerSecond = bandwidth / (pageBytes * 8);
        const thresholdPages = 100 + Math.floor(thresholdAt ** 4 * pages); // biased to many rounds
        const params: PreCopyParams = {
          memoryBytes: pages * 4096,
          dirtyRate: lambda * linkPagesPerSecond,
          bandwidth,
          pageOverhead,
          thresholdPages,
          maxRounds: 1000,
          switchoverCost: 0,
        };
        const plan = preCopy(params);
        const cf = preCopyClosedForm(params);
        const l = cf.lambda;
        const k = plan.rounds.length;
        // Each dirty count is rounded to a page (±0.5) and each round to a ns; the errors decay
        // by λ per round, so any V_i is off by less than 1/(1 − λ) pages and the sum of k + 1 of
        // them by less than (k + 1)/(1 − λ).
        const perRound = 1 / (1 - l);
        assert.equal(plan.stopReason, 'threshold');
        for (const r of [...plan.rounds, plan.stopAndCopy]) {
          assert.ok(Number.isSafeInteger(r.duration) && Number.isSafeInteger(r.start));
          assert.ok(Math.abs(r.pages - pages * l ** (r.index - 1)) < perRound, `V_${r.index - 1}`);
        }
        // Rounds agree unless V_mem·λ^i lies within rounding of the threshold for the deciding i.
        const nearBoundary = [cf.rounds - 1, cf.rounds].some(
          (i) => i >= 0 && Math.abs(pages * l ** i - thresholdPages) < perRound,
        );
        if (nearBoundary) assert.ok(Math.abs(k - cf.rounds) <= 1);
        else assert.equal(k, cf.rounds);
        // Totals against the formula at the model's own round count.
        const vmig = (pages * (1 - l ** (k + 1))) / (1 - l);
        const tol = (k + 1) * perRound;
        assert.ok(Math.abs(plan.pagesSent - vmig) < tol, `pages ${plan.pagesSent} vs ${vmig}`);
        assert.ok(Math.abs(plan.totalTime - vmig * plan.pageTime) < tol * plan.pageTime + k + 1);
        if (k === cf.rounds) {
          assert.ok(Math.abs(plan.pagesSent - cf.pagesSent) < tol);
          assert.ok(Math.abs(plan.downtime - cf.downtime) < perRound * plan.pageTime + 1);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('the comparison table of docs/migration.md: rounds equal, pages and times within rounding', () => {
  const G = 2 ** 30;
  // [params, closed-form n, model pages, closed-form V_mig]
  const rows: [PreCopyParams, number, number, number][] = [
    [{ memoryBytes: G, bandwidth: 1e9, dirtyRate: 10_000 }, 4, 388_435, 388_436.5],
    [{ memoryBytes: 2 * G, bandwidth: 1e9, dirtyRate: 5_000, maxDowntime: 100e6 }, 3, 626_567, 626_566.9],
    [{ memoryBytes: 4 * G, bandwidth: 1e10, dirtyRate: 200_000 }, 6, 2_884_549, 2_884_548.6],
    [{ memoryBytes: G, bandwidth: 1e9, dirtyRate: 25_000 }, 17, 1_409_882, 1_409_883.8],
    [
      { memoryBytes: 8 * G, bandwidth: 1e10, dirtyRate: 250_000, thresholdPages: 50, maxRounds: 1000 },
      54,
      11_599_081,
      11_599_092.1,
    ],
  ];
  for (const [params, n, pages, vmig] of rows) {
    const plan = preCopy(params);
    const cf = preCopyClosedForm(params);
    assert.equal(cf.rounds, n);
    assert.equal(plan.rounds.length, n);
    assert.equal(plan.pagesSent, pages);
    assert.ok(Math.abs(cf.pagesSent - vmig) < 0.05);
    assert.ok(Math.abs(plan.pagesSent - cf.pagesSent) < (n + 1) / (1 - cf.lambda));
  }
});

test('dirty rate at or above the link rate: not converging after round 1, all memory in the stop', () => {
  // D = 40,000 > R = 30,517.58: round 1 dirties min(343,597, 262,144) = all 262,144 pages again
  for (const dirtyRate of [40_000, 30_517.578125]) {
    const plan = preCopy({ ...REF, dirtyRate });
    assert.equal(plan.stopReason, 'not-converging');
    assert.equal(plan.converged, false);
    assert.equal(plan.rounds.length, 1);
    assert.equal(plan.stopAndCopy.pages, 262_144);
    assert.equal(plan.downtime, 8_589_934_592 + SWITCH);
    assert.equal(plan.pagesSent, 2 * 262_144);
    assert.throws(() => preCopyClosedForm({ ...REF, dirtyRate }), RangeError);
  }
});

test('max rounds: stops after the limit and copies what is still dirty', () => {
  // Rounds 1 and 2 as in the reference case; 28,147 pages remain.
  const plan = preCopy({ ...REF, maxRounds: 2 });
  assert.equal(plan.stopReason, 'max-rounds');
  assert.equal(plan.converged, false);
  assert.deepEqual(
    plan.rounds.map((r) => r.pages),
    [262_144, 85_899],
  );
  assert.equal(plan.stopAndCopy.pages, 28_147);
  assert.equal(plan.downtime, 922_320_896 + SWITCH);
  // Default 30 rounds (Xen); D = 30,000 pages/s, λ = 0.98304: shrinks by 1.7% a round, far from 9,155
  const slow = preCopy({ ...REF, dirtyRate: 30_000 });
  assert.equal(slow.stopReason, 'max-rounds');
  assert.equal(slow.rounds.length, 30);
});

test('writable working set: caps what a round can find dirty', () => {
  // D = 40,000 would never converge, but the writes stay in 5,000 pages (< 9,155): one round,
  // then 5,000 pages · 32,768 ns = 163,840,000 ns stopped.
  const small = preCopy({ ...REF, dirtyRate: 40_000, workingSetPages: 5_000 });
  assert.equal(small.stopReason, 'threshold');
  assert.equal(small.rounds.length, 1);
  assert.equal(small.stopAndCopy.pages, 5_000);
  assert.equal(small.downtime, 163_840_000 + SWITCH);
  assert.equal(small.totalTime, 8_589_934_592 + 163_840_000 + SWITCH);
  // A hot set of 20,000 pages: round 2 sends it (655,360,000 ns) and finds it all dirty again.
  const hot = preCopy({ ...REF, dirtyRate: 40_000, workingSetPages: 20_000 });
  assert.equal(hot.stopReason, 'not-converging');
  assert.deepEqual(
    hot.rounds.map((r) => [r.pages, r.dirtied]),
    [
      [262_144, 20_000],
      [20_000, 20_000],
    ],
  );
  assert.equal(hot.downtime, 655_360_000 + SWITCH);
  // The cap binding once with a converging rate: 85,899 -> 50,000; 50,000 pages take
  // 1,638,400,000 ns and dirty 16,384; 16,384 take 536,870,912 ns and dirty 5,368.7 -> 5,369.
  const capped = preCopy({ ...REF, workingSetPages: 50_000 });
  assert.deepEqual(
    capped.rounds.map((r) => [r.pages, r.dirtied]),
    [
      [262_144, 50_000],
      [50_000, 16_384],
      [16_384, 5_369],
    ],
  );
  assert.equal(capped.pagesSent, 262_144 + 50_000 + 16_384 + 5_369);
});

test('stop threshold: from the downtime limit, from pages, or the stricter of both', () => {
  assert.equal(stopThreshold(REF), 9_155); // floor(300 ms / 32,768 ns)
  assert.equal(stopThreshold({ ...REF, maxDowntime: 100_000_000 }), 3_051);
  assert.equal(stopThreshold({ ...REF, thresholdPages: 50 }), 50);
  assert.equal(stopThreshold({ ...REF, thresholdPages: 50_000, maxDowntime: 100_000_000 }), 3_051);
  // Xen's 50 pages: 3,022 -> 990 -> 324 -> 106 -> 35 (rounds 5..8)
  const xen = preCopy({ ...REF, thresholdPages: 50 });
  assert.deepEqual(
    xen.rounds.map((r) => r.pages),
    [262_144, 85_899, 28_147, 9_223, 3_022, 990, 324, 106],
  );
  assert.equal(xen.stopAndCopy.pages, 35);
  assert.equal(xen.stopReason, 'threshold');
  // A memory that already fits is copied with the VM stopped, no live round (Liu's n = 0).
  const tiny = preCopy({ ...REF, memoryBytes: 4 * 2 ** 20 });
  assert.equal(tiny.rounds.length, 0);
  assert.equal(tiny.stopAndCopy.pages, 1_024);
  assert.equal(tiny.downtime, 1_024 * PAGE_NS + SWITCH);
  assert.equal(preCopyClosedForm({ ...REF, memoryBytes: 4 * 2 ** 20 }).rounds, 0);
});

test('per-page overhead counts in bytes and time; a partial last page is a page', () => {
  const plan = preCopy({ ...REF, pageOverhead: 8 });
  assert.equal(plan.pageBytes, 4_104);
  assert.equal(plan.pageTime, 32_832);
  assert.equal(plan.rounds[0]!.bytes, 262_144 * 4_104);
  assert.equal(plan.rounds[0]!.duration, 262_144 * 32_832);
  assert.equal(preCopy({ ...REF, memoryBytes: 4097 }).totalPages, 2);
});

test('post-copy, worked by hand: downtime is the switchover, every page once, faults in closed form', () => {
  const plan = postCopy(REF);
  assert.equal(plan.downtime, SWITCH);
  // push: 262,144 pages · 32,768 ns = 8,589,934,592 ns, after the switchover
  assert.deepEqual(plan.rounds, [
    { index: 1, pages: 262_144, bytes: 2 ** 30, start: SWITCH, duration: 8_589_934_592, dirtied: 0 },
  ]);
  assert.equal(plan.totalTime, SWITCH + 8_589_934_592);
  assert.equal(plan.pagesSent, 262_144);
  assert.equal(plan.bytesSent, 2 ** 30);
  // x = A·P/W = 10,000 · 8.589934592 / 262,144 = 0.32768; e^−x = 0.720594;
  // faults = 262,144 · (1 − 0.279406 / 0.32768) = 262,144 · 0.147321 = 38,619.3 -> 38,619
  assert.equal(plan.faults, 38_619);
  // each fault: 100 us round trip + 32,768 ns page = 132,768 ns
  assert.equal(plan.faultTime, 38_619 * 132_768);
  // few faults: ≈ A·P/2 = 10 · 8.59 / 2 = 42.95 -> 43
  assert.equal(postCopy({ ...REF, accessRate: 10 }).faults, 43);
  assert.equal(postCopy({ ...REF, accessRate: 0 }).faults, 0);
  // a small, hot working set faults entirely: x = 1e6 · 8.59 / 1,000 = 8,590 -> 1,000 · (1 − 1/8,590)
  assert.equal(postCopy({ ...REF, accessRate: 1e6, workingSetPages: 1_000 }).faults, 1_000);
  assert.equal(postCopy({ ...REF, faultRtt: 0, switchoverCost: 0 }).faultTime, 38_619 * PAGE_NS);
});

test('property: post-copy faults grow with the access rate and stay under A·P/2 and the working set', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 1e6, noNaN: true }),
      fc.double({ min: 0, max: 1e6, noNaN: true }),
      fc.integer({ min: 0, max: 262_144 }),
      (a, b, workingSetPages) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const p = postCopy({ ...REF, workingSetPages, accessRate: lo });
        const q = postCopy({ ...REF, workingSetPages, accessRate: hi });
        assert.ok(p.faults <= q.faults);
        assert.ok(q.faults <= workingSetPages);
        assert.ok(q.faults <= Math.ceil((hi * 8.589934592) / 2));
        assert.equal(q.pagesSent, 262_144);
      },
    ),
    { numRuns: 200 },
  );
});

test('round table: rows to print', () => {
  assert.deepEqual(roundTable(preCopy(REF)), [
    { round: '1', pages: 262_144, bytes: 1_073_741_824, time: '8.59 s' },
    { round: '2', pages: 85_899, bytes: 351_842_304, time: '2.815 s' },
    { round: '3', pages: 28_147, bytes: 115_290_112, time: '922.321 ms' },
    { round: '4', pages: 9_223, bytes: 37_777_408, time: '302.219 ms' },
    { round: 'stop-and-copy', pages: 3_022, bytes: 12_378_112, time: '99.025 ms' },
    { round: 'switchover', pages: 0, bytes: 0, time: '5 ms' },
  ]);
  assert.deepEqual(roundTable(postCopy(REF)), [
    { round: 'switchover', pages: 0, bytes: 0, time: '5 ms' },
    { round: 'push', pages: 262_144, bytes: 1_073_741_824, time: '8.59 s' },
  ]);
});

test('deterministic: the same parameters give the same plan', () => {
  assert.deepEqual(preCopy(REF), preCopy({ ...REF }));
  assert.deepEqual(postCopy(REF), postCopy({ ...REF }));
});

test('nonsense input throws a RangeError naming the parameter', () => {
  const bad: [Partial<PreCopyParams> & Record<string, unknown>, RegExp][] = [
    [{ memoryBytes: -1 }, /memoryBytes/],
    [{ memoryBytes: 0 }, /memoryBytes/],
    [{ memoryBytes: 1.5 }, /memoryBytes/],
    [{ memoryBytes: Number.NaN }, /memoryBytes/],
    [{ bandwidth: 0 }, /bandwidth/],
    [{ bandwidth: -1e9 }, /bandwidth/],
    [{ bandwidth: Number.POSITIVE_INFINITY }, /bandwidth/],
    [{ dirtyRate: -1 }, /dirtyRate/],
    [{ dirtyRate: Number.NaN }, /dirtyRate/],
    [{ pageSize: 0 }, /pageSize/],
    [{ pageSize: 4096.5 }, /pageSize/],
    [{ pageOverhead: -8 }, /pageOverhead/],
    [{ workingSetPages: -1 }, /workingSetPages/],
    [{ workingSetPages: 262_145 }, /workingSetPages/],
    [{ switchoverCost: -1 }, /switchoverCost/],
    [{ maxRounds: 0 }, /maxRounds/],
    [{ thresholdPages: -1 }, /thresholdPages/],
    [{ maxDowntime: -1 }, /maxDowntime/],
  ];
  for (const [override, message] of bad) {
    assert.throws(() => preCopy({ ...REF, ...override }), { name: 'RangeError', message }, String(message));
  }
  assert.throws(() => postCopy({ ...REF, faultRtt: -1 }), { name: 'RangeError', message: /faultRtt/ });
  assert.throws(() => postCopy({ ...REF, accessRate: -1 }), { name: 'RangeError', message: /accessRate/ });
  assert.throws(() => postCopy({ ...REF, bandwidth: 0 }), { name: 'RangeError', message: /bandwidth/ });
  assert.throws(() => preCopyClosedForm({ ...REF, thresholdPages: 0 }), RangeError);
});
