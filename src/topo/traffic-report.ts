/**
 * What a network's traffic was, for a run stopped by a budget or still busy when its script ended:
 * the frames every port sent (its counters), the nodes that sent most, the protocols of a sample
 * of the frames delivered next, and whether a frame went round a loop. Loop evidence is the same
 * frame, byte for byte, arriving again and again at the same port from a switch or hub (so not a
 * host answering each copy it got) within the sample (a few milliseconds of
 * virtual time at most): a broadcast circling switches without spanning tree. A flood that is only
 * large (many hosts, many ports) shows no such frame, and is not called a loop.
 */
import type { Device } from '../devices/device.js';
import { Host } from '../devices/ip/host.js';
import { Hub } from '../devices/l2/hub.js';
import { Switch } from '../devices/l2/switch.js';
import { Router } from '../devices/router/router.js';
import type { Port } from '../link/index.js';
import { Nve } from '../overlay/index.js';
import type { Network } from './network.js';
import { formatDuration } from './units.js';

/** The sample: at most this many frames, events and nanoseconds of virtual time. */
export const SAMPLE_FRAMES = 10_000;
const SAMPLE_EVENTS = 50_000;
const SAMPLE_TIME = 10_000_000;
/** A frame arriving at one port from a switch or hub this often within the sample went round a loop. */
export const LOOP_REPEATS = 3;
const TOP_TALKERS = 5;

export interface Talker {
  readonly node: string;
  readonly kind: string;
  readonly frames: number;
}

export interface TrafficReport {
  /** Frames sent by every port since the network was built. */
  readonly frames: number;
  /** Of them, those switches and hubs sent (forwarded or flooded). */
  readonly forwarded: number;
  /** The nodes that sent most frames, most first. */
  readonly topTalkers: Talker[];
  /**
   * Frames delivered after the stop (a sample), their virtual time span, and their protocols (most
   * first); null when no sample was taken (the heap was nearly full).
   */
  readonly sample: {
    readonly frames: number;
    readonly span: number;
    readonly protocols: Record<string, number>;
  } | null;
  /** A frame that arrived at the same port from a switch or hub again and again in the sample, or null. */
  readonly loop: { readonly port: string; readonly repeats: number; readonly frame: string } | null;
}

function kindOf(d: Device): string {
  if (d instanceof Nve) return 'nve';
  if (d instanceof Router) return 'router';
  if (d instanceof Host) return 'host';
  if (d instanceof Switch) return 'switch';
  if (d instanceof Hub) return 'hub';
  return 'device';
}

const hex = (b: number) => b.toString(16).padStart(2, '0');

function macAt(frame: Uint8Array, at: number): string {
  return Array.from(frame.subarray(at, at + 6), hex).join(':');
}

/** The protocol a frame carries, from its headers (VLAN tags skipped; overlays by their outer header). */
export function frameProtocol(frame: Uint8Array): string {
  if (frame.length < 14) return 'runt';
  if (frame[0] === 0x01 && frame[1] === 0x80 && frame[2] === 0xc2 && frame[3] === 0 && frame[4] === 0)
    return 'STP';
  let at = 12;
  let type = (frame[at]! << 8) | frame[at + 1]!;
  while ((type === 0x8100 || type === 0x88a8) && frame.length >= at + 6) {
    at += 4;
    type = (frame[at]! << 8) | frame[at + 1]!;
  }
  if (type === 0x0806) return 'ARP';
  if (type === 0x8035) return 'RARP';
  if (type === 0x86dd) return 'IPv6';
  if (type < 0x0600) return 'LLC';
  if (type !== 0x0800) return `ethertype 0x${type.toString(16).padStart(4, '0')}`;
  const ip = at + 2;
  const proto = frame[ip + 9];
  if (proto === 1) return 'ICMP';
  if (proto === 6) return 'TCP';
  if (proto === 47) return 'NVGRE';
  if (proto !== 17) return `IP protocol ${proto}`;
  const udp = ip + (frame[ip]! & 0x0f) * 4;
  const dport = (frame[udp + 2]! << 8) | frame[udp + 3]!;
  if (dport === 4789) return 'VXLAN';
  if (dport === 6081) return 'GENEVE';
  if (dport === 67 || dport === 68) return 'DHCP';
  return 'UDP';
}

/** FNV-1a over the frame's bytes. */
function hashFrame(frame: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < frame.length; i++) h = Math.imul(h ^ frame[i]!, 0x01000193);
  return h >>> 0;
}

