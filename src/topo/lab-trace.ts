/**
 * `vnet trace`: sends one packet through a lab's network and returns every decision every device
 * took about it, in order: ARP lookups and requests, switch learning and flooding, router
 * lookups (with the number of matching prefixes), TTL, ACL verdicts, drops and why, delivery.
 * The lab's nodes start as `vnet run` starts them (announcements, then a settling time); its
 * script is not run.
 */
import { Host } from '../devices/host.js';
import type { TraceEvent, TraceLog } from '../devices/trace.js';
import type { Nanos } from '../sim/index.js';
import { ip } from '../wire/index.js';
import { buildLab } from './lab-build.js';
import type { LabFile } from './lab-schema.js';

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
}

const SETTLE: Nanos = 10_000_000;
const TIMEOUT: Nanos = 2_000_000_000;

export function traceLab(lab: LabFile, request: TraceRequest, seed?: number): TraceResult {
  const net = buildLab(lab, { seed, trace: true });
  const log = net.tracer as TraceLog;
  const sender = net.nodes.get(request.from);
  if (!(sender instanceof Host)) throw new Error(`${request.from} is not a host of this lab`);
  net.start();
  net.run({ until: SETTLE });
  log.events.length = 0;
  const start = net.scheduler.now();
  const dst = ip(request.to);
  let outcome = 'no answer';
  let delivered = false;
  if (request.proto === 'icmp') {
    const run = sender.ping(dst, { count: 1, timeout: TIMEOUT });
    net.run({ until: start + TIMEOUT + 1, stopWhen: () => run.done });
    const r = run.results[0];
    if (r?.status === 'reply') {
      delivered = true;
      outcome = `echo reply from ${r.from} after ${((r.rtt ?? 0) / 1000).toFixed(3)} us, ttl ${r.ttl}`;
    } else if (r?.status === 'error') outcome = `${r.message} (from ${r.from})`;
    else if (r?.status === 'not-sent') outcome = `not sent: ${r.message}`;
    else outcome = `no answer within ${TIMEOUT / 1e9} s`;
  } else {
    const port = request.port ?? 7;
    const before = sender.udpLog.length;
    const srcPort = 40000;
    sender.bindUdp(srcPort, () => {});
    const sent = sender.sendUdp(srcPort, dst, port, new TextEncoder().encode('vnet trace'));
    net.run({ until: start + TIMEOUT + 1, stopWhen: () => sender.udpLog.length > before });
    delivered = sender.udpLog.length > before;
    outcome = !sent
      ? 'not sent: no route'
      : delivered
        ? `echo from ${request.to}:${port}`
        : 'no echo (see the trace for where it stopped)';
  }
  net.run({ until: net.scheduler.now() + 1_000_000 });
  return {
    from: request.from,
    to: request.to,
    proto: request.proto,
    start,
    events: log.events,
    outcome,
    delivered,
  };
}

export function renderTrace(t: TraceResult): string[] {
  const lines = [`trace ${t.proto} ${t.from} -> ${t.to}`];
  const nodeWidth = Math.max(4, ...t.events.map((e) => e.node.length));
  const portWidth = Math.max(4, ...t.events.map((e) => (e.port ?? '').length));
  for (const e of t.events) {
    const us = ((e.time - t.start) / 1000).toFixed(3).padStart(10);
    lines.push(`${us} us  ${e.node.padEnd(nodeWidth)}  ${(e.port ?? '').padEnd(portWidth)}  ${e.message}`);
  }
  lines.push(`result: ${t.outcome}`);
  return lines;
}
