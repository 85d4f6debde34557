/**
 * `bridge-domain` entries: the subnet's BD (id = VNI) on a hypervisor's NVE, the controller's routes
 * for its VNI installed there; removed with its VAPs (their links unplugged). Flood lists follow.
 */
import type { Installer } from './context.js';

export const bridgeDomainInstaller: Installer<'bridge-domain'> = {
  add(ctx, e) {
    const nve = ctx.dp.nve(e.host);
    const bd = nve.addBridgeDomain(e.vni, e.vni, e.vpc);
    ctx.dp.net.overlay.syncBridgeDomain(nve, bd);
    ctx.floodVnis.add(e.vni);
    ctx.actions.push(`+ bridge-domain ${e.host} BD ${e.vni} (VNI ${e.vni}, ${e.subnet})`);
  },
  remove(ctx, e) {
    const nve = ctx.dp.nve(e.host);
    if (nve.bridgeDomain(e.vni) === undefined) return;
    for (const vap of nve.removeBridgeDomain(e.vni)) {
      const link = vap.port.link;
      if (link) ctx.dp.net.unplug(link);
    }
    ctx.floodVnis.add(e.vni);
    ctx.actions.push(`- bridge-domain ${e.host} BD ${e.vni} (${e.subnet})`);
  },
};
