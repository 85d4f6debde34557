/**
 * A switch's MAC address table (IEEE 802.1Q filtering database): (VLAN, MAC) -> port, learned
 * from source addresses, aged out after `agingTime` without traffic (default 300 s, as IEEE 802.1D
 * recommends), bounded by `capacity` (when full, new addresses are not learned: the overflow is
 * counted and frames to them keep flooding, the behaviour a MAC-flooding attack exploits).
 *
 * Aging is lazy (an entry past its age is treated as absent and removed when met), so the table
 * costs no timer events.
 */
import type { Nanos } from '../sim/index.js';
import { formatMac, type Mac } from '../wire/index.js';

export interface MacEntry {
  readonly vlan: number;
  readonly mac: Mac;
  port: string;
  lastSeen: Nanos;
}

export type LearnResult = 'learned' | 'refreshed' | 'moved' | 'table-full';

export class MacTable {
  private readonly byVlan = new Map<number, Map<Mac, MacEntry>>();
  private count = 0;
  /** Learning attempts refused because the table was full. */
  overflows = 0;
  /** During a topology change entries age faster (802.1D 8.3.5): this age applies until `shortUntil`. */
  private shortAge = 0;
  private shortUntil = -1;
  /** No entry was last seen before this (entries only get newer; a scan recomputes it). */
  private oldestSeen = 0;

  constructor(
    readonly capacity = 8192,
    readonly agingTime: Nanos = 300e9,
  ) {}

  /** Ages entries after `age` ns instead of `agingTime` until virtual time `until`. */
  shortenAging(until: Nanos, age: Nanos): void {
    this.shortUntil = until;
    this.shortAge = age;
  }

  /** The aging time in force at `now`. */
  private aging(now: Nanos): Nanos {
    return now < this.shortUntil ? Math.min(this.shortAge, this.agingTime) : this.agingTime;
  }

  get size(): number {
    return this.count;
  }

  /** The port for (vlan, mac), or undefined if unknown or aged out. */
  lookup(vlan: number, mac: Mac, now: Nanos): string | undefined {
    const entry = this.byVlan.get(vlan)?.get(mac);
    if (entry === undefined) return undefined;
    if (now - entry.lastSeen > this.aging(now)) {
      this.delete(entry);
      return undefined;
    }
    return entry.port;
  }

  learn(vlan: number, mac: Mac, port: string, now: Nanos): LearnResult {
    let macs = this.byVlan.get(vlan);
    let entry = macs?.get(mac);
    if (entry !== undefined && now - entry.lastSeen > this.aging(now)) {
      this.delete(entry); // aged out: what follows is a new entry, not a refresh or a move
      entry = undefined;
    }
    if (entry !== undefined) {
      entry.lastSeen = now;
      if (entry.port === port) return 'refreshed';
      entry.port = port;
      return 'moved';
    }
    if (this.count >= this.capacity) {
      if (this.mayHaveExpired(now)) this.expire(now); // a full table under a MAC flood does not rescan per frame
      if (this.count >= this.capacity) {
        this.overflows++;
        return 'table-full';
      }
    }
    if (macs === undefined) {
      macs = new Map();
      this.byVlan.set(vlan, macs);
    }
    macs.set(mac, { vlan, mac, port, lastSeen: now });
    this.count++;
    return 'learned';
  }

  /** Removes every entry older than the aging time; returns how many. */
  expire(now: Nanos): number {
    let removed = 0;
    let oldest = now;
    for (const macs of this.byVlan.values()) {
      for (const entry of macs.values()) {
        if (now - entry.lastSeen > this.aging(now)) {
          macs.delete(entry.mac);
          removed++;
        } else if (entry.lastSeen < oldest) {
          oldest = entry.lastSeen;
        }
      }
    }
    this.count -= removed;
    this.oldestSeen = oldest;
    return removed;
  }

  /** True when some entry may have aged out: `oldestSeen` is a lower bound of every entry's last sighting. */
  private mayHaveExpired(now: Nanos): boolean {
    return now - this.oldestSeen > this.aging(now);
  }

  /** Forgets every entry (a topology change). */
  flush(): number {
    const removed = this.count;
    this.byVlan.clear();
    this.count = 0;
    return removed;
  }

  /** Forgets every entry on a port (link down, topology change). */
  flushPort(port: string): number {
    let removed = 0;
    for (const macs of this.byVlan.values()) {
      for (const entry of macs.values()) {
        if (entry.port === port) {
          macs.delete(entry.mac);
          removed++;
        }
      }
    }
    this.count -= removed;
    return removed;
  }

  private delete(entry: MacEntry): void {
    if (this.byVlan.get(entry.vlan)?.delete(entry.mac)) this.count--;
  }

  /** Live entries, sorted by VLAN then MAC, with their age in ns. */
  entries(now: Nanos): { vlan: number; mac: string; port: string; age: Nanos }[] {
    const out: { vlan: number; mac: string; port: string; age: Nanos; key: Mac }[] = [];
    for (const macs of this.byVlan.values()) {
      for (const e of macs.values()) {
        if (now - e.lastSeen <= this.aging(now))
          out.push({ vlan: e.vlan, mac: formatMac(e.mac), port: e.port, age: now - e.lastSeen, key: e.mac });
      }
    }
    out.sort((a, b) => a.vlan - b.vlan || a.key - b.key);
    return out.map(({ key: _key, ...rest }) => rest);
  }
}
