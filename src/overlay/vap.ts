/**
 * Virtual access points (VAPs): where frames enter and leave a bridge domain on an NVE, in the
 * two ways the lecture names.
 *
 * - **L2 sub-interface access**: a port plus an encapsulation maps into a BD: `untagged` (frames
 *   without a tag), `dot1q` (one 802.1Q tag with a given VID) or `qinq` (an outer S-tag and an
 *   inner C-tag, IEEE 802.1ad). The most specific match wins: QinQ, then dot1q, then untagged.
 * - **VLAN-binding access** (the L2 gateway, `l2-gateway.ts`): a port in access or trunk mode
 *   classifies the frame into a VLAN, as a switch port does; a binding maps that VLAN to a BD.
 *
 * Inside a BD, and inside VXLAN, frames travel untagged (RFC 7348 6.1: the ingress VTEP SHOULD
 * NOT include an inner VLAN tag): tags are popped on the way in and pushed per VAP on the way out.
 * Classification never throws; a frame that matches nothing is reported with a reason.
 */
import type { Port } from '../link/index.js';
import {
  allocBytes,
  copyBytes,
  ETHERNET_MIN_FRAME,
  EtherType,
  isVlanTpid,
  readU16,
  writeU16,
} from '../wire/index.js';
import type { BridgeDomain } from './bridge-domain.js';
import { boundUntagged, type PortBindings, type VapPortMode, VlanBindings } from './l2-gateway.js';

export type { VapPortMode } from './l2-gateway.js';

export type VapEncapsulation =
  | { readonly kind: 'untagged' }
  | { readonly kind: 'dot1q'; readonly vid: number }
  | { readonly kind: 'qinq'; readonly outer: number; readonly inner: number }
  /** A VLAN bound to a BD on a port; `tagged` when the port carries the VLAN tagged (a trunk). */
  | { readonly kind: 'vlan-binding'; readonly vid: number; readonly tagged: boolean };

/**
 * What sits behind a VAP: stations; a gateway interface (VBDIF) of a VRF, unique or anycast (the
 * same IP and MAC on every NVE); or a VRF's interface on its tenant's L3 VNI.
 */
export type VapRole = 'station' | 'gateway' | 'anycast-gateway' | 'l3-vni';

export interface Vap {
  /** e.g. `1` (untagged), `1.10` (dot1q), `1.100.10` (QinQ), `1:vlan10` (binding). */
  readonly name: string;
  readonly port: Port;
  readonly encap: VapEncapsulation;
  readonly bd: BridgeDomain;
  readonly role: VapRole;
}

/** A port's VAPs: sub-interfaces by tags, and its VLAN-binding state (`mode`, `bound`). */
interface PortVaps extends PortBindings {
  untagged?: Vap;
  readonly dot1q: Map<number, Vap>;
  readonly qinq: Map<number, Vap>;
}

export type Classification =
  | {
      readonly ok: true;
      readonly vap: Vap /** Where the EtherType after the tags sits. */;
      readonly typeOffset: number;
    }
  | { readonly ok: false; readonly reason: string; readonly why: string };

export function describeEncapsulation(e: VapEncapsulation): string {
  switch (e.kind) {
    case 'untagged':
      return 'untagged';
    case 'dot1q':
      return `dot1q ${e.vid}`;
    case 'qinq':
      return `qinq ${e.outer}.${e.inner}`;
    default:
      return `vlan ${e.vid} binding${e.tagged ? ' (tagged)' : ''}`;
  }
}

export class VapTable {
  private readonly byPort = new Map<Port, PortVaps>();
  /** VLAN -> BD bindings, applied on every port with a VLAN mode. */
  private readonly bindings = new VlanBindings();

  private portVaps(port: Port): PortVaps {
    let p = this.byPort.get(port);
    if (p === undefined) {
      p = { dot1q: new Map(), qinq: new Map(), bound: new Map() };
      this.byPort.set(port, p);
    }
    return p;
  }

  /** True when the port is an access-side port of the NVE (it has a VAP or a VLAN mode). */
  isAccessPort(port: Port): boolean {
    return this.byPort.has(port);
  }

  /** Adds an L2 sub-interface: `port` + `encap` into `bd`. Throws on a duplicate. */
  addSubinterface(
    port: Port,
    encap: Exclude<VapEncapsulation, { kind: 'vlan-binding' }>,
    bd: BridgeDomain,
    role: VapRole = 'station',
  ): Vap {
    const p = this.portVaps(port);
    const name =
      encap.kind === 'untagged'
        ? port.name
        : encap.kind === 'dot1q'
          ? `${port.name}.${encap.vid}`
          : `${port.name}.${encap.outer}.${encap.inner}`;
    const vap: Vap = { name, port, encap, bd, role };
    const taken =
      encap.kind === 'untagged'
        ? p.untagged !== undefined
        : encap.kind === 'dot1q'
          ? p.dot1q.has(encap.vid)
          : p.qinq.has(qinqKey(encap.outer, encap.inner));
    if (taken) throw new Error(`port ${port.name} already has a VAP for ${describeEncapsulation(encap)}`);
    if (encap.kind === 'untagged') p.untagged = vap;
    else if (encap.kind === 'dot1q') p.dot1q.set(encap.vid, vap);
    else p.qinq.set(qinqKey(encap.outer, encap.inner), vap);
    bd.vaps.push(vap);
    return vap;
  }

