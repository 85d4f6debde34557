/**
 * A point-to-point full-duplex link between two ports, with the properties of a cable and its
 * transmitters: propagation delay, bandwidth (serialisation delay, counting Ethernet's preamble,
 * FCS and inter-frame gap), a bounded transmit queue per direction with tail drop, an MTU
 * (frames whose L3 payload exceeds it are dropped), optional seeded random loss, and up/down
 * state (frames in flight when it goes down are lost).
 *
 * Every drop is counted on the link by reason: `mtu-exceeded`, `queue-full`, `loss`, `link-down`.
 */
import type { Nanos, QueuedEvent, Rng } from '../sim/index.js';
import { isVlanTpid, readU16 } from '../wire/index.js';
import { type Clock, countDrop, type DropCounters } from './clock.js';
import type { Port } from './port.js';

/** Preamble + SFD (8), FCS (4) and inter-frame gap (12): bytes a frame occupies on the wire beyond its own. */
export const ETHERNET_WIRE_OVERHEAD = 24;

export interface LinkProperties {
  /** One-way propagation delay, ns (default 1 us). */
  readonly delay?: Nanos;
  /** Bits per second (default 1 Gbps). */
  readonly bandwidth?: number;
  /** Largest L3 payload, bytes (default 1500). */
  readonly mtu?: number;
  /** Frames that may wait in each direction's transmit queue, besides the one being sent (default 1000). */
  readonly queueFrames?: number;
  /** Probability that a frame is lost, 0..1 (default 0). */
  readonly loss?: number;
}

export const DEFAULT_LINK: Required<LinkProperties> = {
  delay: 1_000,
  bandwidth: 1e9,
  mtu: 1500,
  queueFrames: 1000,
  loss: 0,
};

const EMPTY = new Uint8Array(0);

/**
 * One direction's transmitter: when each accepted frame finishes serialising, oldest first; and,
 * on a clock that can reserve event order, the frames in flight (a FIFO: they arrive in the order
 * they were sent), of which only the next is in the scheduler's queue. On a clock that can
 * `requeue`, the direction is itself that event (`QueuedEvent`): running an arrival touches the
 * direction, and no event object besides.
 */
class Direction implements QueuedEvent {
  /**
   * When each accepted frame finishes serialising, oldest first: a ring of `doneCount` times from
   * `doneHead` (grown when full, never reallocated when it drains).
   */
  private done = new Float64Array(8);
  private doneHead = 0;
  private doneCount = 0;
  /**
   * Frames in flight, oldest first, in a ring: each frame, and beside it in one typed array when it
   * arrives, its place in the event order, and the link generation it left in (negative when the
   * frame is lost), so a frame's bookkeeping sits in one cache line.
   */
  frames: Uint8Array[] = new Array(16);
  meta = new Float64Array(16 * 3);
  first = 0;
  inFlight = 0;
  armed = false;
  // As a QueuedEvent: the scheduler calls `fn` on `self` (its key, time and sequence, is its own).
  queued = false;
  readonly cancelled = false;
  readonly fn: () => void = Direction.prototype.arriveNext;
  readonly self: Direction = this;
  /**
   * The link's generation (both directions count its downs alike), and the frames delivered: kept
   * here so that an arrival touches the direction and not the link.
   */
  generation = 0;
  delivered = 0;

  /** The link's properties, copied here so that sending a frame reads the direction only. */
  readonly mtu: number;
  readonly queueFrames: number;
  readonly delay: Nanos;
  readonly bandwidth: number;
  /** Set by the link. */
  loss = 0;
  /** null while nothing taps the link, so sending reads no list. */
  taps: LinkTap[] | null = null;

  constructor(
    readonly link: Link,
    readonly from: Port,
    readonly to: Port,
    private readonly clock: Clock,
    private readonly rng: Rng,
  ) {
    this.mtu = link.mtu;
    this.queueFrames = link.queueFrames;
    this.delay = link.delay;
    this.bandwidth = link.bandwidth;
  }

  /** `Link.transmit` on an up link: schedules delivery at the other end, or counts a drop. */
  transmit(frame: Uint8Array): void {
    // A frame no longer than MTU + 14 fits whatever its tags; only longer ones need a look.
    if (frame.length > this.mtu + 14 && l3PayloadLength(frame) > this.mtu) {
      this.link.dropped('mtu-exceeded', this.from);
      return;
    }
    const clock = this.clock;
    const now = clock.now();
    // One frame is on the wire; up to `queueFrames` more may wait behind it.
    if (this.inQueue(now) > this.queueFrames) {
      this.link.dropped('queue-full', this.from);
      return;
    }
    const start = Math.max(this.busyUntil, now);
    // As `Link.serialisation`.
    const done = start + Math.round(((frame.length + ETHERNET_WIRE_OVERHEAD) * 8 * 1e9) / this.bandwidth);
    this.push(done);
    const taps = this.taps;
    if (taps !== null) for (let i = 0; i < taps.length; i++) taps[i]!(frame, this.from, start);
    const lost = this.loss > 0 && this.rng.chance(this.loss);
    const generation = this.generation;
    const arrival = done + this.delay;
    if (clock.reserve !== undefined && clock.atReserved !== undefined) {
      // The frame takes its place in the event order now; only the direction's next arrival is
      // queued. Arrivals come in the order frames were sent, except after the link went down and
      // up with frames still in flight (the transmitter starts afresh): such a frame, due before
      // the last one waiting, gets its own event.
      const seq = clock.reserve();
      if (this.inFlight > 0 && arrival < this.lastArrival()) {
        clock.atReserved(arrival, seq, () => this.arrive(frame, generation, lost));
        return;
      }
      this.enqueue(frame, arrival, seq, generation, lost);
      if (!this.armed) this.arm();
      return;
    }
    clock.setTimer(done + this.delay - now, () => this.arrive(frame, generation, lost));
  }

