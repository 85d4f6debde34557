/**
 * A simulated network and the Mininet-style API that builds it: `addHost`, `addSwitch`,
 * `addHub`, `addRouter`, `addLink`, with Mininet-like defaults (host hN gets MAC
 * 00:00:00:00:00:NN and 10.0.0.N/8 unless told otherwise; ports are numbered on switches and hubs,
 * `eth0`, `eth1`, ... on hosts and routers). One scheduler, one seeded RNG and one tracer serve
 * every device, so a network built the same way runs the same way every time.
 *
 * Overlay pieces: `addNve`; `addVrf`/`removeVrf` and `addVbdif`/`removeVbdif` are thin wrappers
 * over overlay/vrf.ts (the one construction of VRFs, VBDIFs and their internal links, shared with
 * the VPC installer), handing it this network's names, MACs and cables.
 */

import type { Device } from '../devices/device.js';
import { Host, type HostOptions } from '../devices/ip/host.js';
import type { IpInterface } from '../devices/ip/ip-interface.js';
import type { InterfaceConfig } from '../devices/ip/ip-node.js';
import { Hub } from '../devices/l2/hub.js';
import { Switch, type SwitchOptions } from '../devices/l2/switch.js';
import { Router } from '../devices/router/router.js';
import { TraceLog, type Tracer, TraceSwitch } from '../devices/trace.js';
import { Capture, type Link, Link as LinkImpl, type LinkProperties, type Port } from '../link/index.js';
import { LiveMigration, type LiveMigrationSpec, type MigrationEnvironment } from '../migration/index.js';
import {
  type BridgeDomain,
  installVbdif,
  installVrf,
  Nve,
  type NveOptions,
  OverlayController,
  uninstallVbdif,
  uninstallVrf,
  type VrfSpec,
  type VrfWiring,
} from '../overlay/index.js';
import { type QueuedEvent, Rng, type RunOptions, type RunResult, Scheduler } from '../sim/index.js';
import { type Cidr, cidr, type Ipv4, ip, type Mac } from '../wire/index.js';

export interface NetworkOptions {
  readonly seed?: number;
  /** Record every device decision (default false). */
  readonly trace?: boolean;
  /** How long the overlay controller takes to install a route (default 0). */
  readonly controllerDelay?: number;
}

export interface HostSpec extends HostOptions {
  /** Address of eth0, e.g. `192.168.0.1/24` (default 10.0.0.N/8 for a host named hN, none otherwise). */
  readonly ip?: string | Cidr;
  readonly mac?: Mac;
  readonly gateway?: string | Ipv4;
}

export interface RouterInterfaceSpec {
  readonly name: string;
  readonly port?: string;
  readonly addresses: readonly (string | Cidr)[];
  readonly mac?: Mac;
  readonly vlan?: number;
}

export interface LinkSpec extends LinkProperties {
  /** Port names at each end (default: the first unlinked port, or a new one). */
  readonly aPort?: string;
  readonly bPort?: string;
}

export interface NveSpec extends Omit<NveOptions, 'vtep'> {
  /** The VTEP address; a loopback `lo` with it as a /32 is added unless an interface has it. */
  readonly vtep: string | Ipv4;
  /** Underlay interfaces, given to the NVE's router as a router's (not with an `underlay` of its own). */
  readonly interfaces?: readonly RouterInterfaceSpec[];
}

export type { VrfSpec } from '../overlay/index.js';

/** A VBDIF's gateway address(es) and MAC (see `Network.addVbdif`). */
export interface VbdifOptions {
  /** The gateway's address on the subnet, e.g. `10.1.0.1/24` (or several with `addresses`). */
  readonly address?: string | Cidr;
  readonly addresses?: readonly (string | Cidr)[];
  /** Default: a fresh automatic MAC. An anycast MAC is not claimed as unique. */
  readonly mac?: Mac;
  /** A distributed (anycast) gateway: the same IP and MAC on every NVE, answered locally only. */
  readonly anycast?: boolean;
}

/** 02:56:4e:00:00:00, the base of automatic MACs. */
const AUTO_MAC_BASE = 0x02_56_4e_00_00_00;

const toCidr = (v: string | Cidr): Cidr => (typeof v === 'string' ? cidr(v) : v);

