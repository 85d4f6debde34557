/**
 * A hub: a frame in on one port goes out, unchanged, on every other port (one broadcast and
 * collision domain; this model has no collisions: links are full duplex).
 */
import type { Port } from '../../link/index.js';
import { Device } from '../device.js';

export class Hub extends Device {
  readonly kind = 'hub';
  /** Frames repeated (one per frame in, whatever the number of ports out). */
  repeated = 0;

  protected receive(frame: Uint8Array, port: Port): void {
    this.repeated++;
    const out: string[] = [];
    for (const p of this.ports) {
      if (p === port || !p.isUp) continue;
      p.send(frame);
      if (this.tracer.enabled) out.push(p.name);
    }
    if (this.tracer.enabled)
      this.trace('repeat', `in port ${port.name} -> repeated to ports ${out.join(',') || '(none)'}`, port);
  }
}
