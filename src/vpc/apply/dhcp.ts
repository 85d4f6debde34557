/**
 * `dhcp-binding` entries: a reservation MAC -> IP on the DHCP server of the instance's gateway
 * (the VBDIF of its BD on its hypervisor), which answers it and nothing else (RFC 2131 manual
 * allocation).
 */
import { ip, mac as parseMac } from '../../wire/index.js';
import type { EntryOf } from '../plan.js';
import type { ApplyContext, Installer } from './context.js';

function serverOf(ctx: ApplyContext, e: EntryOf<'dhcp-binding'>) {
  const nve = ctx.dp.nve(e.host);
  const vpc = nve.bridgeDomainByVni(e.vni)?.tenant;
  const router = vpc === undefined ? undefined : ctx.dp.vrf(e.host, vpc);
  const server = router?.dhcpServerOn(`vbdif${e.vni}`);
  return router === undefined || server === undefined ? undefined : { router, server };
}

export const dhcpBindingInstaller: Installer<'dhcp-binding'> = {
  add(ctx, e) {
    const d = serverOf(ctx, e);
    if (d === undefined) {
      ctx.skipped.push(`dhcp-binding ${e.key}`);
      return;
    }
    d.server.reserve(parseMac(e.mac), ip(e.ip));
    ctx.actions.push(`+ dhcp ${d.router.name} vbdif${e.vni}: reserve ${e.mac} -> ${e.ip} (${e.instance})`);
  },
  remove(ctx, e) {
    const d = serverOf(ctx, e);
    if (d === undefined || d.server.reservation(parseMac(e.mac)) === undefined) return;
    d.server.unreserve(parseMac(e.mac));
    ctx.actions.push(`- dhcp ${d.router.name} vbdif${e.vni}: reservation ${e.mac} (${e.instance})`);
  },
};
