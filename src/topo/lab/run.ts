/**
 * Runs a lab's script in virtual time and returns each step's result as plain data (the CLI
 * renders it as text or JSON). Steps run in order; each advances the clock as far as it needs
 * (a ping until its last reply or timeout, a wait by its duration). After the last step the
 * network drains: it runs on until no frame is due within QUIET_GAP, for DRAIN_LIMIT at most, so a
 * storm still raging when the script ends is seen. The whole run, drain included, has budgets
 * (events, and with the functions the caller gives, wall time and memory: `run-guard.ts`): a spent
 * one stops the run with a message saying which, what the traffic was and whether a frame went
 * round a loop (`traffic-report.ts`), and the steps before it keep their results.
 *
 * Each step kind has one handler in a table keyed by kind (`LabRunner.handlers`; the `migrate`
 * step's is `migrate.ts`), so adding a step kind to the schema fails to compile until it has one.
 */

import type { Device } from '../../devices/device.js';
import { Host } from '../../devices/ip/host.js';
import type { IpNode } from '../../devices/ip/ip-node.js';
import type { PingResult, PingStatistics } from '../../devices/ip/ping.js';
import { Hub } from '../../devices/l2/hub.js';
import { Switch } from '../../devices/l2/switch.js';
import type { Router as RouterDevice } from '../../devices/router/router.js';
import {
  type TcpBulkResult,
  TcpBulkTransfer,
  TcpMessageClient,
  type TcpSessionStatus,
} from '../../devices/tcp/tcp-apps.js';
import type { Capture, Link } from '../../link/index.js';
import { ipStackOf, Nve, routerOf } from '../../overlay/index.js';
import type { Nanos } from '../../sim/index.js';
import { decodeFrame, formatIpv4, formatMac, IcmpType, IpProtocol, ip } from '../../wire/index.js';
import { l3SwitchEngineName } from '../l3-switch.js';
import type { Network } from '../network.js';
import { overlayTable } from '../overlay-tables.js';
import type { Row } from '../rows.js';
import { type BudgetKind, BudgetStop, DEFAULT_EVENT_BUDGET, RunGuard, type RunLimits } from '../run-guard.js';
import { describeTraffic, reportTraffic, type TrafficReport } from '../traffic-report.js';
import { formatDuration, parseDuration } from '../units.js';
import { labLinksOf } from './build.js';
import { splitEndpoint } from './check.js';
import { type MigrateStepResult, runMigrateStep, type SessionSource } from './migrate.js';
import { type LabFile, type LabStep, type StepBody, type StepKind, stepKind } from './schema.js';

export { DEFAULT_EVENT_BUDGET } from '../run-guard.js';
/** The network counts as quiet once no event is due within this time (timers wait longer; frames in flight do not). */
export const QUIET_GAP: Nanos = 1_000_000;
/** The longest the network drains after the script's last step. */
export const DRAIN_LIMIT: Nanos = 1_000_000_000;
/** How long a step that ended on its condition lets the network settle before the next step. */
export const SETTLE_TIME: Nanos = 1_000_000;

export type { Row } from '../rows.js';

export type StepResult =
  | {
      readonly step: 'ping';
      readonly time: Nanos;
      readonly from: string;
      readonly to: string;
      readonly size: number;
      readonly replies: PingResult[];
      readonly statistics: PingStatistics;
    }
  | {
      readonly step: 'udp';
      readonly time: Nanos;
      readonly from: string;
      readonly to: string;
      readonly port: number;
      readonly sent: number;
      readonly echoed: number;
    }
  | {
      readonly step: 'arp';
      readonly time: Nanos;
      readonly node: string;
      readonly ip: string;
      readonly mac: string | null;
      readonly requests: number;
    }
  | {
      readonly step: 'path';
      readonly time: Nanos;
      readonly from: string;
      readonly to: string;
      /** Devices the echo request reached, in order (the sender first); empty when it was not sent. */
      readonly request: string[];
      /** Devices the echo reply reached, in order; empty without a reply. */
      readonly reply: string[];
    }
  | {
      readonly step: 'tcp-server';
      readonly time: Nanos;
      readonly node: string;
      readonly port: number;
      readonly app: 'echo' | 'discard';
    }
  | {
      readonly step: 'tcp-session';
      readonly time: Nanos;
      readonly name: string;
      readonly from: string;
      readonly to: string;
      readonly port: number;
      readonly established: boolean;
      readonly state: string;
      /** The client's address and port, e.g. `10.0.0.1:32768`. */
      readonly local: string | null;
      /** How long the handshake took. */
      readonly connectTime: Nanos | null;
      readonly every: Nanos;
      readonly size: number;
      /** Why it failed, when it did. */
      readonly reason: string | null;
    }
  | {
      readonly step: 'tcp-status';
      readonly time: Nanos;
      readonly session: string;
      readonly status: TcpSessionStatus;
    }
  | ({
      readonly step: 'tcp-bulk';
      readonly time: Nanos;
      readonly from: string;
      readonly to: string;
      readonly port: number;
    } & TcpBulkResult)
  | { readonly step: 'wait'; readonly time: Nanos; readonly duration: Nanos }
  | { readonly step: 'link'; readonly time: Nanos; readonly link: string; readonly state: 'up' | 'down' }
  | { readonly step: 'capture'; readonly time: Nanos; readonly file: string; readonly where: string }
  | MigrateStepResult
  | {
      readonly step: 'show';
      readonly time: Nanos;
      readonly node: string;
      readonly table: string;
      readonly rows: Row[];
      readonly counters?: Record<string, number>;
    };

