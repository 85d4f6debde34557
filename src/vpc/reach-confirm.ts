/**
 * Reachability confirmed on the data plane: `confirmReach` sends one real packet from the source
 * instance to the destination through the simulated fabric the plan was applied to, with tracing
 * on, and says whether it made the round trip, with every device's decision on the way.
 *
 * - tcp: a SYN from port `EPHEMERAL_PORT` (49152, the client port `analyzeReach` checks replies
 *   against) to the port; delivered when the SYN-ACK comes back (the connection is established).
 *   A listener is opened on the destination for the check (and both ends are aborted after).
 * - udp: a datagram from port 49152 to the port; delivered when the destination's echo comes
 *   back (an echo is bound on the destination's port for the check).
 * - icmp: an echo request; delivered when the echo reply comes back.
 *
 * The round trip is what `analyzeReach` judges too (a stateless ACL must let the reply through),
 * so `reach` runs both and says whether they agree. A destination given as an address is reached
 * when some host of the network has it (the `web` host behind the internet router), or by the
 * instance an elastic IP of the plan is bound to; instance ids are looked up on the data plane.
 */
import type { Host } from '../devices/ip/host.js';
import type { TraceEvent } from '../devices/trace.js';
import type { Nanos, RunOptions } from '../sim/index.js';
import { formatIpv4, type Ipv4, parseIpv4Address } from '../wire/index.js';
import type { VpcDataPlane } from './apply.js';
import type { Intent } from './intent.js';
import { entriesOf, type Plan } from './plan.js';
import { type ProbeSteps, runProbe, traced } from './probe-steps.js';
import { analyzeReach, EPHEMERAL_PORT, OUTSIDE_STEP, type ReachQuery, type ReachResult } from './reach.js';
import { TenantView, ViewLog } from './tenant-view.js';

export interface ConfirmResult {
  readonly delivered: boolean;
  /** What the sender saw. */
  readonly outcome: string;
  /** The trace, one line per decision: `time us  node  port  message`. */
  readonly trace: readonly string[];
  readonly events: readonly TraceEvent[];
  /** The drops on the way, `node: reason`. */
  readonly drops: readonly string[];
}

export interface ReachAnswer {
  readonly analysis: ReachResult;
  readonly confirmation: ConfirmResult;
  /**
   * True when the static analysis and the data plane agree (for a destination outside the
   * tenant's VPCs, the analysis allows what leaves and comes back; no answer from there agrees too).
   */
  readonly agree: boolean;
}

/** The two ends of a probe on the data plane: the source instance's host, and where the packet goes. */
export interface ProbeEnds {
  readonly src: Host;
  /** The host that must answer, when known (a stopped instance named by id is an error instead). */
  readonly dst: Host | undefined;
  readonly dstIp: Ipv4;
}

/**
 * Finds a probe's ends: `srcId` must be an instance on the data plane; `dst` an instance id (of the
 * source's tenant, running) or an address: the host of the network that owns it (the `web` host
 * behind the internet router), the instance an elastic IP of the plan is bound to, or one of the
 * source tenant's instances with that address (those of the source's VPC first; tenants share
 * addresses, so another tenant's is never chosen).
 */
