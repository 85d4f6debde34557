/**
 * The budgets of a lab run: events, wall time and memory. `RunGuard.run` advances the network in
 * chunks of at most `checkEvery` events and, between chunks, reads the clock and the heap through
 * the functions it was given (the CLI passes `performance.now` and V8's heap statistics; tests fake
 * them), so the core never reads either itself. A spent budget throws `BudgetStop`, which says
 * which budget and how far the run got.
 */
import type { RunResult } from '../sim/index.js';
import type { Network } from './network.js';
import { formatBytes, formatDuration } from './units.js';

export const DEFAULT_EVENT_BUDGET = 5_000_000;
/** The CLI's wall time budget, seconds. */
export const DEFAULT_TIME_BUDGET = 60;
/** Events between two looks at the clock and the heap. */
export const DEFAULT_CHECK_EVERY = 256;
/** The run stops once the heap holds this share of its limit: V8 aborts the process at the limit. */
export const MEMORY_SHARE = 0.8;

export interface HeapReading {
  /** Bytes in use. */
  readonly used: number;
  /** Bytes the heap may grow to. */
  readonly limit: number;
}

export interface RunLimits {
  /** Events the whole run may execute (default 5,000,000). */
  readonly events?: number;
  /** Wall time the run may take, seconds (needs `clock`; none by default). */
  readonly seconds?: number;
  /** The wall clock, milliseconds. */
  readonly clock?: () => number;
  /** The heap now; the run stops at MEMORY_SHARE of its limit. */
  readonly heap?: () => HeapReading;
  /** Events between two looks at the clock and the heap (default 256). */
  readonly checkEvery?: number;
}

export type BudgetKind = 'events' | 'time' | 'memory';

export class BudgetStop extends Error {
  constructor(
    readonly kind: BudgetKind,
    /** What was spent, e.g. `event budget of 5,000,000 events spent`. */
    readonly spent: string,
  ) {
    super(spent);
  }
}

export class RunGuard {
  readonly events: number;
  private eventsLeft: number;
  private sinceCheck = 0;
  private startedAt: number | undefined;

  constructor(readonly limits: RunLimits = {}) {
    this.events = limits.events ?? DEFAULT_EVENT_BUDGET;
    this.eventsLeft = this.events;
  }

  /** Events executed so far. */
  get used(): number {
    return this.events - this.eventsLeft;
  }

  /** Starts the wall clock (the first `run` does it too). */
  start(): void {
    this.startedAt ??= this.limits.clock?.();
  }

  /** `net.run` within the budgets; throws `BudgetStop` when one is spent. */
  run(net: Network, options: { until: number; stopWhen?: () => boolean }): RunResult {
    this.start();
    const every = this.limits.checkEvery ?? DEFAULT_CHECK_EVERY;
    let events = 0;
    for (;;) {
      const chunk = Math.min(this.eventsLeft, every - this.sinceCheck);
      const r = net.run({ ...options, budget: chunk });
      events += r.events;
      this.eventsLeft -= r.events;
      this.sinceCheck += r.events;
      if (r.reason !== 'budget') return { ...r, events };
      if (this.eventsLeft <= 0)
        throw new BudgetStop('events', `event budget of ${this.events.toLocaleString('en-US')} events spent`);
      if (this.sinceCheck >= every) {
        this.sinceCheck = 0;
        this.check();
      }
    }
  }

  private check(): void {
    const { clock, seconds, heap } = this.limits;
    if (clock !== undefined && seconds !== undefined && this.startedAt !== undefined) {
      const elapsed = (clock() - this.startedAt) / 1000;
      if (elapsed > seconds)
        throw new BudgetStop(
          'time',
          `time budget of ${formatDuration(seconds * 1e9)} spent (${this.used.toLocaleString('en-US')} events)`,
        );
    }
    if (heap !== undefined) {
      const h = heap();
      if (h.used >= h.limit * MEMORY_SHARE)
        throw new BudgetStop(
          'memory',
          `memory budget spent: the heap holds ${formatBytes(h.used)} of the ${formatBytes(h.limit)} this machine allows (${this.used.toLocaleString('en-US')} events)`,
        );
    }
  }
}