export class Network {
  readonly scheduler = new Scheduler();
  readonly rng: Rng;
  readonly tracer: Tracer;
  readonly nodes = new Map<string, Device>();
  /** The links, in the order they were plugged (a Set: unplugging one costs O(1), not O(links)). */
  private readonly linkSet = new Set<Link>();
  /** The links, in the order they were plugged (a copy). */
  get links(): Link[] {
    return [...this.linkSet];
  }
  private macCounter = 0;
  private readonly usedMacs = new Set<Mac>();
  private readonly clock = {
    now: () => this.scheduler.now(),
    setTimer: (delay: number, fn: () => void) => this.scheduler.schedule(delay, fn),
    reserve: () => this.scheduler.reserve(),
    atReserved: (time: number, seq: number, fn: () => void) => this.scheduler.atReserved(time, seq, fn),
    requeue: (event: QueuedEvent, time: number, seq: number) => this.scheduler.requeue(event, time, seq),
  };

  /** The overlay's control plane: flood lists, and MAC/IP routes for NVEs in controller mode. */
  readonly overlay: OverlayController;

  constructor(options: NetworkOptions = {}) {
    this.rng = new Rng(options.seed ?? 1);
    this.tracer = options.trace ? new TraceLog() : new TraceSwitch();
    this.overlay = new OverlayController(this.clock, options.controllerDelay ?? 0);
  }

  private context() {
    return { clock: this.clock, tracer: this.tracer };
  }

  private claimName(name: string): void {
    if (this.nodes.has(name)) throw new Error(`a node named "${name}" already exists`);
  }

  /**
   * Next MAC for a device given none: locally administered 02:56:4e:HH:MM:LL ("VN"), skipping
   * any address already in use, so automatic MACs never collide with ones a lab chose.
   */
  private nextMac(): Mac {
    let mac: Mac;
    do {
      this.macCounter++;
      mac = AUTO_MAC_BASE + this.macCounter;
    } while (this.usedMacs.has(mac));
    return this.useMac(mac);
  }

  /** A fresh automatic MAC, for an interface added after its node (a host's second NIC). */
  allocateMac(): Mac {
    return this.nextMac();
  }

  private useMac(mac: Mac): Mac {
    this.usedMacs.add(mac);
    return mac;
  }

  addHost(name: string, spec: HostSpec = {}): Host {
    this.claimName(name);
    const host = new Host(name, this.context(), spec);
    const n = /^h(\d+)$/.exec(name);
    const mininetIndex = n ? Number(n[1]) : undefined;
    const address =
      spec.ip !== undefined
        ? toCidr(spec.ip)
        : mininetIndex !== undefined && mininetIndex < 255
          ? { address: ip('10.0.0.0') + mininetIndex, prefixLength: 8 }
          : undefined;
    const mac =
      spec.mac !== undefined
        ? this.useMac(spec.mac)
        : mininetIndex !== undefined && mininetIndex < 256
          ? this.useMac(mininetIndex)
          : this.nextMac();
    host.addInterface({ name: 'eth0', mac, addresses: address ? [address] : [] });
    if (spec.gateway !== undefined)
      host.setGateway(typeof spec.gateway === 'string' ? ip(spec.gateway) : spec.gateway);
    this.nodes.set(name, host);
    return host;
  }

  addSwitch(name: string, options: SwitchOptions = {}): Switch {
    this.claimName(name);
    const sw = new Switch(name, this.context(), {
      ...options,
      mac: options.mac !== undefined ? this.useMac(options.mac) : this.nextMac(),
    });
    this.nodes.set(name, sw);
    return sw;
  }

  addHub(name: string): Hub {
    this.claimName(name);
    const hub = new Hub(name, this.context());
    this.nodes.set(name, hub);
    return hub;
  }

  addRouter(name: string, interfaces: readonly RouterInterfaceSpec[] = []): Router {
    this.claimName(name);
    const router = new Router(name, this.context());
    for (const i of interfaces) {
      const config: InterfaceConfig = {
        name: i.name,
        port: i.port,
        mac: i.mac !== undefined ? this.useMac(i.mac) : this.nextMac(),
        addresses: i.addresses.map(toCidr),
        vlan: i.vlan,
      };
      router.addInterface(config);
    }
    this.nodes.set(name, router);
    return router;
  }

