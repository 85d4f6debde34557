/**
 * The discrete-event scheduler: virtual time in integer nanoseconds, events ordered by
 * (time, sequence) so that events due at the same time run in the order they were scheduled
 * (as ns-3's scheduler orders by (time, uid)). Events can be cancelled. `run` stops when no
 * event is left (`quiet`), at a time limit (`time`), or when its event budget is spent (`budget`):
 * the budget is what stops a broadcast storm, and the result says so.
 *
 * Guarantees: deterministic (no wall clock, no randomness here); an event scheduled in the past
 * runs at the current time; a callback that throws stops `run` and the error propagates (device
 * code must not throw on input, so this is a bug, not a packet).
 */

/** Virtual time, integer nanoseconds since the start of the simulation. */
export type Nanos = number;

export const NS = 1;
export const US = 1_000;
export const MS = 1_000_000;
export const SECOND = 1_000_000_000;

/** A scheduled event; `cancel()` it to stop it from running. */
export interface Timer {
  readonly time: Nanos;
  cancel(): void;
  readonly cancelled: boolean;
}

class Event implements Timer {
  cancelled = false;
  /** Whether the event waits in the queue (a repeating event is re-queued only after it ran). */
  queued = true;
  constructor(
    public time: Nanos,
    public seq: number,
    readonly fn: () => void,
  ) {}
  cancel(): void {
    this.cancelled = true;
  }
}

export type StopReason = 'quiet' | 'time' | 'budget' | 'condition';

export interface RunResult {
  readonly reason: StopReason;
  /** Events executed by this call. */
  readonly events: number;
  /** Virtual time when the run stopped. */
  readonly now: Nanos;
}

export interface RunOptions {
  /** Stop before running events later than this time; the clock then reads `until`, even if the queue ran dry first. */
  readonly until?: Nanos;
  /** Stop after executing this many events. */
  readonly budget?: number;
  /** Checked after each event: stop as soon as it returns true (reason `condition`), the clock at that event. */
  readonly stopWhen?: () => boolean;
}

function before(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class Scheduler {
  private heap: Event[] = [];
  private seq = 0;
  private clock: Nanos = 0;
  /** Events executed since creation. */
  executed = 0;

  now(): Nanos {
    return this.clock;
  }

  /** Number of pending (not yet run, possibly cancelled) events. */
  get pending(): number {
    return this.heap.length;
  }

  /** Runs `fn` after `delay` ns (rounded to an integer, at least 0). */
  schedule(delay: Nanos, fn: () => void): Timer {
    return this.at(this.clock + Math.max(0, Math.round(delay)), fn);
  }

  /** Runs `fn` at absolute time `time` (not before now). A time that is not a number is a programming error (RangeError). */
  at(time: Nanos, fn: () => void): Timer {
    if (Number.isNaN(time)) throw new RangeError('cannot schedule an event at time NaN');
    return this.insert(new Event(Math.max(this.clock, Math.round(time)), this.seq++, fn));
  }

  /**
   * Takes the next sequence number now for an event scheduled later with `atReserved`: the event
   * then runs exactly where it would have run had it been scheduled at this moment. A link uses
   * it to keep only the next of its in-flight frames in the queue, however many are on the wire.
   */
  reserve(): number {
    return this.seq++;
  }

  /** Runs `fn` at `time` (integer, not before now) in the place of sequence number `seq` from `reserve()`. */
  atReserved(time: Nanos, seq: number, fn: () => void): Timer {
    return this.insert(new Event(Math.max(this.clock, Math.round(time)), seq, fn));
  }

  /**
   * Queues an event that has already run once more, at `time` in the place of `seq` (from
   * `reserve()`), with the same callback: a link's next arrival reuses its last arrival's event
   * instead of allocating one per frame. The timer must have come from this scheduler and must
   * not be queued.
   */
  requeue(timer: Timer, time: Nanos, seq: number): void {
    const event = timer as Event;
    if (event.queued || event.cancelled)
      throw new Error('requeue: the event is still queued or was cancelled');
    event.time = Math.max(this.clock, Math.round(time));
    event.seq = seq;
    event.queued = true;
    this.insert(event);
  }

  private insert(event: Event): Event {
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
    return event;
  }

  private pop(): Event | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }

  run(options: RunOptions = {}): RunResult {
    const until = options.until ?? Number.POSITIVE_INFINITY;
    const budget = options.budget ?? Number.POSITIVE_INFINITY;
    const stopWhen = options.stopWhen;
    let events = 0;
    for (;;) {
      const next = this.heap[0];
      if (next === undefined) {
        if (until !== Number.POSITIVE_INFINITY && until > this.clock) this.clock = until;
        return { reason: 'quiet', events, now: this.clock };
      }
      if (next.cancelled) {
        this.pop();
        continue;
      }
      if (next.time > until) {
        if (until > this.clock) this.clock = until; // time never runs backwards
        return { reason: 'time', events, now: this.clock };
      }
      if (events >= budget) return { reason: 'budget', events, now: this.clock };
      this.pop();
      next.queued = false;
      this.clock = next.time;
      events++;
      this.executed++;
      next.fn();
      if (stopWhen?.()) return { reason: 'condition', events, now: this.clock };
    }
  }
}
