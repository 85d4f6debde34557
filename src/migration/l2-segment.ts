/**
 * A VM's layer-2 segment, walked across devices: where a frame the VM sends may go (switch ports
 * of its VLAN, a hub's ports, its bridge domain's VAPs on every NVE of its VNI), and so which
 * stations share its broadcast domain and which forwarding tables may hold an entry for its MAC.
 *
 * Used by live migration for two answers:
 * - does the VM's address fit where it lands? (some station on the destination segment has a
 *   subnet holding it: its gateway, its peers);
 * - has the network converged? every MAC entry for the VM, in every switch table and BD table of
 *   the old and new segments, when followed hop by hop (port to peer, remote VTEP to its NVE),
 *   ends at the VM's own NIC. An absent entry is fine (the frame is flooded and finds the VM).
 *
 * Read-only: walking a segment looks at tables and configuration and changes nothing (a lookup
 * may expire an aged entry, as any lookup would).
 */
import type { Device } from '../devices/device.js';
import type { IpInterface } from '../devices/ip/ip-interface.js';
import type { IpNode } from '../devices/ip/ip-node.js';
import { Hub } from '../devices/l2/hub.js';
import { Switch } from '../devices/l2/switch.js';
import type { Port } from '../link/index.js';
import type { BridgeDomain } from '../overlay/bridge-domain.js';
import { ipStackOf, Nve } from '../overlay/nve.js';
import type { Vap } from '../overlay/vap.js';
import type { Nanos } from '../sim/index.js';
import { EtherType, formatIpv4, formatMac, type Ipv4, type Mac, writeU16 } from '../wire/index.js';

/** Where a frame of the segment is: in a switch's VLAN, on a hub, in an NVE's BD, or at a station. */
export type Place =
  | { readonly kind: 'switch'; readonly device: Switch; readonly vlan: number }
  | { readonly kind: 'hub'; readonly device: Hub; readonly tag: number | null }
  | { readonly kind: 'bd'; readonly device: Nve; readonly bd: BridgeDomain }
  | { readonly kind: 'station'; readonly device: IpNode; readonly iface: IpInterface };

/** Finds devices by name (a port knows only its owner's name). */
export type DeviceLookup = (name: string) => Device | undefined;

/** How a place is named in tables and messages: `sw1 VLAN 10`, `leaf1-srv1 BD 3 (VNI 10003)`, `R eth2`. */
export function describePlace(p: Place): string {
  switch (p.kind) {
    case 'switch':
      return `${p.device.name} VLAN ${p.vlan}`;
    case 'hub':
      return p.device.name;
    case 'bd':
      return `${p.device.name} BD ${p.bd.label} (VNI ${p.bd.vni})`;
    default:
      return `${p.device.name} ${p.iface.name}`;
  }
}

function placeKey(p: Place): string {
  switch (p.kind) {
    case 'switch':
      return `s:${p.device.name}:${p.vlan}`;
    case 'hub':
      return `h:${p.device.name}:${p.tag}`;
    case 'bd':
      return `b:${p.device.name}:${p.bd.vni}`;
    default:
      return `i:${p.device.name}:${p.iface.name}`;
  }
}

/** A minimal frame header carrying `tag` (or none), for asking an NVE which VAP a frame would enter. */
function probeFrame(tag: number | null): Uint8Array {
  const frame = new Uint8Array(60);
  if (tag === null) writeU16(frame, 12, EtherType.ipv4);
  else {
    writeU16(frame, 12, EtherType.vlan);
    writeU16(frame, 14, tag);
    writeU16(frame, 16, EtherType.ipv4);
  }
  return frame;
}

