/**
 * The network side of a live migration, in virtual time: a VM keeps its MAC, its IP and its open
 * connections while it moves from one hypervisor to another.
 *
 * Timeline (the timing comes from the memory transfer model, `memory-model.ts`):
 * 1. start: the VM runs at the source while its memory is copied (pre-copy rounds; none for
 *    post-copy). Nothing changes on the network.
 * 2. stop (`stopAfter` later): the VM is paused: its cable to the source hypervisor is unplugged, so
 *    frames to it and from it are lost from here on. The source's tables forget it as a port goes
 *    down does (a switch flushes the port's MACs, an NVE its VAP's).
 * 3. resume (`downtime` later): the VM's NIC is plugged into a port of the destination prepared with
 *    the same profile (VLAN, or VAP into the BD of the same VNI), and the VM announces itself: RARP
 *    as QEMU does (5 rounds, 50 ms then 100 ms more between each, QEMU's announce defaults), or
 *    gratuitous ARP. Switches learn the MAC on its new port; NVEs learn it locally and either
 *    flood-and-learn tells the remote VTEPs, or the controller moves the route with a higher MAC
 *    mobility sequence number (RFC 7432 15).
 * 4. convergence: from resume, every MAC table entry for the VM in the old and the new segment, and
 *    every ARP entry of a station there (IP -> the VM's MAC), is followed hop by hop until all lead
 *    to the VM (sampled: every 1 us for 100 us, every 10 us to
 *    1 ms, every 100 us to 10 ms, then every ms).
 *
 * Shared storage is assumed (only memory and device state move), as the lecture's migration.
 * Counted: frames lost towards the VM (arriving at its unplugged old port, or in flight on its
 * cable), frames the paused VM could not send, and frames for the VM's MAC that still reached the
 * old hypervisor after convergence (the proof that nothing goes to the old place).
 */
import type { Device } from '../devices/device.js';
import type { Host } from '../devices/ip/host.js';
import type { IpInterface } from '../devices/ip/ip-interface.js';
import type { Clock, Link, LinkProperties, Port } from '../link/index.js';
import type { Nve } from '../overlay/nve.js';
import type { Nanos } from '../sim/index.js';
import {
  cidrContains,
  decodeFrame,
  type ForwardingKeys,
  formatCidr,
  formatIpv4,
  formatMac,
  IpProtocol,
  type Ipv4,
  type Mac,
  newForwardingKeys,
  readForwardingKeys,
  readMac,
} from '../wire/index.js';
import { type Attachment, describeAttachment, prepareDestination } from './attachment.js';
import {
  type DeviceLookup,
  describePlace,
  followArpEntry,
  followEntry,
  nvesByVtep,
  type Place,
  placeOfNic,
  walkSegment,
} from './l2-segment.js';
import type { MigrationPlan } from './memory-model.js';

/** When the memory model says the VM stops and resumes, relative to the migration's start. */
export interface MigrationTiming {
  /** Start to the VM's stop: the pre-copy rounds (0 for post-copy). */
  readonly stopAfter: Nanos;
  /** Stop to resume at the destination. */
  readonly downtime: Nanos;
  /** Start to the last page at the destination. */
  readonly total: Nanos;
}

/** When the VM stops and resumes, from the memory model's plan (pre-copy stops after its live rounds). */
export function planTiming(plan: MigrationPlan): MigrationTiming {
  const live = plan.kind === 'pre-copy' ? plan.stopAndCopy.start : 0;
  return { stopAfter: live, downtime: plan.downtime, total: plan.totalTime };
}

export type Announcement = 'rarp' | 'garp' | 'none';

/** What a migration needs of the network it runs in. */
export interface MigrationEnvironment {
  readonly clock: Clock;
  device(name: string): Device | undefined;
  devices(): Iterable<Device>;
  connectPorts(a: Port, b: Port, properties: LinkProperties): Link;
  unplug(link: Link): void;
}