  /** When the transmitter finishes the last frame queued so far. */
  get busyUntil(): Nanos {
    const n = this.doneCount;
    return n > 0 ? this.done[(this.doneHead + n - 1) & (this.done.length - 1)]! : 0;
  }

  /** Frames accepted and not fully transmitted at `now` (finished ones are forgotten lazily, without events). */
  inQueue(now: Nanos): number {
    const done = this.done;
    const mask = done.length - 1;
    let head = this.doneHead;
    let n = this.doneCount;
    while (n > 0 && done[head]! <= now) {
      head = (head + 1) & mask;
      n--;
    }
    this.doneHead = n > 0 ? head : 0;
    this.doneCount = n;
    return n;
  }

  push(doneAt: Nanos): void {
    let done = this.done;
    const n = this.doneCount;
    if (n === done.length) {
      const grown = new Float64Array(n * 2);
      for (let k = 0; k < n; k++) grown[k] = done[(this.doneHead + k) & (n - 1)]!;
      this.done = grown;
      this.doneHead = 0;
      done = grown;
    }
    done[(this.doneHead + n) & (done.length - 1)] = doneAt;
    this.doneCount = n + 1;
  }

  /** When the last frame in flight arrives (there is one). */
  lastArrival(): Nanos {
    return this.meta[((this.first + this.inFlight - 1) % this.frames.length) * 3]!;
  }

  /** Appends a frame in flight. */
  enqueue(frame: Uint8Array, arrival: Nanos, seq: number, generation: number, lost: boolean): void {
    let capacity = this.frames.length;
    if (this.inFlight === capacity) {
      // Full: unroll into a ring twice the size, oldest first.
      const frames: Uint8Array[] = new Array(capacity * 2);
      const meta = new Float64Array(capacity * 6);
      for (let k = 0; k < capacity; k++) {
        const from = (this.first + k) % capacity;
        frames[k] = this.frames[from]!;
        meta.set(this.meta.subarray(from * 3, from * 3 + 3), k * 3);
      }
      this.frames = frames;
      this.meta = meta;
      this.first = 0;
      capacity *= 2;
    }
    const at = (this.first + this.inFlight) % capacity;
    this.frames[at] = frame;
    this.meta[at * 3] = arrival;
    this.meta[at * 3 + 1] = seq;
    this.meta[at * 3 + 2] = lost ? -1 - generation : generation;
    this.inFlight++;
  }

  clear(): void {
    this.doneHead = 0;
    this.doneCount = 0;
  }

  /** Queues the event of the direction's next arrival. */
  arm(): void {
    const m = this.first * 3;
    this.armed = true;
    const clock = this.clock;
    if (clock.requeue !== undefined) clock.requeue(this, this.meta[m]!, this.meta[m + 1]!);
    else clock.atReserved!(this.meta[m]!, this.meta[m + 1]!, () => this.arriveNext());
  }

  arriveNext(): void {
    const i = this.first;
    const frame = this.frames[i]!;
    const tag = this.meta[i * 3 + 2]!;
    this.frames[i] = EMPTY; // delivered frames are not kept alive by the queue
    this.first = (i + 1) % this.frames.length;
    this.inFlight--;
    if (this.inFlight === 0) this.armed = false;
    else this.arm();
    this.arrive(frame, tag < 0 ? -1 - tag : tag, tag < 0);
  }

  arrive(frame: Uint8Array, generation: number, lost: boolean): void {
    if (generation !== this.generation) {
      this.link.dropped('link-down', this.from);
      return;
    }
    if (lost) {
      this.link.dropped('loss', this.from);
      return;
    }
    this.delivered++;
    this.to.deliver(frame);
  }
}

/** L3 payload length of an Ethernet frame: its length less the 14-byte header and any VLAN tags. */
export function l3PayloadLength(frame: Uint8Array): number {
  let offset = 12;
  while (offset + 4 <= frame.length && isVlanTpid(readU16(frame, offset))) offset += 4;
  return frame.length - offset - 2;
}

/** Sees every frame the link accepts, with the time it starts onto the wire. */
export type LinkTap = (frame: Uint8Array, from: Port, start: Nanos) => void;

