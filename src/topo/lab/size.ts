/**
 * How big a lab is before it is built: its nodes, links, VMs and tenants counted from the file
 * alone (a fabric's from its four multipliers, never by generating it), the heap the built network
 * will hold, how long building it takes, and how many events its start-up announcements make.
 * `fitLab` compares the estimate with a heap limit the caller gives (the CLI reads V8's): a lab
 * that cannot fit is refused with the estimate and the largest size that would.
 *
 * Calibration (bench/lab-size-calibrate.ts; Node 20, 2 shared cores, heapUsed after a full GC minus
 * before, build time with performance.now):
 *   fabric, leaf NVEs, flood-and-learn, 2 tenants:   1,024 VMs 8 MiB 0.18-0.4 s; 16,384 VMs 92-95 MiB
 *                                                    1.4-2.9 s; 65,536 VMs 366 MiB 6.7 s (5.8-6.2 KB
 *                                                    and 100-170 us per VM)
 *   fabric, hypervisor NVEs:                         16,384 VMs 106 MiB 2.2 s (6.6 KB per VM)
 *   fabric, distributed gateway (controller):        16,384 VMs 96 MiB 2.3 s (6.0 KB per VM)
 *   N hosts on one switch:                           4,096: 22 MiB 0.9 s; 16,384: 89 MiB 7.5 s
 *                                                    (5.7-5.9 KB per host with its link; the build
 *                                                    is quadratic: each unnamed port is searched for)
 *   16,384 hosts alone 4.5 KB; 16,384 switches in a chain 3.0 KB with a link; routers 5.6 KB
 *   start-up (each VM's gratuitous ARP): 1,024 hosts on a switch 1.03 M events 2.4 s; a 1,024-VM
 *   fabric 0.82 M events 4.2 s (2.3-5.2 us per event). The run adds to the built network's heap
 *   (16,384 VMs: 28-144 MiB after 5 M events), hence the quarter of the heap left for it.
 */

import { gatewayLayout, hasBorder } from '../../overlay/gateway.js';
import { formatBytes } from '../units.js';
import type { LabFile, LabNode } from './schema.js';

/** Heap bytes per built thing. */
const BYTES = {
  base: 40 * 2 ** 20,
  host: 4_500,
  switch: 1_500,
  router: 5_600,
  nve: 8_000,
  /** A link with its two ports. */
  link: 1_300,
  /** What a VM costs an NVE besides its link: a sub-interface (hypervisor NVEs) or a controller route. */
  vmOnNve: 800,
} as const;
/** Build time per thing, microseconds; and per pair of unnamed ports on one switch (the port search). */
const BUILD_US = { vm: 110, node: 150, link: 10, portPair: 0.021 } as const;
/** Wall time per event of the start-up flood, microseconds. */
const EVENT_US = 4;
/** A link direction queues this many frames (default queue 1000, one on the wire, one arriving). */
const QUEUE_FRAMES = 1002;
/** The share of the heap a built lab may take: the rest is for its traffic (tables, queues) and garbage. */
export const FIT_SHARE = 0.6;

export interface LabSize {
  readonly nodes: number;
  readonly hosts: number;
  readonly links: number;
  readonly vms: number;
  readonly tenants: number;
}

export interface LabEstimate {
  readonly size: LabSize;
  /** Heap the built network holds. */
  readonly bytes: number;
  /** Wall time to build it. */
  readonly buildSeconds: number;
  /** Events the hosts' start-up announcements (gratuitous ARP) make, flooded through their broadcast domains. */
  readonly startupEvents: number;
  /** Wall time of those events. */
  readonly startupSeconds: number;
}

interface Counts {
  hosts: number;
  switches: number;
  routers: number;
  nves: number;
  links: number;
  vms: number;
  vmOnNve: number;
  tenants: number;
  portPairs: number;
  startupEvents: number;
}

type Fabric = NonNullable<LabFile['fabric']>;

