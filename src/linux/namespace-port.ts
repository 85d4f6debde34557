/**
 * A real network namespace on a simulated port (a hybrid network): a TAP device, moved into the
 * namespace, is the far end of a cable plugged into a port of the simulation. What the simulated
 * network sends on that cable is written to the TAP (the namespace's kernel receives it); what the
 * namespace sends out of the TAP enters the simulation at the current moment of a
 * `RealTimeDriver`. The namespace keeps its own stack: `ip netns exec NS ping`, tcpdump, iperf3.
 */
import { type Link, Port } from '../link/index.js';
import type { Network } from '../topo/network.js';
import type { Cidr, Ipv4, Mac } from '../wire/index.js';
import { formatIpv4, formatMac } from '../wire/index.js';
import { sharedPoller } from './fd-poller.js';
import { ipCommand, moveInto } from './netns.js';
import type { RealTimeDriver } from './real-time.js';
import { TapDevice } from './tap.js';

export interface NamespacePortSpec {
  /** The existing namespace that becomes a station of the simulation. */
  readonly namespace: string;
  /** The interface's name there (default `eth0`). */
  readonly ifname?: string;
  readonly address?: Cidr;
  readonly gateway?: Ipv4;
  readonly mac?: Mac;
  readonly mtu?: number;
  /** The simulated port the namespace is plugged into (it must have no cable yet). */
  readonly port: Port;
  /** The TAP's name while it is in this process's namespace (15 characters at most). */
  readonly tapName: string;
}

export class NamespacePort {
  private readonly poller = sharedPoller;
  private readonly tap: TapDevice;
  /** The simulation's end of the cable: a port of the namespace's own, linked to `spec.port`. */
  readonly port: Port;
  /** Frames the kernel would not take from the simulation (the TAP down, or gone). */
  writeErrors = 0;

  /** The cable between the namespace and the simulated port, while plugged. */
  private link: Link | null = null;
  private closed = false;

  constructor(
    private readonly net: Network,
    driver: RealTimeDriver,
    spec: NamespacePortSpec,
  ) {
    this.tap = TapDevice.open(spec.tapName);
    try {
      const ifname = spec.ifname ?? 'eth0';
      moveInto(spec.tapName, spec.namespace, {
        rename: ifname,
        mtu: spec.mtu ?? 1500,
        mac: spec.mac === undefined ? undefined : formatMac(spec.mac),
        address:
          spec.address === undefined
            ? undefined
            : `${formatIpv4(spec.address.address)}/${spec.address.prefixLength}`,
      });
      if (spec.gateway !== undefined)
        ipCommand(['route', 'add', 'default', 'via', formatIpv4(spec.gateway)], spec.namespace);
      this.port = new Port(spec.namespace, ifname);
      const tap = this.tap;
      this.port.onReceive = (frame) => {
        if (!tap.write(frame)) this.writeErrors++;
      };
      this.link = net.connectPorts(this.port, spec.port, { mtu: spec.mtu ?? 1500 });
      const buffer = new Uint8Array(65_535 + 18);
      this.poller.add(tap.fd, () => {
        for (let i = 0; i < 64; i++) {
          let n: number;
          try {
            n = tap.read(buffer, 0);
          } catch {
            this.close(); // the namespace, and the TAP with it, is gone
            return;
          }
          if (n === 0) return;
          const frame = buffer.slice(0, n);
          driver.inject(() => this.port.send(frame));
        }
      });
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Unplugs the namespace: the cable comes out of the simulated port, and the TAP goes away (with its interface in the namespace). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.remove(this.tap.fd);
    if (this.link !== null) this.net.unplug(this.link);
    this.link = null;
    this.tap.close();
  }
}