export interface CaptureFileResult {
  readonly file: string;
  readonly where: string;
  readonly frames: number;
  readonly pcap: Uint8Array;
}

export interface LabRunResult {
  readonly name: string;
  readonly steps: StepResult[];
  readonly captures: CaptureFileResult[];
  readonly events: number;
  readonly virtualTime: Nanos;
  /** Set when a budget stopped the run: which, when, and what the traffic was. */
  readonly stopped: string | null;
  /** The budget that stopped the run. */
  readonly stopReason: BudgetKind | null;
  /** Set when the script ended with traffic still flowing (a storm): what it was. */
  readonly warning: string | null;
  /** The traffic, when the run was stopped or ended busy. */
  readonly traffic: TrafficReport | null;
}

/** The longest a `tcp-session` step waits for its handshake (the SYN retries take about 2 minutes). */
const SESSION_CONNECT_LIMIT: Nanos = 300e9;
/** The longest a `tcp-bulk` step runs. */
const BULK_LIMIT: Nanos = 3600e9;

function failedBulk(bytes: number, error: unknown): TcpBulkResult {
  return {
    bytes,
    done: false,
    duration: null,
    throughput: null,
    retransmissions: 0,
    fastRetransmits: 0,
    rtoExpiries: 0,
    failure: error instanceof Error ? error.message : String(error),
  };
}

/** What to do about a spent budget: nothing to add for a loop (the report says how to break it). */
function advice(kind: BudgetKind, traffic: TrafficReport): string {
  if (kind === 'memory')
    return '; the lab needs more memory than the heap allows: make it smaller, or give the process a larger heap';
  if (traffic.loop !== null) return '';
  return `; if that is what the lab should do, give it a larger ${kind === 'events' ? '--budget' : '--time-budget'}`;
}

// A step's kind and body live with the schema (the checks read them too); re-exported for the run's users.
export { type StepBody, type StepKind, stepKind };

/** A step runner per kind: the step's body and the virtual time it starts at, to its result. */
type StepHandlers = { readonly [K in StepKind]: (body: StepBody<K>, now: Nanos) => StepResult };

export class LabRunner {
  private readonly captures: { file: string; where: string; capture: Capture }[] = [];
  private readonly guard: RunGuard;
  /** The message sessions `tcp-session` steps opened, by name (each knows its client and server nodes). */
  readonly tcpSessions = new Map<string, TcpMessageClient>();
  /**
   * The sessions of a node, as the `migrate` step reports them: survived when the session is still
   * up, never failed, and got an echo after `since` (the VM's resume).
   */
  private readonly sessionSource: SessionSource = {
    sessionsOf: (host, since) =>
      [...this.tcpSessions.values()]
        .filter((c) => c.from === host || c.server === host)
        .map((c) => {
          const s = c.status();
          const survived = s.alive && s.failures.length === 0 && s.lastEcho !== null && s.lastEcho > since;
          return {
            name: c.name,
            from: c.from,
            to: `${s.to}:${s.port}`,
            survived,
            longestGap: s.largestGap,
            retransmissions: s.retransmissions,
            failure: survived
              ? null
              : (s.failures.at(-1)?.reason ??
                (s.alive
                  ? `no echo since the move (last at ${s.lastEcho === null ? 'never' : formatDuration(s.lastEcho)})`
                  : s.state)),
          };
        }),
  };

