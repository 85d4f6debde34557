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
import type { Port, Transmitter } from './port.js';

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

/** Doubles per in-flight slot: arrival time, sequence number, generation tag, transmit-done time. */
const SLOT = 4;
const MIN_RING = 2;
/**
 * The ring of a direction that never had two frames in flight: none (most links of a large fabric
 * carry one frame at a time). Its slots would be an ArrayBuffer each, and a fabric of hundreds of
 * thousands of links allocating those at once makes V8 collect its whole heap for every 64 MB of
 * them (external memory pressure).
 */
const NO_FRAMES: Uint8Array[] = [];
const NO_SLOTS = new Float64Array(0);

/**
 * One direction's transmitter and the frames it has in flight.
 *
 * On a clock that can reserve event order, only the next arrival of the frames in flight (a FIFO:
 * they arrive in the order they were sent) is in the scheduler's queue; on a clock that can
 * `requeue`, the direction is itself that event (`QueuedEvent`), so running an arrival touches the
 * direction and no event object besides. The next frame to arrive is kept in the direction's own
 * fields (a link that carries one frame at a time touches nothing else); the frames behind it wait
 * in a ring, each with a slot in one typed array: its arrival time, its place in the event order,
 * the link generation it left in (negative when the frame is lost) and the time it finishes
 * serialising. The transmit queue is the frames in flight still serialising (the newest ones).
 *
 * Frames outside the ring (on a clock without reserved order, or due before the frames still in
 * flight from before a link flap: each gets its own event) keep their transmit-done times in a
 * second ring, allocated when first needed.
 */
class Direction implements QueuedEvent, Transmitter {
  // Fields in the order of use (measured: an object spans several cache lines, and each line a
  // frame touches is a likely miss on a large fabric): what an arrival and a transmission both
  // read first; then the rest of an arrival's; then the rest of a transmission's (the link's
  // properties); then the ring of frames in flight, which only a busy link reads; then what no
  // frame reads.

  // As a QueuedEvent: the scheduler calls `fn` on `self` (its key, time and sequence, is its own).
  queued = false;
  readonly cancelled = false;
  readonly fn: () => void = Direction.prototype.arriveNext;
  readonly self: Direction = this;
  /** The next frame to arrive (null: none in flight) and its generation tag. */
  next: Uint8Array | null = null;
  /** The link's state, read by the sending port (kept here so that a frame touches the direction, not the link). */
  up = true;
  nextTag = 0;
  /**
   * The frames behind `next`: frame `a` (a count of frames put in the ring since the start) sits
   * in `frames[a & mask]` and its slot at `SLOT * (a & mask)` of `slots`. Waiting: [head, tail);
   * no frame before `txHead` is still serialising (advanced lazily).
   */
  head = 0;
  tail = 0;
  readonly to: Port;
  /** The link's generation (both directions count its downs alike) and the frames delivered. */
  generation = 0;
  delivered = 0;
  /** The link's properties, copied here so that sending a frame reads the direction only. */
  readonly mtu: number;
  readonly bandwidth: number;
  readonly delay: Nanos;
  private readonly clock: Clock;
  /** Transmit-done times of frames outside the ring: how many (the times are below). */
  private doneCount = 0;
  /** null while nothing taps the link, so sending reads no list. */
  taps: LinkTap[] | null = null;
  /** Set by the link. */
  loss = 0;
  /** When `next` arrives and finishes serialising. */
  nextArrival = 0;
  nextDone = 0;
  /** The ring's capacity less one (-1: no ring yet, allocated by the first frame behind `next`). */
  mask = -1;
  frames: Uint8Array[] = NO_FRAMES;
  slots: Float64Array = NO_SLOTS;
  txHead = 0;
  /** Transmit-done times of frames outside the ring, oldest first (null until there is one). */
  private done: Float64Array | null = null;
  private doneHead = 0;
  readonly queueFrames: number;
  readonly link: Link;
  readonly from: Port;
  private readonly rng: Rng;