function fabricCounts(f: Fabric, c: Counts): void {
  const servers = f.leaves * f.serversPerLeaf;
  const vms = servers * f.vmsPerServer;
  const hypervisor = f.nve === 'hypervisor';
  const gateway = gatewayLayout(f.gateway);
  const border = hasBorder(f.gateway, f.external) ? 1 : 0;
  const nves = (hypervisor ? servers : f.leaves) + border;
  const tenants = f.tenants.length;
  const subnets = f.tenants.reduce((n, t) => n + t.subnets.length, 0);
  // VRFs: one per tenant on each NVE with its VMs (distributed: joined by its L3 VNI and a VBDIF
  // per subnet; the border's by its L3 VNI only), or on the border (centralized: a VBDIF per subnet).
  const vmsPerNve = vms / Math.max(1, nves - border);
  const anycast = gateway.vbdifs === 'anycast-on-every-nve';
  const leafVrfs = anycast ? (nves - border) * Math.min(tenants, Math.max(1, vmsPerNve)) : 0;
  const borderVrfs = gateway.vbdifs !== 'none' ? border * tenants : 0;
  const vrfLinks = anycast
    ? leafVrfs * (1 + subnets / tenants) + borderVrfs
    : gateway.vbdifs === 'border'
      ? subnets
      : 0;
  c.vms += vms;
  c.hosts += vms + (f.external ? 1 : 0);
  c.switches += hypervisor ? 0 : servers;
  c.routers += f.spines + (hypervisor ? f.leaves : 0) + leafVrfs + borderVrfs + (f.external ? 1 : 0);
  c.nves += nves;
  c.links += f.spines * (f.leaves + border) + vms + servers + vrfLinks + (f.external ? tenants + 1 : 0);
  c.vmOnNve += hypervisor || f.controlPlane === 'controller' ? vms : 0;
  c.tenants += tenants;
  // Each VM's gratuitous ARP reaches every VM, server and leaf of its subnet's bridge domain.
  if (f.announce !== false)
    for (const t of f.tenants) {
      const perSubnet = vms / tenants / t.subnets.length;
      c.startupEvents +=
        t.subnets.length * perSubnet * (perSubnet + Math.min(servers, perSubnet) + 2 * f.leaves);
    }
}

/** The lab's own nodes and links; start-up floods per broadcast domain (switches and hubs joined by links). */
function ownCounts(lab: LabFile, c: Counts): void {
  const nodes: Record<string, LabNode> = lab.nodes;
  for (const node of Object.values(nodes)) {
    if (node.kind === 'host') c.hosts++;
    else if (node.kind === 'switch' || node.kind === 'hub') c.switches++;
    else if (node.kind === 'l3switch') {
      c.switches++;
      c.routers++;
      c.links++;
    } else if (node.kind === 'router') c.routers++;
    else c.nves++;
  }
  c.links += lab.links.length;
  const bridging = (n: string) => {
    const kind = nodes[n]?.kind;
    return kind === 'switch' || kind === 'hub' || kind === 'l3switch';
  };
  // Union-find over the bridging nodes: a broadcast domain each.
  const parent = new Map<string, string>();
  const find = (n: string): string => {
    let r = n;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(n, r);
    return r;
  };
  const degree = new Map<string, number>();
  const ends: { node: string; other: string }[] = [];
  for (const link of lab.links) {
    const a = link.a.split(':')[0]!;
    const b = link.b.split(':')[0]!;
    for (const [x, y, named] of [
      [a, b, link.a.includes(':')],
      [b, a, link.b.includes(':')],
    ] as const) {
      if (bridging(x) && !named) degree.set(x, (degree.get(x) ?? 0) + 1);
      if (!bridging(x) && bridging(y)) ends.push({ node: x, other: y });
    }
    if (bridging(a) && bridging(b)) parent.set(find(a), find(b));
  }
  for (const d of degree.values()) c.portPairs += d * d;
  const domains = new Map<string, { ends: number; announcers: number }>();
  for (const e of ends) {
    const root = find(e.other);
    const d = domains.get(root) ?? { ends: 0, announcers: 0 };
    d.ends++;
    const node = nodes[e.node];
    if (node?.kind === 'host' && node.announce !== false) d.announcers++;
    domains.set(root, d);
  }
  // Announcements sent together queue at each port: beyond a queue's worth they are dropped.
  for (const d of domains.values()) c.startupEvents += d.ends * Math.min(d.announcers, QUEUE_FRAMES);
}