  /**
   * What `link: N` names: the lab's `links[N]` as built, whatever was unplugged since (a migrated
   * VM's cable leaves `net.links`, renumbering the links after it). For a network `buildLab` did
   * not make, its links as they are before the run.
   */
  private readonly labLinks: readonly Link[];

  constructor(
    readonly lab: LabFile,
    readonly net: Network,
    readonly budget = DEFAULT_EVENT_BUDGET,
    /** Told before each step (1-based) runs: the CLI shows it on a terminal. */
    private readonly onStep?: (index: number, total: number, step: LabStep) => void,
    /** Wall time and memory budgets, with the clock and heap reader they need (the event budget is `budget`). */
    limits: Omit<RunLimits, 'events'> = {},
  ) {
    this.guard = new RunGuard({ ...limits, events: budget });
    this.labLinks = labLinksOf(net) ?? net.links;
  }

  /**
   * Advances virtual time to `time`, or until `done` holds and then a further settling time (1 ms,
   * never past `time`) so the frames of that moment reach everyone (a hub's copies, a last reply's
   * echo on other ports) before the next step looks at the tables. Within the event budget.
   */
  private runUntil(time: Nanos, done?: () => boolean): void {
    const step = (options: { until: Nanos; stopWhen?: () => boolean }) => this.guard.run(this.net, options);
    if (done === undefined || !done()) {
      const r = step({ until: time, stopWhen: done });
      if (r.reason !== 'condition') return;
    }
    step({ until: Math.min(time, this.net.scheduler.now() + SETTLE_TIME) });
  }

  /**
   * The link a step names: `N` the lab's `links[N]`, two nodes the link joining them now. Throws
   * (the run stops with the message) when that cable is gone: a `migrate` step unplugged it.
   */
  private link(ref: number | [string, string]): Link {
    if (typeof ref === 'number') {
      const link = this.labLinks[ref];
      if (link === undefined)
        throw new Error(`there is no link ${ref} (the lab has ${this.labLinks.length})`);
      if (link.detached)
        throw new Error(
          `link ${ref} (${link.a.id}--${link.b.id}) was unplugged by an earlier step (a migrate moved its VM)`,
        );
      return link;
    }
    const link = this.net.linkBetween(ref[0], ref[1]);
    if (link === undefined) throw new Error(`no link joins ${ref[0]} and ${ref[1]} (any more)`);
    return link;
  }

  run(): LabRunResult {
    const steps: StepResult[] = [];
    let draining = false;
    try {
      this.guard.start();
      this.net.start();
      this.runUntil(this.net.scheduler.now());
      const total = this.lab.script.length;
      this.lab.script.forEach((step, i) => {
        this.onStep?.(i + 1, total, step);
        steps.push(this.step(step));
      });
      draining = true;
      if (this.drain()) return this.finish(steps, null);
      return this.finish(steps, null, (traffic) => ({
        stopped: null,
        warning: `the script ended with traffic still flowing ${formatDuration(DRAIN_LIMIT)} after its last step: ${describeTraffic(traffic)}`,
      }));
    } catch (error) {
      if (!(error instanceof BudgetStop)) throw error;
      const at = `at t=${formatDuration(this.net.scheduler.now())} with ${this.net.scheduler.pending.toLocaleString('en-US')} events still pending${draining ? ', after the script had ended' : ''}`;
      return this.finish(steps, error.kind, (traffic) => ({
        stopped: `${error.spent} ${at}: ${describeTraffic(traffic)}${advice(error.kind, traffic)}`,
        warning: draining
          ? `the script ended with traffic still flowing: the ${error.kind === 'events' ? 'event' : error.kind} budget was spent after its last step`
          : null,
      }));
    }
  }

  /**
   * The run's result. `explain`, for a run stopped by a budget or ending busy, turns the traffic
   * report into its messages. The report's sample runs the network on a little, so the captures,
   * events and time are read first; after a memory stop nothing more runs.
   */
  private finish(
    steps: StepResult[],
    stopReason: BudgetKind | null,
    explain?: (traffic: TrafficReport) => { stopped: string | null; warning: string | null },
  ): LabRunResult {
    const base = {
      name: this.lab.name ?? 'lab',
      steps,
      captures: this.captureResults(),
      events: this.guard.used,
      virtualTime: this.net.scheduler.now(),
    };
    if (explain === undefined) return { ...base, stopped: null, stopReason, warning: null, traffic: null };
    const traffic = reportTraffic(this.net, stopReason !== 'memory');
    return { ...base, stopReason, traffic, ...explain(traffic) };
  }

