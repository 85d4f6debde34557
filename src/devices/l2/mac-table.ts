/**
 * A switch's MAC address table (IEEE 802.1Q filtering database): (VLAN, MAC) -> port, learned
 * from source addresses, aged out after `agingTime` without traffic (default 300 s, as IEEE 802.1D
 * recommends), bounded by `capacity` (when full, new addresses are not learned: the overflow is
 * counted and frames to them keep flooding, the behaviour a MAC-flooding attack exploits).
 *
 * Aging is lazy (an entry past its age is treated as absent and removed when met), so the table
 * costs no timer events.
 *
 * The table is an open-addressing hash table in one typed array, a slot's MAC, last-seen time and
 * state (VLAN and port, or empty, or deleted) side by side in 24 bytes, so a lookup touches a
 * cache line or two and allocates nothing, however many switches and entries a fabric has: a
 * JavaScript Map of 48-bit MACs keeps each key in a heap number and each entry in an object of its
 * own. Linear probing; deleted slots are tombstones, reused by later inserts and cleared when the
 * table is rebuilt. Ports are numbered in the order the table first meets them; a switch learns
 * and looks up by those numbers (`portId`, `learnId`, `lookupId`) without a name per frame.
 */
import type { Nanos } from '../../sim/index.js';
import { formatMac, type Mac } from '../../wire/index.js';

export type LearnResult = 'learned' | 'refreshed' | 'moved' | 'table-full';

/**
 * Slot states: a live slot holds `LIVE + port * 4096 + vlan` (VLANs being 0..4095); a new typed
 * array is all zeros, so all empty.
 */
const EMPTY = 0;
const DELETED = 1;
const LIVE = 2;
const MIN_SLOTS = 16;
/** Doubles per slot: MAC, last seen, state. */
const W = 3;