  constructor(link: Link, from: Port, to: Port, clock: Clock, rng: Rng) {
    this.link = link;
    this.from = from;
    this.to = to;
    this.clock = clock;
    this.rng = rng;
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
    if (this.next !== null || this.doneCount > 0) {
      if (this.inQueue(now) > this.queueFrames) {
        this.link.dropped('queue-full', this.from);
        return;
      }
    }
    const start = Math.max(this.busyUntil(), now);
    // As `Link.serialisation`.
    const done = start + Math.round(((frame.length + ETHERNET_WIRE_OVERHEAD) * 8 * 1e9) / this.bandwidth);
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
      const tag = lost ? -1 - generation : generation;
      if (this.next === null) {
        this.next = frame;
        this.nextTag = tag;
        this.nextArrival = arrival;
        this.nextDone = done;
        this.arm(arrival, seq);
        return;
      }
      if (arrival < this.lastArrival()) {
        this.pushOutside(done);
        clock.atReserved(arrival, seq, () => this.arrive(frame, generation, lost));
        return;
      }
      this.enqueue(frame, arrival, seq, tag, done);
      return;
    }
    this.pushOutside(done);
    clock.setTimer(done + this.delay - now, () => this.arrive(frame, generation, lost));
  }

  /** Frames accepted and not fully transmitted at `now`. */
  private inQueue(now: Nanos): number {
    const next = this.next !== null && this.nextDone > now ? 1 : 0;
    return next + this.inRing(now) + (this.doneCount > 0 ? this.outsideQueue(now) : 0);
  }

  /** Frames of the ring still serialising at `now` (advancing `txHead` past those done). */
  private inRing(now: Nanos): number {
    let a = Math.max(this.txHead, this.head);
    const tail = this.tail;
    if (a < tail) {
      const slots = this.slots;
      const mask = this.mask;
      while (a < tail && slots[SLOT * (a & mask) + 3]! <= now) a++;
    }
    this.txHead = a;
    return tail - a;
  }

  /**
   * When the transmitter finishes the last frame accepted so far, or a time not after now when it
   * is idle (frames from before a link flap count as done: their times were zeroed).
   */
  private busyUntil(): Nanos {
    let until = 0;
    if (this.next !== null)
      until = this.tail > this.head ? this.slots[SLOT * ((this.tail - 1) & this.mask) + 3]! : this.nextDone;
    const n = this.doneCount;
    if (n === 0) return until;
    const done = this.done!;
    return Math.max(until, done[(this.doneHead + n - 1) & (done.length - 1)]!);
  }

  /** When the last frame in flight arrives (there is one). */
  private lastArrival(): Nanos {
    return this.tail > this.head ? this.slots[SLOT * ((this.tail - 1) & this.mask)]! : this.nextArrival;
  }

  /** Frames outside the ring still serialising at `now` (finished ones are forgotten lazily). */
  private outsideQueue(now: Nanos): number {
    const done = this.done!;
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

  private pushOutside(doneAt: Nanos): void {
    let done = this.done;
    const n = this.doneCount;
    if (done === null || n === done.length) {
      const grown = new Float64Array(done === null ? 8 : n * 2);
      for (let k = 0; k < n; k++) grown[k] = done![(this.doneHead + k) & (n - 1)]!;
      this.done = grown;
      this.doneHead = 0;
      done = grown;
    }
    done[(this.doneHead + n) & (done.length - 1)] = doneAt;
    this.doneCount = n + 1;
  }

  /** Appends a frame behind `next`. */
  private enqueue(frame: Uint8Array, arrival: Nanos, seq: number, tag: number, done: Nanos): void {
    if (this.tail - this.head > this.mask) this.grow();
    const at = this.tail & this.mask;
    this.frames[at] = frame;
    const slots = this.slots;
    slots[SLOT * at] = arrival;
    slots[SLOT * at + 1] = seq;
    slots[SLOT * at + 2] = tag;
    slots[SLOT * at + 3] = done;
    this.tail++;
  }

  /** Doubles the ring (or makes the first one), each frame at its count's place in the larger one. */
  private grow(): void {
    const capacity = Math.max(MIN_RING, 2 * (this.mask + 1));
    const mask = capacity - 1;
    const frames: Uint8Array[] = new Array(capacity);
    const slots = new Float64Array(capacity * SLOT);
    for (let a = this.head; a < this.tail; a++) {
      const from = a & this.mask;
      frames[a & mask] = this.frames[from]!;
      slots.set(this.slots.subarray(SLOT * from, SLOT * from + SLOT), SLOT * (a & mask));
    }
    this.frames = frames;
    this.slots = slots;
    this.mask = mask;
  }

  /** The link went down: the transmitter starts afresh (the frames in flight are lost on arrival). */
  clear(): void {
    this.nextDone = 0;
    for (let a = this.head; a < this.tail; a++) this.slots[SLOT * (a & this.mask) + 3] = 0;
    this.doneHead = 0;
    this.doneCount = 0;
  }

  /** Queues the event of the direction's next arrival. */
  private arm(arrival: Nanos, seq: number): void {
    const clock = this.clock;
    if (clock.requeue !== undefined) clock.requeue(this, arrival, seq);
    else clock.atReserved!(arrival, seq, () => this.arriveNext());
  }

  /** The event: delivers `next`, and queues the arrival of the frame behind it. */
  arriveNext(): void {
    const frame = this.next!;
    const tag = this.nextTag;
    if (this.tail > this.head) {
      const i = this.head & this.mask;
      const m = SLOT * i;
      const slots = this.slots;
      this.next = this.frames[i]!;
      this.frames[i] = EMPTY; // delivered frames are not kept alive by the ring
      this.nextArrival = slots[m]!;
      this.nextTag = slots[m + 2]!;
      this.nextDone = slots[m + 3]!;
      this.head++;
      this.arm(this.nextArrival, slots[m + 1]!);
    } else this.next = null;
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
    a.tx = this.ab;
    b.tx = this.ba;
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
    if (this.a.link === this) {
      this.a.link = null;
      this.a.tx = null;
    }
    if (this.b.link === this) {
      this.b.link = null;
      this.b.tx = null;
    }
  }

  setUp(up: boolean): void {
    if (up && this.detached) return;
    if (this.up === up) return;
    this.up = up;
    this.ab.up = up;
    this.ba.up = up;
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