export function estimateLab(lab: LabFile): LabEstimate {
  const c: Counts = {
    hosts: 0,
    switches: 0,
    routers: 0,
    nves: 0,
    links: 0,
    vms: 0,
    vmOnNve: 0,
    tenants: 0,
    portPairs: 0,
    startupEvents: 0,
  };
  if (lab.fabric) fabricCounts(lab.fabric, c);
  ownCounts(lab, c);
  const bytes =
    BYTES.base +
    c.hosts * BYTES.host +
    c.switches * BYTES.switch +
    c.routers * BYTES.router +
    c.nves * BYTES.nve +
    c.links * BYTES.link +
    c.vmOnNve * BYTES.vmOnNve;
  const others = c.switches + c.routers + c.nves + c.hosts - c.vms;
  const buildUs =
    c.vms * BUILD_US.vm + others * BUILD_US.node + c.links * BUILD_US.link + c.portPairs * BUILD_US.portPair;
  const startupEvents = Math.round(c.startupEvents);
  return {
    size: {
      nodes: Math.round(c.hosts + c.switches + c.routers + c.nves),
      hosts: c.hosts,
      links: Math.round(c.links),
      vms: c.vms,
      tenants: c.tenants,
    },
    bytes: Math.round(bytes),
    buildSeconds: buildUs / 1e6,
    startupEvents,
    startupSeconds: (startupEvents * EVENT_US) / 1e6,
  };
}

export type LabFit =
  | { readonly fits: true; readonly estimate: LabEstimate }
  | { readonly fits: false; readonly estimate: LabEstimate; readonly message: string };

export { formatBytes } from '../units.js';

/** "40 s", "12 min", "3.5 h", "2.1 days" for a wall time estimate. */
export function formatWallTime(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Number((seconds / 3600).toFixed(1))} h`;
  return `${Number((seconds / 86400).toFixed(1))} days`;
}

const FABRIC_KNOBS = ['vmsPerServer', 'serversPerLeaf', 'leaves'] as const;
type Knob = (typeof FABRIC_KNOBS)[number];

/** The largest value of one fabric multiplier (the others as they are) whose lab fits `room`, or null. */
function largestFitting(lab: LabFile, knob: Knob, room: number): number | null {
  const f = lab.fabric!;
  const bytesAt = (v: number) => estimateLab({ ...lab, fabric: { ...f, [knob]: v } }).bytes;
  let lo = 1;
  if (bytesAt(lo) > room) return null;
  let hi = f[knob];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytesAt(mid) <= room) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The largest fabric that fits, lowering its multipliers in turn (vmsPerServer, then
 * serversPerLeaf, then leaves): the first that can be lowered enough is, the ones before it go
 * down to 1. Null when even one VM on one server of one leaf does not fit.
 */
function largestFabric(lab: LabFile, room: number): { lab: LabFile; changed: string } | null {
  let current = lab;
  const changes: string[] = [];
  for (const knob of FABRIC_KNOBS) {
    const v = largestFitting(current, knob, room);
    const value = v ?? 1;
    current = { ...current, fabric: { ...current.fabric!, [knob]: value } };
    changes.push(`${knob} ${value}`);
    if (v !== null) return { lab: current, changed: changes.join(', ') };
  }
  return null;
}

/**
 * Whether the lab's built network fits `heapLimit` bytes (FIT_SHARE of it); if not, a message with
 * the estimate and the largest size that would fit: the fabric's multipliers lowered, or a count of
 * hosts for a lab without a fabric.
 */
export function fitLab(lab: LabFile, heapLimit: number): LabFit {
  const estimate = estimateLab(lab);
  const room = heapLimit * FIT_SHARE;
  if (estimate.bytes <= room) return { fits: true, estimate };
  const need = `about ${formatBytes(estimate.bytes)} and ${formatWallTime(estimate.buildSeconds)} to build`;
  const allows = `this machine's heap allows ${formatBytes(heapLimit)} (a lab may take ${FIT_SHARE * 100}% of it, the rest is for its traffic)`;
  const s = estimate.size;
  const what = `${s.nodes.toLocaleString('en-US')} nodes, ${s.links.toLocaleString('en-US')} links${s.vms > 0 ? `, ${s.vms.toLocaleString('en-US')} VMs` : ''}`;
  if (lab.fabric) {
    const f = lab.fabric;
    const largest = largestFabric(lab, room);
    return {
      fits: false,
      estimate,
      message: `too large for this machine: ${f.spines} spines x ${f.leaves} leaves x ${f.serversPerLeaf} servers x ${f.vmsPerServer} VMs (${what}) would need ${need}; ${allows}: ${
        largest === null
          ? 'even the smallest fabric of this shape does not fit'
          : `the largest that fits is ${largest.changed} (about ${formatBytes(estimateLab(largest.lab).bytes)})`
      }`,
    };
  }
  const perHost = BYTES.host + BYTES.link;
  const hosts = Math.max(0, Math.floor((room - BYTES.base) / perHost));
  return {
    fits: false,
    estimate,
    message: `too large for this machine: ${what} would need ${need}; ${allows}: about ${hosts.toLocaleString('en-US')} hosts with their links fit`,
  };
}
