/**
 * The fabric's border: an NVE (`border`) hanging off the spines like one more leaf, the tenants'
 * VRFs on it, and the outside network behind it (router `internet`, host `web`, a /30 and source
 * NAT per tenant). Part of the fabric generator (`fabric.ts` calls it, in this order: the border
 * NVE, then its VRFs with the gateways, then the outside), so it lives in topo/ beside it: it adds
 * nodes to a `Network` and uses the fabric's address plan (`fabric-plan.ts`), neither of which
 * overlay/ may see. The VRFs and VBDIFs themselves are built by overlay/vrf.ts through `Network`.
 */
import type { Host } from '../devices/ip/host.js';
import type { Router } from '../devices/router/router.js';
import type { LinkProperties } from '../link/index.js';
import type { GatewayLayout } from '../overlay/gateway.js';
import type { Nve, NveOptions } from '../overlay/index.js';
import { cidrNetwork } from '../wire/index.js';
import {
  externalLink,
  FABRIC_L3VNI_BASE,
  FABRIC_WEB_IP,
  type FabricSpec,
  fabricLoopback,
  fabricPublicIp,
  fabricTransitIp,
  type SubnetPlan,
  spineBorderLink,
} from './fabric-plan.js';
import type { Network } from './network.js';

/**
 * Adds the border NVE (VTEP: the loopback of leaf `leaves + 1`) with a /30 to every spine, a
 * default route over each (ECMP), and each spine's route to its VTEP.
 */
export function addBorderNve(
  net: Network,
  spec: FabricSpec,
  spines: readonly Router[],
  nveOptions: Pick<NveOptions, 'encapsulation' | 'controlPlane'>,
  underlay: LinkProperties,
): Nve {
  const vtep = fabricLoopback(spec.leaves + 1);
  const border = net.addNve('border', { ...nveOptions, vtep });
  spines.forEach((spine, si) => {
    const base = spineBorderLink(spec, si);
    spine.addInterface({
      name: 'to-border',
      mac: net.allocateMac(),
      addresses: [{ address: base + 1, prefixLength: 30 }],
    });
    border.underlayRouter().addInterface({
      name: `to-${spine.name}`,
      mac: net.allocateMac(),
      addresses: [{ address: base + 2, prefixLength: 30 }],
    });
    net.addLink(spine, border, { ...underlay, aPort: 'to-border', bPort: `to-${spine.name}` });
    border.underlayRouter().addStaticRoute({
      prefix: { address: 0, prefixLength: 0 },
      nextHop: base + 1,
      iface: `to-${spine.name}`,
    });
    spine.addStaticRoute({
      prefix: { address: vtep, prefixLength: 32 },
      nextHop: base + 2,
      iface: 'to-border',
    });
  });
  return border;
}

/** Centralized gateway: every tenant's VRF on the border, with a BD and a VBDIF (the subnet's first address) per subnet. */
export function addCentralizedGateways(
  net: Network,
  spec: FabricSpec,
  border: Nve,
  plans: readonly SubnetPlan[],
): void {
  for (const t of spec.tenants) {
    net.addVrf(border, t.name);
    for (const p of plans) {
      if (p.tenant !== t.name) continue;
      border.addBridgeDomain(p.bd, p.vni, p.tenant);
      net.addVbdif(border, t.name, p.bd, {
        addresses: [{ address: (cidrNetwork(p.cidr) + 1) >>> 0, prefixLength: p.cidr.prefixLength }],
      });
    }
  }
}

/**
 * Distributed gateway: the border routes each tenant over its L3 VNI only (it has no VMs and no
 * subnet of its own). `n`: the border's place among the fabric's NVEs (1-based), for its transit address.
 */
export function addBorderL3Vrfs(net: Network, spec: FabricSpec, border: Nve, n: number): void {
  spec.tenants.forEach((t, ti) => {
    net.addVrf(border, t.name, {
      l3: { vni: FABRIC_L3VNI_BASE + ti, transitIp: fabricTransitIp(n), prefixLength: 16 },
    });
  });
}

/**
 * The outside network: router `internet` with host `web` (a UDP echo server), and per tenant a /30
 * from its border VRF (`ext`, source NAT to the tenant's public address, default route out). With
 * L3 VNIs (distributed gateway), every other VRF of the tenant defaults to the border's.
 */
export function addOutside(
  net: Network,
  spec: FabricSpec,
  border: Nve,
  nves: readonly Nve[],
  gateway: GatewayLayout,
  access: LinkProperties,
): { internet: Router; web: Host } {
  const internet = net.addRouter('internet', [
    { name: 'to-web', addresses: [{ address: FABRIC_WEB_IP - 9, prefixLength: 24 }] },
  ]);
  const web = net.addHost('web', {
    ip: { address: FABRIC_WEB_IP, prefixLength: 24 },
    gateway: FABRIC_WEB_IP - 9,
  });
  web.enableUdpEcho();
  net.addLink(internet, web, { ...access, aPort: 'to-web' });
  const borderTransit = fabricTransitIp(nves.indexOf(border) + 1);
  spec.tenants.forEach((t, ti) => {
    const vrf = border.vrfs.get(t.name)!.router;
    const base = externalLink(ti);
    const outside = `to-${t.name}`;
    internet.addInterface({
      name: outside,
      mac: net.allocateMac(),
      addresses: [{ address: base + 1, prefixLength: 30 }],
    });
    vrf.addInterface({
      name: 'ext',
      mac: net.allocateMac(),
      addresses: [{ address: base + 2, prefixLength: 30 }],
    });
    net.addLink(vrf, internet, { ...access, aPort: 'ext', bPort: outside });
    vrf.addStaticRoute({ prefix: { address: 0, prefixLength: 0 }, nextHop: base + 1, iface: 'ext' });
    vrf.enableSnat('ext', fabricPublicIp(ti));
    if (gateway.l3Vnis) {
      // Every other VRF of the tenant sends what is not in the fabric to the border, over the L3 VNI.
      for (const nve of nves) {
        const leafVrf = nve === border ? undefined : nve.vrfs.get(t.name);
        if (leafVrf)
          leafVrf.router.addStaticRoute({
            prefix: { address: 0, prefixLength: 0 },
            nextHop: borderTransit,
            iface: 'l3vni',
          });
      }
    }
  });
  return { internet, web };
}
