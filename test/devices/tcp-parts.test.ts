/** The pieces of TCP on their own: sequence arithmetic across the wrap, the RFC 6298 estimator, the send and reassembly queues. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReassemblyQueue, SendQueue } from '../../src/devices/tcp/tcp-buffers.js';
import { RtoEstimator } from '../../src/devices/tcp/tcp-rto.js';
import { initialSequenceNumber, seqAdd, seqDiff, seqGt, seqLt } from '../../src/devices/tcp/tcp-seq.js';

test('sequence numbers compare modulo 2^32', () => {
  assert.equal(seqAdd(0xffff_fff0, 0x20), 0x10);
  assert.equal(seqDiff(0x10, 0xffff_fff0), 0x20);
  assert.ok(seqLt(0xffff_fff0, 0x10));
  assert.ok(seqGt(0x10, 0xffff_fff0));
  assert.ok(!seqLt(5, 5));
});

test('ISNs: a keyed hash of the 4-tuple plus a 4 us clock (RFC 6528)', () => {
  const isn = (port: number, now: number) => initialSequenceNumber(42, 1, port, 2, 7, now);
  assert.equal(isn(1000, 0), isn(1000, 0));
  assert.notEqual(isn(1000, 0), isn(1001, 0));
  assert.equal(seqDiff(isn(1000, 4000 * 250), isn(1000, 0)), 250);
});

test('RFC 6298: first sample, smoothing, min RTO, backoff doubling up to the maximum', () => {
  const e = new RtoEstimator({ minRto: 200e6, maxRto: 120e9 });
  assert.equal(e.rto, 1e9);
  e.sample(100e6);
  assert.equal(e.srtt, 100e6);
  assert.equal(e.rttvar, 50e6);
  assert.equal(e.rto, 300e6); // SRTT + 4 * RTTVAR
  e.sample(100e6);
  assert.equal(e.srtt, 100e6);
  assert.equal(e.rttvar, 37.5e6);
  assert.equal(e.rto, 250e6);
  const f = new RtoEstimator();
  f.sample(10e6);
  assert.equal(f.rto, 200e6); // 30 ms, raised to the 200 ms minimum
  const backed: number[] = [];
  for (let i = 0; i < 12; i++) {
    f.backoff();
    backed.push(f.rto / 1e6);
  }
  assert.deepEqual(backed, [400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 102400, 120000, 120000, 120000]);
  f.sample(10e6);
  assert.equal(f.rto, 200e6);
});

test('the send queue reads at any offset across chunks and drops acknowledged bytes', () => {
  const q = new SendQueue();
  q.push(Uint8Array.of(1, 2, 3));
  q.push(Uint8Array.of(4, 5));
  assert.deepEqual([...q.read(2, 2)], [3, 4]);
  q.drop(3);
  assert.equal(q.length, 2);
  assert.deepEqual([...q.read(0, 10)], [4, 5]);
});

test('the reassembly queue keeps overlapping bytes once and hands them over in order', () => {
  const r = new ReassemblyQueue();
  r.add(110, Uint8Array.of(10, 11, 12));
  r.add(108, Uint8Array.of(8, 9, 10, 11));
  r.add(120, Uint8Array.of(20));
  assert.equal(r.size, 6);
  assert.deepEqual(r.take(100), []);
  const taken = r.take(108).flatMap((c) => [...c]);
  assert.deepEqual(taken, [8, 9, 10, 11, 12]);
  assert.equal(r.segments, 1);
});
