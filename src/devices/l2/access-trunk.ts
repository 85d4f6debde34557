/**
 * Access and trunk ports (IEEE 802.1Q-2018, 6.9 and 8.6.1): how a port of a VLAN-aware switch
 * decides which VLAN a frame belongs to, which VLANs it carries, and which frames leave it tagged.
 *
 * - An access port belongs to one VLAN (default VLAN 1): its frames travel untagged; a frame
 *   arriving with a priority tag (VID 0, 802.1Q 6.9) belongs to the port's VLAN, any other tag is
 *   refused.
 * - A trunk carries several VLANs between switches, each frame with its 802.1Q tag; `allowed`
 *   lists the VLANs it carries (`all`: every one); an untagged or priority-tagged frame belongs to
 *   its native VLAN (the PVID) if it has one, and native VLAN frames leave it untagged.
 * - Usable VLANs are 1..4094 (0 and 4095 are reserved, `wire/vlan.ts`).
 *
 * The switch (`switch.ts`) classifies each frame by these rules; an NVE's VLAN-binding VAPs
 * (`overlay/l2-gateway.ts`) give its access ports the same modes.
 */
import { isUsableVid } from '../../wire/index.js';

/** An access port: untagged, in one VLAN. */
export interface AccessPortConfig {
  readonly mode: 'access';
  readonly vlan: number;
}

/** A trunk: 802.1Q-tagged frames of its allowed VLANs; untagged frames belong to its native VLAN (null: none). */
export interface TrunkPortConfig {
  readonly mode: 'trunk';
  readonly allowed: readonly number[] | 'all';
  readonly native: number | null;
}

/** A port's VLAN mode. */
export type PortVlanMode = AccessPortConfig | TrunkPortConfig;

/** A port's mode until configured: access, VLAN 1 (the default VLAN, 802.1Q 9.6). */
export const DEFAULT_ACCESS: PortVlanMode = { mode: 'access', vlan: 1 };

/** The first VLAN `mode` names that is not usable (1..4094), or undefined. */
export function unusableVlan(mode: PortVlanMode): number | undefined {
  const vlans =
    mode.mode === 'access'
      ? [mode.vlan]
      : [...(mode.allowed === 'all' ? [] : mode.allowed), ...(mode.native === null ? [] : [mode.native])];
  return vlans.find((v) => !isUsableVid(v));
}

/** Whether a port in `mode` carries `vid`: tagged (true), untagged (false), or not at all (null). */
export function vlanTagging(mode: PortVlanMode, vid: number): boolean | null {
  if (mode.mode === 'access') return mode.vlan === vid ? false : null;
  if (mode.native === vid) return false;
  return mode.allowed === 'all' || mode.allowed.includes(vid) ? true : null;
}

/**
 * A port's VLAN mode flattened for the per-frame checks (one object to read, kept as the port's
 * `deviceState`), with the port's number in its device's table.
 */
export interface PortVlan {
  readonly config: PortVlanMode;
  /** The access VLAN, or -1 on a trunk. */
  readonly access: number;
  /** A trunk's native VLAN, or -1 (none, or an access port). */
  readonly native: number;
  /** A trunk's allowed VLANs, bit `vid` set (4,096 bits); null: all (trunks) or the one access VLAN. */
  readonly allowed: Uint32Array | null;
  /** The number the device's table (a switch's MAC table) gives the port (-1 until first needed). */
  tableId: number;
}

export function portVlan(config: PortVlanMode): PortVlan {
  return config.mode === 'access'
    ? { config, access: config.vlan, native: -1, allowed: null, tableId: -1 }
    : {
        config,
        access: -1,
        native: config.native ?? -1,
        allowed: config.allowed !== 'all' ? vlanBits(config.allowed) : null,
        tableId: -1,
      };
}

/** A set of VLAN IDs as 4,096 bits. */
function vlanBits(vlans: readonly number[]): Uint32Array {
  const bits = new Uint32Array(128);
  for (const v of vlans) bits[v >>> 5]! |= 1 << (v & 31);
  return bits;
}

/** Whether `vlan` is in a set of `vlanBits`. */
export function hasVlan(bits: Uint32Array, vlan: number): boolean {
  return (bits[vlan >>> 5]! & (1 << (vlan & 31))) !== 0;
}

/** Whether the port carries `vlan`. */
export function carriesVlan(pv: PortVlan, vlan: number): boolean {
  if (pv.access >= 0) return pv.access === vlan;
  return pv.native === vlan || pv.allowed === null || hasVlan(pv.allowed, vlan);
}

/** Whether frames of `vlan` leave the port untagged (an access port, or a trunk's native VLAN). */
export function leavesUntagged(pv: PortVlan, vlan: number): boolean {
  return pv.access >= 0 || pv.native === vlan;
}