export function resolveProbeEnds(
  dp: VpcDataPlane,
  intent: Intent,
  plan: Plan,
  srcId: string,
  dstRef: string,
): ProbeEnds | { error: string } {
  const src = dp.instance(srcId);
  if (src === undefined) return { error: `${srcId} is not on the data plane (stopped or unknown)` };
  const srcInstance = intent.instances.find((i) => i.id === srcId);
  let dstIp: Ipv4 | undefined = parseIpv4Address(dstRef);
  let dst: Host | undefined;
  if (dstIp === undefined) {
    const named = intent.instances.find((i) => i.id === dstRef && i.tenant === srcInstance?.tenant);
    if (named === undefined) return { error: `unknown instance ${dstRef}` };
    dstIp = parseIpv4Address(named.ip)!;
    dst = dp.instance(named.id);
    // A named destination must be the one that answers (not another instance with its address).
    if (dst === undefined) return { error: `${named.id} is not on the data plane (stopped)` };
    return { src, dst, dstIp };
  }
  const ipv4 = dstIp;
  // An elastic IP: the instance it is bound to answers (1:1 NAT on the border).
  const eip = entriesOf(plan, 'static-nat').find((e) => e.publicIp === formatIpv4(ipv4));
  if (eip !== undefined) dst = dp.instance(eip.instance);
  if (dst === undefined) dst = dp.fabricHosts.find((h) => h.ownsAddress(ipv4));
  if (dst === undefined) {
    // Only the source's tenant's instances (tenants share addresses), those of its VPC first.
    const vpcOf = (subnet: string) => intent.subnets.find((n) => n.id === subnet)?.vpc;
    const srcVpc = srcInstance === undefined ? undefined : vpcOf(srcInstance.subnet);
    const mine = intent.instances
      .filter((i) => i.tenant === srcInstance?.tenant)
      .sort((x, y) => Number(vpcOf(y.subnet) === srcVpc) - Number(vpcOf(x.subnet) === srcVpc));
    const owner = mine.map((i) => dp.instances.get(i.id)).find((s) => s?.host.ownsAddress(ipv4));
    dst = owner?.host;
  }
  return { src, dst, dstIp };
}

/** Trace events as lines `time us  node  port  message`, times from `start`, columns aligned. */
export function formatTrace(events: readonly TraceEvent[], start: Nanos): string[] {
  let nodeWidth = 4;
  let portWidth = 4;
  for (const e of events) {
    nodeWidth = Math.max(nodeWidth, e.node.length);
    portWidth = Math.max(portWidth, (e.port ?? '').length);
  }
  return events.map(
    (e) =>
      `${((e.time - start) / 1000).toFixed(3).padStart(9)} us  ${e.node.padEnd(nodeWidth)}  ${(e.port ?? '').padEnd(portWidth)}  ${e.message}`,
  );
}

/** How long the packet and its answer are given (the fabric's round trips take microseconds). */
const WINDOW: Nanos = 200e6;

