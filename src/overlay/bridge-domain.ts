/**
 * A bridge domain (BD): one layer-2 broadcast domain of the overlay, mapped 1:1 to a VNI
 * (RFC 7348 4: a 24-bit segment ID, 1..16,777,215). A frame that enters a BD never leaves it:
 * its local attachment points (VAPs) and its remote VTEPs are the only places it can go.
 *
 * The BD keeps:
 * - a MAC table: MAC -> a local VAP or a remote VTEP. Entries learned from traffic age out
 *   (lazily, no timer events); entries a controller installed do not, and carry a MAC mobility
 *   sequence number (RFC 7432 15) so that a move wins over a stale entry;
 * - the flood list: the VTEPs that share the VNI, for head-end replication of BUM traffic;
 * - the ARP suppression table: IP -> MAC of stations in the BD (local ones snooped from their ARP,
 *   remote ones from the controller), so the local NVE can answer ARP itself.
 */
import type { Nanos } from '../sim/index.js';
import { formatIpv4, formatMac, type Ipv4, type Mac } from '../wire/index.js';
import type { Vap } from './vap.js';

export interface BdMacEntry {
  readonly mac: Mac;
  /** The local attachment point, or null for a remote station. */
  vap: Vap | null;
  /** The remote VTEP (meaningful when `vap` is null). */
  vtep: Ipv4;
  /** Installed by the control plane (never ages); learned entries age out. */
  fromController: boolean;
  /** MAC mobility sequence number (RFC 7432 15.1); 0 for learned entries. */
  seq: number;
  /** Configured on this NVE (a gateway's own MAC): never moved by learning or by the controller. */
  readonly isStatic: boolean;
  lastSeen: Nanos;
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
  private readonly macs = new Map<Mac, BdMacEntry>();
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
    return this.macs.size;
  }

  /** The live entry for `mac`, or undefined (learned entries past their age are removed). */
  lookup(mac: Mac, now: Nanos): BdMacEntry | undefined {
    const e = this.macs.get(mac);
    if (e === undefined) return undefined;
    if (!e.fromController && now - e.lastSeen > this.agingTime) {
      this.macs.delete(mac);
      return undefined;
    }
    return e;
  }

  /** Learns `mac` behind a local VAP (a frame came in from it). */
  learnLocal(mac: Mac, vap: Vap, now: Nanos): BdLearnResult {
    const e = this.lookup(mac, now);
    if (e !== undefined) {
      if (e.isStatic) return e.vap === vap ? 'refreshed' : 'kept'; // a station cannot take over a gateway's MAC
      if (e.vap === vap) {
        e.lastSeen = now;
        return 'refreshed';
      }
      e.lastSeen = now;
      e.vap = vap;
      e.vtep = 0;
      e.fromController = false;
      this.counters.moves++;
      return 'moved';
    }
    if (!this.room(now)) return 'table-full';
    this.macs.set(mac, { mac, vap, vtep: 0, fromController: false, seq: 0, lastSeen: now, isStatic: false });
    this.counters.learnedLocal++;
    return 'learned';
  }

  /** A configured local MAC (a gateway's own interface): never ages, never moves by learning. */
  addStatic(mac: Mac, vap: Vap): void {
    this.macs.set(mac, { mac, vap, vtep: 0, fromController: true, seq: 0, lastSeen: 0, isStatic: true });
  }

  /** Flood-and-learn: the inner source MAC of a decapsulated frame lives behind the outer source VTEP. */
  learnRemote(mac: Mac, vtep: Ipv4, now: Nanos): BdLearnResult {
    const e = this.lookup(mac, now);
    if (e !== undefined) {
      if (e.fromController || e.isStatic) return 'kept';
      e.lastSeen = now;
      if (e.vap === null && e.vtep === vtep) return 'refreshed';
      e.vap = null;
      e.vtep = vtep;
      this.counters.moves++;
      return 'moved';
    }
    if (!this.room(now)) return 'table-full';
    this.macs.set(mac, {
      mac,
      vap: null,
      vtep,
      fromController: false,
      seq: 0,
      lastSeen: now,
      isStatic: false,
    });
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
    const e = this.lookup(mac, now);
    if (e !== undefined) {
      if (e.isStatic || (e.fromController && seq < e.seq)) return false;
      if (e.vap !== null || e.vtep !== vtep) this.counters.moves++;
      e.vap = null;
      e.vtep = vtep;
      e.fromController = true;
      e.seq = seq;
      e.lastSeen = now;
      return true;
    }
    if (!this.room(now)) return false;
    this.macs.set(mac, { mac, vap: null, vtep, fromController: true, seq, lastSeen: now, isStatic: false });
    this.counters.learnedRemote++;
    return true;
  }

  /** Forgets `mac` (a withdrawn route). */
  remove(mac: Mac): boolean {
    return this.macs.delete(mac);
  }

  /** Forgets every entry learned on `vap` (its port went down). */
  flushVap(vap: Vap): number {
    let n = 0;
    for (const [mac, e] of this.macs)
      if (e.vap === vap) {
        this.macs.delete(mac);
        n++;
      }
    return n;
  }

  private room(now: Nanos): boolean {
    if (this.macs.size < this.capacity) return true;
    for (const [mac, e] of this.macs)
      if (!e.fromController && now - e.lastSeen > this.agingTime) this.macs.delete(mac);
    if (this.macs.size < this.capacity) return true;
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
    for (const e of this.macs.values()) {
      if (!e.fromController && now - e.lastSeen > this.agingTime) continue;
      rows.push({
        key: e.mac,
        mac: formatMac(e.mac),
        where: e.vap !== null ? e.vap.name : `vtep ${formatIpv4(e.vtep)}`,
        type:
          e.vap !== null
            ? e.fromController
              ? 'static'
              : 'local'
            : e.fromController
              ? 'controller'
              : 'learned',
        seq: e.seq,
        age: now - e.lastSeen,
      });
    }
    rows.sort((a, b) => a.key - b.key);
    return rows.map(({ key: _key, ...r }) => r);
  }
}
