/**
 * One simulated fabric, many tenants: the queue that shares it fairly and keeps the API's event
 * loop free while it works.
 *
 * - Every request that may run the fabric (a change, which is compiled, applied and settled; a
 *   probe: ping, trace, reach) holds the fabric for its whole run, one at a time, so a probe never
 *   sees a half-applied change and two probes never share the trace.
 * - Waiting requests are served round-robin by tenant (the admin is a tenant here): a tenant with
 *   many requests waiting takes one turn, then every other tenant waiting takes one.
 * - Probes run in slices (`runSliced`): a few milliseconds of simulation, then the event loop serves
 *   whatever came in (reads go straight to SQLite and never wait for the fabric), then the next slice.
 * - Limits: a tenant has at most `probesPerTenant` probes and `changesPerTenant` changes waiting or
 *   running; one more is refused at once, `429` with `Retry-After`. A request that waited
 *   `maxWaitMs` for its turn is refused with `503` and `Retry-After`. A probe that runs more than
 *   `maxProbeEvents` simulation events is stopped (`503`); the limits on a probe's count, size and
 *   interval (src/api/probe-schemas.ts) keep every allowed probe far below that.
 */
import type { RunOptions } from '../sim/index.js';
import { ServiceError } from '../store/errors.js';
import type { Network } from '../topo/network.js';
import type { ProbeSteps } from '../vpc/probe-steps.js';

export interface FabricLimits {
  /** Probes of one tenant waiting or running (default 2). */
  readonly probesPerTenant: number;
  /** Changes of one tenant waiting or running (default 32). */
  readonly changesPerTenant: number;
  /** How long a request may wait for its turn, ms (default 10,000). */
  readonly maxWaitMs: number;
  /** Simulation per slice before the event loop gets a turn, ms (default 3). */
  readonly sliceMs: number;
  /** Simulation events one probe may run (default 20,000,000). */
  readonly maxProbeEvents: number;
}

export const DEFAULT_FABRIC_LIMITS: FabricLimits = {
  probesPerTenant: 2,
  changesPerTenant: 32,
  maxWaitMs: 10_000,
  sliceMs: 3,
  maxProbeEvents: 20_000_000,
};

export type WorkKind = 'probe' | 'change';

interface Waiter {
  readonly owner: string;
  readonly kind: WorkKind;
  readonly since: number;
  readonly grant: (release: () => void) => void;
  readonly refuse: (error: Error) => void;
}

/** Events run between two looks at the clock inside a slice. */
const CHUNK = 64;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FabricQueue {
  readonly limits: FabricLimits;
  /** Each owner's waiting requests, oldest first. */
  private readonly waiting = new Map<string, Waiter[]>();
  /** Owners with requests waiting, in the order their turns come. */
  private readonly turns: string[] = [];
  /** Requests waiting or running, by owner and kind (`owner kind`). */
  private readonly inFlight = new Map<string, number>();
  private busy = false;
  /** Requests refused for a limit since the start: 429s, 503s for the wait, 503s for the budget (`GET /v1/fabric`). */
  readonly refused = { tooMany: 0, waitedTooLong: 0, probeTooLong: 0 };

  constructor(limits: Partial<FabricLimits> = {}) {
    this.limits = { ...DEFAULT_FABRIC_LIMITS, ...limits };
  }

  /**
   * Waits for `owner`'s turn on the fabric; the function that gives it back (call it exactly once,
   * when the request is done; more calls do nothing). Refuses at once past the owner's limit (429).
   */
  acquire(owner: string, kind: WorkKind): Promise<() => void> {
    const key = `${owner} ${kind}`;
    const count = this.inFlight.get(key) ?? 0;
    const limit = kind === 'probe' ? this.limits.probesPerTenant : this.limits.changesPerTenant;
    if (count >= limit) {
      this.refused.tooMany++;
      return Promise.reject(
        new ServiceError(
          429,
          'too-many-requests',
          `at most ${limit} ${kind === 'probe' ? 'probes' : 'changes'} of one tenant wait or run at a time; retry after the ones in flight`,
        ).retryAfter(1),
      );
    }
    this.inFlight.set(key, count + 1);
    const done = () => {
      const n = (this.inFlight.get(key) ?? 1) - 1;
      if (n === 0) this.inFlight.delete(key);
      else this.inFlight.set(key, n);
    };
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        owner,
        kind,
        since: performance.now(),
        grant: (release) => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            done();
            release();
          });
        },
        refuse: (error) => {
          done();
          reject(error);
        },
      };
      const queue = this.waiting.get(owner);
      if (queue === undefined) {
        this.waiting.set(owner, [waiter]);
        this.turns.push(owner);
      } else queue.push(waiter);
      this.pump();
    });
  }

  /** How many of `owner`'s requests of `kind` wait or run now. */
  waitingOf(owner: string, kind: WorkKind): number {
    return this.inFlight.get(`${owner} ${kind}`) ?? 0;
  }

  /** Runs `work` in `owner`'s turn; the fabric is given back when it ends, however it ends. */
  async run<T>(owner: string, kind: WorkKind, work: () => T | Promise<T>): Promise<T> {
    const release = await this.acquire(owner, kind);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Gives the fabric to the next owner in turn, if it is free. */
  private pump(): void {
    while (!this.busy && this.turns.length > 0) {
      const owner = this.turns.shift()!;
      const queue = this.waiting.get(owner)!;
      const waiter = queue.shift()!;
      if (queue.length > 0) this.turns.push(owner);
      else this.waiting.delete(owner);
      const waited = performance.now() - waiter.since;
      if (waited > this.limits.maxWaitMs) {
        this.refused.waitedTooLong++;
        waiter.refuse(
          new ServiceError(
            503,
            'busy',
            `the fabric was busy for ${Math.round(waited)} ms with other tenants' work; retry shortly`,
          ).retryAfter(1),
        );
        continue;
      }
      this.busy = true;
      waiter.grant(() => {
        this.busy = false;
        // The next request starts on a turn of its own, after what the event loop has waiting.
        setImmediate(() => this.pump());
      });
    }
  }

  /**
   * Drives a probe's steps on `net` in slices of `sliceMs`, the event loop getting a turn between
   * slices; the probe's answer. Stops the probe past `maxProbeEvents` (503).
   */
  async runSliced<T>(net: Network, steps: ProbeSteps<T>): Promise<T> {
    const { sliceMs, maxProbeEvents } = this.limits;
    let events = 0;
    try {
      let step = steps.next();
      let sliceStart = performance.now();
      while (!step.done) {
        const options: RunOptions = { ...step.value, budget: CHUNK };
        for (;;) {
          const r = net.run(options);
          events += r.events;
          if (events > maxProbeEvents) {
            this.refused.probeTooLong++;
            throw new ServiceError(
              503,
              'probe-too-long',
              `the probe was stopped after ${events.toLocaleString('en-US')} simulation events`,
            );
          }
          if (r.reason !== 'budget') break;
          if (performance.now() - sliceStart >= sliceMs) {
            await nextTurn();
            sliceStart = performance.now();
          }
        }
        step = steps.next();
      }
      return step.value;
    } finally {
      steps.return(undefined as never);
    }
  }
}
