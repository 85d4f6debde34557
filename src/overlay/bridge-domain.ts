/**
 * A bridge domain (BD): one layer-2 broadcast domain of the overlay, mapped 1:1 to a VNI
 * (RFC 7348 4: a 24-bit segment ID, 1..16,777,215). A frame that enters a BD never leaves it:
 * its local attachment points (VAPs) and its remote VTEPs are the only places it can go.
 *
 * The BD keeps:
 * - a MAC table: MAC -> a local VAP or a remote VTEP. Entries learned from traffic age out
 *   (lazily, no timer events); entries a controller installed do not, and carry a MAC mobility
 *   sequence number (RFC 7432 15) so that a move wins over a stale entry. The table is an
 *   open-addressing hash table in one array of unboxed doubles (a slot's MAC, VTEP, last sighting,
 *   sequence number and state side by side, as the switch's `MacTable` keeps its entries), so a
 *   lookup or a learning touches a cache line or two and allocates nothing; `lookup` fills one
 *   reused entry object per BD. The array is a JS array (V8 keeps its doubles unboxed, on the
 *   heap), not a `Float64Array`: a typed array's buffer lives outside the heap, and a service fabric
 *   making a hundred thousand BDs at once (a restart) made V8 collect its whole heap for every 64 MB
 *   of those (external memory pressure);
 * - the flood list: the VTEPs that share the VNI, for head-end replication of BUM traffic;
 * - the ARP suppression table: IP -> MAC of stations in the BD (local ones snooped from their ARP,
 *   remote ones from the controller), so the local NVE can answer ARP itself.
 */
import { roomFor, slotOf } from '../devices/l2/mac-table.js';
import type { Nanos } from '../sim/index.js';
import { formatIpv4, formatMac, type Ipv4, type Mac } from '../wire/index.js';
import type { Vap } from './vap.js';

/**
 * A MAC entry as `lookup` reports it: a snapshot, in an object the BD reuses for its next lookup
 * (read it at once; the table changes only through the BD's methods).
 */
export interface BdMacEntry {
  readonly mac: Mac;
  /** The local attachment point, or null for a remote station. */
  readonly vap: Vap | null;
  /** The remote VTEP (meaningful when `vap` is null). */
  readonly vtep: Ipv4;
  /** Installed by the control plane (never ages); learned entries age out. */
  readonly fromController: boolean;
  /** MAC mobility sequence number (RFC 7432 15.1); 0 for learned entries. */
  readonly seq: number;
  /** Configured on this NVE (a gateway's own MAC): never moved by learning or by the controller. */
  readonly isStatic: boolean;
  readonly lastSeen: Nanos;
}

type EntryRecord = { -readonly [K in keyof BdMacEntry]: BdMacEntry[K] };

/** Doubles per slot: MAC, VTEP, last seen, sequence number, state. */
const W = 5;
/** Slot states; a live slot holds `vapId * 4 + flags`, vapId 0 for a remote station. */
const EMPTY = -1;
const DELETED = -2;
const FROM_CONTROLLER = 1;
const STATIC = 2;
const MIN_SLOTS = 16;
/**
 * Below this many entries a table grows twofold (a fabric has a BD per subnet and per VRF on every
 * hypervisor, most with a few dozen stations), above it fourfold (as the switch's `MacTable`: a
 * large table filling in a burst of traffic is rehashed half as often).
 */
const SMALL = 1024;

/** A slot index for `mac` among `mask + 1` slots: the switch MAC table's hash, with no VLAN. */
function macSlot(mac: Mac, mask: number): number {
  return slotOf(0, mac, mask);
}

/**
 * Empty slots, as many as the largest table made so far: a packed array of doubles (a double
 * first, so that V8 picks unboxed double elements from the start; pushed, so that it has no holes).
 */
const EMPTY_TABLE = [0.5];
EMPTY_TABLE.length = 0;

/** A table of `slots` empty slots: a copy of the start of `EMPTY_TABLE` (one allocation, packed doubles). */
function emptySlots(slots: number): number[] {
  while (EMPTY_TABLE.length < slots * W) EMPTY_TABLE.push(0, 0, 0, 0, EMPTY);
  return EMPTY_TABLE.slice(0, slots * W);
}

