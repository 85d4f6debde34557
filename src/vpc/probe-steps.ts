/**
 * A probe as steps: a generator that sets up packets and yields each stretch of simulation it needs
 * (`RunOptions`: until a time, until a condition), then returns its answer. Who drives it decides
 * how the simulation runs: `runProbe` runs each stretch at once (tests, a lab, the CLI in process);
 * the service runs them in slices between which its event loop serves other requests
 * (src/api/fabric-queue.ts). The probe's logic is written once for both.
 *
 * Guarantees: a driver runs exactly the stretches the probe yields, in order, each to its end (the
 * time or the condition); `traced` turns tracing off again however the probe ends (a driver that
 * stops early calls `return()` on the generator, which runs its `finally`).
 */
import { type Tracer, TraceSwitch } from '../devices/trace.js';
import type { RunOptions } from '../sim/index.js';
import type { Network } from '../topo/network.js';

/** A probe: yields the stretches of simulation it needs, returns its answer. */
export type ProbeSteps<T> = Generator<RunOptions, T, void>;

/** Runs every stretch of `steps` at once, in order; the probe's answer. */
export function runProbe<T>(net: Network, steps: ProbeSteps<T>): T {
  try {
    let step = steps.next();
    while (!step.done) {
      net.run(step.value);
      step = steps.next();
    }
    return step.value;
  } finally {
    steps.return(undefined as never);
  }
}

/** `body`'s steps with every device of `net` tracing into `log`; tracing is off again after, however it ends. */
export function* traced<T>(net: Network, log: Tracer, body: ProbeSteps<T>): ProbeSteps<T> {
  // Devices share the network's tracer: a switch turns tracing on for all of them at once.
  const shared = net.tracer instanceof TraceSwitch ? net.tracer : null;
  if (shared !== null) shared.follow(log);
  else for (const d of net.nodes.values()) d.setTracer(log);
  try {
    return yield* body;
  } finally {
    if (shared !== null) shared.follow(null);
    else for (const d of net.nodes.values()) d.setTracer(net.tracer);
  }
}