  /**
   * Adds an NVE (a VTEP with its underlay interfaces, on its router in the same box): a leaf
   * switch's or a hypervisor's.
   */
  addNve(name: string, spec: NveSpec): Nve {
    this.claimName(name);
    const vtep = typeof spec.vtep === 'string' ? ip(spec.vtep) : spec.vtep;
    const nve = new Nve(name, this.context(), { ...spec, vtep });
    const router = nve.router;
    if (router === null) {
      if ((spec.interfaces ?? []).length > 0)
        throw new Error(`${name} tunnels over an underlay of its own: it has no router to give interfaces`);
    } else {
      for (const i of spec.interfaces ?? []) {
        router.addInterface({
          name: i.name,
          port: i.port,
          mac: i.mac !== undefined ? this.useMac(i.mac) : this.nextMac(),
          addresses: i.addresses.map(toCidr),
          vlan: i.vlan,
        });
      }
      if (!router.ownsAddress(vtep))
        router.addInterface({
          name: 'lo',
          mac: this.nextMac(),
          addresses: [{ address: vtep, prefixLength: 32 }],
        });
    }
    this.nodes.set(name, nve);
    this.overlay.register(nve);
    return nve;
  }

  /** What `overlay/vrf.ts` needs of this network to build VRFs and VBDIFs (made once). */
  private wiringCache: VrfWiring | undefined;
  private vrfWiring(): VrfWiring {
    this.wiringCache ??= {
      addRouter: (name) => this.addRouter(name),
      claimMac: (mac) => this.useMac(mac),
      allocateMac: () => this.nextMac(),
      connect: (a, aPort, b, bPort, properties) => this.addLink(a, b, { aPort, bPort, ...properties }),
      unplug: (link) => this.unplug(link),
      removeNode: (name) => this.removeNode(name),
    };
    return this.wiringCache;
  }

  /**
   * Adds a tenant's VRF to an NVE: a router named `NVE/TENANT`, joined to the NVE by an internal
   * link per VBDIF (added with `addVbdif`) and, with an L3 VNI, one more for the L3 VNI's BD.
   * See `installVrf` (overlay/vrf.ts).
   */
  addVrf(nve: Nve, tenant: string, spec: VrfSpec = {}): Router {
    return installVrf(this.vrfWiring(), nve, tenant, spec);
  }

  /**
   * Adds a VBDIF: a routed interface `vbdif<BD id>` of the tenant's VRF on `bd` (a BD or its id),
   * the subnet's gateway, with `address` or `addresses`. `anycast`: the same IP and MAC on every NVE
   * (distributed gateway), answered locally only. An interface left by `removeVbdif` is reused.
   * Returns the VRF's interface. See `installVbdif` (overlay/vrf.ts).
   */
  addVbdif(nve: Nve, tenant: string, bd: number | BridgeDomain, spec: VbdifOptions): IpInterface {
    const addresses = spec.address !== undefined ? [spec.address] : (spec.addresses ?? []);
    return installVbdif(this.vrfWiring(), nve, tenant, bd, {
      addresses: addresses.map(toCidr),
      mac: spec.mac,
      anycast: spec.anycast,
    });
  }

  /**
   * Takes down the VBDIF of the tenant's VRF on BD `bdId` (in a VPC, the BD id is its VNI): its
   * internal link unplugged, its addresses, interface routes and ACLs cleared. The interface stays
   * for a later `addVbdif`; the BD's gateway VAP goes with the BD (`Nve.removeBridgeDomain`).
   */
  removeVbdif(nve: Nve, tenant: string, bdId: number): void {
    uninstallVbdif(this.vrfWiring(), nve, tenant, bdId);
  }

  /** Removes a node: unplugs its links and forgets it (its name is free again). */
  removeNode(name: string): void {
    const d = this.nodes.get(name);
    if (d === undefined) return;
    for (const p of d.ports) if (p.link !== null) this.unplug(p.link);
    this.nodes.delete(name);
  }

  /**
   * Removes `tenant`'s VRF from `nve` (its BDs and VBDIFs removed first): the other NVEs forget its
   * router MAC, its L3 VNI's BD goes, and its router leaves the network. See `uninstallVrf`.
   */
  removeVrf(nve: Nve, tenant: string): void {
    uninstallVrf(this.vrfWiring(), this.overlay, nve, tenant);
  }

