/**
 * A real VTEP: vnet's own NVE (overlay/nve.ts, the same code the simulator runs) with its underlay
 * on a real UDP socket (udp-underlay.ts) and its VAPs on real interfaces, in wall-clock time.
 * Each bridge domain has a VNI, a flood list of remote VTEPs (head-end replication), and stations:
 * - TAP devices moved into network namespaces (a namespace is a VM with the kernel's own stack:
 *   `ip netns exec NS ping`, tcpdump and iperf3 work there);
 * - hosts of vnet's own IP stack, on a cable to their access port, that answer ARP and ping and
 *   echo UDP and TCP on port 7 (RFC 862).
 * Remote MACs are learned from what arrives (flood-and-learn, RFC 7348 4.1) unless the bridge
 * domain lists them statically (as a controller would install them). Starting either completes or
 * undoes what it made; `stop()` closes everything (TAPs vanish with their descriptors, so a killed
 * process leaves none behind either).
 */
import { Host } from '../devices/ip/host.js';
import { TcpEchoServer } from '../devices/tcp/tcp-apps.js';
import type { Tracer } from '../devices/trace.js';
import { Link } from '../link/index.js';
import { type EncapsulationKind, encapsulationOverhead, encapsulationPort, Nve } from '../overlay/index.js';
import { Rng } from '../sim/index.js';
import { type Cidr, formatIpv4, formatMac, type Ipv4, type Mac } from '../wire/index.js';
import { sharedPoller } from './fd-poller.js';
import { moveInto } from './netns.js';
import { TapDevice } from './tap.js';
import { TapPort } from './tap-port.js';
import { UdpUnderlay } from './udp-underlay.js';
import { WallClock } from './wall-clock.js';

export interface RealTapSpec {
  /** The network namespace the TAP device goes into (it must exist). */
  readonly namespace: string;
  /** Its name there (default `vnet0`). */
  readonly ifname?: string;
  /** An address to give it there (default none: configure it yourself). */
  readonly address?: Cidr;
  readonly mac?: Mac;
}

export interface RealHostSpec {
  readonly address: Cidr;
  readonly mac?: Mac;
}

export interface RealRemoteMac {
  readonly mac: Mac;
  readonly vtep: Ipv4;
  /** The station's IP: with the `static` control plane, ARP requests for it are answered here. */
  readonly ip?: Ipv4;
}

export interface RealBridgeDomainSpec {
  readonly vni: number;
  /** Remote VTEPs: the flood list for broadcast, unknown unicast and multicast. */
  readonly remotes: readonly Ipv4[];
  readonly taps: readonly RealTapSpec[];
  readonly hosts: readonly RealHostSpec[];
  /** Remote stations known in advance (installed as a controller would: never aged, never moved by learning). */
  readonly staticMacs?: readonly RealRemoteMac[];
}

export interface RealVtepSpec {
  /** The local VTEP address: an address of this host (of its network namespace). */
  readonly local: Ipv4;
  readonly encapsulation?: Extract<EncapsulationKind, 'vxlan' | 'geneve'>;
  /** UDP port (default 4789 VXLAN, 6081 GENEVE). */
  readonly port?: number;
  /** MTU of the stations' interfaces (default 1500 minus the encapsulation's 50 bytes). */
  readonly mtu?: number;
  readonly bridgeDomains: readonly RealBridgeDomainSpec[];
  /**
   * `flood-and-learn` (default): remote stations are learned from what arrives (RFC 7348 4.1).
   * `static`: remote stations are only the configured ones, as a controller installs them; nothing
   * is learned from the fabric, and an ARP request for a static station's IP is answered by the
   * VTEP itself (ARP suppression, RFC 9161) instead of flooded.
   */
  readonly controlPlane?: 'flood-and-learn' | 'static';
  readonly tracer?: Tracer;
  /** A name for TAP devices while they are in this namespace (default `vnt<pid>`). */
  readonly tapPrefix?: string;
}

/** One station of a running VTEP, for `status`. */
export interface RealStation {
  readonly vni: number;
  readonly kind: 'tap' | 'host';
  /** `NAMESPACE/IFNAME` for a TAP, the address for a host. */
  readonly where: string;
  readonly mac: string;
  readonly port: string;
}

