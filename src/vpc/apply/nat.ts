/**
 * `snat` and `static-nat` entries, on the border's VRF of the VPC, on its external link's `ext`:
 * - source NAT: the VPC's packets leave as the SNAT address (hairpin: a packet from inside for that
 *   address goes out and back in through the NAT);
 * - 1:1 NAT for an elastic IP (`Router.addStaticNat`), before the source NAT: the instance's
 *   packets leave as it, ports kept; packets for it from the internet get the instance's address and
 *   reach it by the EVPN host route. (The internet's route to it is a `resolved-route`.)
 */
import { ip } from '../../wire/index.js';
import type { EntryOf } from '../plan.js';
import type { ApplyContext, Installer } from './context.js';

const EXT = 'ext';

function borderVrf(ctx: ApplyContext, e: EntryOf<'snat'> | EntryOf<'static-nat'>) {
  const router = ctx.dp.vrf(e.border, e.vpc);
  return router?.iface(EXT) === undefined ? undefined : router;
}

export const snatInstaller: Installer<'snat'> = {
  add(ctx, e) {
    const vrf = borderVrf(ctx, e);
    if (vrf === undefined || !vrf.iface(EXT)!.owns(ip(e.publicIp))) {
      ctx.skipped.push(`snat ${e.key}`);
      return;
    }
    vrf.enableSnat(EXT, ip(e.publicIp));
    ctx.actions.push(`+ snat ${vrf.name} ${EXT}: ${e.inside.join(',')} leave as ${e.publicIp}`);
  },
  remove(ctx, e) {
    const vrf = ctx.dp.vrf(e.border, e.vpc);
    if (vrf?.disableSnat(EXT)) ctx.actions.push(`- snat ${e.border}/${e.vpc}`);
  },
};

export const staticNatInstaller: Installer<'static-nat'> = {
  add(ctx, e) {
    const vrf = borderVrf(ctx, e);
    if (vrf === undefined) {
      ctx.skipped.push(`static-nat ${e.key}`);
      return;
    }
    vrf.addStaticNat(EXT, ip(e.publicIp), ip(e.insideIp));
    ctx.actions.push(
      `+ static-nat ${e.border}/${e.vpc} ${EXT}: ${e.publicIp} <-> ${e.insideIp} (${e.instance})`,
    );
  },
  remove(ctx, e) {
    const vrf = ctx.dp.vrf(e.border, e.vpc);
    if (vrf?.removeStaticNat(EXT, ip(e.publicIp)))
      ctx.actions.push(`- static-nat ${e.border}/${e.vpc} ${EXT}: ${e.publicIp} (${e.instance})`);
  },
};