function invalidProperty(p: LinkProperties): string | null {
  if (p.delay !== undefined && !(Number.isFinite(p.delay) && p.delay >= 0))
    return `delay ${p.delay} is not a duration >= 0`;
  if (p.bandwidth !== undefined && !(Number.isFinite(p.bandwidth) && p.bandwidth > 0))
    return `bandwidth ${p.bandwidth} is not a rate > 0`;
  if (p.mtu !== undefined && !(Number.isInteger(p.mtu) && p.mtu >= 68))
    return `MTU ${p.mtu} is below IPv4's minimum of 68 (RFC 791)`;
  if (p.queueFrames !== undefined && !(Number.isInteger(p.queueFrames) && p.queueFrames >= 0))
    return `queue ${p.queueFrames} is not a count`;
  if (p.loss !== undefined && !(p.loss >= 0 && p.loss <= 1)) return `loss ${p.loss} is not a probability`;
  return null;
}

export class Link {
  up = true;
  private readonly ab: Direction;
  private readonly ba: Direction;
  readonly delay: Nanos;
  readonly bandwidth: number;
  readonly mtu: number;
  readonly queueFrames: number;
  readonly drops: DropCounters = {};
  /** Frames delivered to either end. */
  get delivered(): number {
    return this.ab.delivered + this.ba.delivered;
  }
  private taps: LinkTap[] = [];
  /** Told of every frame the link drops, with the reason (the network sets it when tracing). */
  onDrop: ((reason: string, from: Port) => void) | null = null;

  constructor(
    readonly a: Port,
    readonly b: Port,
    clock: Clock,
    rng: Rng,
    properties: LinkProperties = {},
  ) {
    if (a.link || b.link) throw new Error(`port ${a.link ? a.id : b.id} is already linked`);
    const bad = invalidProperty(properties);
    if (bad) throw new RangeError(`link ${a.id}--${b.id}: ${bad}`);
    this.delay = properties.delay ?? DEFAULT_LINK.delay;
    this.bandwidth = properties.bandwidth ?? DEFAULT_LINK.bandwidth;
    this.mtu = properties.mtu ?? DEFAULT_LINK.mtu;
    this.queueFrames = properties.queueFrames ?? DEFAULT_LINK.queueFrames;
    a.link = this;
    b.link = this;
    this.ab = new Direction(this, a, b, clock, rng);
    this.ba = new Direction(this, b, a, clock, rng);
    this.loss = properties.loss ?? DEFAULT_LINK.loss;
  }

  other(port: Port): Port {
    return port === this.a ? this.b : this.a;
  }

  /** Time to clock `bytes` onto the wire at this link's bandwidth. */
  serialisation(bytes: number): Nanos {
    return Math.round(((bytes + ETHERNET_WIRE_OVERHEAD) * 8 * 1e9) / this.bandwidth);
  }

  /** Called by `from.send`. Schedules delivery at the other end, or counts a drop. */
  transmit(from: Port, frame: Uint8Array): void {
    if (!this.up) {
      this.dropped('link-down', from);
      return;
    }
    (from === this.a ? this.ab : this.ba).transmit(frame);
  }

  /** The probability that a frame is lost, 0..1 (may be changed while the link runs). */
  get loss(): number {
    return this.ab.loss;
  }

  set loss(loss: number) {
    this.ab.loss = loss;
    this.ba.loss = loss;
  }

  /** Observes every frame put on the wire (after the MTU and queue checks). Returns a function that removes the tap. */
  tap(fn: LinkTap): () => void {
    this.setTaps([...this.taps, fn]);
    return () => {
      this.setTaps(this.taps.filter((t) => t !== fn));
    };
  }

  private setTaps(taps: LinkTap[]): void {
    this.taps = taps;
    this.ab.taps = taps.length > 0 ? taps : null;
    this.ba.taps = this.ab.taps;
  }

  /** Counts a drop (a direction reports its own through this). */
  dropped(reason: string, from: Port): void {
    countDrop(this.drops, reason);
    this.onDrop?.(reason, from);
  }

  /** The properties this link was made with (to make another like it: a VM's new cable after a move). */
  get properties(): Required<LinkProperties> {
    return {
      delay: this.delay,
      bandwidth: this.bandwidth,
      mtu: this.mtu,
      queueFrames: this.queueFrames,
      loss: this.loss,
    };
  }

  /** Whether the link has been unplugged by `detach`. */
  detached = false;

  /**
   * Unplugs the cable: the link goes down (frames in flight are lost, both ends see the carrier
   * drop) and both ports are left unlinked, free for another link. A detached link stays down.
   */
  detach(): void {
    this.setUp(false);
    this.detached = true;
    if (this.a.link === this) this.a.link = null;
    if (this.b.link === this) this.b.link = null;
  }

  setUp(up: boolean): void {
    if (up && this.detached) return;
    if (this.up === up) return;
    this.up = up;
    if (!up) {
      this.ab.generation++; // frames in flight are lost
      this.ba.generation++;
      this.ab.clear();
      this.ba.clear();
    }
    this.a.onLinkChange(up, this.a);
    this.b.onLinkChange(up, this.b);
  }
}
