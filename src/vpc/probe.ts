/**
 * Probes an instance sends through the running fabric, as a tenant's tools would: `pingProbe` is
 * `ping -c COUNT -s SIZE -i INTERVAL` from the source instance's host (real ICMP echo requests
 * through its VAP, the overlay and the underlay), and `traceProbe` is one packet with every device's
 * decision traced (`confirmReach`'s packet: for tcp a SYN, for udp a datagram echoed back, for icmp
 * an echo request).
 *
 * Guarantees:
 * - The source must be an instance on the data plane; the destination an instance of the source's
 *   tenant (running) or an address (`resolveProbeEnds`: tenants share addresses, so an address
 *   never reaches another tenant's instance). A probe that cannot start says why (`error`).
 * - Each echo request ends in exactly one result: `reply` (RTT in simulated microseconds, TTL),
 *   `unreachable` or `time-exceeded` (an ICMP error, with the address that sent it), `timeout`, or
 *   `not-sent` (the source had no route). A request that got no reply carries the first drop a
 *   device recorded while it was the latest request in flight (`dropped`: node, and why), from the
 *   trace that is on during the run.
 * - The summary is ping's: transmitted, received, errors, loss % (one decimal), rtt
 *   min/avg/max/mdev in microseconds (null with no reply).
 * - The simulation runs only as long as the probes need: until the last reply or timeout.
 */
import type { PingResult } from '../devices/ip/ping.js';
import type { TraceEvent } from '../devices/trace.js';
import type { Nanos } from '../sim/index.js';
import { formatIpv4 } from '../wire/index.js';
import type { VpcDataPlane } from './apply.js';
import type { Intent } from './intent.js';
import type { Plan } from './plan.js';
import { type ProbeSteps, runProbe, traced } from './probe-steps.js';
import { type ConfirmResult, confirmReachSteps, resolveProbeEnds } from './reach-confirm.js';
import { TenantView, ViewLog } from './tenant-view.js';

export interface PingQuery {
  /** The source instance's id. */
  readonly from: string;
  /** An instance id or an IPv4 address. */
  readonly to: string;
  readonly count?: number;
  /** ICMP echo data bytes (ping's -s; 56 by default, 84 bytes of IP). */
  readonly size?: number;
  /** Between requests, ms of simulated time (default 1000). */
  readonly intervalMs?: number;
  /** How long each request waits for its reply, ms of simulated time (default 1000). */
  readonly timeoutMs?: number;
}

export type ProbeStatus = 'reply' | 'unreachable' | 'time-exceeded' | 'timeout' | 'not-sent';

export interface ProbeResult {
  readonly seq: number;
  readonly status: ProbeStatus;
  /** Who answered: the destination for a reply, the router that sent an ICMP error. */
  readonly from: string | null;
  /** Round trip in simulated microseconds (replies only). */
  readonly rttUs: number | null;
  /** The reply's TTL as it arrived. */
  readonly ttl: number | null;
  /** The ICMP error in words (`Packet filtered`, `Destination Host Unreachable`), or why not sent. */
  readonly message: string | null;
  /** For a request without reply: the first drop on the way, `node: reason`. */
  readonly dropped: string | null;
}

export interface PingSummary {
  readonly transmitted: number;
  readonly received: number;
  readonly errors: number;
  readonly lossPercent: number;
  readonly rttMinUs: number | null;
  readonly rttAvgUs: number | null;
  readonly rttMaxUs: number | null;
  readonly rttMdevUs: number | null;
}

export interface PingAnswer {
  readonly from: string;
  /** As asked: an instance id or an address. */
  readonly to: string;
  /** The address pinged. */
  readonly address: string;
  /** Echo data bytes per request. */
  readonly size: number;
  readonly probes: readonly ProbeResult[];
  readonly summary: PingSummary;
}

export const PING_DEFAULTS = { count: 4, size: 56, intervalMs: 1000, timeoutMs: 1000 } as const;

/** A probe that cannot be sent at all (stopped source, unknown destination). */
export class ProbeError extends Error {
  constructor(
    message: string,
    /** The end at fault. */
    readonly field: 'from' | 'to',
  ) {
    super(message);
    this.name = 'ProbeError';
  }
}

const us = (ns: number | null | undefined): number | null =>
  ns === null || ns === undefined ? null : Math.round(ns) / 1000;

function statusOf(r: PingResult): ProbeStatus {
  if (r.status === 'reply' || r.status === 'timeout' || r.status === 'not-sent') return r.status;
  return /time to live exceeded/i.test(r.message ?? '') ? 'time-exceeded' : 'unreachable';
}

