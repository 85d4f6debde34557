/**
 * `mac-ip-route` entries: the instance itself. A host named by its id, cabled to a new port of its
 * hypervisor (port = instance id, an untagged VAP into the BD) behind a security group filter,
 * announced to the controller; it gets its address by DHCP (its `dhcp-binding`) once started at the
 * end of the apply. A changed host is a live migration (`moveInstance`).
 */
import { planTiming, preCopy } from '../../migration/index.js';
import { SecurityGroupFilter } from '../../overlay/index.js';
import { ip, mac as parseMac } from '../../wire/index.js';
import type { MacIpRouteEntry } from '../plan.js';
import type { ApplyContext, Installer } from './context.js';

export const instanceInstaller: Installer<'mac-ip-route'> = {
  add(ctx, e) {
    const nve = ctx.dp.nve(e.host);
    const bd = nve.bridgeDomainByVni(e.vni);
    if (bd === undefined) throw new Error(`${e.host} has no BD for VNI ${e.vni} (apply the plan whole)`);
    const mac = parseMac(e.mac);
    const host = ctx.dp.net.addHost(e.instance, { mac, dhcp: true });
    const vap = nve.addSubinterface(e.instance, { kind: 'untagged' }, bd);
    ctx.dp.net.addLink(host, nve, { bPort: e.instance });
    const filter = new SecurityGroupFilter(e.instance);
    nve.setVapFilter(vap, filter);
    ctx.dp.net.overlay.announce(nve, bd, mac, ip(e.ip));
    ctx.dp.instances.set(e.instance, {
      id: e.instance,
      host,
      nve,
      vap,
      vni: e.vni,
      mac: e.mac,
      ip: e.ip,
      filter,
    });
    ctx.filterInstances.add(e.instance);
    ctx.toStart.push(host);
    ctx.actions.push(
      `+ instance ${e.instance} on ${e.host} port ${e.instance} (BD ${e.vni}), ${e.mac}; controller: ${e.ip} behind ${e.vtep}`,
    );
  },
  remove(ctx, e) {
    const s = ctx.dp.instances.get(e.instance);
    if (s === undefined) return;
    s.nve.removeVap(s.vap);
    ctx.dp.net.removeNode(s.host.name);
    ctx.dp.net.overlay.withdraw(s.vni, parseMac(s.mac));
    ctx.dp.instances.delete(e.instance);
    ctx.actions.push(`- instance ${e.instance} from ${s.nve.name}; controller: route ${e.key} withdrawn`);
  },
};

/**
 * A changed host is a live migration (src/migration): the memory model's pre-copy timing, the VM
 * unplugged at its stop and plugged at the destination's new VAP (same VNI, the same security group
 * filter) at its resume, announced by RARP; the controller moves its route with MAC mobility.
 * `VpcDataPlane.settle` runs the simulation until every migration has resumed and converged.
 */
export function moveInstance(ctx: ApplyContext, before: MacIpRouteEntry, after: MacIpRouteEntry): void {
  const s = ctx.dp.instances.get(after.instance);
  if (s === undefined) return instanceInstaller.add(ctx, after);
  const to = ctx.dp.nve(after.host);
  const bd = to.bridgeDomainByVni(after.vni);
  if (bd === undefined) throw new Error(`${after.host} has no BD for VNI ${after.vni}`);
  const plan = preCopy(ctx.dp.migrationModel);
  const migration = ctx.dp.net.migrate(s.host, to, { timing: planTiming(plan), port: after.instance });
  const port = to.port(after.instance);
  const vap = port === undefined ? undefined : to.vaps.onPort(port).find((v) => v.bd === bd);
  if (vap === undefined) throw new Error(`${after.host}: no VAP was made for ${after.instance}`);
  to.setVapFilter(vap, s.filter);
  const old = { nve: s.nve, vap: s.vap };
  migration.onResumed(() => {
    old.nve.removeVap(old.vap);
    s.nve = to;
    s.vap = vap;
    ctx.dp.net.overlay.announce(to, bd, parseMac(after.mac), ip(after.ip));
  });
  ctx.dp.migrations.set(after.instance, { migration, plan });
  ctx.actions.push(
    `~ instance ${after.instance} live-migrating ${before.host} -> ${after.host} (pre-copy: ${plan.rounds.length} live round${plan.rounds.length === 1 ? '' : 's'}, ${(plan.downtime / 1e6).toFixed(3)} ms down)`,
  );
}
