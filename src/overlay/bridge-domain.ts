/**
 * A bridge domain (BD): one layer-2 broadcast domain of the overlay, mapped 1:1 to a VNI
 * (RFC 7348 4: a 24-bit segment ID, 1..16,777,215, `vni.ts`). A frame that enters a BD never leaves it:
 * its local attachment points (VAPs) and its remote VTEPs are the only places it can go.
 *
 * The BD keeps:
 * - a MAC table: MAC -> a local VAP or a remote VTEP. Entries learned from traffic age out
 *   (lazily, no timer events); entries a controller installed do not, and carry a MAC mobility
 *   sequence number (RFC 7432 15) so that a move wins over a stale entry. The table is the
 *   switch's `MacTable` (devices/l2/mac-table.ts: one open-addressing table of unboxed doubles,
 *   keyed here with VLAN 0, a slot's VTEP and sequence number kept as its two user values), so a
 *   lookup or a learning touches a cache line or two and allocates nothing; `lookup` fills one
 *   reused entry object per BD;
 * - the flood list: the VTEPs that share the VNI, for head-end replication of BUM traffic;
 * - the ARP suppression table: IP -> MAC of stations in the BD (local ones snooped from their ARP,
 *   remote ones from the controller), so the local NVE can answer ARP itself.
 */
import { MacFlag, MacTable } from '../devices/l2/mac-table.js';
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

