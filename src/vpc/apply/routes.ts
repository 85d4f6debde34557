/**
 * `resolved-route` entries: routes as the plan resolved them. A main-table route is added to or
 * removed from its router's table on its own; a route of an interface's table (the packets arriving
 * on a VBDIF, or on the L3 VNI) marks that table, which is set again from the plan once at the end
 * of the apply (a router takes such a table whole: `setInterfaceRoutes`), in plan order.
 */
import type { Route } from '../../devices/router/route-table.js';
import type { Router } from '../../devices/router/router.js';
import { cidr, cidrNetwork, formatIpv4, ip } from '../../wire/index.js';
import { type EntryOf, entriesOf } from '../plan.js';
import { type ApplyContext, type Installer, markTable } from './context.js';

const routeSpec = (e: EntryOf<'resolved-route'>) =>
  e.blackhole
    ? { prefix: cidr(e.destination), blackhole: true }
    : { prefix: cidr(e.destination), nextHop: ip(e.nextHop!), iface: e.iface };

export const resolvedRouteInstaller: Installer<'resolved-route'> = {
  add(ctx, e) {
    const router = ctx.dp.router(e.router, e.vrf);
    if (router === undefined) {
      ctx.skipped.push(`resolved-route ${e.key}`);
      return;
    }
    if (e.table !== 'main') return markTable(ctx, router, e.table);
    router.addStaticRoute(routeSpec(e));
    ctx.actions.push(`+ route ${router.name}: ${describe(e)}`);
  },
  remove(ctx, e) {
    const router = ctx.dp.router(e.router, e.vrf);
    if (router === undefined) return;
    if (e.table !== 'main') return markTable(ctx, router, e.table);
    if (router.removeStaticRoute(routeSpec(e))) ctx.actions.push(`- route ${router.name}: ${describe(e)}`);
  },
};

const describe = (e: EntryOf<'resolved-route'>) =>
  `${e.destination} ${e.blackhole ? 'blackhole' : `via ${e.nextHop} ${e.iface}`}`;

/** Sets every marked interface table again from the plan's entries for it. */
export function setMarkedTables(ctx: ApplyContext): void {
  if (ctx.routeTables.size === 0) return;
  const wanted = new Map<Router, Map<string, Route[]>>();
  for (const [router, tables] of ctx.routeTables) {
    const byTable = new Map<string, Route[]>();
    for (const t of tables) byTable.set(t, []);
    wanted.set(router, byTable);
  }
  for (const e of entriesOf(ctx.next, 'resolved-route')) {
    if (e.table === 'main') continue;
    const router = ctx.dp.router(e.router, e.vrf);
    const list = router === undefined ? undefined : wanted.get(router)?.get(e.table);
    if (list === undefined) continue;
    const c = cidr(e.destination);
    list.push({
      prefix: cidrNetwork(c),
      prefixLength: c.prefixLength,
      metric: 1,
      nextHop: e.blackhole ? null : ip(e.nextHop!),
      iface: e.iface,
      source: e.blackhole ? 'blackhole' : 'static',
    });
  }
  for (const [router, byTable] of wanted)
    for (const [table, routes] of byTable) {
      if (router.iface(table) === undefined) continue;
      router.setInterfaceRoutes(table, routes);
      ctx.actions.push(
        `~ routes ${router.name} from ${table}: ${routes.map((r) => `${formatIpv4(r.prefix)}/${r.prefixLength} ${r.source === 'blackhole' ? 'blackhole' : `via ${formatIpv4(r.nextHop ?? 0)}`}`).join(', ') || 'none'}`,
      );
    }
  ctx.routeTables.clear();
}
