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

/** Collects every event in memory (tests, `vnet trace`). */
export class TraceLog implements Tracer {
  readonly events: TraceEvent[] = [];
  enabled = true;
  emit(event: TraceEvent): void {
    this.events.push(event);
  }
}
