/**
 * `vbdif` entries: the subnet's distributed gateway on a hypervisor: the VRF's routed interface
 * `vbdifN` with the anycast address and MAC, a VAP of the BD for it (the MAC static there), the
 * internal link between them, and a DHCP server on it in manual allocation (it hands out what the
 * service reserved, nothing else; kept on the interface while the VRF lives). Removed: the link
 * unplugged, the addresses, routes and ACLs of the interface cleared (the BD's removal takes its VAP).
 */
import { cidr, ip, mac as parseMac } from '../../wire/index.js';
import type { Installer } from './context.js';

/** The internal links inside a box (NVE to VRF), as `Network.addVrf` makes them. */
const INTERNAL_LINK = { delay: 0, bandwidth: 1e12 } as const;

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
    const mac = parseMac(e.mac);
    const existing = router.iface(e.iface);
    if (existing === undefined) router.addInterface({ name: e.iface, mac, addresses: [address] });
    else router.assignAddress(existing, address);
    bd.addStatic(mac, nve.addSubinterface(e.iface, { kind: 'untagged' }, bd, 'anycast-gateway'));
    bd.anycastGateways.add(address.address);
    ctx.dp.net.addLink(nve, router, { aPort: e.iface, bPort: e.iface, ...INTERNAL_LINK });
    const iface = router.iface(e.iface)!;
    if (!ctx.dp.dhcpServers.has(iface)) {
      const server = router.enableDhcpServer(e.iface, {
        first: ip(e.dhcpFirst),
        last: ip(e.dhcpLast),
        router: address.address,
        manualOnly: true,
      });
      router.start();
      ctx.dp.dhcpServers.set(iface, server);
    }
    ctx.aclSubnets.set(e.subnet, addTarget(ctx.aclSubnets.get(e.subnet), e));
    ctx.actions.push(
      `+ anycast-gateway ${router.name} ${e.iface} ${e.address} ${e.mac}, DHCP (manual allocation)`,
    );
  },
  remove(ctx, e) {
    const router = ctx.dp.vrf(e.host, e.vpc);
    const iface = router?.iface(e.iface);
    if (router === undefined || iface === undefined) return;
    const link = router.port(e.iface)?.link;
    if (link) ctx.dp.net.unplug(link);
    router.clearAddresses(iface);
    router.setInterfaceRoutes(e.iface, []);
    router.unapplyAcl(e.iface, 'in');
    router.unapplyAcl(e.iface, 'out');
    ctx.actions.push(`- anycast-gateway ${router.name} ${e.iface}`);
  },
};

function addTarget<T>(current: Set<T> | 'all' | undefined, e: T): Set<T> | 'all' {
  if (current === 'all') return current;
  const set = current ?? new Set<T>();
  set.add(e);
  return set;
}
