/**
 * A migration plan's memory transfers as printable rows (each pre-copy round, then stop-and-copy
 * and switchover; or post-copy's switchover and pushes). Its own module so that the `migrate` step
 * (which puts the rows in its result) and the reports (which render that result) both use it
 * without importing each other.
 */
import type { MigrationPlan } from '../../migration/index.js';
import type { Nanos } from '../../sim/index.js';
import { formatDuration } from '../units.js';

export interface RoundRow {
  readonly round: string;
  readonly pages: number;
  readonly bytes: number;
  readonly time: string;
}

/** A plan's transfers as printable rows: each round, then the stop-and-copy and switchover. */
export function roundTable(plan: MigrationPlan): RoundRow[] {
  const row = (round: string, pages: number, bytes: number, ns: Nanos): RoundRow => ({
    round,
    pages,
    bytes,
    time: formatDuration(ns),
  });
  if (plan.kind === 'post-copy') {
    return [
      row('switchover', 0, 0, plan.switchoverCost),
      ...plan.rounds.map((r) => row('push', r.pages, r.bytes, r.duration)),
    ];
  }
  return [
    ...plan.rounds.map((r) => row(String(r.index), r.pages, r.bytes, r.duration)),
    row('stop-and-copy', plan.stopAndCopy.pages, plan.stopAndCopy.bytes, plan.stopAndCopy.duration),
    row('switchover', 0, 0, plan.switchoverCost),
  ];
}
