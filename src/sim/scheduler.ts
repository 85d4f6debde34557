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
 *
 * The queue is two 4-ary heaps with their keys in typed arrays: events due soon, and timers due 1 ms
 * or more ahead, so the many pending timeouts of a large network do not deepen the heap every frame
 * sifts through. An object queued again and again (a link direction) can be its own event, and an
 * event that queues itself again while it runs takes its new key at the root (replace-top).
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

/**
 * What the queue holds: an object that runs `fn` with `self` as its `this`. A one-off event is an
 * `Event`; an object that is queued again and again (a link direction's next arrival) can be its
 * own event (`requeue`), so that running it touches no second object. The event's time and
 * sequence number live in the queue's keys.
 */
export interface QueuedEvent {
  /** Whether the event waits in the queue. */
  queued: boolean;
  readonly cancelled: boolean;
  readonly fn: () => void;
  /** The `this` of `fn` (a method called without a closure), or undefined. */
  readonly self: unknown;
}

class Event implements Timer, QueuedEvent {
  cancelled = false;
  /** Whether the event waits in the queue (a repeating event is re-queued only after it ran). */
  queued = true;
  constructor(
    public time: Nanos,
    public seq: number,
    readonly fn: () => void,
    readonly self: unknown = undefined,
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

/** Slots a heap starts with (it doubles when full). */
const MIN_CAPACITY = 256;

/**
 * Events due this much after now or later wait in a second heap: mostly timers (retransmissions,
 * timeouts) that are rescheduled or cancelled long before they are due, and that would otherwise
 * make every arrival sift through a deeper heap.
 */
const FAR = 1_000_000;

/**
 * A 4-ary min-heap of events ordered by (time, seq). The keys sit side by side in one typed array
 * (time at 2i, seq at 2i + 1), so sifting compares numbers in a few cache lines and never touches
 * an event object; `events[i]` is the event of slot i.
 */
class EventHeap {
  keys = new Float64Array(2 * MIN_CAPACITY);
  events: (QueuedEvent | undefined)[] = new Array(MIN_CAPACITY);
  size = 0;

  /** Whether this heap's first event comes before `other`'s (both have one). */
  firstBefore(other: EventHeap): boolean {
    const t = this.keys[0]!;
    const u = other.keys[0]!;
    return t < u || (t === u && this.keys[1]! < other.keys[1]!);
  }

  insert(event: QueuedEvent, time: Nanos, seq: number): void {
    if (this.size === this.events.length) this.grow();
    const keys = this.keys;
    const events = this.events;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const pt = keys[2 * parent]!;
      if (pt < time || (pt === time && keys[2 * parent + 1]! < seq)) break;
      keys[2 * i] = pt;
      keys[2 * i + 1] = keys[2 * parent + 1]!;
      events[i] = events[parent];
      i = parent;
    }
    keys[2 * i] = time;
    keys[2 * i + 1] = seq;
    events[i] = event;
  }

  /** Removes the first event (the heap is not empty). */
  pop(): void {
    const n = --this.size;
    // The last slot's event sifts down from the root.
    const keys = this.keys;
    const last = this.events[n]!;
    this.events[n] = undefined;
    if (n > 0) this.siftDown(0, keys[2 * n]!, keys[2 * n + 1]!, last);
  }

  /** Puts `event` with key (time, seq) in slot `i` or below, moving smaller children up. */
  siftDown(i: number, time: Nanos, seq: number, event: QueuedEvent): void {
    const keys = this.keys;
    const events = this.events;
    const n = this.size;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      // The smallest of up to four children.
      let c = first;
      let ct = keys[2 * first]!;
      let cs = keys[2 * first + 1]!;
      const end = Math.min(first + 4, n);
      for (let j = first + 1; j < end; j++) {
        const t = keys[2 * j]!;
        if (t < ct || (t === ct && keys[2 * j + 1]! < cs)) {
          c = j;
          ct = t;
          cs = keys[2 * j + 1]!;
        }
      }
      if (time < ct || (time === ct && seq < cs)) break;
      keys[2 * i] = ct;
      keys[2 * i + 1] = cs;
      events[i] = events[c];
      i = c;
    }
    keys[2 * i] = time;
    keys[2 * i + 1] = seq;
    events[i] = event;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    this.events.length = keys.length >> 1;
  }
}

export class Scheduler {
  /**
   * The queue: events due within `FAR` of the time they were queued in `near`, later ones in
   * `far`; the next event is the first of the two heaps' first events. Sequence numbers are
   * unique, so the order of events is total and depends neither on the heaps' shapes nor on
   * which heap an event waits in.
   */
  private readonly near = new EventHeap();
  private readonly far = new EventHeap();
  /**
   * The heap whose first event is running, or null: that event is taken out only when something
   * is queued or the event returns, so that an event queuing itself again (a link's next arrival)
   * just takes a new key at the root and sifts down once (replace-top) instead of a pop and an
   * insert.
   */
  private ran: EventHeap | null = null;
  private seq = 0;
  private clock: Nanos = 0;
  /** Events executed since creation. */
  executed = 0;