export interface ArpBinding {
  readonly ip: Ipv4;
  mac: Mac;
  /** True when the station is attached to this NVE. */
  local: boolean;
}

export interface BdCounters {
  /** Frames that entered the BD from a local VAP. */
  fromVaps: number;
  /** Frames that entered the BD from the fabric (decapsulated). */
  fromFabric: number;
  /** Broadcast, unknown unicast and multicast frames flooded. */
  bum: number;
  /** Copies made by head-end replication (one per remote VTEP per BUM frame). */
  replicated: number;
  learnedLocal: number;
  learnedRemote: number;
  moves: number;
  arpSuppressed: number;
}

/** `kept`: the MAC is a configured (static) or controller entry that learning does not change. */
export type BdLearnResult = 'learned' | 'refreshed' | 'moved' | 'kept' | 'table-full';

export class BridgeDomain {
  /** Slot i at [W * i, W * i + W): MAC, VTEP, last seen, sequence number, state. */
  private table = emptySlots(MIN_SLOTS);
  private slots = MIN_SLOTS;
  private count = 0;
  private deleted = 0;
  /** VAPs by the number the table knows them by (0: none, a remote station), and their numbers. */
  private readonly vapById: (Vap | null)[] = [null];
  private readonly vapIds = new Map<Vap, number>();
  /** What `lookup` returns, filled on each call. */
  private readonly found: EntryRecord = {
    mac: 0,
    vap: null,
    vtep: 0,
    fromController: false,
    seq: 0,
    isStatic: false,
    lastSeen: 0,
  };
  readonly arp = new Map<Ipv4, ArpBinding>();
  /** Remote VTEPs of the VNI, in the order they were added. */
  readonly floodList: Ipv4[] = [];
  /** The local attachment points, in the order they were added. */
  readonly vaps: Vap[] = [];
  /** IPs of gateway interfaces on this BD that are local to every NVE (distributed anycast gateway). */
  readonly anycastGateways = new Set<Ipv4>();
  readonly counters: BdCounters = {
    fromVaps: 0,
    fromFabric: 0,
    bum: 0,
    replicated: 0,
    learnedLocal: 0,
    learnedRemote: 0,
    moves: 0,
    arpSuppressed: 0,
  };
  overflows = 0;

  constructor(
    /** The BD's number in the NVE's configuration. */
    readonly id: number,
    readonly vni: number,
    /** The tenant (VRF) the BD belongs to. */
    readonly tenant: string,
    readonly capacity = 65536,
    readonly agingTime: Nanos = 300e9,
  ) {}

  /** How traces and tables name the BD: its number, or `L3` for a tenant's L3 VNI. */
  get label(): string {
    return this.id === 0 ? 'L3' : String(this.id);
  }

  get size(): number {
    return this.count;
  }

  private vapId(vap: Vap): number {
    let id = this.vapIds.get(vap);
    if (id === undefined) {
      id = this.vapById.length;
      this.vapById.push(vap);
      this.vapIds.set(vap, id);
    }
    return id;
  }

  /** The slot of `mac`, or -1; a learned entry past its age is removed (and -1 returned). */
  private find(mac: Mac, now: Nanos): number {
    const t = this.table;
    const mask = this.slots - 1;
    for (let i = macSlot(mac, mask); ; i = (i + 1) & mask) {
      const state = t[W * i + 4]!;
      if (state === EMPTY) return -1;
      if (state >= 0 && t[W * i] === mac) {
        if ((state & FROM_CONTROLLER) === 0 && now - t[W * i + 2]! > this.agingTime) {
          this.removeSlot(i);
          return -1;
        }
        return i;
      }
    }
  }

  private removeSlot(slot: number): void {
    this.table[W * slot + 4] = DELETED;
    this.count--;
    this.deleted++;
  }

