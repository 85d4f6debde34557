/**
 * `peering-link` and `external-link` entries: the point-to-point links the plan numbered.
 *
 * - A peering link joins the VRFs of two peered VPCs on one hypervisor: `pcx-<b>` on a's VRF and
 *   `pcx-<a>` on b's, each with its /30 address; a side made anew (its VRF removed and made again)
 *   has a new MAC, so both sides forget the other's in their ARP caches.
 * - An external link joins the border's VRF of a VPC (`ext`: its /30 address and the SNAT address
 *   as a /32) and the internet router (`to-<vpc>`).
 * Removed, the link is unplugged and the interfaces' addresses cleared (the interfaces stay, empty).
 */
import type { Router } from '../../devices/router/router.js';
import { INTERNAL_LINK } from '../../overlay/index.js';
import { cidr } from '../../wire/index.js';
import type { ApplyContext, Installer } from './context.js';

/** `name` on `router` with exactly `addresses` (made when missing). */
function setInterface(ctx: ApplyContext, router: Router, name: string, addresses: string[]): void {
  const parsed = addresses.map((a) => cidr(a));
  const iface = router.iface(name);
  if (iface === undefined) {
    router.addInterface({ name, mac: ctx.dp.net.allocateMac(), addresses: parsed });
    return;
  }
  router.clearAddresses(iface);
  for (const a of parsed) router.assignAddress(iface, a);
}

/** Unplugs `name`'s link and clears its addresses. */
function clearInterface(ctx: ApplyContext, router: Router | undefined, name: string): void {
  if (router === undefined) return;
  const link = router.port(name)?.link;
  if (link) ctx.dp.net.unplug(link);
  const iface = router.iface(name);
  if (iface !== undefined) router.clearAddresses(iface);
}

export const peeringLinkInstaller: Installer<'peering-link'> = {
  add(ctx, e) {
    const ra = ctx.dp.vrf(e.host, e.a);
    const rb = ctx.dp.vrf(e.host, e.b);
    if (ra === undefined || rb === undefined) {
      ctx.skipped.push(`peering-link ${e.key}`);
      return;
    }
    setInterface(ctx, ra, e.aIface, [e.aAddress]);
    setInterface(ctx, rb, e.bIface, [e.bAddress]);
    ctx.dp.net.addLink(ra, rb, { aPort: e.aIface, bPort: e.bIface, ...INTERNAL_LINK });
    ra.iface(e.aIface)!.arp.delete(cidr(e.bAddress).address);
    rb.iface(e.bIface)!.arp.delete(cidr(e.aAddress).address);
    ctx.actions.push(
      `+ peering link ${e.host}: ${ra.name} ${e.aIface} ${e.aAddress} <-> ${rb.name} ${e.bIface} ${e.bAddress}`,
    );
  },
  remove(ctx, e) {
    clearInterface(ctx, ctx.dp.vrf(e.host, e.a), e.aIface);
    clearInterface(ctx, ctx.dp.vrf(e.host, e.b), e.bIface);
    ctx.actions.push(`- peering link ${e.host}: ${e.a} <-> ${e.b}`);
  },
};

export const externalLinkInstaller: Installer<'external-link'> = {
  add(ctx, e) {
    const vrf = ctx.dp.vrf(e.border, e.vpc);
    const internet = ctx.dp.router(e.internet, null);
    if (vrf === undefined || internet === undefined) {
      ctx.skipped.push(`external-link ${e.key}`);
      return;
    }
    setInterface(ctx, internet, e.internetIface, [e.internetAddress]);
    setInterface(ctx, vrf, e.vrfIface, [e.vrfAddress, `${e.publicIp}/32`]);
    ctx.dp.net.addLink(vrf, internet, { aPort: e.vrfIface, bPort: e.internetIface });
    ctx.actions.push(
      `+ external link ${vrf.name} ${e.vrfIface} ${e.vrfAddress} (+${e.publicIp}) <-> ${internet.name} ${e.internetIface} ${e.internetAddress}`,
    );
  },
  remove(ctx, e) {
    clearInterface(ctx, ctx.dp.router(e.internet, null), e.internetIface);
    clearInterface(ctx, ctx.dp.vrf(e.border, e.vpc), e.vrfIface);
    ctx.actions.push(`- external link ${e.border}/${e.vpc}`);
  },
};
