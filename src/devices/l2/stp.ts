/**
 * Spanning tree for a switch, after IEEE 802.1D (the classic protocol, with its timers): bridges
 * exchange configuration BPDUs, elect the root (lowest bridge ID), pick on every other bridge the
 * root port (lowest path cost to the root, then lowest designated bridge ID, designated port ID,
 * own port ID), make the best bridge on every segment its designated port, and block the rest, so
 * a loop of switches becomes a tree instead of a broadcast storm.
 *
 * Port states follow 802.1D: blocking (BPDUs only), listening and learning (forward delay each;
 * learning fills the MAC table), forwarding. Every bridge sends its configuration BPDU on its
 * designated ports every hello time; received information ages out after max age; a port whose
 * link goes down forgets it at once. On any port role change the MAC table is flushed (a
 * simplification of 802.1D's topology-change notification, which shortens aging instead).
 */
import type { Port } from '../../link/index.js';
import type { Nanos, Timer } from '../../sim/index.js';
import {
  type BridgeId,
  type ConfigBpdu,
  compareBridgeIds,
  emitBpduFrame,
  FLAG_TC,
  formatMac,
  type Mac,
} from '../../wire/index.js';

export interface StpOptions {
  /** Bridge priority, a multiple of 4096 (default 32768). */
  readonly priority?: number;
  /** Seconds (defaults 2, 20, 15: IEEE 802.1D's). */
  readonly helloTime?: number;
  readonly maxAge?: number;
  readonly forwardDelay?: number;
}

export type PortState = 'disabled' | 'blocking' | 'listening' | 'learning' | 'forwarding';
export type PortRole = 'root' | 'designated' | 'alternate' | 'disabled';

/** The priority vector: what a port offers or has heard, compared field by field (lower is better). */
interface Vector {
  readonly root: BridgeId;
  readonly cost: number;
  readonly bridge: BridgeId;
  readonly portId: number;
}

function compareVectors(a: Vector, b: Vector): number {
  return (
    compareBridgeIds(a.root, b.root) ||
    a.cost - b.cost ||
    compareBridgeIds(a.bridge, b.bridge) ||
    a.portId - b.portId
  );
}

interface StpPort {
  readonly port: Port;
  readonly portId: number;
  /** Set from the link speed when the protocol starts. */
  pathCost: number;
  state: PortState;
  role: PortRole;
  /** Best configuration heard on the port, and when (for max age). */
  heard: ConfigBpdu | null;
  heardAt: Nanos;
  timer: Timer | null;
}

/** What the spanning tree needs from its switch. */
export interface StpHost {
  readonly name: string;
  now(): Nanos;
  setTimer(delay: Nanos, fn: () => void): Timer;
  sendOn(port: Port, frame: Uint8Array): void;
  flushMacTable(): void;
  /** Age MAC entries after `age` ns instead of the usual time, until `until` (802.1D 8.3.5, during a topology change). */
  shortenAging(until: Nanos, age: Nanos): void;
  trace(kind: string, message: string, port?: Port): void;
}

/** 802.1D-1998 port path cost for a link speed (bits/s). */
export function pathCostFor(bandwidth: number): number {
  if (bandwidth >= 10e9) return 2;
  if (bandwidth >= 1e9) return 4;
  if (bandwidth >= 100e6) return 19;
  if (bandwidth >= 10e6) return 100;
  return 250;
}

const S = 1e9;

export class SpanningTree {
  readonly bridge: BridgeId;
  readonly helloTime: number;
  readonly maxAge: number;
  readonly forwardDelay: number;
  private readonly ports = new Map<Port, StpPort>();
  private rootVector: Vector;
  private rootPort: StpPort | null = null;
  /** Until when this root announces a topology change (TC flag). */
  private tcUntil = 0;
  /** A TCN waits for the root's acknowledgement (a TC flag heard on the root port). */
  private tcnPending = false;
  /** BPDUs sent and received, for counters. */
  sent = 0;
  received = 0;
  topologyChanges = 0;

  constructor(
    private readonly host: StpHost,
    bridgeMac: Mac,
    options: StpOptions = {},
  ) {
    this.bridge = { priority: options.priority ?? 32768, mac: bridgeMac };
    this.helloTime = options.helloTime ?? 2;
    this.maxAge = options.maxAge ?? 20;
    this.forwardDelay = options.forwardDelay ?? 15;
    this.rootVector = { root: this.bridge, cost: 0, bridge: this.bridge, portId: 0 };
  }

  addPort(port: Port, number: number): void {
    this.ports.set(port, {
      port,
      portId: 0x8000 | (number & 0x0fff), // 802.1D-2004 9.2.7: priority 128 in the top 4 bits, a 12-bit port number
      pathCost: 4,
      state: 'blocking',
      role: 'designated',
      heard: null,
      heardAt: 0,
      timer: null,
    });
  }

