/**
 * `vnet trace`: sends one packet through a lab's network and returns every decision every device
 * took about it, in order: ARP lookups and requests, switch learning and flooding, router
 * lookups (with the number of matching prefixes), TTL, ACL verdicts, drops and why, delivery.
 * The lab's nodes start as `vnet run` starts them (announcements, then a settling time); its
 * script is not run.
 */
import { Host } from '../../devices/ip/host.js';
import type { TraceEvent, TraceLog } from '../../devices/trace.js';
import type { Nanos } from '../../sim/index.js';
import { ip } from '../../wire/index.js';
import { buildLab } from './build.js';
import type { LabFile } from './schema.js';

export interface TraceRequest {
  readonly from: string;
  readonly to: string;
  readonly proto: 'icmp' | 'udp';
  /** UDP destination port (default 7, echo). */
  readonly port?: number;
}

export interface TraceResult {
  readonly from: string;
  readonly to: string;
  readonly proto: 'icmp' | 'udp';
  /** When the packet was sent (after start-up). */
  readonly start: Nanos;
  readonly events: TraceEvent[];
  /** What the sender saw: a reply and its delay, an ICMP error, or nothing. */
  readonly outcome: string;
  readonly delivered: boolean;
  /** Set when the event budget stopped the run. */
  readonly stopped: string | null;
}

const SETTLE: Nanos = 10_000_000;
const TIMEOUT: Nanos = 2_000_000_000;

/** A trace follows one packet: far fewer events than a run, each kept with its message. */
export const TRACE_EVENT_BUDGET = 200_000;

export function traceLab(
  lab: LabFile,
  request: TraceRequest,
  seed?: number,
  budget = TRACE_EVENT_BUDGET,
): TraceResult {
  const net = buildLab(lab, { seed, trace: true });
  let left = budget;
  let stopped: string | null = null;
  const run = (options: { until: number; stopWhen?: () => boolean }) => {
    if (stopped) return;
    const r = net.run({ ...options, budget: left });
    left -= r.events;
    if (r.reason === 'budget')
      stopped = `event budget of ${budget.toLocaleString('en-US')} events spent at t=${(net.scheduler.now() / 1e9).toFixed(3)} s: the network did not go quiet (a switching loop?)`;
  };
  const log = net.tracer as TraceLog;
  const sender = net.nodes.get(request.from);
  if (!(sender instanceof Host)) throw new Error(`${request.from} is not a host of this lab`);
  net.start();
  run({ until: SETTLE });
  log.events.length = 0;
  const start = net.scheduler.now();
  const dst = ip(request.to);
  let outcome = 'no answer';
  let delivered = false;
  if (request.proto === 'icmp') {
    const ping = sender.ping(dst, { count: 1, timeout: TIMEOUT });
    run({ until: start + TIMEOUT + 1, stopWhen: () => ping.done });
    const r = ping.results[0];
    if (r?.status === 'reply') {
      delivered = true;
      outcome = `echo reply from ${r.from} after ${((r.rtt ?? 0) / 1000).toFixed(3)} us, ttl ${r.ttl}`;
    } else if (r?.status === 'error') outcome = `${r.message} (from ${r.from})`;
    else if (r?.status === 'not-sent') outcome = `not sent: ${r.message}`;
    else outcome = `no answer within ${TIMEOUT / 1e9} s`;
  } else {
    const port = request.port ?? 7;
    const before = sender.udpDelivered;
    const srcPort = 40000;
    sender.bindUdp(srcPort, () => {});
    const sent = sender.sendUdp(srcPort, dst, port, new TextEncoder().encode('vnet trace'));
    run({ until: start + TIMEOUT + 1, stopWhen: () => sender.udpDelivered > before });
    delivered = sender.udpDelivered > before;
    outcome = !sent
      ? 'not sent: no route'
      : delivered
        ? `echo from ${request.to}:${port}`
        : 'no echo (see the trace for where it stopped)';
  }
  run({ until: net.scheduler.now() + 1_000_000 });
  if (stopped) outcome = `${outcome}; stopped: ${stopped}`;
  return {
    from: request.from,
    to: request.to,
    proto: request.proto,
    start,
    events: log.events,
    outcome,
    delivered,
    stopped,
  };
}

export function renderTrace(t: TraceResult): string[] {
  const lines = [`trace ${t.proto} ${t.from} -> ${t.to}`];
  let nodeWidth = 4;
  let portWidth = 4;
  for (const e of t.events) {
    nodeWidth = Math.max(nodeWidth, e.node.length);
    portWidth = Math.max(portWidth, (e.port ?? '').length);
  }
  for (const e of t.events) {
    const us = ((e.time - t.start) / 1000).toFixed(3).padStart(10);
    lines.push(`${us} us  ${e.node.padEnd(nodeWidth)}  ${(e.port ?? '').padEnd(portWidth)}  ${e.message}`);
  }
  lines.push(`result: ${t.outcome}`);
  return lines;
}
