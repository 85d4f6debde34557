/**
 * The L2 gateway: an NVE bridging a VLAN of the classic network into an overlay segment, so that
 * stations on that VLAN and stations behind other VTEPs share one broadcast domain (the VXLAN
 * gateway of RFC 7348 6; with EVPN, the VLAN-based service interface of RFC 7432 6.1). Here it is VLAN-binding access: a
 * binding maps a VLAN to a bridge domain (and so to its VNI), and every access port of the NVE
 * in access or trunk mode (IEEE 802.1Q, `devices/l2/access-trunk.ts`) that carries the VLAN gets a
 * VAP (`vap.ts`) for it, named `port:vlanN`. Frames enter the BD untagged; they leave the VAP
 * tagged on a trunk, untagged on an access port or in a trunk's native VLAN.
 *
 * A port's mode can change after bindings exist, and bindings can come before or after the modes:
 * either way each port ends up with one VAP per bound VLAN it carries; a port that stops carrying
 * a VLAN, or carries it with other tagging, loses its VAP (and the BD forgets the MACs learned
 * there). The other access kind, L2 sub-interfaces (port + tags into a BD), is in `vap.ts`; the
 * L3 gateway (routing between BDs) is not an L2 gateway.
 */
import { type PortVlanMode, vlanTagging } from '../devices/l2/access-trunk.js';
import type { Port } from '../link/index.js';
import type { BridgeDomain } from './bridge-domain.js';
import type { Vap, VapRole } from './vap.js';

/** A port's VLAN mode for VLAN-binding access: a switch port's (access or trunk). */
export type VapPortMode = PortVlanMode;

/** A port's VLAN-binding state: its mode, and the VAP of each bound VLAN it carries. */
export interface PortBindings {
  mode?: VapPortMode;
  readonly bound: Map<number, Vap>;
}

/** The VLAN -> BD bindings of one NVE (its L2 gateway), applied to its ports' binding states. */
export class VlanBindings {
  private readonly bindings = new Map<number, { bd: BridgeDomain; role: VapRole }>();

  /**
   * Gives a port a VLAN mode, so that VLAN bindings apply to it. A new mode replaces the old one:
   * the port leaves the BDs of the VLANs it no longer carries (and forgets the MACs learned there),
   * and a VLAN it still carries keeps its VAP unless its tagging changed.
   */
  setPortMode(port: Port, p: PortBindings, mode: VapPortMode): void {
    p.mode = mode;
    for (const [vid, vap] of p.bound) {
      const still = vlanTagging(mode, vid);
      if (still !== null && vap.encap.kind === 'vlan-binding' && vap.encap.tagged === still) continue;
      p.bound.delete(vid);
      const list = vap.bd.vaps;
      list.splice(list.indexOf(vap), 1);
      vap.bd.flushVap(vap);
    }
    for (const [vid, b] of this.bindings) bindOnPort(p, port, vid, b.bd, b.role);
  }

  /** Binds a VLAN to a BD on every port (of `ports`) with a VLAN mode carrying it. */
  bindVlan(
    vid: number,
    bd: BridgeDomain,
    role: VapRole,
    ports: Iterable<readonly [Port, PortBindings]>,
  ): void {
    if (this.bindings.has(vid)) throw new Error(`VLAN ${vid} is already bound to a bridge domain`);
    this.bindings.set(vid, { bd, role });
    for (const [port, p] of ports) bindOnPort(p, port, vid, bd, role);
  }
}

/** Gives `port` a VAP for VLAN `vid` into `bd`, if its mode carries the VLAN and it has none. */
function bindOnPort(p: PortBindings, port: Port, vid: number, bd: BridgeDomain, role: VapRole): void {
  const m = p.mode;
  if (m === undefined || p.bound.has(vid)) return;
  const tagged = vlanTagging(m, vid);
  if (tagged === null) return;
  const vap: Vap = {
    name: `${port.name}:vlan${vid}`,
    port,
    encap: { kind: 'vlan-binding', vid, tagged },
    bd,
    role,
  };
  p.bound.set(vid, vap);
  bd.vaps.push(vap);
}

/** The binding VAP an untagged (or priority-tagged) frame belongs to: its port's access or native VLAN's. */
export function boundUntagged(p: PortBindings): Vap | undefined {
  const m = p.mode;
  if (m === undefined) return undefined;
  const vid = m.mode === 'access' ? m.vlan : m.native;
  return vid === null ? undefined : p.bound.get(vid);
}