/** The place a frame arriving on `port` with 802.1Q tag `tag` (null: untagged) enters, or null where it would be dropped. */
export function enter(port: Port, tag: number | null, lookup: DeviceLookup): Place | null {
  const device = lookup(port.owner);
  if (device === undefined) return null;
  if (device instanceof Switch) {
    const config = device.portConfig(port.name);
    if (config === undefined) return null;
    if (config.mode === 'access')
      return tag === null || tag === config.vlan ? { kind: 'switch', device, vlan: config.vlan } : null;
    const vlan = tag ?? config.native;
    if (vlan === null) return null;
    const carried = vlan === config.native || config.allowed === 'all' || config.allowed.includes(vlan);
    return carried ? { kind: 'switch', device, vlan } : null;
  }
  if (device instanceof Hub) return { kind: 'hub', device, tag };
  if (device instanceof Nve) {
    if (device.vaps.isAccessPort(port)) {
      const c = device.vaps.classify(port, probeFrame(tag));
      return c.ok ? { kind: 'bd', device, bd: c.vap.bd } : null;
    }
  }
  // The underlay side of an NVE is its router's interface.
  const stack = ipStackOf(device);
  if (stack !== undefined) {
    const iface = stack.interfaces.find((i) => i.port === port && i.vlan === tag);
    return iface ? { kind: 'station', device: stack, iface } : null;
  }
  return null;
}

/** Whether a switch port carries `vlan` (an access port of it, or a trunk that allows it). */
function switchCarries(sw: Switch, port: Port, vlan: number): boolean {
  const config = sw.portConfig(port.name);
  if (config === undefined) return false;
  if (config.mode === 'access') return config.vlan === vlan;
  return config.native === vlan || config.allowed === 'all' || config.allowed.includes(vlan);
}

/** The tag a frame of `vlan` carries when it leaves a switch by `port`. */
function switchEgressTag(sw: Switch, port: Port, vlan: number): number | null {
  const config = sw.portConfig(port.name);
  if (config === undefined || config.mode === 'access') return null;
  return config.native === vlan ? null : vlan;
}

/** The tag a BD frame carries when it leaves by `vap` (QinQ is not followed: null). */
function vapEgressTag(vap: Vap): number | null | undefined {
  const e = vap.encap;
  if (e.kind === 'untagged') return null;
  if (e.kind === 'dot1q') return e.vid;
  if (e.kind === 'vlan-binding') return e.tagged ? e.vid : null;
  return undefined;
}

/** NVEs by VTEP address, for following a remote entry or a flood list. */
export function nvesByVtep(devices: Iterable<Device>): Map<Ipv4, Nve> {
  const map = new Map<Ipv4, Nve>();
  for (const d of devices) if (d instanceof Nve) map.set(d.vtep, d);
  return map;
}

/** A step of a walk: the place, the port it was entered by (a flood never goes back out of it), and whether it came from the fabric. */
interface Step {
  readonly place: Place;
  readonly inPort: Port | null;
  readonly fromFabric: boolean;
}

/**
 * The places a frame at `step` may go next, flooding as the devices do: out of every port of its
 * VLAN (a switch) or every port (a hub) but the one it came in by, to every VAP of its BD but that
 * one, and, unless it came from the fabric (split horizon), to the same VNI on the NVEs of the BD's
 * flood list.
 */
function neighbours(step: Step, lookup: DeviceLookup, nves: Map<Ipv4, Nve>): Step[] {
  const out: Step[] = [];
  const place = step.place;
  const through = (port: Port, tag: number | null) => {
    if (port === step.inPort) return;
    const peer = port.peer;
    if (peer === null) return;
    const next = enter(peer, tag, lookup);
    if (next !== null) out.push({ place: next, inPort: peer, fromFabric: false });
  };
  switch (place.kind) {
    case 'switch': {
      const sw = place.device;
      for (const port of sw.ports)
        if (switchCarries(sw, port, place.vlan)) through(port, switchEgressTag(sw, port, place.vlan));
      break;
    }
    case 'hub':
      for (const port of place.device.ports) through(port, place.tag);
      break;
    case 'bd':
      for (const vap of place.bd.vaps) {
        const tag = vapEgressTag(vap);
        if (tag !== undefined) through(vap.port, tag);
      }
      if (step.fromFabric) break;
      for (const vtep of place.bd.floodList) {
        const nve = nves.get(vtep);
        const bd = nve?.bridgeDomainByVni(place.bd.vni);
        if (nve !== undefined && bd !== undefined)
          out.push({ place: { kind: 'bd', device: nve, bd }, inPort: null, fromFabric: true });
      }
      break;
    default:
      break;
  }
  return out;
}