/** `pingProbe` as steps (see probe-steps.ts); `ProbeError` when it cannot start. */
export function* pingProbeSteps(
  dp: VpcDataPlane,
  intent: Intent,
  plan: Plan,
  query: PingQuery,
): ProbeSteps<PingAnswer> {
  const ends = resolveProbeEnds(dp, intent, plan, query.from, query.to);
  if ('error' in ends)
    throw new ProbeError(ends.error, dp.instance(query.from) === undefined ? 'from' : 'to');
  const count = query.count ?? PING_DEFAULTS.count;
  const size = query.size ?? PING_DEFAULTS.size;
  const interval: Nanos = (query.intervalMs ?? PING_DEFAULTS.intervalMs) * 1e6;
  const timeout: Nanos = (query.timeoutMs ?? PING_DEFAULTS.timeoutMs) * 1e6;
  const net = dp.net;
  const start = net.scheduler.now();
  // When each request left: a drop belongs to the latest request sent before it.
  const sentAt: Nanos[] = [];
  // Only drops are kept, and only those the intent's owner may see (`TenantView`).
  const log = new ViewLog(new TenantView(dp, intent, plan), (e) => e.kind === 'drop');
  const run = yield* traced(
    net,
    log,
    (function* () {
      const ping = ends.src.ping(ends.dstIp, { count, size, interval, timeout });
      for (let seq = 1; seq <= count; seq++) sentAt.push(start + (seq - 1) * interval);
      yield { until: start + (count - 1) * interval + timeout + 1e6, stopWhen: () => ping.done };
      return ping;
    })(),
  );
  const events = log.visible();
  const firstDrop = new Map<number, TraceEvent>();
  for (const e of events) {
    if (e.kind !== 'drop') continue;
    let seq = 0;
    while (seq < count && sentAt[seq]! <= e.time) seq++;
    if (seq > 0 && !firstDrop.has(seq)) firstDrop.set(seq, e);
  }
  const probes = run.results.map((r): ProbeResult => {
    const drop = firstDrop.get(r.seq);
    return {
      seq: r.seq,
      status: statusOf(r),
      from: r.from ?? null,
      rttUs: us(r.rtt),
      ttl: r.ttl ?? null,
      message: r.message ?? null,
      dropped: r.status === 'reply' || drop === undefined ? null : `${drop.node}: ${drop.message}`,
    };
  });
  const stats = run.statistics();
  return {
    from: query.from,
    to: query.to,
    address: formatIpv4(ends.dstIp),
    size,
    probes,
    summary: {
      transmitted: stats.transmitted,
      received: stats.received,
      errors: stats.errors,
      lossPercent: stats.lossPercent,
      rttMinUs: us(stats.rttMin),
      rttAvgUs: us(stats.rttAvg),
      rttMaxUs: us(stats.rttMax),
      rttMdevUs: us(stats.rttMdev),
    },
  };
}

/** `ping -c COUNT -s SIZE -i INTERVAL` from an instance (`ProbeError` when it cannot start). */
export function pingProbe(dp: VpcDataPlane, intent: Intent, plan: Plan, query: PingQuery): PingAnswer {
  return runProbe(dp.net, pingProbeSteps(dp, intent, plan, query));
}

export interface TraceQuery {
  readonly from: string;
  readonly to: string;
  readonly protocol: 'tcp' | 'udp' | 'icmp';
  readonly port?: number;
}

export interface TraceHop {
  /** Simulated microseconds since the packet was sent. */
  readonly timeUs: number;
  readonly node: string;
  readonly port: string | null;
  /** `forward`, `route`, `encap`, `decap`, `filter`, `drop`, `deliver`, ... */
  readonly kind: string;
  readonly message: string;
}

export interface TraceAnswer {
  readonly from: string;
  readonly to: string;
  readonly protocol: 'tcp' | 'udp' | 'icmp';
  readonly port: number | null;
  readonly delivered: boolean;
  readonly outcome: string;
  readonly drops: readonly string[];
  /** One line per decision: `time us  node  port  message`. */
  readonly trace: readonly string[];
  readonly hops: readonly TraceHop[];
}

/** One packet and its answer with tracing on: `confirmReach`'s, every event as a hop (as steps). */
export function* traceProbeSteps(
  dp: VpcDataPlane,
  intent: Intent,
  plan: Plan,
  query: TraceQuery,
): ProbeSteps<TraceAnswer> {
  const ends = resolveProbeEnds(dp, intent, plan, query.from, query.to);
  if ('error' in ends)
    throw new ProbeError(ends.error, dp.instance(query.from) === undefined ? 'from' : 'to');
  const start = dp.net.scheduler.now();
  const c: ConfirmResult = yield* confirmReachSteps(dp, intent, plan, {
    src: query.from,
    dst: query.to,
    protocol: query.protocol,
    port: query.port,
  });
  return {
    from: query.from,
    to: query.to,
    protocol: query.protocol,
    port: query.port ?? null,
    delivered: c.delivered,
    outcome: c.outcome,
    drops: c.drops,
    trace: c.trace,
    hops: c.events.map((e) => ({
      timeUs: Math.round(e.time - start) / 1000,
      node: e.node,
      port: e.port ?? null,
      kind: e.kind,
      message: e.message,
    })),
  };
}

/** One packet and its answer with tracing on (`ProbeError` when it cannot start). */
export function traceProbe(dp: VpcDataPlane, intent: Intent, plan: Plan, query: TraceQuery): TraceAnswer {
  return runProbe(dp.net, traceProbeSteps(dp, intent, plan, query));
}