  private captureResults(): CaptureFileResult[] {
    return this.captures.map((c) => ({
      file: c.file,
      where: c.where,
      frames: c.capture.frames.length,
      pcap: c.capture.toPcap(),
    }));
  }

  /**
   * Runs on after the last step until no event is due within QUIET_GAP (frames in flight are; the
   * next timer need not be), for DRAIN_LIMIT at most, within the budgets. Whether it went quiet.
   */
  private drain(): boolean {
    const scheduler = this.net.scheduler;
    const quiet = () => {
      const next = scheduler.nextTime();
      return next === undefined || next - scheduler.now() >= QUIET_GAP;
    };
    if (quiet()) return true;
    this.guard.run(this.net, { until: scheduler.now() + DRAIN_LIMIT, stopWhen: quiet });
    return quiet();
  }

  /**
   * What each step kind does, keyed by kind: runs the step from `now` (the virtual time it starts)
   * and returns its result. One entry per step of the schema (the type makes sure of it).
   */
  private readonly handlers: StepHandlers = {
    ping: (p, now) => {
      const host = this.net.node(p.from) as Host;
      const interval = p.interval === undefined ? 1e9 : parseDuration(p.interval)!;
      const timeout = p.timeout === undefined ? 1e9 : parseDuration(p.timeout)!;
      const count = p.count ?? 4;
      const run = host.ping(ip(p.to), { count, interval, timeout, size: p.size, ttl: p.ttl });
      this.runUntil(now + (count - 1) * interval + timeout + 1, () => run.done);
      return {
        step: 'ping',
        time: now,
        from: p.from,
        to: p.to,
        size: p.size ?? 56,
        replies: run.results,
        statistics: run.statistics(),
      };
    },
    udp: (u, now) => {
      const host = this.net.node(u.from) as Host;
      const count = u.count ?? 1;
      const interval = u.interval === undefined ? 1e9 : parseDuration(u.interval)!;
      const payload = new TextEncoder().encode(u.data ?? 'hello');
      const srcPort = u.srcPort ?? 40000;
      const dst = ip(u.to);
      // An ephemeral socket for the answers, as a client's connect() would open; it counts the echoes as they come.
      const ownSocket = !host.isBound(srcPort);
      const logged = host.udpDelivered;
      let echoed = 0;
      if (ownSocket) {
        host.bindUdp(srcPort, (d) => {
          if (d.src === dst && d.srcPort === u.port) echoed++;
        });
      }
      let sent = 0;
      // One send scheduled at a time, each from the previous: a large count costs no memory up front.
      const sendNext = (i: number) => {
        if (host.sendUdp(srcPort, dst, u.port, payload)) sent++;
        if (i + 1 < count) this.net.scheduler.at(now + (i + 1) * interval, () => sendNext(i + 1));
      };
      this.net.scheduler.at(now, () => sendNext(0));
      this.runUntil(now + (count - 1) * interval + 1e9, () => echoed >= count);
      if (ownSocket) host.unbindUdp(srcPort);
      // A port the host already listens on keeps its own handler: count the echoes from its log.
      else
        echoed = host.udpLog
          .slice(Math.max(0, host.udpLog.length - (host.udpDelivered - logged)))
          .filter((d) => d.src === dst && d.srcPort === u.port && d.dstPort === srcPort).length;
      return { step: 'udp', time: now, from: u.from, to: u.to, port: u.port, sent, echoed };
    },
    arp: (a, now) => {
      const node = ipStack(this.net.node(a.node));
      const target = ip(a.ip);
      const requestsBefore = node.ipCounters.arpRequestsSent;
      const iface = node.resolveNeighbor(target);
      if (iface)
        this.runUntil(
          now + iface.arp.attempts * iface.arp.retryInterval + 1,
          () => !iface.arp.isResolving(target),
        );
      const mac = iface?.arp.lookup(target, this.net.scheduler.now());
      return {
        step: 'arp',
        time: now,
        node: a.node,
        ip: a.ip,
        mac: mac === undefined ? null : formatMac(mac),
        requests: node.ipCounters.arpRequestsSent - requestsBefore,
      };
    },
    path: (p, now) => this.path(p.from, p.to, now),
    'tcp-server': (t, now) => {
      const host = this.net.node(t.node) as Host;
      if (t.app === 'echo') host.enableTcpEcho(t.port);
      else host.enableTcpDiscard(t.port);
      return { step: 'tcp-server', time: now, node: t.node, port: t.port, app: t.app };
    },
    'tcp-session': (t, now) => this.tcpSession(t, now),
    'tcp-status': (t, now) => {
      const client = this.tcpSessions.get(t.session)!;
      return { step: 'tcp-status', time: now, session: client.name, status: client.status() };
    },
    'tcp-bulk': (t, now) => {
      const host = this.net.node(t.from) as Host;
      const userTimeout = t.userTimeout === undefined ? undefined : parseDuration(t.userTimeout)!;
      const base = { step: 'tcp-bulk', time: now, from: t.from, to: t.to, port: t.port } as const;
      let bulk: TcpBulkTransfer;
      try {
        bulk = new TcpBulkTransfer(host.tcp, ip(t.to), t.port, t.bytes, { userTimeout });
      } catch (error) {
        return { ...base, ...failedBulk(t.bytes, error) };
      }
      this.runUntil(now + BULK_LIMIT, () => bulk.settled);
      return { ...base, ...bulk.result() };
    },
    wait: (w, now) => {
      const d = parseDuration(w)!;
      this.runUntil(now + d);
      return { step: 'wait', time: now, duration: d };
    },
    link: (l, now) => {
      const link = this.link(l.link as number | [string, string]);
      link.setUp(l.state === 'up');
      return { step: 'link', time: now, link: `${link.a.id}--${link.b.id}`, state: l.state };
    },
    capture: (c, now) => {
      const capture = this.net.capture();
      let where: string;
      if (c.link !== undefined) {
        const link = this.link(c.link as number | [string, string]);
        capture.attachLink(link);
        where = `${link.a.id}--${link.b.id}`;
      } else {
        const { node, port } = splitEndpoint(c.port!);
        const p = this.net.node(node).port(port!);
        if (!p) throw new Error(`${node} has no port ${port}`);
        capture.attachPort(p);
        where = p.id;
      }
      this.captures.push({ file: c.file, where, capture });
      return { step: 'capture', time: now, file: c.file, where };
    },
    migrate: (m) => runMigrateStep(m, this.net, (t) => this.runUntil(t), this.sessionSource),
    show: ({ node, table }, now) => {
      if (table === 'counters')
        return {
          step: 'show',
          time: now,
          node,
          table,
          rows: this.portCounters(node),
          counters: this.deviceCounters(node),
        };
      return { step: 'show', time: now, node, table, rows: this.table(node, table) };
    },
  };