  /** Removes a sub-interface VAP: it leaves its BD, which forgets the MACs learned on it. */
  remove(vap: Vap): void {
    const p = this.byPort.get(vap.port);
    if (p === undefined) return;
    const e = vap.encap;
    if (e.kind === 'untagged') {
      if (p.untagged === vap) p.untagged = undefined;
    } else if (e.kind === 'dot1q') {
      if (p.dot1q.get(e.vid) === vap) p.dot1q.delete(e.vid);
    } else if (e.kind === 'qinq') {
      const k = qinqKey(e.outer, e.inner);
      if (p.qinq.get(k) === vap) p.qinq.delete(k);
    } else return;
    const list = vap.bd.vaps;
    const i = list.indexOf(vap);
    if (i >= 0) list.splice(i, 1);
    vap.bd.flushVap(vap);
  }

  /** Gives a port a VLAN mode, so that VLAN bindings apply to it (`VlanBindings.setPortMode`). */
  setPortMode(port: Port, mode: VapPortMode): void {
    this.bindings.setPortMode(port, this.portVaps(port), mode);
  }

  /** Binds a VLAN to a BD on every port with a VLAN mode carrying it (VLAN-binding access). */
  bindVlan(vid: number, bd: BridgeDomain, role: VapRole = 'station'): void {
    this.bindings.bindVlan(vid, bd, role, this.byPort);
  }

  /** Every VAP, port by port. */
  /** The VAPs on `port`, every kind (O(VAPs of the port), not O(VAPs of the NVE)). */
  onPort(port: Port): Vap[] {
    const p = this.byPort.get(port);
    if (p === undefined) return [];
    return [
      ...(p.untagged ? [p.untagged] : []),
      ...p.dot1q.values(),
      ...p.qinq.values(),
      ...p.bound.values(),
    ];
  }

  all(): Vap[] {
    const out: Vap[] = [];
    for (const p of this.byPort.values()) {
      if (p.untagged) out.push(p.untagged);
      out.push(...p.dot1q.values(), ...p.qinq.values(), ...p.bound.values());
    }
    return out;
  }

  /** The VAP a frame received on `port` belongs to (the frame is at least 14 bytes). */
  classify(port: Port, frame: Uint8Array): Classification {
    const p = this.byPort.get(port);
    if (p === undefined) return { ok: false, reason: 'no-vap', why: `port ${port.name} has no VAP` };
    const t1 = readU16(frame, 12);
    if (!isVlanTpid(t1)) {
      const vap = p.untagged ?? boundUntagged(p);
      return vap
        ? { ok: true, vap, typeOffset: 12 }
        : { ok: false, reason: 'no-vap', why: `untagged frame and no untagged VAP on port ${port.name}` };
    }
    if (frame.length < 18) return { ok: false, reason: 'runt', why: 'cut inside its VLAN tag' };
    const outer = readU16(frame, 14) & 0x0fff;
    const t2 = readU16(frame, 16);
    if (isVlanTpid(t2) && frame.length >= 22) {
      const inner = readU16(frame, 18) & 0x0fff;
      const vap = p.qinq.get(qinqKey(outer, inner));
      if (vap) return { ok: true, vap, typeOffset: 20 };
    }
    const sub = p.dot1q.get(outer);
    if (sub) return { ok: true, vap: sub, typeOffset: 16 };
    if (outer === 0) {
      // A priority tag (VID 0) belongs to the untagged side (IEEE 802.1Q 6.9).
      const vap = p.untagged ?? boundUntagged(p);
      if (vap) return { ok: true, vap, typeOffset: 16 };
    }
    // A trunk takes a tagged frame of any VLAN it carries, its native one included (the tag decides).
    if (p.mode?.mode === 'trunk') {
      const bound = p.bound.get(outer);
      if (bound) return { ok: true, vap: bound, typeOffset: 16 };
    }
    return { ok: false, reason: 'no-vap', why: `no VAP for VLAN ${outer} on port ${port.name}` };
  }
}

function qinqKey(outer: number, inner: number): number {
  return outer * 4096 + inner;
}

/**
 * The BD form of a frame: untagged, the bytes after the tags (`typeOffset`) behind the two MACs.
 * The frame itself when it had no tag; otherwise a new buffer, padded to 60 bytes.
 */
export function untagFrame(frame: Uint8Array, typeOffset: number): Uint8Array {
  if (typeOffset === 12) return frame;
  const rest = frame.length - typeOffset;
  const out = allocBytes(Math.max(ETHERNET_MIN_FRAME, 12 + rest));
  copyBytes(out, 0, frame, 0, 12);
  copyBytes(out, 12, frame, typeOffset, frame.length);
  return out;
}

/**
 * What `tagForVap` pushes for `vap`, as a number: -1 for nothing, the VLAN ID for one tag, more
 * than 4095 for two. VAPs with the same key get the same bytes, so a flood builds each form once.
 */
export function tagKey(vap: Vap): number {
  const e = vap.encap;
  if (e.kind === 'untagged' || (e.kind === 'vlan-binding' && !e.tagged)) return -1;
  return e.kind === 'qinq' ? 4096 + e.outer * 4096 + e.inner : e.vid;
}

/** The frame as it leaves by `vap`: the VAP's tags pushed onto the untagged BD frame. */
export function tagForVap(frame: Uint8Array, vap: Vap): Uint8Array {
  const e = vap.encap;
  if (e.kind === 'untagged' || (e.kind === 'vlan-binding' && !e.tagged)) return frame;
  const tags = e.kind === 'qinq' ? 2 : 1;
  const out = allocBytes(frame.length + 4 * tags);
  copyBytes(out, 0, frame, 0, 12);
  if (e.kind === 'qinq') {
    writeU16(out, 12, EtherType.qinq);
    writeU16(out, 14, e.outer);
    writeU16(out, 16, EtherType.vlan);
    writeU16(out, 18, e.inner);
  } else {
    writeU16(out, 12, EtherType.vlan);
    writeU16(out, 14, e.vid);
  }
  copyBytes(out, 12 + 4 * tags, frame, 12, frame.length);
  return out;
}