export interface LiveMigrationSpec {
  readonly vm: Host;
  /** The NIC that moves (default the VM's first). */
  readonly nic?: string;
  readonly destination: Device;
  /** The destination port (default a new one). */
  readonly port?: string;
  readonly timing: MigrationTiming;
  /** How the VM announces its new place (default RARP, as QEMU). */
  readonly announce?: Announcement;
  /** Announcement rounds (default 5). */
  readonly announceRounds?: number;
  /** How long after resume convergence is watched for (default 2 s). */
  readonly convergenceTimeout?: Nanos;
}

export type MigrationPhase = 'copying' | 'stopped' | 'resumed';

/** What happened to the network, as plain data. */
export interface MigrationNetworkReport {
  readonly vm: string;
  readonly ip: string | null;
  readonly mac: string;
  readonly from: string;
  readonly to: string;
  readonly startedAt: Nanos;
  readonly stoppedAt: Nanos;
  readonly resumedAt: Nanos;
  readonly downtime: Nanos;
  readonly announce: Announcement;
  readonly announcements: number;
  /** Frames for the VM lost: in flight on its cable when it was unplugged, or reaching the old hypervisor after. */
  readonly framesLostToVm: number;
  /** Frames the paused VM tried to send. */
  readonly framesLostFromVm: number;
  /** Resume to convergence, or null if it had not converged when last checked. */
  readonly convergedAfter: Nanos | null;
  /** Entries that did not lead to the VM at the last check (empty once converged). */
  readonly staleEntries: { readonly entry: string; readonly why: string }[];
  /** Table entries for the VM's MAC checked at convergence (or the last check). */
  readonly entriesChecked: number;
  /** Frames for the VM's MAC that reached the old hypervisor after convergence. */
  readonly toOldPlaceAfterConvergence: number;
  /** Whether the VM's address fits the segment it landed in, and why. */
  readonly address: { readonly fits: boolean | null; readonly why: string };
}

const SAMPLE_STEPS: readonly (readonly [until: Nanos, every: Nanos])[] = [
  [100_000, 1_000],
  [1_000_000, 10_000],
  [10_000_000, 100_000],
  [Number.POSITIVE_INFINITY, 1_000_000],
];

/** QEMU's announce timer: first gap 50 ms, each next 100 ms longer, at most 550 ms. */
function announceGap(round: number): Nanos {
  return Math.min(50 + 100 * (round - 1), 550) * 1_000_000;
}

/** The migration each moving NIC is in, from its start to its resume (a VM moves once at a time). */
const underway = new WeakMap<IpInterface, LiveMigration>();

export class LiveMigration {
  phase: MigrationPhase = 'copying';
  private readonly nic: IpInterface;
  private readonly source: Attachment;
  private readonly sourceLink: Link;
  private readonly lookup: DeviceLookup;
  /** The fabric's NVEs by VTEP (taken at the start: a migration adds ports, not NVEs). */
  private nves = new Map<Ipv4, Nve>();
  private destinationPort: Port | null = null;
  private startedAt: Nanos = 0;
  private stoppedAt: Nanos = 0;
  private resumedAt: Nanos = 0;
  private announcements = 0;
  private sourcePlaces: Place[] = [];
  private candidates: Place[] = [];
  private convergedAt: Nanos | null = null;
  private lastStale: { entry: string; why: string }[] = [];
  private lastChecked = 0;
  private toOldPlace = 0;
  private lostToVmInFlight = 0;
  private lostFromVmAtStop = 0;
  private toOldAfterConvergence = 0;
  private untapOld: (() => void) | null = null;
  private address: { fits: boolean | null; why: string } = { fits: null, why: 'not yet resumed' };
  private readonly whenResumed: (() => void)[] = [];

