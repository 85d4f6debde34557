/**
 * A port: one network interface of a device, attached to at most one link. The device receives
 * its frames (`setReceiver`, a direct call), or a handler does (`onReceive`); `send` hands a frame
 * to the link. A frame given to `send` must not be modified afterwards (the link may deliver it
 * later, and captures keep it).
 *
 * Counters follow the interface MIB's spirit: frames and bytes in each direction, and drops by
 * reason (`no-link`, `link-down`, `mtu-exceeded`, `queue-full`, `loss` are counted where they
 * happen: on the sending port for the first two, on the link for the rest).
 */
import { countDrop, type DropCounters } from './clock.js';
import type { Link } from './link.js';

export type FrameHandler = (frame: Uint8Array, port: Port) => void;

/** What a linked port sends through: its link's direction away from it. */
export interface Transmitter {
  /** Whether the link is up. */
  readonly up: boolean;
  transmit(frame: Uint8Array): void;
}

/** What a device gives `Port.setReceiver`: it is called directly, with no closure per port. */
export interface FrameReceiver {
  receiveFrame(frame: Uint8Array, port: Port): void;
}
export type PortTap = (frame: Uint8Array, direction: 'rx' | 'tx', port: Port) => void;
export type LinkChangeHandler = (up: boolean, port: Port) => void;

export interface PortCounters {
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
}

const ignore: FrameHandler = () => {};

export class Port {
  // Fields in the order of use: what sending and receiving a frame read comes first.

  /** The link's direction away from this port, set with `link`: sending reads no link object. */
  tx: Transmitter | null = null;
  /** Received frames go to `receiver` when there is one, else to `handler` (`onReceive`). */
  private receiver: FrameReceiver | null = null;
  /**
   * The owning device's record for this port (a switch's VLAN state, a host's interface), which
   * the device reads for every frame from the port it has in hand instead of from an array of its
   * own; null until the device sets it.
   */
  deviceState: unknown = null;
  // Counted on the port itself (one object fewer to touch per frame); `counters` reads them.
  private rxFrames = 0;
  private rxBytes = 0;
  private txFrames = 0;
  private txBytes = 0;
  /** null while nothing taps the port, so the per-frame check reads nothing more. */
  private taps: PortTap[] | null = null;
  private handler: FrameHandler = ignore;
  link: Link | null = null;
  /** Position among the device's ports (a device indexes its per-port state by it); -1 for a bare port. */
  readonly index: number;
  /** Name of the device that owns the port. */
  readonly owner: string;
  /** Port name on that device, e.g. `eth0` or `1`. */
  readonly name: string;
  /** Called when the port's link goes up or down (carrier). */
  onLinkChange: LinkChangeHandler = () => {};
  readonly drops: DropCounters = {};

  constructor(owner: string, name: string, index = -1) {
    this.owner = owner;
    this.name = name;
    this.index = index;
  }

  /** What the port does with a received frame; setting it replaces a receiver. */
  get onReceive(): FrameHandler {
    const r = this.receiver;
    return r === null ? this.handler : (frame, port) => r.receiveFrame(frame, port);
  }

  set onReceive(handler: FrameHandler) {
    this.handler = handler;
    this.receiver = null;
  }

  /** Hands received frames to `receiver.receiveFrame` (a device's ports). */
  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  /** Frames and bytes in each direction so far. */
  get counters(): PortCounters {
    return { txFrames: this.txFrames, txBytes: this.txBytes, rxFrames: this.rxFrames, rxBytes: this.rxBytes };
  }

  get id(): string {
    return `${this.owner}:${this.name}`;
  }

  /** The port at the other end of the link, if any. */
  get peer(): Port | null {
    return this.link ? this.link.other(this) : null;
  }

  get isUp(): boolean {
    return this.tx?.up === true;
  }

  send(frame: Uint8Array): void {
    const tx = this.tx;
    if (tx === null) {
      countDrop(this.drops, 'no-link');
      return;
    }
    if (!tx.up) {
      countDrop(this.drops, 'link-down');
      return;
    }
    this.txFrames++;
    this.txBytes += frame.length;
    const taps = this.taps;
    if (taps !== null) for (const tap of taps) tap(frame, 'tx', this);
    tx.transmit(frame);
  }

  /** Called by the link when a frame arrives. */
  deliver(frame: Uint8Array): void {
    this.rxFrames++;
    this.rxBytes += frame.length;
    const taps = this.taps;
    if (taps !== null) for (const tap of taps) tap(frame, 'rx', this);
    const receiver = this.receiver;
    if (receiver !== null) receiver.receiveFrame(frame, this);
    else this.handler(frame, this);
  }

  /** Observes every frame sent and received here (captures, traces). Returns a function that removes the tap. */
  tap(fn: PortTap): () => void {
    this.taps = [...(this.taps ?? []), fn];
    return () => {
      const left = (this.taps ?? []).filter((t) => t !== fn);
      this.taps = left.length > 0 ? left : null;
    };
  }
}
