/**
 * A simulated network and the Mininet-style API that builds it: `addHost`, `addSwitch`,
 * `addHub`, `addRouter`, `addLink`, with Mininet-like defaults (host hN gets MAC
 * 00:00:00:00:00:NN and 10.0.0.N/8 unless told otherwise; ports are numbered on switches and hubs,
 * `eth0`, `eth1`, ... on hosts and routers). One scheduler, one seeded RNG and one tracer serve
 * every device, so a network built the same way runs the same way every time.
 */

import type { Device } from '../devices/device.js';
import { Host, type HostOptions } from '../devices/ip/host.js';
import type { InterfaceConfig } from '../devices/ip/ip-node.js';
import { Hub } from '../devices/l2/hub.js';
import { Switch, type SwitchOptions } from '../devices/l2/switch.js';
import { Router } from '../devices/router/router.js';
import { TraceLog, type Tracer, TraceSwitch } from '../devices/trace.js';
import { Capture, type Link, Link as LinkImpl, type LinkProperties, type Port } from '../link/index.js';
import { LiveMigration, type LiveMigrationSpec, type MigrationEnvironment } from '../migration/index.js';
import { Nve, type NveOptions, OverlayController } from '../overlay/index.js';
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
  /** Underlay interfaces, as a router's. */
  readonly interfaces?: readonly RouterInterfaceSpec[];
}

export interface VrfSpec {
  /** The tenant's L3 VNI (symmetric IRB) and this VRF's address on it. */
  readonly l3?: { readonly vni: number; readonly transitIp: string | Ipv4; readonly prefixLength?: number };
  readonly routerMac?: Mac;
}

/** Internal links inside a box (NVE to its VRFs): no delay worth counting, no bandwidth limit. */
const INTERNAL_LINK = { delay: 0, bandwidth: 1e12 } as const;

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

  /** Adds an NVE (a VTEP with its underlay interfaces): a leaf switch's or a hypervisor's. */
  addNve(name: string, spec: NveSpec): Nve {
    this.claimName(name);
    const vtep = typeof spec.vtep === 'string' ? ip(spec.vtep) : spec.vtep;
    const nve = new Nve(name, this.context(), { ...spec, vtep });
    for (const i of spec.interfaces ?? []) {
      nve.addInterface({
        name: i.name,
        port: i.port,
        mac: i.mac !== undefined ? this.useMac(i.mac) : this.nextMac(),
        addresses: i.addresses.map(toCidr),
        vlan: i.vlan,
      });
    }
    if (!nve.ownsAddress(vtep))
      nve.addInterface({ name: 'lo', mac: this.nextMac(), addresses: [{ address: vtep, prefixLength: 32 }] });
    this.nodes.set(name, nve);
    this.overlay.register(nve);
    return nve;
  }

  /**
   * Adds a tenant's VRF to an NVE: a router named `NVE/TENANT`, joined to the NVE by an internal
   * link per VBDIF (added with `addVbdif`) and, with an L3 VNI, one more for the L3 VNI's BD.
   */
  addVrf(nve: Nve, tenant: string, spec: VrfSpec = {}): Router {
    const router = this.addRouter(`${nve.name}/${tenant}`);
    const routerMac = spec.routerMac !== undefined ? this.useMac(spec.routerMac) : this.nextMac();
    let transitIp = 0;
    if (spec.l3) {
      transitIp = typeof spec.l3.transitIp === 'string' ? ip(spec.l3.transitIp) : spec.l3.transitIp;
      const bd = nve.addL3BridgeDomain(spec.l3.vni, tenant);
      router.addInterface({
        name: 'l3vni',
        mac: routerMac,
        addresses: [{ address: transitIp, prefixLength: spec.l3.prefixLength ?? 16 }],
      });
      const port = `l3vni-${tenant}`;
      bd.addStatic(routerMac, nve.addSubinterface(port, { kind: 'untagged' }, bd, 'l3-vni'));
      this.addLink(nve, router, { aPort: port, bPort: 'l3vni', ...INTERNAL_LINK });
    }
    nve.attachVrf({ tenant, router, l3Vni: spec.l3?.vni ?? null, transitIp, routerMac, l3Iface: 'l3vni' });
    return router;
  }

  /**
   * Adds a VBDIF: a routed interface of the tenant's VRF on BD `bdId`, the subnet's gateway.
   * `anycast`: the same IP and MAC on every NVE (distributed gateway), answered locally only.
   */
  addVbdif(
    nve: Nve,
    tenant: string,
    bdId: number,
    spec: { readonly addresses: readonly (string | Cidr)[]; readonly mac?: Mac; readonly anycast?: boolean },
  ): void {
    const vrf = nve.vrfs.get(tenant);
    if (!vrf) throw new Error(`${nve.name} has no VRF for tenant ${tenant}`);
    const bd = nve.bridgeDomain(bdId);
    if (!bd) throw new Error(`${nve.name} has no bridge domain ${bdId}`);
    const name = `vbdif${bdId}`;
    const addresses = spec.addresses.map(toCidr);
    // An anycast gateway MAC repeats on every NVE by design: it is not claimed as unique.
    const mac = spec.mac !== undefined ? (spec.anycast ? spec.mac : this.useMac(spec.mac)) : this.nextMac();
    vrf.router.addInterface({ name, mac, addresses });
    // The gateway's MAC is configured, not learned: it is known on its VAP from the start.
    bd.addStatic(
      mac,
      nve.addSubinterface(name, { kind: 'untagged' }, bd, spec.anycast ? 'anycast-gateway' : 'gateway'),
    );
    for (const a of addresses)
      if (spec.anycast) bd.anycastGateways.add(a.address);
      else nve.addGateway(bd, mac, a.address);
    this.addLink(nve, vrf.router, { aPort: name, bPort: name, ...INTERNAL_LINK });
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
   * router MAC, its L3 VNI's BD goes, and its router leaves the network.
   */
  removeVrf(nve: Nve, tenant: string): void {
    const vrf = nve.vrfs.get(tenant);
    if (vrf === undefined) return;
    this.overlay.detachVrf(nve, tenant);
    if (vrf.l3Vni !== null) nve.removeL3BridgeDomain(vrf.l3Vni);
    nve.detachVrf(tenant);
    this.removeNode(vrf.router.name);
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
      if (device instanceof Host || device instanceof Router)
        throw new Error(`${device.name} has no port "${name}" (declare an interface on it first)`);
      return device.addPort(name);
    }
    const free = device.ports.find((p) => p.link === null);
    if (free) return free;
    if (device instanceof Host) throw new Error(`${device.name} has no free NIC`);
    // Switches and hubs number their ports from 1, routers name them eth0, eth1, ...: the first name not taken.
    const prefix = device instanceof Router ? 'eth' : '';
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
    for (const n of this.nodes.values()) if (n instanceof Router) n.start();
    for (const n of this.nodes.values()) if (n instanceof Host) n.start();
  }

  run(options: RunOptions = {}): RunResult {
    return this.scheduler.run(options);
  }

  capture(): Capture {
    return new Capture(this.clock);
  }
}