/** Every place of the segment that `start` is in (breadth first, each place once): where a broadcast from `start` goes. */
export function walkSegment(start: Place, lookup: DeviceLookup, nves: Map<Ipv4, Nve>): Place[] {
  const seen = new Set<string>([placeKey(start)]);
  const steps: Step[] = [{ place: start, inPort: null, fromFabric: false }];
  for (let i = 0; i < steps.length; i++) {
    for (const next of neighbours(steps[i]!, lookup, nves)) {
      const key = placeKey(next.place);
      if (seen.has(key)) continue;
      seen.add(key);
      steps.push(next);
    }
  }
  return steps.map((s) => s.place);
}

/** The place a NIC's frames enter: the other end of its cable, with the NIC's VLAN tag. */
export function placeOfNic(nic: IpInterface, lookup: DeviceLookup): Place | null {
  const peer = nic.port.peer;
  return peer === null ? null : enter(peer, nic.vlan, lookup);
}

/** What a MAC table entry for the VM, followed hop by hop from `place`, leads to. */
export type EntryVerdict =
  | { readonly kind: 'none' }
  | { readonly kind: 'vm'; readonly hops: number }
  | { readonly kind: 'stale'; readonly entry: string; readonly why: string };

const MAX_HOPS = 64;
/** Places a flood may visit while one entry is followed (a bound on the work of one check). */
const MAX_FLOOD_PLACES = 4096;

/**
 * Follows `place`'s table entry for `mac` (switch MAC table, or the BD's table: a local VAP or a
 * remote VTEP) and then each next device's, until it reaches `vmPort` (the VM's NIC), or an
 * entry leads nowhere (an unplugged port, another station, a loop). Where a device along the way
 * has no entry, the frame is flooded from there as the device would (not back where it came from;
 * not back into the fabric), and each copy goes on by the next device's own table: the entry leads
 * to the VM if one copy gets there.
 */
export function followEntry(
  place: Place,
  mac: Mac,
  vmPort: Port,
  now: Nanos,
  lookup: DeviceLookup,
  nves: Map<Ipv4, Nve>,
  /** Set when a frame enters `place` from a station by this port: with no entry there, it is flooded (and must find the VM). */
  from: Port | null = null,
): EntryVerdict {
  const seen = new Set<string>();
  const budget = { places: MAX_FLOOD_PLACES };
  const v = follow(place, from, false, from !== null, mac, vmPort, now, lookup, nves, seen, budget);
  return v;
}