  constructor(
    private readonly env: MigrationEnvironment,
    readonly spec: LiveMigrationSpec,
  ) {
    const vm = spec.vm;
    const nic = spec.nic === undefined ? vm.interfaces[0] : vm.iface(spec.nic);
    if (nic === undefined) throw new Error(`${vm.name} has no NIC${spec.nic ? ` ${spec.nic}` : ''}`);
    this.nic = nic;
    const link = nic.port.link;
    const peer = nic.port.peer;
    if (link === null || peer === null) throw new Error(`${vm.name} ${nic.name} is not plugged in anywhere`);
    const device = env.device(peer.owner);
    if (device === undefined) throw new Error(`${vm.name} ${nic.name} is plugged into an unknown device`);
    this.source = { device, port: peer };
    this.sourceLink = link;
    this.lookup = (name) => env.device(name);
    for (const [name, value] of Object.entries(spec.timing))
      if (!(Number.isFinite(value) && value >= 0))
        throw new RangeError(`timing ${name} ${value} is not a time`);
  }

  /** Where the VM was when the migration began. */
  get from(): string {
    return describeAttachment(this.source);
  }

  /** Calls `fn` once the VM runs at the destination (at once if it does already). */
  onResumed(fn: () => void): void {
    if (this.phase === 'resumed') fn();
    else this.whenResumed.push(fn);
  }

  /** Schedules the migration from now. Checks the destination first (throws if it cannot take the VM). */
  start(): void {
    const clock = this.env.clock;
    const moving = underway.get(this.nic);
    if (moving !== undefined)
      throw new Error(
        `${this.spec.vm.name} is already migrating (from ${moving.from} to ${moving.spec.destination.name}): move it again once it resumed`,
      );
    this.startedAt = clock.now();
    this.destinationPort = prepareDestination(this.source, this.spec.destination, this.spec.port);
    underway.set(this.nic, this);
    const nves = nvesByVtep(this.env.devices());
    this.nves = nves;
    const start = placeOfNic(this.nic, this.lookup);
    this.sourcePlaces = start === null ? [] : walkSegment(start, this.lookup, nves);
    clock.setTimer(this.spec.timing.stopAfter, () => this.stop());
  }

  private stop(): void {
    const clock = this.env.clock;
    this.phase = 'stopped';
    this.stoppedAt = clock.now();
    const inFlightBefore = this.sourceLink.drops['link-down'] ?? 0;
    this.lostFromVmAtStop = this.nic.port.drops['no-link'] ?? 0;
    this.env.unplug(this.sourceLink);
    this.lostToVmInFlight = (this.sourceLink.drops['link-down'] ?? 0) - inFlightBefore;
    // From now on, a frame for the VM's MAC (outer or inner) reaching the old hypervisor is lost.
    const vmMac = formatMac(this.nic.mac);
    const keys = newForwardingKeys();
    const oldPlace = this.sourcePlaces[0];
    // A hub repeats every frame: one that its copies carry on to the VM's new place passes through.
    const reachesVm = (hub: Place, port: Port, now: Nanos) =>
      followEntry(hub, this.nic.mac, this.nic.port, now, this.lookup, this.nves, port).kind === 'vm';
    const untaps = this.source.device.ports.map((port) =>
      port.tap((frame, direction) => {
        if (
          direction !== 'rx' ||
          !frameForVmAt(oldPlace, port, this.env.clock.now(), frame, this.nic.mac, vmMac, keys, reachesVm)
        )
          return;
        this.toOldPlace++;
        if (this.convergedAt !== null) this.toOldAfterConvergence++;
      }),
    );
    this.untapOld = () => {
      for (const u of untaps) u();
    };
    clock.setTimer(this.spec.timing.downtime, () => this.resume());
  }

