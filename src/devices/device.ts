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
  /**
   * The device whose box this one is a function of (an NVE's underlay router lives in the NVE's
   * chassis): both see one set of ports, in the order they were added, and one set of drop
   * counters. Each port still delivers its frames to the function that added it.
   */
  readonly chassis?: Device;
}

export abstract class Device {
  readonly ports: Port[];
  /** Ports by name: configuration, captures and the lab look ports up by name (forwarding goes by index). */
  private readonly portsByName: Map<string, Port>;
  readonly drops: DropCounters;
  protected readonly clock: Clock;
  protected tracer: Tracer;

  constructor(
    readonly name: string,
    context: DeviceContext,
  ) {
    this.clock = context.clock;
    this.tracer = context.tracer ?? NO_TRACE;
    const chassis = context.chassis;
    this.ports = chassis?.ports ?? [];
    this.portsByName = chassis?.portsByName ?? new Map();
    this.drops = chassis?.drops ?? {};
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
    this.adoptPort(port);
    this.ports.push(port);
    this.portsByName.set(name, port);
    this.portAdded(port);
    return port;
  }

  /** Takes over a port of the chassis: its frames and link changes come to this device from now on. */
  protected adoptPort(port: Port): void {
    port.setReceiver(this);
    port.onLinkChange = (up, p) => this.linkChanged(p, up);
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