function follow(
  place: Place,
  from: Port | null,
  fromFabric: boolean,
  /** A frame is already on its way (a flood's copy, or a station's frame): no entry means flood, not "no entry". */
  underway: boolean,
  mac: Mac,
  vmPort: Port,
  now: Nanos,
  lookup: DeviceLookup,
  nves: Map<Ipv4, Nve>,
  seen: Set<string>,
  budget: { places: number },
): EntryVerdict {
  let here: Place = place;
  let inPort: Port | null = from;
  let fabric = fromFabric;
  let first: string | null = null;
  // No entry here: flood, and follow each copy by the next device's table.
  const flood = (hops: number): EntryVerdict => {
    for (const next of neighbours({ place: here, inPort, fromFabric: fabric }, lookup, nves)) {
      if (next.place.kind === 'station') {
        if (next.place.iface.port === vmPort) return { kind: 'vm', hops: hops + 1 };
        continue;
      }
      const key = placeKey(next.place);
      if (seen.has(key) || --budget.places < 0) continue;
      seen.add(key);
      const v = follow(
        next.place,
        next.inPort,
        next.fromFabric,
        true,
        mac,
        vmPort,
        now,
        lookup,
        nves,
        seen,
        budget,
      );
      if (v.kind === 'vm') return { kind: 'vm', hops: hops + 1 + v.hops };
    }
    return {
      kind: 'stale',
      entry: first ?? describePlace(place),
      why: `${describePlace(here)} has no entry and its flood does not reach the VM`,
    };
  };
  for (let hops = 0; hops < MAX_HOPS; hops++) {
    let out: Port | null = null;
    let tag: number | null = null;
    let entry = '';
    if (here.kind === 'switch') {
      const portName = here.device.macTable.lookup(here.vlan, mac, now);
      if (portName === undefined) return hops === 0 && !underway ? { kind: 'none' } : flood(hops);
      out = here.device.port(portName) ?? null;
      tag = out === null ? null : switchEgressTag(here.device, out, here.vlan);
      entry = `${describePlace(here)}: port ${portName}`;
    } else if (here.kind === 'bd') {
      const e = here.bd.lookup(mac, now);
      if (e === undefined) return hops === 0 && !underway ? { kind: 'none' } : flood(hops);
      if (e.vap === null) {
        entry = `${describePlace(here)}: VTEP ${formatIpv4(e.vtep)}`;
        first ??= entry;
        const nve = nves.get(e.vtep);
        const bd = nve?.bridgeDomainByVni(here.bd.vni);
        if (nve === undefined || bd === undefined)
          return {
            kind: 'stale',
            entry: first,
            why: `no NVE with VTEP ${formatIpv4(e.vtep)} has VNI ${here.bd.vni}`,
          };
        if (fabric)
          return {
            kind: 'stale',
            entry: first,
            why: `${describePlace(here)} does not send a frame from the fabric back into it (split horizon)`,
          };
        here = { kind: 'bd', device: nve, bd };
        inPort = null;
        fabric = true;
        continue;
      }
      out = e.vap.port;
      const t = vapEgressTag(e.vap);
      tag = t === undefined ? null : t;
      entry = `${describePlace(here)}: VAP ${e.vap.name}`;
    } else if (here.kind === 'hub') {
      // A hub repeats to every port but the one the frame came in by.
      return flood(hops);
    } else {
      return {
        kind: 'stale',
        entry: first ?? describePlace(here),
        why: `leads to ${describePlace(here)}, not the VM`,
      };
    }
    first ??= entry;
    if (out === null) return { kind: 'stale', entry: first, why: 'the port no longer exists' };
    const peer = out.peer;
    if (peer === vmPort) return { kind: 'vm', hops: hops + 1 };
    if (peer === null)
      return {
        kind: 'stale',
        entry: first,
        why: `port ${out.owner}:${out.name} has no cable (the VM's old place)`,
      };
    const next = enter(peer, tag, lookup);
    if (next === null)
      return { kind: 'stale', entry: first, why: `${peer.owner}:${peer.name} drops the frame` };
    here = next;
    inPort = peer;
    fabric = false;
  }
  return {
    kind: 'stale',
    entry: first ?? describePlace(place),
    why: `no end after ${MAX_HOPS} hops (a loop)`,
  };
}

/**
 * A station's ARP entry for the VM (its IP -> the VM's MAC), followed: does a frame it sends to that
 * MAC reach the VM? From the station's cable on, each table decides (or floods where it has no
 * entry). `none` when the station has no such entry.
 */
export function followArpEntry(
  station: Extract<Place, { kind: 'station' }>,
  vmIp: Ipv4,
  mac: Mac,
  vmPort: Port,
  now: Nanos,
  lookup: DeviceLookup,
  nves: Map<Ipv4, Nve>,
): EntryVerdict {
  const iface = station.iface;
  if (iface.arp.lookup(vmIp, now) !== mac) return { kind: 'none' };
  const entry = `${describePlace(station)} ARP ${formatIpv4(vmIp)} -> ${formatMac(mac)}`;
  const peer = iface.port.peer;
  if (peer === vmPort) return { kind: 'vm', hops: 1 };
  if (peer === null) return { kind: 'stale', entry, why: `${describePlace(station)} has no cable` };
  const next = enter(peer, iface.vlan, lookup);
  if (next === null) return { kind: 'stale', entry, why: `${peer.owner}:${peer.name} drops the frame` };
  const v = followEntry(next, mac, vmPort, now, lookup, nves, peer);
  return v.kind === 'stale'
    ? { kind: 'stale', entry, why: v.why }
    : v.kind === 'none'
      ? { kind: 'vm', hops: 1 }
      : v;
}
