/**
 * What devices and links may know of time: `now()` and timers. The simulator's scheduler provides
 * virtual time; a real-time backend can provide wall time behind the same interface.
 */
import type { Nanos, QueuedEvent, Timer } from '../sim/index.js';

export interface Clock {
  now(): Nanos;
  setTimer(delay: Nanos, fn: () => void): Timer;
  /**
   * Optional, for a discrete-event clock: take an event's place in the order now (`reserve`) and
   * schedule it later at an absolute time (`atReserved`), as `Scheduler.reserve` does.
   */
  reserve?(): number;
  atReserved?(time: Nanos, seq: number, fn: () => void): Timer;
  /**
   * Queues `event` (not queued: new, or it has run) at `time` in the place of `seq`, as
   * `Scheduler.requeue` does: an object that is its own event, queued again and again.
   */
  requeue?(event: QueuedEvent, time: Nanos, seq: number): void;
}

/** Counts of dropped frames by reason (`drops['ttl-exceeded']`), shared by ports, links and devices. */
export type DropCounters = Record<string, number>;

export function countDrop(drops: DropCounters, reason: string): void {
  drops[reason] = (drops[reason] ?? 0) + 1;
}
