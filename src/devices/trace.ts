/**
 * Trace events: one per decision a device takes about a frame (learned, flooded, forwarded,
 * routed, dropped and why). Tracing is opt-in: devices check `tracer.enabled` before building a
 * message, so an untraced run pays nothing.
 */
import type { Nanos } from '../sim/index.js';

export interface TraceEvent {
  readonly time: Nanos;
  readonly node: string;
  /** Port (or interface) the decision concerns, if any. */
  readonly port?: string;
  /** Machine-readable kind: `learn`, `flood`, `forward`, `filter`, `drop`, `route`, `arp`, `deliver`, ... */
  readonly kind: string;
  /** The decision in words, e.g. `dst 02:..:0b unknown on VLAN 1 -> flood ports 1,3,5`. */
  readonly message: string;
}

export interface Tracer {
  readonly enabled: boolean;
  emit(event: TraceEvent): void;
}

export const NO_TRACE: Tracer = { enabled: false, emit: () => {} };

/**
 * The tracer a network's devices share when it was built without tracing: off, until `follow`
 * points it at a log, which switches tracing on for every device at once (O(1), however many
 * devices the network has: what `vnet reach` and `vnet trace` on a big service fabric need).
 */
export class TraceSwitch implements Tracer {
  enabled = false;
  private target: Tracer = NO_TRACE;
  emit(event: TraceEvent): void {
    this.target.emit(event);
  }
  /** Sends every event to `target` from now on (null: tracing off again). */
  follow(target: Tracer | null): void {
    this.target = target ?? NO_TRACE;
    this.enabled = this.target.enabled;
  }
}

/** Collects every event in memory (tests, `vnet trace`). */
export class TraceLog implements Tracer {
  readonly events: TraceEvent[] = [];
  enabled = true;
  emit(event: TraceEvent): void {
    this.events.push(event);
  }
}
