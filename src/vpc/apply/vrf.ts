/**
 * `vrf` entries: the VPC's VRF router on an NVE (hypervisor, peering or border), with its L3 VNI and
 * transit address as the plan gives them, and the controller told (`attachVrf`), so the VRFs of one
 * L3 VNI learn each other's router MAC and VTEP. A VRF whose role changes (made for a peering, now
 * with instances) stays as it is.
 */
import type { Nve } from '../../overlay/index.js';
import { cidr } from '../../wire/index.js';
import type { ApplyContext, Installer } from './context.js';

export const vrfInstaller: Installer<'vrf'> = {
  add(ctx, e) {
    const nve = ctx.dp.nve(e.host);
    if (nve.vrfs.has(e.vpc)) {
      const now = e.role === 'peering' ? 'now only for a peering' : 'made for a peering, now in the plan';
      ctx.actions.push(`~ vrf ${e.host}/${e.vpc}: ${now}`);
      return;
    }
    const transit = cidr(e.transit);
    const router = ctx.dp.net.addVrf(nve, e.vpc, {
      l3: { vni: e.l3Vni, transitIp: transit.address, prefixLength: transit.prefixLength },
    });
    ctx.dp.net.overlay.attachVrf(nve, e.vpc);
    forgetOldRouterMac(ctx, nve, e.vpc, transit.address);
    ctx.floodVnis.add(e.l3Vni);
    const why = e.role === 'peering' ? `, for peering ${e.source}` : `, transit ${e.transit}`;
    ctx.actions.push(`+ vrf ${router.name}: L3 VNI ${e.l3Vni}${why}`);
  },
  remove(ctx, e) {
    const nve = ctx.dp.nve(e.host);
    if (!nve.vrfs.has(e.vpc)) return;
    ctx.dp.net.removeVrf(nve, e.vpc);
    ctx.floodVnis.add(e.l3Vni);
    ctx.actions.push(`- vrf ${e.host}/${e.vpc}${e.role === 'peering' ? ' (made for a peering)' : ''}`);
  },
};

/**
 * A VRF made again where one was removed has the same transit address and a new router MAC: the
 * other VRFs of its L3 VNI forget the old MAC in their ARP caches and ask again (the NVEs' ARP
 * suppression answers with the new one).
 */
function forgetOldRouterMac(ctx: ApplyContext, nve: Nve, vpc: string, transit: number): void {
  for (const other of ctx.dp.fabric.nves) {
    const v = other === nve ? undefined : other.vrfs.get(vpc);
    v?.router.iface(v.l3Iface)?.arp.delete(transit);
  }
}
