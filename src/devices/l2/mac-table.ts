/**
 * The MAC address table of every layer-2 forwarder in vnet: a switch's (IEEE 802.1Q filtering
 * database: (VLAN, MAC) -> port) and an overlay bridge domain's (MAC -> local VAP or remote VTEP,
 * `overlay/bridge-domain.ts`, which keys its entries with VLAN 0). One table, one layout, one
 * hash, one growth rule, one aging and one table-full rule for both.
 *
 * - Learning from source addresses: an entry is learned, refreshed (same owner) or moved (another
 *   owner: port or VAP). Learned entries age out after `agingTime` without traffic (default
 *   300 s, as IEEE 802.1D recommends); during a topology change a shorter age applies for a while
 *   (802.1D 8.3.5, `shortenAging`). Aging is lazy (an entry past its age is treated as absent and
 *   removed when met), so the table costs no timer events. Entries flagged `MacFlag.pinned`
 *   (configured, or installed by a control plane) never age.
 * - Bounded by `capacity`: when full, aged entries are swept (at most once per aging period under
 *   a MAC flood), and if still full a new address is not learned: the overflow is counted and
 *   frames to it keep flooding, the behaviour a MAC-flooding attack exploits.
 *
 * The table is an open-addressing hash table in one array of doubles, a slot's MAC, state (owner,
 * flags and VLAN, or empty, or deleted), last sighting and two values of the table's user (a
 * bridge domain: the remote VTEP and the MAC mobility sequence number) side by side, so a lookup
 * touches a cache line or two and allocates nothing, however many switches, BDs and entries a
 * fabric has: a JavaScript Map of 48-bit MACs keeps each key in a heap number and each entry in an
 * object of its own. The array is a JS array (V8 keeps its doubles unboxed, on the heap), not a
 * `Float64Array`: a typed array's buffer lives outside the heap, and a service fabric making a
 * hundred thousand BDs at once (a restart) made V8 collect its whole heap for every 64 MB of those
 * (external memory pressure). Linear probing; deleted slots are tombstones, reused by later
 * inserts and cleared when the table is rebuilt.
 *
 * Owners are numbers. A switch names its ports, numbered in the order the table first meets them
 * (`portId`), and learns and looks up by those numbers (`learnId`, `lookupId`) without a name per
 * frame; a bridge domain numbers its VAPs itself and uses the slot-level methods (`liveSlot`,
 * `insert`, `ownerAt`, ...).
 */
import type { Nanos } from '../../sim/index.js';
import { formatMac, type Mac } from '../../wire/index.js';

export type LearnResult = 'learned' | 'refreshed' | 'moved' | 'table-full';

/** Entry flags (a slot keeps two). */
export const MacFlag = {
  /** Never ages: configured, or installed by a control plane. */
  pinned: 1,
  /** The user's own flag (a bridge domain: configured on this NVE, never moved by learning). */
  fixed: 2,
} as const;

/**
 * Doubles per slot: MAC, state, last seen, and (in a table made with `values`) two values the
 * table's user gives a meaning to. A live slot's state is `owner * 16384 + flags * 4096 + vlan`
 * (VLANs 0..4095, an integer below 2^53, so bit operations read its low 32 bits exactly); an empty
 * or deleted slot's MAC is -1, so that a probe compares MACs before states.
 */
const W_PLAIN = 3;
const W_VALUES = 5;
const EMPTY = -1;
const DELETED = -2;
const OWNER = 16384;
const MIN_SLOTS = 16;
/**
 * Below this many entries a table grows twofold (a fabric has a BD per subnet and per VRF on every
 * hypervisor, most with a few dozen stations), above it fourfold (`roomFor`).
 */
const SMALL = 1024;