  /** Runs one step from now: the handler of its kind. */
  private step(step: LabStep): StepResult {
    const kind = stepKind(step);
    const handler = this.handlers[kind] as (body: unknown, now: Nanos) => StepResult;
    return handler(step[kind as keyof typeof step], this.net.scheduler.now());
  }

  /** Opens a message session and runs until its handshake is over (established or failed). */
  private tcpSession(t: Extract<LabStep, { 'tcp-session': unknown }>['tcp-session'], now: Nanos): StepResult {
    const host = this.net.node(t.from) as Host;
    const to = ip(t.to);
    const every = parseDuration(t.every)!;
    const size = t.size ?? 64;
    const userTimeout = t.userTimeout === undefined ? undefined : parseDuration(t.userTimeout)!;
    const server =
      [...this.net.nodes.values()].find((n) => ipStackOf(n)?.ownsAddress(to) === true)?.name ?? null;
    const base = {
      step: 'tcp-session',
      time: now,
      name: t.name,
      from: t.from,
      to: t.to,
      port: t.port,
      every,
      size,
    } as const;
    let client: TcpMessageClient;
    try {
      client = new TcpMessageClient(
        host.tcp,
        t.name,
        t.from,
        to,
        t.port,
        { every, size, userTimeout },
        server,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ...base, established: false, state: 'CLOSED', local: null, connectTime: null, reason };
    }
    this.tcpSessions.set(t.name, client);
    this.runUntil(now + SESSION_CONNECT_LIMIT, () => client.settled);
    const c = client.conn;
    return {
      ...base,
      established: client.established,
      state: c.state,
      local: `${formatIpv4(c.local.ip)}:${c.local.port}`,
      connectTime: c.establishedAt === null ? null : c.establishedAt - c.openedAt,
      reason: client.established ? null : (c.closeReason ?? 'no answer yet'),
    };
  }

