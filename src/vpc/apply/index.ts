/**
 * The installers by plan entry kind: what each kind of entry does to the data plane when it appears
 * and when it goes. Kinds carried by others (`l3-vni`, `l2-vni`, `anycast-gateway`: by the VRFs,
 * BDs and VBDIFs; `vrf-route`: by its `resolved-route`s) do nothing on their own.
 */
import type { PlanKind } from '../plan.js';
import { bridgeDomainInstaller } from './bridge-domain.js';
import { carried, type Installer } from './context.js';
import { dhcpBindingInstaller } from './dhcp.js';
import { aclRuleInstaller, sgRuleInstaller } from './filters.js';
import { instanceInstaller } from './instance.js';
import { externalLinkInstaller, peeringLinkInstaller } from './links.js';
import { snatInstaller, staticNatInstaller } from './nat.js';
import { resolvedRouteInstaller } from './routes.js';
import { vbdifInstaller } from './vbdif.js';
import { vrfInstaller } from './vrf.js';

export const INSTALLERS: { readonly [K in PlanKind]: Installer<K> } = {
  'l3-vni': carried(),
  'l2-vni': carried(),
  'anycast-gateway': carried(),
  vrf: vrfInstaller,
  'bridge-domain': bridgeDomainInstaller,
  vbdif: vbdifInstaller,
  'peering-link': peeringLinkInstaller,
  'external-link': externalLinkInstaller,
  'vrf-route': carried(),
  'resolved-route': resolvedRouteInstaller,
  'mac-ip-route': instanceInstaller,
  'dhcp-binding': dhcpBindingInstaller,
  'sg-rule': sgRuleInstaller,
  'acl-rule': aclRuleInstaller,
  snat: snatInstaller,
  'static-nat': staticNatInstaller,
};

export type { ApplyContext, DataPlane, InstanceState } from './context.js';
export { setMarkedAcls, setMarkedFilters } from './filters.js';
export { moveInstance } from './instance.js';
export { setMarkedTables } from './routes.js';