/** Frames sent by each node so far (its ports' counters), and the total. */
function talkers(net: Network): { all: Talker[]; frames: number; forwarded: number } {
  const all: Talker[] = [];
  let frames = 0;
  let forwarded = 0;
  for (const d of net.nodes.values()) {
    let sent = 0;
    for (const p of d.ports) sent += p.counters.txFrames;
    if (sent === 0) continue;
    const kind = kindOf(d);
    frames += sent;
    if (kind === 'switch' || kind === 'hub') forwarded += sent;
    all.push({ node: d.name, kind, frames: sent });
  }
  all.sort((a, b) => b.frames - a.frames || (a.node < b.node ? -1 : 1));
  return { all, frames, forwarded };
}

/**
 * Reports the traffic: the counters as they stand, then, with `sample`, a sample of what is
 * delivered next (the network runs on for up to SAMPLE_EVENTS events or SAMPLE_TIME of virtual
 * time, outside any budget).
 */
export function reportTraffic(net: Network, sample = true): TrafficReport {
  const { all, frames, forwarded } = talkers(net);
  if (!sample) return { frames, forwarded, topTalkers: all.slice(0, TOP_TALKERS), sample: null, loop: null };
  const protocols: Record<string, number> = {};
  const seen = new Map<string, { port: Port; repeats: number; frame: Uint8Array }>();
  let sampled = 0;
  const untaps: (() => void)[] = [];
  const bridged = (port: Port) => {
    const peer = port.peer === null ? undefined : net.nodes.get(port.peer.owner);
    return peer instanceof Switch || peer instanceof Hub;
  };
  for (const d of net.nodes.values())
    for (const port of d.ports) {
      const fromBridge = bridged(port);
      untaps.push(
        port.tap((frame, direction, p) => {
          if (direction !== 'rx' || sampled >= SAMPLE_FRAMES) return;
          sampled++;
          const proto = frameProtocol(frame);
          protocols[proto] = (protocols[proto] ?? 0) + 1;
          if (!fromBridge) return;
          const key = `${p.id} ${frame.length} ${hashFrame(frame)}`;
          const s = seen.get(key);
          if (s === undefined) seen.set(key, { port: p, repeats: 1, frame });
          else s.repeats++;
        }),
      );
    }
  const start = net.scheduler.now();
  try {
    net.run({ until: start + SAMPLE_TIME, budget: SAMPLE_EVENTS, stopWhen: () => sampled >= SAMPLE_FRAMES });
  } finally {
    for (const untap of untaps) untap();
  }
  let loop: TrafficReport['loop'] = null;
  for (const s of seen.values())
    if (s.repeats >= LOOP_REPEATS && (loop === null || s.repeats > loop.repeats))
      loop = {
        port: s.port.id,
        repeats: s.repeats,
        frame: `${frameProtocol(s.frame)} frame from ${macAt(s.frame, 6)} to ${macAt(s.frame, 0)}`,
      };
  const sorted = Object.entries(protocols).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    frames,
    forwarded,
    topTalkers: all.slice(0, TOP_TALKERS),
    sample: { frames: sampled, span: net.scheduler.now() - start, protocols: Object.fromEntries(sorted) },
    loop,
  };
}

const n = (v: number) => v.toLocaleString('en-US');

/** The report in a few sentences, for a STOPPED or WARNING line. */
export function describeTraffic(r: TrafficReport): string {
  const parts = [
    `${n(r.frames)} frames sent (${n(r.forwarded)} forwarded by switches and hubs, ${n(r.frames - r.forwarded)} by hosts, routers and NVEs)`,
  ];
  if (r.topTalkers.length > 0)
    parts.push(`top talkers: ${r.topTalkers.map((t) => `${t.node} (${t.kind}) ${n(t.frames)}`).join(', ')}`);
  if (r.sample === null) {
    parts.push('no sample of the traffic was taken (the heap is nearly full)');
    return parts.join('; ');
  }
  const protocols = Object.entries(r.sample.protocols);
  parts.push(
    protocols.length === 0
      ? 'no frame was delivered after it'
      : `protocols of the next ${n(r.sample.frames)} frames delivered (${formatDuration(r.sample.span)}): ${protocols.map(([p, c]) => `${p} ${n(c)}`).join(', ')}`,
  );
  parts.push(
    r.loop !== null
      ? `a switching loop: the same ${r.loop.frame} arrived at ${r.loop.port} ${n(r.loop.repeats)} times: frames go round without end (turn spanning tree on, stp: true, or take a link out of the loop)`
      : `no frame went round a loop (none arrived at the same port ${LOOP_REPEATS} times): this is the traffic the lab makes`,
  );
  return parts.join('; ');
}