  /**
   * One ping, followed: every port of every device is tapped while it runs, and each device that
   * receives a frame carrying the echo request (or the reply), bare or inside an overlay, is listed
   * once in order. Devices inside one box (an NVE's VRFs `NVE/TENANT`, an L3 switch's `NAME/l3`)
   * count as their box, so the lists are the path across real links.
   */
  private path(from: string, to: string, now: Nanos): StepResult {
    const host = this.net.node(from) as Host;
    const request: string[] = [from];
    const reply: string[] = [];
    let pingId = -1;
    const box = (owner: string) => owner.split('/')[0]!;
    // Past a source NAT the echo carries the identifier the NAT gave it.
    const routers = [...this.net.nodes.values()]
      .map(routerOf)
      .filter((n): n is RouterDevice => n !== undefined && n.nats.size > 0);
    const translatedIds = () =>
      routers.flatMap((r) =>
        [...r.nats.values()].flatMap((nat) => nat.publicPortsFor(IpProtocol.icmp, pingId)),
      );
    const untaps: (() => void)[] = [];
    for (const node of this.net.nodes.values()) {
      for (const port of node.ports) {
        untaps.push(
          port.tap((frame, direction, p) => {
            // Frames are seen as they arrive, and the reply also as it leaves its sender.
            if (direction !== 'rx' && reply.length > 0) return;
            const icmp = decodeFrame(frame)
              .layers.filter((l) => l.layer === 'icmp')
              .pop();
            if (icmp === undefined || !(icmp.id === pingId || translatedIds().includes(icmp.id as number)))
              return;
            if (direction === 'tx' && icmp.type !== IcmpType.echoReply) return;
            const list =
              icmp.type === IcmpType.echoRequest ? request : icmp.type === IcmpType.echoReply ? reply : null;
            const at = box(p.owner);
            if (list !== null && list[list.length - 1] !== at) list.push(at);
          }),
        );
      }
    }
    const run = host.ping(ip(to), { count: 1, timeout: 1e9 });
    pingId = run.id;
    try {
      this.runUntil(now + 1e9 + 1, () => run.done);
    } finally {
      for (const untap of untaps) untap();
    }
    return {
      step: 'path',
      time: now,
      from,
      to,
      request: run.results[0]?.status === 'not-sent' ? [] : request,
      reply,
    };
  }

  /** The device behind a lab node for a table: an L3 switch's routing tables live in its engine, `NAME/l3`. */
  private deviceName(labNode: string, table: string): string {
    const routed =
      table === 'arp' || table === 'routes' || table === 'acl' || table === 'interfaces' || table === 'dhcp';
    return routed && this.lab.nodes[labNode]?.kind === 'l3switch' ? l3SwitchEngineName(labNode) : labNode;
  }

