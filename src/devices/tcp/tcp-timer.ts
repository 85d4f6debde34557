/**
 * A restartable deadline on top of the scheduler's one-shot timers. Moving the deadline later (as
 * every ACK restarting the retransmission timer does) schedules nothing: when the event comes due
 * early it re-arms itself for the new deadline. Only an earlier deadline schedules a new event.
 * Stopping cancels the event, so an idle or closed connection leaves nothing scheduled.
 */
import type { Nanos, Timer } from '../../sim/index.js';

export interface TimerClock {
  now(): Nanos;
  setTimer(delay: Nanos, fn: () => void): Timer;
}

export class Deadline {
  /** When it fires, or null when stopped. */
  at: Nanos | null = null;
  private event: Timer | null = null;

  constructor(
    private readonly clock: TimerClock,
    private readonly fire: () => void,
  ) {}

  get running(): boolean {
    return this.at !== null;
  }

  /** (Re)starts it `delay` from now. */
  start(delay: Nanos): void {
    const at = this.clock.now() + delay;
    this.at = at;
    if (this.event !== null && this.event.time <= at) return;
    this.event?.cancel();
    this.event = this.clock.setTimer(delay, this.due);
  }

  /** Stops it and cancels its event: nothing of a stopped deadline stays scheduled. */
  stop(): void {
    this.at = null;
    this.event?.cancel();
    this.event = null;
  }

  private readonly due = (): void => {
    this.event = null;
    const at = this.at;
    if (at === null) return;
    const now = this.clock.now();
    if (now < at) {
      this.event = this.clock.setTimer(at - now, this.due);
      return;
    }
    this.at = null;
    this.fire();
  };
}
