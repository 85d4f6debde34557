/**
 * A switch's MAC address table (IEEE 802.1Q filtering database): (VLAN, MAC) -> port, learned
 * from source addresses, aged out after `agingTime` without traffic (default 300 s, as IEEE 802.1D
 * recommends), bounded by `capacity` (when full, new addresses are not learned: the overflow is
 * counted and frames to them keep flooding, the behaviour a MAC-flooding attack exploits).
 *
 * Aging is lazy (an entry past its age is treated as absent and removed when met), so the table
 * costs no timer events.
 *
 * The table is an open-addressing hash table in typed arrays (keys, VLANs, ports, last-seen times
 * side by side), so a lookup touches a cache line or two and allocates nothing, however many
 * switches and entries a fabric has: a JavaScript Map of 48-bit MACs keeps each key in a heap
 * number and each entry in an object of its own. Linear probing; deleted slots are tombstones,
 * reused by later inserts and cleared when the table is rebuilt.
 */
import type { Nanos } from '../sim/index.js';
import { formatMac, type Mac } from '../wire/index.js';

export type LearnResult = 'learned' | 'refreshed' | 'moved' | 'table-full';

/** Slot markers in the VLAN array (VLANs themselves are 0..4095). */
const EMPTY = -1;
const DELETED = -2;
const MIN_SLOTS = 16;

/** A slot index for (vlan, mac) among `mask + 1` slots. */
function slotOf(vlan: number, mac: Mac, mask: number): number {
  let h = (mac >>> 0) ^ Math.imul(Math.floor(mac / 0x1_0000_0000) | (vlan << 16), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

export class MacTable {
  private keys = new Float64Array(MIN_SLOTS);
  private vlans = new Int16Array(MIN_SLOTS).fill(EMPTY);
  private ports = new Int32Array(MIN_SLOTS);
  private seen = new Float64Array(MIN_SLOTS);
  private count = 0;
  private deleted = 0;
  /** Port names by number, and their numbers. */
  private readonly portNames: string[] = [];
  private readonly portIds = new Map<string, number>();
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

  /** The slot holding (vlan, mac), or -1. */
  private find(vlan: number, mac: Mac): number {
    const vlans = this.vlans;
    const mask = vlans.length - 1;
    for (let i = slotOf(vlan, mac, mask); ; i = (i + 1) & mask) {
      const v = vlans[i]!;
      if (v === EMPTY) return -1;
      if (v === vlan && this.keys[i] === mac) return i;
    }
  }

  private remove(slot: number): void {
    this.vlans[slot] = DELETED;
    this.count--;
    this.deleted++;
  }

  /** The port for (vlan, mac), or undefined if unknown or aged out. */
  lookup(vlan: number, mac: Mac, now: Nanos): string | undefined {
    const slot = this.find(vlan, mac);
    if (slot < 0) return undefined;
    if (now - this.seen[slot]! > this.aging(now)) {
      this.remove(slot);
      return undefined;
    }
    return this.portNames[this.ports[slot]!];
  }

  learn(vlan: number, mac: Mac, port: string, now: Nanos): LearnResult {
    let slot = this.find(vlan, mac);
    if (slot >= 0 && now - this.seen[slot]! > this.aging(now)) {
      this.remove(slot); // aged out: what follows is a new entry, not a refresh or a move
      slot = -1;
    }
    const id = this.portId(port);
    if (slot >= 0) {
      this.seen[slot] = now;
      if (this.ports[slot] === id) return 'refreshed';
      this.ports[slot] = id;
      return 'moved';
    }
    if (this.count >= this.capacity) {
      if (this.mayHaveExpired(now)) this.expire(now); // a full table under a MAC flood does not rescan per frame
      if (this.count >= this.capacity) {
        this.overflows++;
        return 'table-full';
      }
    }
    if ((this.count + this.deleted + 1) * 2 > this.vlans.length) this.rebuild(this.count + 1);
    const vlans = this.vlans;
    const mask = vlans.length - 1;
    let i = slotOf(vlan, mac, mask);
    while (vlans[i]! >= 0) i = (i + 1) & mask;
    if (vlans[i] === DELETED) this.deleted--;
    vlans[i] = vlan;
    this.keys[i] = mac;
    this.ports[i] = id;
    this.seen[i] = now;
    this.count++;
    return 'learned';
  }

  private portId(port: string): number {
    let id = this.portIds.get(port);
    if (id === undefined) {
      id = this.portNames.length;
      this.portNames.push(port);
      this.portIds.set(port, id);
    }
    return id;
  }

  /** Rehashes every live entry into a table with room for `entries` at half load, tombstones gone. */
  private rebuild(entries: number): void {
    let slots = MIN_SLOTS;
    while (slots < entries * 2) slots *= 2;
    const { keys, vlans, ports, seen } = this;
    this.keys = new Float64Array(slots);
    this.vlans = new Int16Array(slots).fill(EMPTY);
    this.ports = new Int32Array(slots);
    this.seen = new Float64Array(slots);
    this.deleted = 0;
    const mask = slots - 1;
    for (let j = 0; j < vlans.length; j++) {
      const v = vlans[j]!;
      if (v < 0) continue;
      let i = slotOf(v, keys[j]!, mask);
      while (this.vlans[i] !== EMPTY) i = (i + 1) & mask;
      this.vlans[i] = v;
      this.keys[i] = keys[j]!;
      this.ports[i] = ports[j]!;
      this.seen[i] = seen[j]!;
    }
  }

  /** Removes every entry older than the aging time; returns how many. */
  expire(now: Nanos): number {
    let removed = 0;
    let oldest = now;
    const age = this.aging(now);
    const vlans = this.vlans;
    for (let i = 0; i < vlans.length; i++) {
      if (vlans[i]! < 0) continue;
      const seen = this.seen[i]!;
      if (now - seen > age) {
        this.remove(i);
        removed++;
      } else if (seen < oldest) {
        oldest = seen;
      }
    }
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
    this.vlans.fill(EMPTY);
    this.count = 0;
    this.deleted = 0;
    return removed;
  }

  /** Forgets every entry on a port (link down, topology change). */
  flushPort(port: string): number {
    const id = this.portIds.get(port);
    if (id === undefined) return 0;
    let removed = 0;
    const vlans = this.vlans;
    for (let i = 0; i < vlans.length; i++) {
      if (vlans[i]! >= 0 && this.ports[i] === id) {
        this.remove(i);
        removed++;
      }
    }
    return removed;
  }

  /** Live entries, sorted by VLAN then MAC, with their age in ns. */
  entries(now: Nanos): { vlan: number; mac: string; port: string; age: Nanos }[] {
    const out: { vlan: number; mac: string; port: string; age: Nanos; key: Mac }[] = [];
    const age = this.aging(now);
    const vlans = this.vlans;
    for (let i = 0; i < vlans.length; i++) {
      const v = vlans[i]!;
      if (v < 0 || now - this.seen[i]! > age) continue;
      const key = this.keys[i]!;
      out.push({
        vlan: v,
        mac: formatMac(key),
        port: this.portNames[this.ports[i]!]!,
        age: now - this.seen[i]!,
        key,
      });
    }
    out.sort((a, b) => a.vlan - b.vlan || a.key - b.key);
    return out.map(({ key: _key, ...rest }) => rest);
  }
}
