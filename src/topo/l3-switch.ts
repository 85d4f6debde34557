/**
 * The L3 switch: a switch and its routing engine in one box. The engine is a router named
 * `NAME/l3` whose interfaces are the VLANIFs (`vlanif<VID>`, VLAN `VID` on port `cpu`); the switch
 * has a port `cpu`, a trunk of exactly those VLANs (no native VLAN), joined to the engine's `cpu`
 * by an internal link (no delay, no bandwidth limit). Routing tables live in the engine.
 *
 * Built in two steps, so a caller can plug its own cables first (a lab's `link: N` counts only the
 * lab's links, and a lab link naming no port of the switch must not take `cpu`): `addL3Switch`
 * makes the engine, `connectL3Switch` makes the cpu port and the link.
 */
import type { Switch } from '../devices/l2/switch.js';
import type { Router } from '../devices/router/router.js';
import type { Link } from '../link/index.js';
import { INTERNAL_LINK } from '../overlay/vrf.js';
import type { Network, RouterInterfaceSpec } from './network.js';

/** The port of the switch and of the engine that joins them. */
export const L3_SWITCH_CPU_PORT = 'cpu';

export interface L3Switch {
  readonly switch: Switch;
  /** The routing engine, `NAME/l3`. */
  readonly engine: Router;
  /** The VLANs with a VLANIF: the ones the cpu trunk carries. */
  readonly vlans: readonly number[];
}

/** The routing engine's node name for L3 switch `name`. */
export function l3SwitchEngineName(name: string): string {
  return `${name}/l3`;
}

/** The VLANIF interface name for VLAN `vid`. */
export function vlanifName(vid: number): string {
  return `vlanif${vid}`;
}

/** Adds the routing engine of switch `sw` with its VLANIFs (`interfaces`, on `vlans`); not yet joined (see `connectL3Switch`). */
export function addL3Switch(
  net: Network,
  sw: Switch,
  vlans: readonly number[],
  interfaces: readonly RouterInterfaceSpec[],
): L3Switch {
  const engine = net.addRouter(l3SwitchEngineName(sw.name), interfaces);
  return { switch: sw, engine, vlans };
}

/** Joins the switch to its engine: the switch's cpu trunk of the VLANIF VLANs and the internal link. */
export function connectL3Switch(net: Network, l3: L3Switch): Link {
  const sw = l3.switch;
  sw.addPort(L3_SWITCH_CPU_PORT);
  sw.configurePort(L3_SWITCH_CPU_PORT, { mode: 'trunk', allowed: [...l3.vlans], native: null });
  return net.addLink(sw, l3.engine, {
    aPort: L3_SWITCH_CPU_PORT,
    bPort: L3_SWITCH_CPU_PORT,
    ...INTERNAL_LINK,
  });
}