  private resume(): void {
    const clock = this.env.clock;
    const port = this.destinationPort!;
    this.phase = 'resumed';
    this.resumedAt = clock.now();
    this.env.connectPorts(this.nic.port, port, this.sourceLink.properties);
    underway.delete(this.nic);
    const nves = this.nves;
    const here = placeOfNic(this.nic, this.lookup);
    const destinationPlaces = here === null ? [] : walkSegment(here, this.lookup, nves);
    this.address = this.fitCheck(destinationPlaces);
    const seen = new Set<Place>();
    this.candidates = [];
    for (const p of [...this.sourcePlaces, ...destinationPlaces]) {
      if (seen.has(p) || (p.kind === 'station' && p.device === this.spec.vm) || p.kind === 'hub') continue;
      seen.add(p);
      this.candidates.push(p);
    }
    this.announce(1);
    this.sample();
    for (const fn of this.whenResumed.splice(0)) fn();
  }

  private announce(round: number): void {
    const method = this.spec.announce ?? 'rarp';
    const rounds = this.spec.announceRounds ?? 5;
    if (method === 'none' || round > rounds) return;
    this.announcements++;
    if (method === 'rarp') this.spec.vm.announceRarp();
    else this.spec.vm.announce();
    this.env.clock.setTimer(announceGap(round), () => this.announce(round + 1));
  }

  /** Follows every candidate table's entry for the VM; records convergence the first time all lead to it. */
  private check(): boolean {
    const nves = this.nves;
    const now = this.env.clock.now();
    const stale: { entry: string; why: string }[] = [];
    let checked = 0;
    const vmIp = this.nic.primary?.address;
    for (const place of this.candidates) {
      const v =
        place.kind === 'station'
          ? vmIp === undefined
            ? ({ kind: 'none' } as const)
            : followArpEntry(place, vmIp, this.nic.mac, this.nic.port, now, this.lookup, nves)
          : followEntry(place, this.nic.mac, this.nic.port, now, this.lookup, nves);
      if (v.kind === 'none') continue;
      checked++;
      if (v.kind === 'stale') stale.push({ entry: v.entry, why: v.why });
    }
    this.lastStale = stale;
    this.lastChecked = checked;
    return stale.length === 0;
  }

  private sample(): void {
    const now = this.env.clock.now();
    const since = now - this.resumedAt;
    if (this.check()) {
      this.convergedAt = now;
      return;
    }
    const timeout = this.spec.convergenceTimeout ?? 2_000_000_000;
    if (since >= timeout) return;
    const every = SAMPLE_STEPS.find(([until]) => since < until)![1];
    this.env.clock.setTimer(Math.min(every, timeout - since), () => this.sample());
  }

  /** Does the VM's address fit the segment it landed in? Some station there must share its subnet. */
  private fitCheck(places: Place[]): { fits: boolean | null; why: string } {
    const vmAddress = this.nic.primary;
    if (vmAddress === undefined) return { fits: null, why: `${this.spec.vm.name} has no address` };
    const ip: Ipv4 = vmAddress.address;
    const stations = places.filter(
      (p): p is Extract<Place, { kind: 'station' }> => p.kind === 'station' && p.device !== this.spec.vm,
    );
    const mine = `${formatCidr(vmAddress)}`;
    const fitting = stations.find((s) => s.iface.addresses.some((a) => cidrContains(a, ip)));
    if (fitting !== undefined) {
      const a = fitting.iface.addresses.find((x) => cidrContains(x, ip))!;
      return {
        fits: true,
        why: `${mine} fits the destination segment: ${describePlace(fitting)} is ${formatCidr(a)}`,
      };
    }
    const others = stations.filter((s) => s.iface.addresses.length > 0).slice(0, 3);
    if (others.length === 0)
      return { fits: null, why: `no other station on the destination segment to tell whether ${mine} fits` };
    const gateway = this.spec.vm.gateway;
    return {
      fits: false,
      why: `${mine} does not fit the destination segment: ${others
        .map((s) => `${describePlace(s)} is ${formatCidr(s.iface.addresses[0]!)}`)
        .join(', ')}${gateway !== null ? `; the VM's gateway ${formatIpv4(gateway)} is not there` : ''}`,
    };
  }