  node(name: string): Device {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node named "${name}"`);
    return n;
  }

  /** A free port on `device`: the named one, else the first without a link, else a new one. */
  private portFor(device: Device, name: string | undefined): Port {
    if (name !== undefined) {
      const existing = device.port(name);
      if (existing) return existing;
      if (device instanceof Host || device instanceof Router || device instanceof Nve)
        throw new Error(`${device.name} has no port "${name}" (declare an interface on it first)`);
      return device.addPort(name);
    }
    const free = device.ports.find((p) => p.link === null);
    if (free) return free;
    if (device instanceof Host) throw new Error(`${device.name} has no free NIC`);
    // Switches and hubs number their ports from 1, routers name them eth0, eth1, ...: the first name not taken.
    const prefix = device instanceof Router || device instanceof Nve ? 'eth' : '';
    for (let n = prefix ? 0 : 1; ; n++)
      if (!device.port(`${prefix}${n}`)) return device.addPort(`${prefix}${n}`);
  }

  addLink(a: string | Device, b: string | Device, spec: LinkSpec = {}): Link {
    const da = typeof a === 'string' ? this.node(a) : a;
    const db = typeof b === 'string' ? this.node(b) : b;
    return this.connectPorts(this.portFor(da, spec.aPort), this.portFor(db, spec.bPort), spec);
  }

  /** Plugs a cable between two unlinked ports (a migrated VM's NIC into its new host's port). */
  connectPorts(a: Port, b: Port, properties: LinkProperties = {}): Link {
    const link = new LinkImpl(a, b, this.clock, this.rng, properties);
    if (this.tracer.enabled) {
      link.onDrop = (reason, from) =>
        this.tracer.emit({
          time: this.scheduler.now(),
          node: `${link.a.id}--${link.b.id}`,
          kind: 'drop',
          message: `link drop (${reason}) of a frame from ${from.id}`,
        });
    }
    this.linkSet.add(link);
    return link;
  }

  /** Unplugs a link (see `Link.detach`): both ports are free again, and the link leaves `links`. */
  unplug(link: Link): void {
    link.detach();
    this.linkSet.delete(link);
  }

  /** What a live migration needs of this network: its clock, its devices, and cables to move. */
  migrationEnvironment(): MigrationEnvironment {
    return {
      clock: this.clock,
      device: (name) => this.nodes.get(name),
      devices: () => this.nodes.values(),
      connectPorts: (a, b, properties) => this.connectPorts(a, b, properties),
      unplug: (link) => this.unplug(link),
    };
  }

  /**
   * Live-migrates `vm` to the hypervisor `destination` (a switch, an NVE or a hub) with the given
   * timing, from now: see `LiveMigration`. Throws if the destination cannot take the VM.
   */
  migrate(
    vm: string | Host,
    destination: string | Device,
    spec: Omit<LiveMigrationSpec, 'vm' | 'destination'>,
  ): LiveMigration {
    const host = typeof vm === 'string' ? this.node(vm) : vm;
    if (!(host instanceof Host)) throw new Error(`${host.name} is not a host: only VMs migrate`);
    const to = typeof destination === 'string' ? this.node(destination) : destination;
    const migration = new LiveMigration(this.migrationEnvironment(), { ...spec, vm: host, destination: to });
    migration.start();
    return migration;
  }

  /** The link between two nodes (the first, if several). */
  linkBetween(a: string, b: string): Link | undefined {
    for (const l of this.linkSet)
      if ((l.a.owner === a && l.b.owner === b) || (l.a.owner === b && l.b.owner === a)) return l;
    return undefined;
  }

  /** Starts the switches (spanning tree, where enabled), routers and hosts (DHCP servers, gratuitous ARP, DHCP clients). */
  start(): void {
    this.overlay.connect();
    for (const n of this.nodes.values()) if (n instanceof Switch) n.start();
    for (const n of this.nodes.values()) if (n instanceof Router || n instanceof Nve) n.start();
    for (const n of this.nodes.values()) if (n instanceof Host) n.start();
  }

  run(options: RunOptions = {}): RunResult {
    return this.scheduler.run(options);
  }

  capture(): Capture {
    return new Capture(this.clock);
  }
}
