/**
 * Wall-clock time behind the devices' `Clock` interface (link/clock.ts): `now()` is nanoseconds
 * since the clock was made (monotonic, from `process.hrtime`), and a timer runs its function on
 * Node's event loop once its delay has passed: never from inside the call that set it, so a
 * device sees the same re-entrancy rules as under the simulator's scheduler. A delay below the
 * loop's resolution of a millisecond (a cable's few microseconds) runs at the loop's next turn
 * (`setImmediate`), not a millisecond later.
 */
import type { Clock } from '../link/index.js';
import type { Nanos, Timer } from '../sim/index.js';

export class WallClock implements Clock {
  private readonly start = process.hrtime.bigint();

  now(): Nanos {
    return Number(process.hrtime.bigint() - this.start);
  }

  setTimer(delay: Nanos, fn: () => void): Timer {
    const time = this.now() + Math.max(0, delay);
    let cancelled = false;
    const run = () => {
      if (!cancelled) fn();
    };
    const immediate = delay < 1e6;
    const handle = immediate ? setImmediate(run) : setTimeout(run, Math.max(1, Math.ceil(delay / 1e6)));
    // A timer never keeps the process alive by itself: the sockets and devices that set it do.
    handle.unref();
    return {
      time,
      get cancelled() {
        return cancelled;
      },
      cancel() {
        if (cancelled) return;
        cancelled = true;
        if (immediate) clearImmediate(handle as NodeJS.Immediate);
        else clearTimeout(handle as NodeJS.Timeout);
      },
    };
  }
}
