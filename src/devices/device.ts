/**
 * The base of every device: a name, ports, a clock (time only through `now()` and timers), drop
 * counters by reason, and tracing. Subclasses implement `receive`; it must never throw on any
 * frame: a bad or unforwardable frame is dropped with `drop(reason)`.
 */
import { type Clock, countDrop, type DropCounters, Port } from '../link/index.js';
import type { Nanos, Timer } from '../sim/index.js';
import { NO_TRACE, type Tracer } from './trace.js';

export interface DeviceContext {
  readonly clock: Clock;
  readonly tracer?: Tracer;
}

export abstract class Device {
  readonly ports: Port[] = [];
  /** Ports by name: configuration, captures and the lab look ports up by name (forwarding goes by index). */
  private readonly portsByName = new Map<string, Port>();
  readonly drops: DropCounters = {};
  protected readonly clock: Clock;
  protected tracer: Tracer;

  constructor(
    readonly name: string,
    context: DeviceContext,
  ) {
    this.clock = context.clock;
    this.tracer = context.tracer ?? NO_TRACE;
  }

  abstract readonly kind: string;

  now(): Nanos {
    return this.clock.now();
  }

  setTimer(delay: Nanos, fn: () => void): Timer {
    return this.clock.setTimer(delay, fn);
  }

  setTracer(tracer: Tracer): void {
    this.tracer = tracer;
  }

  /** Adds a port named `name` (unique on this device). */
  addPort(name: string): Port {
    if (this.portsByName.has(name)) throw new Error(`${this.name} already has a port ${name}`);
    const port = new Port(this.name, name, this.ports.length);
    port.setReceiver(this);
    port.onLinkChange = (up, p) => this.linkChanged(p, up);
    this.ports.push(port);
    this.portsByName.set(name, port);
    this.portAdded(port);
    return port;
  }

  port(name: string): Port | undefined {
    return this.portsByName.get(name);
  }

  /** Hook for subclasses that keep per-port state. */
  protected portAdded(_port: Port): void {}

  /** Hook: the link of `port` went up or down. */
  protected linkChanged(_port: Port, _up: boolean): void {}

  protected abstract receive(frame: Uint8Array, port: Port): void;

  /** Called by this device's ports with each frame they receive. */
  receiveFrame(frame: Uint8Array, port: Port): void {
    this.receive(frame, port);
  }

  /** Counts a dropped frame by reason and traces why. */
  protected drop(reason: string, port?: Port, why?: string): void {
    countDrop(this.drops, reason);
    if (this.tracer.enabled) this.trace('drop', `drop (${reason})${why ? `: ${why}` : ''}`, port);
  }

  /** Records a trace event on behalf of a component of this device (its DHCP client or server). */
  traceEvent(kind: string, message: string, port?: Port): void {
    this.trace(kind, message, port);
  }

  protected trace(kind: string, message: string, port?: Port): void {
    if (!this.tracer.enabled) return;
    this.tracer.emit(
      port
        ? { time: this.clock.now(), node: this.name, port: port.name, kind, message }
        : { time: this.clock.now(), node: this.name, kind, message },
    );
  }
}