export class RealVtep {
  readonly stations: RealStation[] = [];
  readonly hosts: Host[] = [];
  readonly taps: TapPort[] = [];

  private constructor(
    readonly nve: Nve,
    readonly underlay: UdpUnderlay,
  ) {}

  static async start(spec: RealVtepSpec): Promise<RealVtep> {
    const encapsulation = spec.encapsulation ?? 'vxlan';
    const port = spec.port ?? encapsulationPort(encapsulation)!;
    const underlay = await UdpUnderlay.open({ address: spec.local, port });
    const clock = new WallClock();
    const nve = new Nve(
      'vtep',
      { clock, tracer: spec.tracer },
      {
        vtep: spec.local,
        encapsulation,
        udpPort: port,
        controlPlane: spec.controlPlane === 'static' ? 'controller' : 'flood-and-learn',
        underlay,
      },
    );
    const vtep = new RealVtep(nve, underlay);
    try {
      vtep.build(spec, clock);
      for (const h of vtep.hosts) h.start();
    } catch (error) {
      vtep.stop();
      throw error;
    }
    return vtep;
  }

  private build(spec: RealVtepSpec, clock: WallClock): void {
    const mtu = spec.mtu ?? 1500 - encapsulationOverhead(spec.encapsulation ?? 'vxlan');
    const prefix = spec.tapPrefix ?? `vnt${process.pid}`;
    const rng = new Rng(1);
    let taps = 0;
    spec.bridgeDomains.forEach((b, i) => {
      const bd = this.nve.addBridgeDomain(i + 1, b.vni);
      for (const r of b.remotes) bd.addFloodTarget(r);
      for (const m of b.staticMacs ?? []) {
        bd.installRemote(m.mac, m.vtep, 0, clock.now());
        if (m.ip !== undefined) bd.bindIp(m.ip, m.mac, false);
      }
      for (const t of b.taps) {
        const name = `${prefix}t${taps++}`;
        if (name.length > 15)
          throw new Error(`TAP name ${name} is longer than 15 characters: choose a shorter prefix`);
        const vap = this.nve.addSubinterface(name, { kind: 'untagged' }, bd);
        this.taps.push(new TapPort(TapDevice.open(name), vap.port, sharedPoller));
        const ifname = t.ifname ?? 'vnet0';
        moveInto(name, t.namespace, {
          rename: ifname,
          mtu,
          mac: t.mac === undefined ? undefined : formatMac(t.mac),
          address:
            t.address === undefined
              ? undefined
              : `${formatIpv4(t.address.address)}/${t.address.prefixLength}`,
        });
        this.stations.push({
          vni: b.vni,
          kind: 'tap',
          where: `${t.namespace}/${ifname}`,
          mac: t.mac === undefined ? '(kernel)' : formatMac(t.mac),
          port: name,
        });
      }
      b.hosts.forEach((h, k) => {
        const name = `host${i + 1}.${k + 1}`;
        const mac = h.mac ?? 0x02_76_6e_00_00_00 + (i + 1) * 0x100 + k + 1;
        const host = new Host(name, { clock, tracer: spec.tracer });
        host.addInterface({ name: 'eth0', mac, addresses: [h.address] });
        host.bindUdp(7, (d) => host.sendUdp(7, d.src, d.srcPort, d.payload));
        new TcpEchoServer(host.tcp, 7);
        const vap = this.nve.addSubinterface(name, { kind: 'untagged' }, bd);
        new Link(host.port('eth0')!, vap.port, clock, rng, { delay: 0, mtu });
        this.hosts.push(host);
        this.stations.push({
          vni: b.vni,
          kind: 'host',
          where: `${formatIpv4(h.address.address)}/${h.address.prefixLength}`,
          mac: formatMac(mac),
          port: name,
        });
      });
    });
  }

  /** Closes the TAPs (their interfaces vanish, and the poller forgets them) and the sockets. */
  stop(): void {
    for (const t of this.taps) t.close();
    this.taps.length = 0;
    this.underlay.shutdown();
  }
}
