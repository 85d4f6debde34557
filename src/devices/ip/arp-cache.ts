/**
 * An ARP cache (RFC 826) as Linux keeps one: IPv4 -> MAC entries with a lifetime, learned from
 * replies, from requests addressed to us (the requester will talk to us next), and refreshed by
 * any ARP (including gratuitous ARP, RFC 5227) from a sender already in the cache. Packets for an
 * unresolved next hop wait in a bounded queue while requests are retried; when resolution gives
 * up, the queue is handed back so the stack can report the failure.
 */
import type { Nanos, Timer } from '../../sim/index.js';
import { formatIpv4, formatMac, type Ipv4, type Mac } from '../../wire/index.js';

export interface ArpEntry {
  readonly ip: Ipv4;
  mac: Mac;
  updated: Nanos;
}

export interface PendingResolution {
  readonly ip: Ipv4;
  readonly packets: Uint8Array[];
  attempts: number;
  timer: Timer | null;
}

export interface ArpOptions {
  /** Entry lifetime, ns (default 60 s). */
  readonly timeout?: Nanos;
  /** Requests sent before giving up (default 3). */
  readonly attempts?: number;
  /** Time between requests, ns (default 1 s). */
  readonly retryInterval?: Nanos;
  /** Packets that may wait per unresolved address (default 100). */
  readonly queueLimit?: number;
}

export class ArpCache {
  readonly timeout: Nanos;
  readonly attempts: number;
  readonly retryInterval: Nanos;
  readonly queueLimit: number;
  private readonly entries = new Map<Ipv4, ArpEntry>();
  /** `entries.size`, kept beside the Map: a station's empty cache answers without reading the Map. */
  private count = 0;
  /** Resolutions in progress, by IP: changed through `startResolution` and `endResolution`. */
  private readonly waiting = new Map<Ipv4, PendingResolution>();
  /** `waiting.size`, kept beside the Map (as `count`). */
  private waitingCount = 0;

  constructor(options: ArpOptions = {}) {
    this.timeout = options.timeout ?? 60e9;
    this.attempts = options.attempts ?? 3;
    this.retryInterval = options.retryInterval ?? 1e9;
    this.queueLimit = options.queueLimit ?? 100;
  }

  /** The resolutions in progress (packets waiting for a reply, retries), by IP. */
  get pending(): ReadonlyMap<Ipv4, PendingResolution> {
    return this.waiting;
  }

  /** Whether `ip` is being resolved; reads no Map while nothing is (a station hears many requests for others). */
  isResolving(ip: Ipv4): boolean {
    return this.waitingCount !== 0 && this.waiting.has(ip);
  }

  /** Starts resolving `ip` (not being resolved already): its waiting packets and retries. */
  startResolution(ip: Ipv4): PendingResolution {
    const resolution: PendingResolution = { ip, packets: [], attempts: 0, timer: null };
    this.waiting.set(ip, resolution);
    this.waitingCount = this.waiting.size;
    return resolution;
  }

  /** Ends the resolution of `ip` (answered or given up), returning it if there was one. */
  endResolution(ip: Ipv4): PendingResolution | undefined {
    const resolution = this.waiting.get(ip);
    if (resolution === undefined) return undefined;
    this.waiting.delete(ip);
    this.waitingCount = this.waiting.size;
    return resolution;
  }

  lookup(ip: Ipv4, now: Nanos): Mac | undefined {
    if (this.count === 0) return undefined;
    const e = this.entries.get(ip);
    if (e === undefined) return undefined;
    if (now - e.updated > this.timeout) {
      this.entries.delete(ip);
      this.count = this.entries.size;
      return undefined;
    }
    return e.mac;
  }

  has(ip: Ipv4, now: Nanos): boolean {
    return this.lookup(ip, now) !== undefined;
  }

  /** Creates or refreshes an entry. Returns true when the MAC changed or the entry is new. */
  set(ip: Ipv4, mac: Mac, now: Nanos): boolean {
    const e = this.entries.get(ip);
    if (e !== undefined && now - e.updated <= this.timeout) {
      const changed = e.mac !== mac;
      e.mac = mac;
      e.updated = now;
      return changed;
    }
    this.entries.set(ip, { ip, mac, updated: now });
    this.count = this.entries.size;
    return true;
  }

  delete(ip: Ipv4): boolean {
    const deleted = this.entries.delete(ip);
    this.count = this.entries.size;
    return deleted;
  }

  /** Live entries sorted by IP, for `show arp`. */
  table(now: Nanos): { ip: string; mac: string; age: Nanos }[] {
    return [...this.entries.values()]
      .filter((e) => now - e.updated <= this.timeout)
      .sort((a, b) => a.ip - b.ip)
      .map((e) => ({ ip: formatIpv4(e.ip), mac: formatMac(e.mac), age: now - e.updated }));
  }

  get size(): number {
    return this.entries.size;
  }
}