/** A slot index for (vlan, mac) among `mask + 1` slots (the overlay's bridge domains use VLAN 0). */
export function slotOf(vlan: number, mac: Mac, mask: number): number {
  let h = (mac >>> 0) ^ Math.imul(Math.floor(mac / 0x1_0000_0000) | (vlan << 16), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

/**
 * The entries a table growing to hold `needed` makes room for: twice as many, up to its capacity,
 * so that it grows fourfold (a table filling up to thousands of entries is rehashed and
 * reallocated half as often as when doubling: the tables of a large fabric fill in its first
 * burst of traffic).
 */
export function roomFor(needed: number, capacity: number): number {
  return Math.max(needed, Math.min(2 * needed, capacity));
}

function emptySlots(slots: number): Float64Array {
  return new Float64Array(slots * W);
}

export class MacTable {
  /** Slot i at [W * i, W * i + W): MAC, last seen, state. */
  private table = emptySlots(MIN_SLOTS);
  private slots = MIN_SLOTS;
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
    const t = this.table;
    const mask = this.slots - 1;
    for (let i = slotOf(vlan, mac, mask); ; i = (i + 1) & mask) {
      const state = t[W * i + 2]!;
      if (state === EMPTY) return -1;
      if (state >= LIVE && (state - LIVE) % 4096 === vlan && t[W * i] === mac) return i;
    }
  }

  private remove(slot: number): void {
    this.table[W * slot + 2] = DELETED;
    this.count--;
    this.deleted++;
  }

  /** The port for (vlan, mac), or undefined if unknown or aged out. */
  lookup(vlan: number, mac: Mac, now: Nanos): string | undefined {
    const id = this.lookupId(vlan, mac, now);
    return id < 0 ? undefined : this.portNames[id];
  }

  /** The port number (see `portId`) for (vlan, mac), or -1 if unknown or aged out. */
  lookupId(vlan: number, mac: Mac, now: Nanos): number {
    const slot = this.find(vlan, mac);
    if (slot < 0) return -1;
    if (now - this.table[W * slot + 1]! > this.aging(now)) {
      this.remove(slot);
      return -1;
    }
    return Math.floor((this.table[W * slot + 2]! - LIVE) / 4096);
  }

  learn(vlan: number, mac: Mac, port: string, now: Nanos): LearnResult {
    return this.learnId(vlan, mac, this.portId(port), now);
  }

  /** `learn` with the port given by its number (from `portId`). */
  learnId(vlan: number, mac: Mac, id: number, now: Nanos): LearnResult {
    let slot = this.find(vlan, mac);
    const state = LIVE + id * 4096 + vlan;
    if (slot >= 0) {
      const t = this.table;
      if (now - t[W * slot + 1]! > this.aging(now)) {
        this.remove(slot); // aged out: what follows is a new entry, not a refresh or a move
        slot = -1;
      } else {
        t[W * slot + 1] = now;
        if (t[W * slot + 2] === state) return 'refreshed';
        t[W * slot + 2] = state;
        return 'moved';
      }
    }
    if (this.count >= this.capacity) {
      if (this.mayHaveExpired(now)) this.expire(now); // a full table under a MAC flood does not rescan per frame
      if (this.count >= this.capacity) {
        this.overflows++;
        return 'table-full';
      }
    }
    if ((this.count + this.deleted + 1) * 2 > this.slots)
      this.rebuild(roomFor(this.count + 1, this.capacity));
    const t = this.table;
    const mask = this.slots - 1;
    let i = slotOf(vlan, mac, mask);
    while (t[W * i + 2]! >= LIVE) i = (i + 1) & mask;
    if (t[W * i + 2] === DELETED) this.deleted--;
    t[W * i] = mac;
    t[W * i + 1] = now;
    t[W * i + 2] = state;
    this.count++;
    return 'learned';
  }

  /** The number the table gives port `port` (numbers are given in the order ports are first met). */
  portId(port: string): number {
    let id = this.portIds.get(port);
    if (id === undefined) {
      id = this.portNames.length;
      this.portNames.push(port);
      this.portIds.set(port, id);
    }
    return id;
  }

  /** The name of port number `id`. */
  portName(id: number): string | undefined {
    return this.portNames[id];
  }

  /** Rehashes every live entry into a table with room for `entries` at half load, tombstones gone. */
  private rebuild(entries: number): void {
    let slots = MIN_SLOTS;
    while (slots < entries * 2) slots *= 2;
    const old = this.table;
    const t = emptySlots(slots);
    this.table = t;
    this.slots = slots;
    this.deleted = 0;
    const mask = slots - 1;
    for (let j = 0; j < old.length; j += W) {
      const state = old[j + 2]!;
      if (state < LIVE) continue;
      const mac = old[j]!;
      let i = slotOf((state - LIVE) % 4096, mac, mask);
      while (t[W * i + 2] !== EMPTY) i = (i + 1) & mask;
      t[W * i] = mac;
      t[W * i + 1] = old[j + 1]!;
      t[W * i + 2] = state;
    }
  }

  /** Removes every entry older than the aging time; returns how many. */
  expire(now: Nanos): number {
    let removed = 0;
    let oldest = now;
    const age = this.aging(now);
    const t = this.table;
    for (let i = 0; i < this.slots; i++) {
      if (t[W * i + 2]! < LIVE) continue;
      const seen = t[W * i + 1]!;
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
    const t = this.table;
    for (let i = 2; i < t.length; i += W) t[i] = EMPTY;
    this.count = 0;
    this.deleted = 0;
    return removed;
  }

  /** Forgets every entry on a port (link down, topology change). */
  flushPort(port: string): number {
    const id = this.portIds.get(port);
    if (id === undefined) return 0;
    let removed = 0;
    const t = this.table;
    for (let i = 0; i < this.slots; i++) {
      const state = t[W * i + 2]!;
      if (state >= LIVE && Math.floor((state - LIVE) / 4096) === id) {
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
    const t = this.table;
    for (let i = 0; i < this.slots; i++) {
      const state = t[W * i + 2]! - LIVE;
      const seen = t[W * i + 1]!;
      if (state < 0 || now - seen > age) continue;
      const key = t[W * i]!;
      out.push({
        vlan: state % 4096,
        mac: formatMac(key),
        port: this.portNames[Math.floor(state / 4096)]!,
        age: now - seen,
        key,
      });
    }
    out.sort((a, b) => a.vlan - b.vlan || a.key - b.key);
    return out.map(({ key: _key, ...rest }) => rest);
  }
}