  /** Starts the protocol: roles computed, hello timer running. */
  start(): void {
    for (const p of this.ports.values()) p.pathCost = pathCostFor(p.port.link?.bandwidth ?? 1e9);
    this.recompute();
    this.hello();
  }

  canLearn(port: Port): boolean {
    const s = this.ports.get(port)?.state;
    return s === 'learning' || s === 'forwarding';
  }

  canForward(port: Port): boolean {
    return this.ports.get(port)?.state === 'forwarding';
  }

  get isRoot(): boolean {
    return this.rootPort === null;
  }

  get root(): BridgeId {
    return this.rootVector.root;
  }

  /** A configuration BPDU arrived on `port`. */
  receive(port: Port, bpdu: ConfigBpdu): void {
    const p = this.ports.get(port);
    if (!p || !port.isUp) return;
    this.received++;
    const offered: Vector = {
      root: bpdu.root,
      cost: bpdu.rootPathCost,
      bridge: bpdu.bridge,
      portId: bpdu.portId,
    };
    const fromSame =
      p.heard !== null &&
      compareBridgeIds(p.heard.bridge, bpdu.bridge) === 0 &&
      p.heard.portId === bpdu.portId;
    const accepted = p.heard === null || fromSame || compareVectors(offered, this.heardVector(p)!) < 0;
    if (accepted) {
      p.heard = bpdu;
      p.heardAt = this.host.now() - bpdu.messageAge * S;
      this.recompute();
    }
    if (accepted && p === this.rootPort) {
      // 802.1D 8.6.14: the root's TC flag tells every bridge to age its table quickly (and acknowledges our TCN).
      if (bpdu.flags & FLAG_TC) {
        this.tcnPending = false;
        this.host.shortenAging(
          this.host.now() + (this.maxAge + this.forwardDelay) * S,
          this.forwardDelay * S,
        );
      }
      // 802.1D 8.6.4, 8.7.1: a non-root bridge relays the root's information, one hop older, on its designated ports.
      for (const d of this.ports.values()) if (d.role === 'designated') this.sendConfig(d);
    }
    // 802.1D 8.6.2: a designated port answers inferior information with its own at once.
    if (p.role === 'designated' && compareVectors(offered, this.designatedVector(p)) > 0) this.sendConfig(p);
  }

  /** A topology change notification arrived on `port` (802.1D 8.6.15): pass it towards the root; the root announces the change. */
  receiveTcn(port: Port): void {
    const p = this.ports.get(port);
    if (p?.role !== 'designated') return;
    this.received++;
    this.topologyChangeDetected();
  }

  private topologyChangeDetected(): void {
    if (this.isRoot) {
      this.tcUntil = this.host.now() + (this.maxAge + this.forwardDelay) * S;
      this.host.shortenAging(this.tcUntil, this.forwardDelay * S);
    } else {
      this.tcnPending = true;
      this.sendTcn();
    }
  }

  private sendTcn(): void {
    const root = this.rootPort;
    if (!root?.port.isUp) return;
    this.sent++;
    this.host.sendOn(root.port, emitBpduFrame(this.bridge.mac, { type: 'tcn' }));
  }

  /** The link of `port` went up or down. */
  linkChanged(port: Port, up: boolean): void {
    const p = this.ports.get(port);
    if (!p) return;
    if (!up) p.heard = null;
    this.recompute();
  }

  private heardVector(p: StpPort): Vector | null {
    const h = p.heard;
    return h ? { root: h.root, cost: h.rootPathCost, bridge: h.bridge, portId: h.portId } : null;
  }

  /** What this bridge would send on `p` as its designated port. */
  private designatedVector(p: StpPort): Vector {
    return { root: this.rootVector.root, cost: this.rootVector.cost, bridge: this.bridge, portId: p.portId };
  }