/** `confirmReach` as steps (see probe-steps.ts). */
export function* confirmReachSteps(
  dp: VpcDataPlane,
  intent: Intent,
  plan: Plan,
  query: ReachQuery,
): ProbeSteps<ConfirmResult> {
  const net = dp.net;
  const fail = (outcome: string): ConfirmResult => ({
    delivered: false,
    outcome,
    trace: [],
    events: [],
    drops: [],
  });
  const ends = resolveProbeEnds(dp, intent, plan, query.src, query.dst);
  if ('error' in ends) return fail(ends.error);
  const { src, dst, dstIp } = ends;
  const target = dstIp;
  const port = query.port ?? 0;

  const start = net.scheduler.now();
  const runUntil = (done: () => boolean): RunOptions => ({ until: start + WINDOW, stopWhen: done });
  let delivered = false;
  let outcome = 'no answer';
  const reached = dst?.ipCounters.delivered ?? 0;
  // What the intent's owner may see: another network's side of the path is one opaque hop.
  const log = new ViewLog(new TenantView(dp, intent, plan));
  yield* traced(
    net,
    log,
    (function* (): ProbeSteps<void> {
      if (query.protocol === 'icmp') {
        const ping = src.ping(target, { count: 1, timeout: WINDOW / 2 });
        yield runUntil(() => ping.done);
        const r = ping.results[0];
        delivered = r?.status === 'reply';
        outcome = delivered
          ? `echo reply from ${r!.from} after ${((r!.rtt ?? 0) / 1000).toFixed(3)} us`
          : r?.status === 'error'
            ? `${r.message} (from ${r.from})`
            : r?.status === 'not-sent'
              ? `not sent: ${r.message}`
              : 'no echo reply';
      } else if (query.protocol === 'udp') {
        const bound = dst !== undefined && !dst.isBound(port);
        if (bound) dst!.bindUdp(port, (d) => dst!.sendUdp(d.dstPort, d.src, d.srcPort, d.payload));
        let answered = false;
        src.bindUdp(EPHEMERAL_PORT, (d) => {
          if (d.src === target && d.srcPort === port) answered = true;
        });
        let sent = false;
        try {
          sent = src.sendUdp(EPHEMERAL_PORT, target, port, new TextEncoder().encode('vnet reach'));
          yield runUntil(() => answered);
        } finally {
          // However the probe ends (a driver may stop it early), the ports it bound are let go.
          src.unbindUdp(EPHEMERAL_PORT);
          if (bound) dst!.unbindUdp(port);
        }
        delivered = answered;
        outcome = !sent
          ? 'not sent: no route'
          : answered
            ? `echo from ${formatIpv4(target)}:${port}`
            : 'no echo';
      } else {
        const listening = dst !== undefined && !dst.tcp.isListening(port);
        if (listening) dst!.tcp.listen(port, () => {});
        try {
          try {
            const conn = src.tcp.connect(target, port, { localPort: EPHEMERAL_PORT });
            yield runUntil(() => conn.state === 'ESTABLISHED' || conn.state === 'CLOSED');
            delivered = conn.state === 'ESTABLISHED';
            outcome = delivered
              ? `connected to ${formatIpv4(target)}:${port} (SYN, SYN-ACK)`
              : `no connection (${conn.state})`;
            if (conn.state !== 'CLOSED') conn.abort();
            yield { until: net.scheduler.now() + 1e6 };
          } catch (e) {
            outcome = `not sent: ${(e as Error).message}`;
          }
          if (dst !== undefined) {
            for (const c of dst.tcp.connections())
              if (c.remote.port === EPHEMERAL_PORT && c.local.port === port && c.state !== 'CLOSED')
                c.abort();
          }
          yield { until: net.scheduler.now() + 1e6 };
        } finally {
          // However the probe ends (a driver may stop it early), the listener it opened is closed.
          if (listening) dst!.tcp.unlisten(port);
        }
      }
      yield { until: net.scheduler.now() + 1e6 };
    })(),
  );
  if (delivered && dst !== undefined && dst.ipCounters.delivered === reached) {
    delivered = false;
    outcome = `${outcome}, but not from ${dst.name}`;
  }
  const events = log.visible();
  const trace = formatTrace(events, start);
  const drops = events.filter((e) => e.kind === 'drop').map((e) => `${e.node}: ${e.message}`);
  return { delivered, outcome, trace, events, drops };
}

/**
 * Sends one real packet from the source instance to the destination through the fabric, with
 * tracing on, and says whether it made the round trip (see the module header).
 */
export function confirmReach(dp: VpcDataPlane, intent: Intent, plan: Plan, query: ReachQuery): ConfirmResult {
  return runProbe(dp.net, confirmReachSteps(dp, intent, plan, query));
}

/** The static answer and the data plane's, side by side, as steps. */
export function* reachSteps(
  dp: VpcDataPlane,
  intent: Intent,
  plan: Plan,
  query: ReachQuery,
): ProbeSteps<ReachAnswer> {
  const analysis = analyzeReach(intent, plan, query);
  const confirmation = yield* confirmReachSteps(dp, intent, plan, query);
  // Past the border the analysis cannot see: no answer from outside is no disagreement.
  const outside = analysis.hops.at(-1)?.step === OUTSIDE_STEP;
  const agree = analysis.allowed === confirmation.delivered || (outside && analysis.allowed);
  return { analysis, confirmation, agree };
}

/** The static answer and the data plane's, side by side. */
export function reach(dp: VpcDataPlane, intent: Intent, plan: Plan, query: ReachQuery): ReachAnswer {
  return runProbe(dp.net, reachSteps(dp, intent, plan, query));
}
