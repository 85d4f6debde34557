/**
 * A test station: a bare device that sends the exact frames a test gives it and records every
 * frame it receives (with the time and port), so switch, router and host tests can inject
 * hand-made frames and see precisely what comes back.
 */
import { Device, type DeviceContext } from '../../src/devices/device.js';
import type { Port } from '../../src/link/index.js';
import type { Network } from '../../src/topo/network.js';

export interface Received {
  readonly time: number;
  readonly port: string;
  readonly frame: Uint8Array;
}

export class Station extends Device {
  readonly kind = 'station';
  readonly received: Received[] = [];

  protected receive(frame: Uint8Array, port: Port): void {
    this.received.push({ time: this.now(), port: port.name, frame });
  }

  /** Sends `frame` out of the station's (first) port now. */
  send(frame: Uint8Array, port?: string): void {
    const p = port === undefined ? this.ports[0] : this.port(port);
    if (!p) throw new Error(`${this.name} has no port ${port ?? '(any)'}`);
    p.send(frame);
  }

  clear(): void {
    this.received.length = 0;
  }
}

/** The device context of `net` (its scheduler's clock and its tracer), for devices built outside it. */
export function contextOf(net: Network): DeviceContext {
  return {
    clock: {
      now: () => net.scheduler.now(),
      setTimer: (delay, fn) => net.scheduler.schedule(delay, fn),
    },
    tracer: net.tracer,
  };
}

/** A station on `net` (not registered as a node: link it with `net.addLink(station, other)`). */
export function station(net: Network, name: string): Station {
  return new Station(name, contextOf(net));
}