  private recompute(): void {
    const now = this.host.now();
    let best: Vector = { root: this.bridge, cost: 0, bridge: this.bridge, portId: 0 };
    let bestPort: StpPort | null = null;
    let bestPortId = Number.POSITIVE_INFINITY;
    for (const p of this.ports.values()) {
      if (p.heard && now - p.heardAt >= this.maxAge * S) p.heard = null; // aged out
      const h = this.heardVector(p);
      if (!h || !p.port.isUp) continue;
      const via: Vector = { root: h.root, cost: h.cost + p.pathCost, bridge: h.bridge, portId: h.portId };
      const c = compareVectors(via, best);
      if (c < 0 || (c === 0 && bestPort !== null && p.portId < bestPortId)) {
        best = via;
        bestPort = p;
        bestPortId = p.portId;
      }
    }
    if (bestPort !== null && compareBridgeIds(best.root, this.bridge) >= 0) bestPort = null; // we are the best root
    const rootChanged = compareVectors(best, this.rootVector) !== 0 || bestPort !== this.rootPort;
    this.rootVector = bestPort ? best : { root: this.bridge, cost: 0, bridge: this.bridge, portId: 0 };
    this.rootPort = bestPort;
    let changed = false;
    for (const p of this.ports.values()) {
      let role: PortRole;
      if (!p.port.isUp) role = 'disabled';
      else if (p === bestPort) role = 'root';
      else {
        const h = this.heardVector(p);
        role = h === null || compareVectors(this.designatedVector(p), h) < 0 ? 'designated' : 'alternate';
      }
      if (role !== p.role) {
        changed = true;
        this.host.trace('stp', `port ${p.port.name}: ${p.role} -> ${role}`, p.port);
        p.role = role;
      }
      this.applyState(p);
    }
    if (rootChanged) {
      const r = this.rootVector.root;
      this.host.trace(
        'stp',
        this.rootPort
          ? `root is ${r.priority}/${formatMac(r.mac)} via port ${this.rootPort.port.name}, cost ${this.rootVector.cost}`
          : 'this bridge is the root',
      );
    }
    if (changed) {
      this.topologyChanges++;
      this.host.flushMacTable();
      this.topologyChangeDetected();
    }
  }

  /** Moves a port towards the state its role calls for: forwarding through listening and learning, or blocking at once. */
  private applyState(p: StpPort): void {
    if (p.role === 'disabled' || p.role === 'alternate') {
      p.timer?.cancel();
      p.timer = null;
      this.setState(p, p.role === 'disabled' ? 'disabled' : 'blocking');
      return;
    }
    if (p.state === 'blocking' || p.state === 'disabled') {
      this.setState(p, 'listening');
      this.step(p);
    }
  }

  private step(p: StpPort): void {
    p.timer?.cancel();
    p.timer = this.host.setTimer(this.forwardDelay * S, () => {
      p.timer = null;
      if (p.state === 'listening') {
        this.setState(p, 'learning');
        this.step(p);
      } else if (p.state === 'learning') {
        this.setState(p, 'forwarding');
      }
    });
  }

  private setState(p: StpPort, state: PortState): void {
    if (p.state === state) return;
    this.host.trace('stp', `port ${p.port.name} (${p.role}): ${p.state} -> ${state}`, p.port);
    p.state = state;
  }

  /** Every hello time: age out stale information; the root sends its configuration (others relay it as it arrives); a pending TCN is repeated. */
  private hello(): void {
    const now = this.host.now();
    let aged = false;
    for (const p of this.ports.values()) {
      if (p.heard && now - p.heardAt >= this.maxAge * S) aged = true;
    }
    if (aged) this.recompute();
    if (this.isRoot) {
      for (const p of this.ports.values()) if (p.role === 'designated') this.sendConfig(p);
    } else if (this.tcnPending) {
      this.sendTcn();
    }
    this.host.setTimer(this.helloTime * S, () => this.hello());
  }

  private sendConfig(p: StpPort): void {
    if (!p.port.isUp) return;
    // The root sends age 0; every other bridge relays the age it heard on its root port, plus one (802.1D 8.6.4).
    const heard = this.rootPort?.heard;
    const messageAge = heard ? heard.messageAge + 1 : 0;
    const tc = heard ? (heard.flags & FLAG_TC) !== 0 : this.host.now() < this.tcUntil;
    this.sent++;
    this.host.sendOn(
      p.port,
      emitBpduFrame(this.bridge.mac, {
        type: 'config',
        flags: tc ? FLAG_TC : 0,
        root: this.rootVector.root,
        rootPathCost: this.rootVector.cost,
        bridge: this.bridge,
        portId: p.portId,
        messageAge,
        maxAge: this.maxAge,
        helloTime: this.helloTime,
        forwardDelay: this.forwardDelay,
      }),
    );
  }

  /** Per-port role and state, for `show stp`. */
  table(): {
    port: string;
    role: PortRole;
    state: PortState;
    cost: number;
    designatedRoot: string;
    designatedBridge: string;
  }[] {
    const id = (b: BridgeId) => `${b.priority}/${formatMac(b.mac)}`;
    return [...this.ports.values()].map((p) => ({
      port: p.port.name,
      role: p.role,
      state: p.state,
      cost: p.pathCost,
      designatedRoot: id(
        p.role === 'designated' ? this.rootVector.root : (p.heard?.root ?? this.rootVector.root),
      ),
      designatedBridge: id(p.role === 'designated' || !p.heard ? this.bridge : p.heard.bridge),
    }));
  }
}