  /** A node's table as rows, the way the lecture's slides show them. */
  table(labNode: string, table: string): Row[] {
    const nodeName = this.deviceName(labNode, table);
    const node = this.net.node(nodeName);
    const now = this.net.scheduler.now();
    switch (table) {
      case 'mac':
        return (node as Switch).macTable
          .entries(now)
          .map((e) => ({ vlan: e.vlan, mac: e.mac, port: e.port, age: formatDuration(e.age) }));
      case 'arp':
        return ipStack(node).interfaces.flatMap((i) =>
          i.arp
            .table(now)
            .map((e) => ({ interface: i.name, ip: e.ip, mac: e.mac, age: formatDuration(e.age) })),
        );
      case 'routes':
        return ipStack(node)
          .routes.routes()
          .map((r) => ({
            destination: `${formatIpv4(r.prefix)}/${r.prefixLength}`,
            nextHop: r.nextHop === null ? 'direct' : formatIpv4(r.nextHop),
            interface: r.iface,
            source: r.source,
            metric: r.metric,
          }));
      case 'acl': {
        const router = routerOf(node) as RouterDevice;
        return [...router.aclNames()].flatMap((name) =>
          router
            .acl(name)!
            .table()
            .map((r) => ({ acl: name, rule: r.rule, text: r.text, hits: r.hits })),
        );
      }
      case 'stp': {
        const stp = (node as Switch).stp;
        return stp ? stp.table() : [];
      }
      case 'dhcp': {
        const n = ipStack(node);
        const rows: Row[] = [];
        if (n instanceof Host && n.dhcpClient) rows.push({ role: 'client', ...n.dhcpClient.status() });
        for (const s of n.dhcpServers) for (const l of s.table()) rows.push({ role: 'lease', ...l });
        return rows;
      }
      case 'bd':
      case 'bd-mac':
      case 'flood':
      case 'arp-suppression':
      case 'vaps':
      case 'vrf-routes':
      case 'gateway-arp':
      case 'ecmp':
      case 'nat':
        return overlayTable(node, table, now);
      case 'controller':
        return this.net.overlay.table();
      case 'tcp':
        return ipStack(node)
          .tcp.connections()
          .map((c) => ({
            local: `${formatIpv4(c.local.ip)}:${c.local.port}`,
            remote: `${formatIpv4(c.remote.ip)}:${c.remote.port}`,
            state: c.state,
            sndUna: c.sndUna,
            sndNxt: c.sndNxt,
            rcvNxt: c.rcvNxt,
            cwnd: c.cwnd,
            srtt: c.rto.srtt === null ? null : formatDuration(Math.round(c.rto.srtt / 1000) * 1000),
            rto: formatDuration(c.rto.rto),
            retransmits: c.stats.retransmissions,
          }));
      case 'interfaces':
        return ipStack(node).interfaces.map((i) => ({
          interface: i.name,
          port: i.port.name,
          vlan: i.vlan,
          mac: formatMac(i.mac),
          addresses: i.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`).join(' '),
        }));
      default:
        return this.portCounters(nodeName);
    }
  }

  portCounters(nodeName: string): Row[] {
    return this.net.node(nodeName).ports.map((p) => ({
      port: p.name,
      txFrames: p.counters.txFrames,
      txBytes: p.counters.txBytes,
      rxFrames: p.counters.rxFrames,
      rxBytes: p.counters.rxBytes,
    }));
  }

  /** The device's own counters and its drops by reason (`drop:mac-filtered`). */
  deviceCounters(nodeName: string): Record<string, number> {
    const node = this.net.node(nodeName);
    const out: Record<string, number> = {};
    if (node instanceof Switch) {
      Object.assign(out, node.counters, {
        macEntries: node.macTable.size,
        macOverflows: node.macTable.overflows,
      });
      if (node.stp)
        Object.assign(out, {
          bpdusSent: node.stp.sent,
          bpdusReceived: node.stp.received,
          topologyChanges: node.stp.topologyChanges,
        });
    }
    const stack = ipStackOf(node);
    if (stack !== undefined) {
      Object.assign(out, stack.ipCounters);
      const tcp = stack.tcpStarted;
      if (tcp) for (const [k, v] of Object.entries(tcp.counters)) out[`tcp:${k}`] = v;
      for (const server of stack.dhcpServers)
        for (const [type, n] of Object.entries(server.sent))
          out[`dhcpSent:${type}`] = (out[`dhcpSent:${type}`] ?? 0) + n;
      if (node instanceof Host && node.dhcpClient)
        for (const [type, n] of Object.entries(node.dhcpClient.sent)) out[`dhcpSent:${type}`] = n;
    }
    if (node instanceof Nve) {
      Object.assign(out, node.counters);
      let bum = 0;
      let macs = 0;
      for (const bd of node.bridgeDomains()) {
        bum += bd.counters.bum;
        macs += bd.size;
      }
      Object.assign(out, { bdBumFrames: bum, bdMacEntries: macs });
    }
    const router = routerOf(node);
    if (router !== undefined)
      for (const [iface, n] of Object.entries(router.ecmpChoices)) out[`ecmp:${iface}`] = n;
    if (node instanceof Hub) out.repeated = node.repeated;
    for (const [reason, n] of Object.entries(node.drops)) out[`drop:${reason}`] = n;
    return out;
  }
}

export function runLab(
  lab: LabFile,
  net: Network,
  budget?: number,
  onStep?: (index: number, total: number, step: LabStep) => void,
  limits?: Omit<RunLimits, 'events'>,
): LabRunResult {
  return new LabRunner(lab, net, budget, onStep, limits).run();
}

/** The IPv4 stack of a node a routed table or step names (the lab's checks made sure it has one). */
function ipStack(node: Device): IpNode {
  const stack = ipStackOf(node);
  if (stack === undefined) throw new Error(`${node.name} has no IPv4 stack`);
  return stack;
}