/** A slot index for (vlan, mac) among `mask + 1` slots (the overlay's bridge domains use VLAN 0). */
export function slotOf(vlan: number, mac: Mac, mask: number): number {
  let h = (mac >>> 0) ^ Math.imul(Math.floor(mac / 0x1_0000_0000) | (vlan << 16), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

/**
 * The entries a large table growing to hold `needed` makes room for: twice as many, up to its
 * capacity, so that it grows fourfold (a table filling up to thousands of entries is rehashed and
 * reallocated half as often as when doubling: the tables of a large fabric fill in its first
 * burst of traffic).
 */
export function roomFor(needed: number, capacity: number): number {
  return Math.max(needed, Math.min(2 * needed, capacity));
}

/**
 * Empty slots of each width, as many as the largest table made so far: packed arrays of doubles (a
 * double first, so that V8 picks unboxed double elements from the start; pushed, so that they
 * have no holes).
 */
const EMPTY_PLAIN = [0.5];
EMPTY_PLAIN.length = 0;
const EMPTY_VALUES = [0.5];
EMPTY_VALUES.length = 0;

/** A table of `slots` empty slots `w` wide: a copy of the start of an empty table (one allocation, packed doubles). */
function emptySlots(slots: number, w: number): number[] {
  if (w === W_PLAIN) {
    while (EMPTY_PLAIN.length < slots * w) EMPTY_PLAIN.push(-1, EMPTY, 0);
    return EMPTY_PLAIN.slice(0, slots * w);
  }
  while (EMPTY_VALUES.length < slots * w) EMPTY_VALUES.push(-1, EMPTY, 0, 0, 0);
  return EMPTY_VALUES.slice(0, slots * w);
}

export class MacTable {
  /** Doubles per slot. */
  private readonly w: number;
  /** Slot i at [w * i, w * i + w): MAC, state, last seen (and user values A and B). */
  private table: number[];
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
  /** No entry that ages was last seen before this (a scan recomputes it). */
  private oldestSeen = 0;

  /** `values`: each entry keeps two numbers of the user's (`valueA`, `valueB`; a switch needs none). */
  constructor(
    readonly capacity = 8192,
    readonly agingTime: Nanos = 300e9,
    values = false,
  ) {
    this.w = values ? W_VALUES : W_PLAIN;
    this.table = emptySlots(MIN_SLOTS, this.w);
  }

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

  // ---- Slots: the table as a bridge domain uses it ----

  /** The slot holding (vlan, mac) whatever its age, or -1. */
  slotFor(vlan: number, mac: Mac): number {
    const W = this.w;
    const t = this.table;
    const mask = this.slots - 1;
    for (let i = slotOf(vlan, mac, mask); ; i = (i + 1) & mask) {
      if (t[W * i] === mac && (t[W * i + 1]! & 4095) === vlan) return i;
      if (t[W * i + 1] === EMPTY) return -1;
    }
  }

  /** The slot holding (vlan, mac), or -1; an entry past its age is removed (and -1 returned). */
  liveSlot(vlan: number, mac: Mac, now: Nanos): number {
    const W = this.w;
    const t = this.table;
    const mask = this.slots - 1;
    for (let i = slotOf(vlan, mac, mask); ; i = (i + 1) & mask) {
      const state = t[W * i + 1]!;
      if (t[W * i] === mac && (state & 4095) === vlan) {
        if ((state & (MacFlag.pinned * 4096)) === 0 && now - t[W * i + 2]! > this.aging(now)) {
          this.removeAt(i);
          return -1;
        }
        return i;
      }
      if (state === EMPTY) return -1;
    }
  }

  /** Removes the entry of slot `i`. */
  removeAt(i: number): void {
    const W = this.w;
    this.table[W * i] = -1;
    this.table[W * i + 1] = DELETED;
    this.count--;
    this.deleted++;
  }

  /** The owner (port or VAP number) of slot `i`. */
  ownerAt(i: number): number {
    const W = this.w;
    return Math.floor(this.table[W * i + 1]! / OWNER);
  }

  /** The flags (`MacFlag`) of slot `i`. */
  flagsAt(i: number): number {
    const W = this.w;
    return (this.table[W * i + 1]! >> 12) & 3;
  }

  vlanAt(i: number): number {
    const W = this.w;
    return this.table[W * i + 1]! & 4095;
  }

  macAt(i: number): Mac {
    const W = this.w;
    return this.table[W * i]!;
  }

  seenAt(i: number): Nanos {
    const W = this.w;
    return this.table[W * i + 2]!;
  }

  /** The user's values of slot `i` (a table made with `values`). */
  valueA(i: number): number {
    const W = this.w;
    return this.table[W * i + 3]!;
  }

  valueB(i: number): number {
    const W = this.w;
    return this.table[W * i + 4]!;
  }

  /** Notes that slot `i`'s MAC was seen at `now`. */
  touch(i: number, now: Nanos): void {
    const W = this.w;
    const t = this.table;
    t[W * i + 2] = now;
    if (now < this.oldestSeen && (t[W * i + 1]! & (MacFlag.pinned * 4096)) === 0) this.oldestSeen = now;
  }

  /** Gives slot `i` (VLAN kept) a new owner and flags. */
  setOwner(i: number, owner: number, flags: number): void {
    const W = this.w;
    const t = this.table;
    t[W * i + 1] = owner * OWNER + flags * 4096 + (t[W * i + 1]! & 4095);
  }

  /** Sets the user's values of slot `i` (a table made with `values`). */
  setValues(i: number, a: number, b: number): void {
    const W = this.w;
    this.table[W * i + 3] = a;
    this.table[W * i + 4] = b;
  }

  /**
   * Whether a new entry fits: when the table is full, entries past their age are swept first (a
   * full table under a MAC flood does not rescan per frame); still full, the refusal is counted.
   */
  hasRoom(now: Nanos): boolean {
    if (this.count < this.capacity) return true;
    if (now - this.oldestSeen > this.aging(now)) this.expire(now);
    if (this.count < this.capacity) return true;
    this.overflows++;
    return false;
  }

  /** Adds (vlan, mac), not in the table, whether or not it is full; returns its slot (`a`, `b`: its values, if kept). */
  insert(vlan: number, mac: Mac, owner: number, flags: number, seen: Nanos, a: number, b: number): number {
    const W = this.w;
    if ((this.count + this.deleted + 1) * 2 > this.slots)
      this.rebuild(this.count < SMALL ? this.count + 1 : roomFor(this.count + 1, this.capacity));
    const t = this.table;
    const mask = this.slots - 1;
    let i = slotOf(vlan, mac, mask);
    while (t[W * i + 1]! >= 0) i = (i + 1) & mask;
    if (t[W * i + 1] === DELETED) this.deleted--;
    t[W * i] = mac;
    t[W * i + 1] = owner * OWNER + flags * 4096 + vlan;
    t[W * i + 2] = seen;
    if (W === W_VALUES) {
      t[W * i + 3] = a;
      t[W * i + 4] = b;
    }
    this.count++;
    if ((flags & MacFlag.pinned) === 0 && seen < this.oldestSeen) this.oldestSeen = seen;
    return i;
  }

  /**
   * The next live slot after slot `i` (start with -1), or -1 at the end; entries past their age
   * are included (see `isLive`). Slot order is no order: callers sort.
   */
  nextSlot(i: number): number {
    const W = this.w;
    const t = this.table;
    for (let j = i + 1; j < this.slots; j++) if (t[W * j + 1]! >= 0) return j;
    return -1;
  }

  /** Whether slot `i` (a live slot) has not aged out at `now`. */
  isLive(i: number, now: Nanos): boolean {
    const W = this.w;
    const t = this.table;
    return (t[W * i + 1]! & (MacFlag.pinned * 4096)) !== 0 || now - t[W * i + 2]! <= this.aging(now);
  }

  /** Forgets every entry of `owner`; returns how many. */
  removeOwner(owner: number): number {
    const W = this.w;
    let removed = 0;
    const t = this.table;
    for (let i = 0; i < this.slots; i++) {
      const state = t[W * i + 1]!;
      if (state >= 0 && Math.floor(state / OWNER) === owner) {
        this.removeAt(i);
        removed++;
      }
    }
    return removed;
  }

  /** Rehashes every live entry into a table with room for `entries` at half load, tombstones gone. */
  private rebuild(entries: number): void {
    const W = this.w;
    let slots = MIN_SLOTS;
    while (slots < entries * 2) slots *= 2;
    const old = this.table;
    const t = emptySlots(slots, W);
    this.table = t;
    this.slots = slots;
    this.deleted = 0;
    const mask = slots - 1;
    for (let j = 0; j < old.length; j += W) {
      const state = old[j + 1]!;
      if (state < 0) continue;
      let i = slotOf(state & 4095, old[j]!, mask);
      while (t[W * i + 1] !== EMPTY) i = (i + 1) & mask;
      for (let k = 0; k < W; k++) t[W * i + k] = old[j + k]!;
    }
  }

  // ---- A switch's table: ports by name or number ----

  /** The port for (vlan, mac), or undefined if unknown or aged out. */
  lookup(vlan: number, mac: Mac, now: Nanos): string | undefined {
    const id = this.lookupId(vlan, mac, now);
    return id < 0 ? undefined : this.portNames[id];
  }

  /** The port number (see `portId`) for (vlan, mac), or -1 if unknown or aged out. */
  lookupId(vlan: number, mac: Mac, now: Nanos): number {
    const i = this.liveSlot(vlan, mac, now);
    return i < 0 ? -1 : this.ownerAt(i);
  }

  learn(vlan: number, mac: Mac, port: string, now: Nanos): LearnResult {
    return this.learnId(vlan, mac, this.portId(port), now);
  }

  /** `learn` with the port given by its number (from `portId`). */
  learnId(vlan: number, mac: Mac, id: number, now: Nanos): LearnResult {
    const i = this.liveSlot(vlan, mac, now); // an aged-out entry is gone: what follows is a new entry
    if (i >= 0) {
      this.touch(i, now);
      if (this.ownerAt(i) === id) return 'refreshed';
      this.setOwner(i, id, 0);
      return 'moved';
    }
    if (!this.hasRoom(now)) return 'table-full';
    this.insert(vlan, mac, id, 0, now, 0, 0);
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

  /** Removes every entry older than the aging time (pinned ones never are); returns how many. */
  expire(now: Nanos): number {
    const W = this.w;
    let removed = 0;
    let oldest = now;
    const age = this.aging(now);
    const t = this.table;
    for (let i = 0; i < this.slots; i++) {
      const state = t[W * i + 1]!;
      if (state < 0 || (state & (MacFlag.pinned * 4096)) !== 0) continue;
      const seen = t[W * i + 2]!;
      if (now - seen > age) {
        this.removeAt(i);
        removed++;
      } else if (seen < oldest) {
        oldest = seen;
      }
    }
    this.oldestSeen = oldest;
    return removed;
  }

  /** Forgets every entry (a topology change). */
  flush(): number {
    const W = this.w;
    const removed = this.count;
    const t = this.table;
    for (let i = 0; i < t.length; i += W) {
      t[i] = -1;
      t[i + 1] = EMPTY;
    }
    this.count = 0;
    this.deleted = 0;
    return removed;
  }

  /** Forgets every entry on a port (link down, topology change). */
  flushPort(port: string): number {
    const id = this.portIds.get(port);
    return id === undefined ? 0 : this.removeOwner(id);
  }

  /** Live entries, sorted by VLAN then MAC, with their age in ns. */
  entries(now: Nanos): { vlan: number; mac: string; port: string; age: Nanos }[] {
    const out: { vlan: number; mac: string; port: string; age: Nanos; key: Mac }[] = [];
    for (let i = this.nextSlot(-1); i >= 0; i = this.nextSlot(i)) {
      if (!this.isLive(i, now)) continue;
      const key = this.macAt(i);
      out.push({
        vlan: this.vlanAt(i),
        mac: formatMac(key),
        port: this.portNames[this.ownerAt(i)]!,
        age: now - this.seenAt(i),
        key,
      });
    }
    out.sort((a, b) => a.vlan - b.vlan || a.key - b.key);
    return out.map(({ key: _key, ...rest }) => rest);
  }
}