  /** The network outcome so far (final once convergence was reached or its watch ended). */
  report(): MigrationNetworkReport {
    const resumed = this.phase === 'resumed';
    const primary = this.nic.primary;
    return {
      vm: this.spec.vm.name,
      ip: primary ? formatCidr(primary) : null,
      mac: formatMac(this.nic.mac),
      from: describeAttachment(this.source),
      to: this.destinationPort
        ? `${this.spec.destination.name}:${this.destinationPort.name}`
        : this.spec.destination.name,
      startedAt: this.startedAt,
      stoppedAt: this.stoppedAt,
      resumedAt: this.resumedAt,
      downtime: resumed ? this.resumedAt - this.stoppedAt : 0,
      announce: this.spec.announce ?? 'rarp',
      announcements: this.announcements,
      framesLostToVm: this.toOldPlace + this.lostToVmInFlight,
      framesLostFromVm: (this.nic.port.drops['no-link'] ?? 0) - this.lostFromVmAtStop,
      convergedAfter: this.convergedAt === null ? null : this.convergedAt - this.resumedAt,
      staleEntries: this.lastStale,
      entriesChecked: this.lastChecked,
      toOldPlaceAfterConvergence: this.toOldAfterConvergence,
      address: this.address,
    };
  }

  /** Stops watching the old hypervisor (call when the report is final). */
  finish(): void {
    this.untapOld?.();
    this.untapOld = null;
  }
}

/**
 * Whether a frame arriving on `port` of the VM's old hypervisor came there for the VM: its MAC in
 * its segment (a switch: in its VLAN, by the tag or the port's VLAN; an NVE: from the fabric with
 * its BD's VNI), and not passing through towards the VM's new place (a switch whose table sends it
 * out another port; a hub whose copies reach the VM; an NVE's local station sending into the
 * fabric). Tenants may reuse MACs: the segment tells their frames apart. GENEVE and NVGRE packets
 * go through the dissector.
 */
function frameForVmAt(
  place: Place | undefined,
  port: Port,
  now: Nanos,
  frame: Uint8Array,
  mac: Mac,
  text: string,
  keys: ForwardingKeys,
  /** Whether a frame entering `hub` by `port` reaches the VM (the hub's copies followed). */
  reachesVm: (hub: Place, port: Port, now: Nanos) => boolean,
): boolean {
  if (place === undefined || readForwardingKeys(frame, keys) !== null) return false;
  if (place.kind === 'switch') {
    if (keys.dstMac !== mac) return false;
    const config = place.device.portConfig(port.name);
    const vlan = keys.vid >= 0 ? keys.vid : config?.mode === 'access' ? config.vlan : (config?.native ?? -1);
    if (vlan !== place.vlan) return false;
    // A local station sending to the VM's new place passes through (the table points elsewhere);
    // a frame the switch floods or filters came here because somebody thinks the VM is here.
    const out = place.device.macTable.lookup(vlan, mac, now);
    return out === undefined || out === port.name;
  }
  if (place.kind === 'hub') return keys.dstMac === mac && !reachesVm(place, port, now);
  if (place.kind !== 'bd') return false;
  const nve = place.device;
  // From a local VAP a frame for the VM goes on into the fabric, towards its new place.
  if (nve.vaps.isAccessPort(port)) return false;
  if (keys.innerOffset >= 0)
    return (
      keys.vni === place.bd.vni &&
      keys.innerOffset + 6 <= frame.length &&
      readMac(frame, keys.innerOffset) === mac
    );
  if (keys.etherType !== 0x0800 || (keys.protocol !== IpProtocol.gre && keys.protocol !== IpProtocol.udp))
    return false;
  const layers = decodeFrame(frame).layers;
  const overlay = layers.find((l) => l.layer === 'geneve' || l.layer === 'nvgre');
  const vni = overlay === undefined ? undefined : overlay.layer === 'geneve' ? overlay.vni : overlay.vsid;
  return vni === place.bd.vni && layers.some((l) => l.layer === 'ethernet' && l.dst === text);
}