  now(): Nanos {
    return this.clock;
  }

  /** Number of pending (not yet run, possibly cancelled) events. */
  get pending(): number {
    this.settle();
    return this.near.size + this.far.size;
  }

  /** When the next pending event is due (it may be a cancelled one), or undefined when none is. */
  nextTime(): Nanos | undefined {
    this.settle();
    const heap = this.first();
    return heap === null ? undefined : heap.keys[0];
  }

  /** Runs `fn` after `delay` ns (rounded to an integer, at least 0). */
  schedule(delay: Nanos, fn: () => void): Timer {
    return this.at(this.clock + Math.max(0, Math.round(delay)), fn);
  }

  /** Runs `fn` at absolute time `time` (not before now). A time that is not a number is a programming error (RangeError). */
  at(time: Nanos, fn: () => void): Timer {
    if (Number.isNaN(time)) throw new RangeError('cannot schedule an event at time NaN');
    const t = Math.max(this.clock, Math.round(time));
    const event = new Event(t, this.seq++, fn);
    this.insert(event, t, event.seq);
    return event;
  }

  /**
   * Takes the next sequence number now for an event scheduled later with `atReserved`: the event
   * then runs exactly where it would have run had it been scheduled at this moment. A link uses
   * it to keep only the next of its in-flight frames in the queue, however many are on the wire.
   */
  reserve(): number {
    return this.seq++;
  }

  /**
   * Runs `fn` at `time` (integer, not before now) in the place of sequence number `seq` from
   * `reserve()`, with `self` as its `this` when given (a method, without a closure to reach it).
   */
  atReserved<T>(time: Nanos, seq: number, fn: (this: T) => void, self?: T): Timer {
    const t = Math.max(this.clock, Math.round(time));
    const event = new Event(t, seq, fn as () => void, self);
    this.insert(event, t, seq);
    return event;
  }

  /**
   * Queues `event` (not queued now: new, or it has run) at `time` in the place of `seq` (from
   * `reserve()`): a link direction is its own arrival event, queued again for each next frame
   * instead of an event object per frame. A timer from `at` or `atReserved` that has run may be
   * queued again too (its `time` then reads the new time).
   */
  requeue(event: QueuedEvent, time: Nanos, seq: number): void {
    if (event.queued || event.cancelled)
      throw new Error('requeue: the event is still queued or was cancelled');
    const t = Math.max(this.clock, Math.round(time));
    if (event instanceof Event) {
      event.time = t;
      event.seq = seq;
    }
    event.queued = true;
    this.insert(event, t, seq);
  }

  /** Takes the event that ran out of the queue, if it is still at its heap's root. */
  private settle(): void {
    const ran = this.ran;
    if (ran !== null) {
      this.ran = null;
      ran.pop();
    }
  }

  private insert(event: QueuedEvent, time: Nanos, seq: number): void {
    const heap = time - this.clock >= FAR ? this.far : this.near;
    const ran = this.ran;
    if (ran !== null) {
      this.ran = null;
      // The event that is running queues itself again: it takes its new key at the root.
      if (ran === heap && ran.events[0] === event) return ran.siftDown(0, time, seq, event);
      ran.pop();
    }
    heap.insert(event, time, seq);
  }

  /** The heap holding the next event, or null when both are empty. */
  private first(): EventHeap | null {
    const near = this.near;
    const far = this.far;
    if (far.size === 0) return near.size > 0 ? near : null;
    if (near.size === 0) return far;
    return near.firstBefore(far) ? near : far;
  }

  run(options: RunOptions = {}): RunResult {
    const until = options.until ?? Number.POSITIVE_INFINITY;
    const budget = options.budget ?? Number.POSITIVE_INFINITY;
    const stopWhen = options.stopWhen;
    let events = 0;
    this.settle(); // an event that threw, or a run inside an event
    for (;;) {
      const heap = this.first();
      if (heap === null) {
        if (until !== Number.POSITIVE_INFINITY && until > this.clock) this.clock = until;
        return { reason: 'quiet', events, now: this.clock };
      }
      const next = heap.events[0]!;
      if (next.cancelled) {
        heap.pop();
        continue;
      }
      const time = heap.keys[0]!;
      if (time > until) {
        if (until > this.clock) this.clock = until; // time never runs backwards
        return { reason: 'time', events, now: this.clock };
      }
      if (events >= budget) return { reason: 'budget', events, now: this.clock };
      next.queued = false;
      this.ran = heap;
      this.clock = time;
      events++;
      this.executed++;
      next.fn.call(next.self);
      this.settle();
      if (stopWhen?.()) return { reason: 'condition', events, now: this.clock };
    }
  }
}
