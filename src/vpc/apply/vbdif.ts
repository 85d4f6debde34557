/**
 * `vbdif` entries: the subnet's distributed gateway on a hypervisor, built by the one VBDIF
 * construction (`Network.addVbdif`, overlay/vrf.ts): the VRF's routed interface `vbdifN` with the
 * anycast address and MAC, a VAP of the BD for it (the MAC static there) and the internal link;
 * and a DHCP server on it in manual allocation (it hands out what the service reserved, nothing
 * else; kept on the interface while the VRF lives). Removed (`Network.removeVbdif`): the link
 * unplugged, the interface's addresses, routes and ACLs cleared (the BD's removal takes its VAP).
 */
import { cidr, ip, mac as parseMac } from '../../wire/index.js';
import type { Installer } from './context.js';

export const vbdifInstaller: Installer<'vbdif'> = {
  add(ctx, e) {
    const nve = ctx.dp.nve(e.host);
    const bd = nve.bridgeDomainByVni(e.vni);
    const router = nve.vrfs.get(e.vpc)?.router;
    if (bd === undefined || router === undefined) {
      ctx.skipped.push(`vbdif ${e.key}`);
      return;
    }
    const address = cidr(e.address);
    // The one construction of VBDIFs (overlay/vrf.ts): interface, VAP with the MAC static, link.
    ctx.dp.net.addVbdif(nve, e.vpc, bd, { address, mac: parseMac(e.mac), anycast: true });
    if (router.dhcpServerOn(e.iface) === undefined) {
      router.enableDhcpServer(e.iface, {
        first: ip(e.dhcpFirst),
        last: ip(e.dhcpLast),
        router: address.address,
        manualOnly: true,
      });
      router.start();
    }
    ctx.aclSubnets.set(e.subnet, addTarget(ctx.aclSubnets.get(e.subnet), e));
    ctx.actions.push(
      `+ anycast-gateway ${router.name} ${e.iface} ${e.address} ${e.mac}, DHCP (manual allocation)`,
    );
  },
  remove(ctx, e) {
    const router = ctx.dp.vrf(e.host, e.vpc);
    if (router?.iface(e.iface) === undefined) return;
    ctx.dp.net.removeVbdif(ctx.dp.nve(e.host), e.vpc, e.vni);
    ctx.actions.push(`- anycast-gateway ${router.name} ${e.iface}`);
  },
};

function addTarget<T>(current: Set<T> | 'all' | undefined, e: T): Set<T> | 'all' {
  if (current === 'all') return current;
  const set = current ?? new Set<T>();
  set.add(e);
  return set;
}