  private insert(mac: Mac, vtep: Ipv4, lastSeen: Nanos, seq: number, state: number): void {
    if ((this.count + this.deleted + 1) * 2 > this.slots)
      this.rebuild(this.count < SMALL ? this.count + 1 : roomFor(this.count + 1, this.capacity));
    const t = this.table;
    const mask = this.slots - 1;
    let i = macSlot(mac, mask);
    while (t[W * i + 4]! >= 0) i = (i + 1) & mask;
    if (t[W * i + 4] === DELETED) this.deleted--;
    t[W * i] = mac;
    t[W * i + 1] = vtep;
    t[W * i + 2] = lastSeen;
    t[W * i + 3] = seq;
    t[W * i + 4] = state;
    this.count++;
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
      if (old[j + 4]! < 0) continue;
      let i = macSlot(old[j]!, mask);
      while (t[W * i + 4] !== EMPTY) i = (i + 1) & mask;
      for (let k = 0; k < W; k++) t[W * i + k] = old[j + k]!;
    }
  }

  /** The entry of slot `i`, in the reused record. */
  private entryAt(i: number): BdMacEntry {
    const t = this.table;
    const state = t[W * i + 4]!;
    const e = this.found;
    e.mac = t[W * i]!;
    e.vap = this.vapById[state >> 2]!;
    e.vtep = t[W * i + 1]!;
    e.fromController = (state & FROM_CONTROLLER) !== 0;
    e.seq = t[W * i + 3]!;
    e.isStatic = (state & STATIC) !== 0;
    e.lastSeen = t[W * i + 2]!;
    return e;
  }

  /**
   * The live entry for `mac`, or undefined (learned entries past their age are removed). The
   * entry is a snapshot in an object this BD reuses: read it before the BD's next `lookup`.
   */
  lookup(mac: Mac, now: Nanos): BdMacEntry | undefined {
    const i = this.find(mac, now);
    return i < 0 ? undefined : this.entryAt(i);
  }

  /** Learns `mac` behind a local VAP (a frame came in from it). */
  learnLocal(mac: Mac, vap: Vap, now: Nanos): BdLearnResult {
    const i = this.find(mac, now);
    const id = this.vapId(vap);
    if (i >= 0) {
      const t = this.table;
      const state = t[W * i + 4]!;
      if ((state & STATIC) !== 0) return state >> 2 === id ? 'refreshed' : 'kept'; // a station cannot take over a gateway's MAC
      t[W * i + 2] = now;
      if (state >> 2 === id) return 'refreshed';
      t[W * i + 1] = 0;
      t[W * i + 4] = id * 4; // learned, no longer from the controller
      this.counters.moves++;
      return 'moved';
    }
    if (!this.room(now)) return 'table-full';
    this.insert(mac, 0, now, 0, id * 4);
    this.counters.learnedLocal++;
    return 'learned';
  }

  /** A configured local MAC (a gateway's own interface): never ages, never moves by learning. */
  addStatic(mac: Mac, vap: Vap): void {
    const state = this.vapId(vap) * 4 + FROM_CONTROLLER + STATIC;
    const i = this.slotOfMac(mac);
    if (i >= 0) {
      const t = this.table;
      t[W * i + 1] = 0;
      t[W * i + 2] = 0;
      t[W * i + 3] = 0;
      t[W * i + 4] = state;
      return;
    }
    this.insert(mac, 0, 0, 0, state);
  }

  /** Flood-and-learn: the inner source MAC of a decapsulated frame lives behind the outer source VTEP. */
  learnRemote(mac: Mac, vtep: Ipv4, now: Nanos): BdLearnResult {
    const i = this.find(mac, now);
    if (i >= 0) {
      const t = this.table;
      const state = t[W * i + 4]!;
      if ((state & (FROM_CONTROLLER | STATIC)) !== 0) return 'kept';
      t[W * i + 2] = now;
      if (state >> 2 === 0 && t[W * i + 1] === vtep) return 'refreshed';
      t[W * i + 1] = vtep;
      t[W * i + 4] = 0;
      this.counters.moves++;
      return 'moved';
    }
    if (!this.room(now)) return 'table-full';
    this.insert(mac, vtep, now, 0, 0);
    this.counters.learnedRemote++;
    return 'learned';
  }

  /**
   * A controller's MAC route: `mac` lives behind `vtep` with sequence number `seq`. Accepted when
   * the MAC is unknown or learned, or when `seq` is at least the entry's (RFC 7432 15.1: the
   * higher sequence number wins; an equal one from the same VTEP is a refresh). Returns whether it
   * was installed (a full table refuses a new MAC, as it refuses learning).
   */
  installRemote(mac: Mac, vtep: Ipv4, seq: number, now: Nanos): boolean {
    const i = this.find(mac, now);
    if (i >= 0) {
      const t = this.table;
      const state = t[W * i + 4]!;
      if ((state & STATIC) !== 0 || ((state & FROM_CONTROLLER) !== 0 && seq < t[W * i + 3]!)) return false;
      if (state >> 2 !== 0 || t[W * i + 1] !== vtep) this.counters.moves++;
      t[W * i + 1] = vtep;
      t[W * i + 2] = now;
      t[W * i + 3] = seq;
      t[W * i + 4] = FROM_CONTROLLER;
      return true;
    }
    if (!this.room(now)) return false;
    this.insert(mac, vtep, now, seq, FROM_CONTROLLER);
    this.counters.learnedRemote++;
    return true;
  }

  /** The slot of `mac` whatever its age, or -1. */
  private slotOfMac(mac: Mac): number {
    const t = this.table;
    const mask = this.slots - 1;
    for (let i = macSlot(mac, mask); ; i = (i + 1) & mask) {
      const state = t[W * i + 4]!;
      if (state === EMPTY) return -1;
      if (state >= 0 && t[W * i] === mac) return i;
    }
  }

  /** Forgets `mac` (a withdrawn route). */
  remove(mac: Mac): boolean {
    const i = this.slotOfMac(mac);
    if (i < 0) return false;
    this.removeSlot(i);
    return true;
  }

  /** Forgets every entry learned on `vap` (its port went down). */
  flushVap(vap: Vap): number {
    const id = this.vapIds.get(vap);
    if (id === undefined) return 0;
    let n = 0;
    const t = this.table;
    for (let i = 0; i < this.slots; i++) {
      const state = t[W * i + 4]!;
      if (state >= 0 && state >> 2 === id) {
        this.removeSlot(i);
        n++;
      }
    }
    return n;
  }

  private room(now: Nanos): boolean {
    if (this.count < this.capacity) return true;
    const t = this.table;
    for (let i = 0; i < this.slots; i++) {
      const state = t[W * i + 4]!;
      if (state >= 0 && (state & FROM_CONTROLLER) === 0 && now - t[W * i + 2]! > this.agingTime)
        this.removeSlot(i);
    }
    if (this.count < this.capacity) return true;
    this.overflows++;
    return false;
  }

  addFloodTarget(vtep: Ipv4): void {
    if (!this.floodList.includes(vtep)) this.floodList.push(vtep);
  }

  removeFloodTarget(vtep: Ipv4): void {
    const i = this.floodList.indexOf(vtep);
    if (i >= 0) this.floodList.splice(i, 1);
  }

  /** Records an IP -> MAC binding for ARP suppression; returns true when it changed. */
  bindIp(ip: Ipv4, mac: Mac, local: boolean): boolean {
    const b = this.arp.get(ip);
    if (b !== undefined && b.mac === mac && b.local === local) return false;
    this.arp.set(ip, { ip, mac, local });
    return true;
  }

  /** Live MAC entries sorted by MAC, as rows for `show`. */
  macRows(now: Nanos): { mac: string; where: string; type: string; seq: number; age: Nanos }[] {
    const rows: { key: Mac; mac: string; where: string; type: string; seq: number; age: Nanos }[] = [];
    const t = this.table;
    for (let i = 0; i < this.slots; i++) {
      const state = t[W * i + 4]!;
      if (state < 0) continue;
      const fromController = (state & FROM_CONTROLLER) !== 0;
      const lastSeen = t[W * i + 2]!;
      if (!fromController && now - lastSeen > this.agingTime) continue;
      const mac = t[W * i]!;
      const vap = this.vapById[state >> 2]!;
      rows.push({
        key: mac,
        mac: formatMac(mac),
        where: vap !== null ? vap.name : `vtep ${formatIpv4(t[W * i + 1]!)}`,
        type:
          vap !== null ? (fromController ? 'static' : 'local') : fromController ? 'controller' : 'learned',
        seq: t[W * i + 3]!,
        age: now - lastSeen,
      });
    }
    rows.sort((a, b) => a.key - b.key);
    return rows.map(({ key: _key, ...r }) => r);
  }
}