/** Entry flags: a controller's entry never ages; a static one is never moved. */
const FROM_CONTROLLER = MacFlag.pinned;
const STATIC = MacFlag.fixed;

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
  /**
   * MAC -> owner (a VAP's number, 0 for a remote station) and flags, keyed with VLAN 0; a slot's
   * user values are the remote VTEP and the MAC mobility sequence number.
   */
  private readonly macs: MacTable;
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

  constructor(
    /** The BD's number in the NVE's configuration. */
    readonly id: number,
    readonly vni: number,
    /** The tenant (VRF) the BD belongs to. */
    readonly tenant: string,
    readonly capacity = 65536,
    readonly agingTime: Nanos = 300e9,
  ) {
    this.macs = new MacTable(capacity, agingTime, true);
  }

  /** How traces and tables name the BD: its number, or `L3` for a tenant's L3 VNI. */
  get label(): string {
    return this.id === 0 ? 'L3' : String(this.id);
  }

  get size(): number {
    return this.macs.size;
  }

  /** Learning and controller routes refused because the table was full. */
  get overflows(): number {
    return this.macs.overflows;
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

  /** The entry of slot `i`, in the reused record. */
  private entryAt(i: number): BdMacEntry {
    const m = this.macs;
    const flags = m.flagsAt(i);
    const e = this.found;
    e.mac = m.macAt(i);
    e.vap = this.vapById[m.ownerAt(i)]!;
    e.vtep = m.valueA(i);
    e.fromController = (flags & FROM_CONTROLLER) !== 0;
    e.seq = m.valueB(i);
    e.isStatic = (flags & STATIC) !== 0;
    e.lastSeen = m.seenAt(i);
    return e;
  }

  /**
   * The live entry for `mac`, or undefined (learned entries past their age are removed). The
   * entry is a snapshot in an object this BD reuses: read it before the BD's next `lookup`.
   */
  lookup(mac: Mac, now: Nanos): BdMacEntry | undefined {
    const i = this.macs.liveSlot(0, mac, now);
    return i < 0 ? undefined : this.entryAt(i);
  }

  /** Learns `mac` behind a local VAP (a frame came in from it). */
  learnLocal(mac: Mac, vap: Vap, now: Nanos): BdLearnResult {
    const m = this.macs;
    const i = m.liveSlot(0, mac, now);
    const id = this.vapId(vap);
    if (i >= 0) {
      const owner = m.ownerAt(i);
      if ((m.flagsAt(i) & STATIC) !== 0) return owner === id ? 'refreshed' : 'kept'; // a station cannot take over a gateway's MAC
      m.touch(i, now);
      if (owner === id) return 'refreshed';
      m.setOwner(i, id, 0); // learned, no longer from the controller
      m.setValues(i, 0, m.valueB(i));
      this.counters.moves++;
      return 'moved';
    }
    if (!m.hasRoom(now)) return 'table-full';
    m.insert(0, mac, id, 0, now, 0, 0);
    this.counters.learnedLocal++;
    return 'learned';
  }

  /** A configured local MAC (a gateway's own interface): never ages, never moves by learning. */
  addStatic(mac: Mac, vap: Vap): void {
    const m = this.macs;
    const id = this.vapId(vap);
    const i = m.slotFor(0, mac);
    if (i >= 0) {
      m.setOwner(i, id, FROM_CONTROLLER + STATIC);
      m.touch(i, 0);
      m.setValues(i, 0, 0);
      return;
    }
    m.insert(0, mac, id, FROM_CONTROLLER + STATIC, 0, 0, 0);
  }

  /** Flood-and-learn: the inner source MAC of a decapsulated frame lives behind the outer source VTEP. */
  learnRemote(mac: Mac, vtep: Ipv4, now: Nanos): BdLearnResult {
    const m = this.macs;
    const i = m.liveSlot(0, mac, now);
    if (i >= 0) {
      if (m.flagsAt(i) !== 0) return 'kept';
      m.touch(i, now);
      if (m.ownerAt(i) === 0 && m.valueA(i) === vtep) return 'refreshed';
      m.setOwner(i, 0, 0);
      m.setValues(i, vtep, m.valueB(i));
      this.counters.moves++;
      return 'moved';
    }
    if (!m.hasRoom(now)) return 'table-full';
    m.insert(0, mac, 0, 0, now, vtep, 0);
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
    const m = this.macs;
    const i = m.liveSlot(0, mac, now);
    if (i >= 0) {
      const flags = m.flagsAt(i);
      if ((flags & STATIC) !== 0 || ((flags & FROM_CONTROLLER) !== 0 && seq < m.valueB(i))) return false;
      if (m.ownerAt(i) !== 0 || m.valueA(i) !== vtep) this.counters.moves++;
      m.touch(i, now);
      m.setOwner(i, 0, FROM_CONTROLLER);
      m.setValues(i, vtep, seq);
      return true;
    }
    if (!m.hasRoom(now)) return false;
    m.insert(0, mac, 0, FROM_CONTROLLER, now, vtep, seq);
    this.counters.learnedRemote++;
    return true;
  }

  /** Forgets `mac` (a withdrawn route). */
  remove(mac: Mac): boolean {
    const i = this.macs.slotFor(0, mac);
    if (i < 0) return false;
    this.macs.removeAt(i);
    return true;
  }

  /** Forgets every entry learned on `vap` (its port went down). */
  flushVap(vap: Vap): number {
    const id = this.vapIds.get(vap);
    return id === undefined ? 0 : this.macs.removeOwner(id);
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
    const m = this.macs;
    for (let i = m.nextSlot(-1); i >= 0; i = m.nextSlot(i)) {
      if (!m.isLive(i, now)) continue;
      const fromController = (m.flagsAt(i) & FROM_CONTROLLER) !== 0;
      const mac = m.macAt(i);
      const vap = this.vapById[m.ownerAt(i)]!;
      rows.push({
        key: mac,
        mac: formatMac(mac),
        where: vap !== null ? vap.name : `vtep ${formatIpv4(m.valueA(i))}`,
        type:
          vap !== null ? (fromController ? 'static' : 'local') : fromController ? 'controller' : 'learned',
        seq: m.valueB(i),
        age: now - m.seenAt(i),
      });
    }
    rows.sort((a, b) => a.key - b.key);
    return rows.map(({ key: _key, ...r }) => r);
  }
}
