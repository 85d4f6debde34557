/**
 * Runs a simulation in wall-clock time, so that real interfaces can take part: the scheduler's
 * virtual clock is held at the wall clock's pace (virtual = wall - offset), events run when their
 * time comes, and a frame from outside enters at the current moment, as a new event. Simulated
 * devices, links and delays behave exactly as in a virtual-time run; only the pace changes.
 *
 * The loop ticks every millisecond (Node's timer resolution) and whenever something is injected;
 * each tick runs every event due by now, within an event budget per tick so that a storm inside
 * the simulation cannot starve the real interfaces (what is left runs at the next tick).
 */
import type { Scheduler } from '../sim/index.js';

/** Events run per tick at most (a storm goes on at the next tick, the event loop stays free). */
const EVENTS_PER_TICK = 200_000;

export class RealTimeDriver {
  private offset = 0n;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Events run since `start`. */
  events = 0;

  constructor(private readonly scheduler: Scheduler) {}

  /** The virtual time that corresponds to now. */
  virtualNow(): number {
    return Number(process.hrtime.bigint() - this.offset);
  }

  /** Starts pacing: virtual time goes on from where the scheduler stands, at the wall clock's rate. */
  start(): void {
    if (this.timer !== null) return;
    this.offset = process.hrtime.bigint() - BigInt(Math.round(this.scheduler.now()));
    this.timer = setInterval(() => this.tick(), 1);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Runs `fn` (a frame arriving from outside) at the current moment of the simulation. Before
   * `start` (or after `stop`) the simulation's time does not move: the frame waits at the time it
   * stands at, and runs when the driver runs.
   */
  inject(fn: () => void): void {
    if (this.timer === null) {
      this.scheduler.schedule(0, fn);
      return;
    }
    this.tick();
    this.scheduler.schedule(0, fn);
    this.tick();
  }

  /** Runs every event due by now (up to the per-tick budget). */
  tick(): void {
    if (this.running) return; // injected from inside an event: it is queued, and runs in this tick
    this.running = true;
    try {
      const until = Math.max(this.scheduler.now(), this.virtualNow());
      this.events += this.scheduler.run({ until, budget: EVENTS_PER_TICK }).events;
    } finally {
      this.running = false;
    }
  }
}
