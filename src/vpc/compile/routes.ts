/**
 * Stage `routes`: the VPCs' routes, then where each router holds them.
 *
 * - `vrf-route`: the local route of each VPC block, then each associated route table's routes per
 *   subnet (blackhole; the VPC's own internet gateway; a peering of the VPC; an instance of the VPC).
 * - Peerings: for each pair of VPCs joined by a peering route (in either), numbered in pair order
 *   within the tenant (a function of the tenant's routes alone), on every hypervisor with a VRF of either VPC: the other VPC's
 *   VRF too (`role: peering` where placement made none) and a `peering-link` between the two.
 * - `resolved-route`: each route as its router holds it. In every VRF of a VPC (hypervisor, peering
 *   and border), the VPC's blocks as blackholes in the main table (an address with no instance goes
 *   nowhere; instances are reached by longer connected and EVPN host routes). On each hypervisor with
 *   a subnet's BD, the subnet's routes as routes of the packets arriving on its VBDIF: internet
 *   gateway over the L3 VNI to the border VRF's transit address; peering to the peer's end of the
 *   peering link; instance to its address on its VBDIF when it runs here, else over the L3 VNI to
 *   the transit address of the VRF beside it, which sends the destination on from `l3vni` (when two
 *   subnets route one destination to two instances on one hypervisor, the first route by key wins).
 *   A route whose target the data plane lacks (no border VRF, no link, a stopped instance) is left out.
 */
import { type Cidr, cidrNetwork, formatIpv4, parseCidr } from '../../wire/index.js';
import { compareEntries, type EntryOf, type ResolvedRouteEntry, type VrfRouteEntry } from '../plan.js';
import type { CompileContext } from './context.js';
import { linkAddresses, linksIn, PEERING_LINKS, TRANSIT_PREFIX } from './transit.js';

export function compileRoutes(ctx: CompileContext): void {
  const routes = vrfRoutes(ctx);
  for (const r of routes) ctx.push(r);
  routes.sort(compareEntries);
  const vrfs = new Map<string, EntryOf<'vrf'>>();
  for (const e of ctx.entries) if (e.kind === 'vrf' && !vrfs.has(e.key)) vrfs.set(e.key, e);
  const peerIndex = compilePeerings(ctx, routes, vrfs);
  resolveRoutes(ctx, routes, vrfs, peerIndex);
}

function vrfRoutes(ctx: CompileContext): VrfRouteEntry[] {
  const out: VrfRouteEntry[] = [];
  for (const v of ctx.vpcs)
    for (const cidr of v.cidrs)
      out.push({
        kind: 'vrf-route',
        key: `${v.id} ${cidr}`,
        source: v.id,
        vpc: v.id,
        subnet: null,
        destination: cidr,
        target: 'local',
        vni: null,
        nextHop: null,
        via: null,
      });
  const tables = new Map(ctx.intent.routeTables.filter(ctx.owned).map((t) => [t.id, t] as const));
  const peerings = new Map(ctx.intent.peerings.filter(ctx.owned).map((p) => [p.id, p] as const));
  const border = ctx.fabric.border;
  for (const s of ctx.subnets) {
    const t = s.routeTable === undefined ? undefined : tables.get(s.routeTable);
    if (t === undefined || t.tenant !== s.tenant || t.vpc !== s.vpc) continue;
    t.routes.forEach((r, idx) => {
      const base = {
        kind: 'vrf-route',
        key: `${s.vpc}/${s.id} ${r.destination}`,
        source: `${t.id}/routes[${idx}]`,
        vpc: s.vpc,
        subnet: s.id,
        destination: r.destination,
      } as const;
      const target = r.target;
      if (target.kind === 'blackhole')
        out.push({ ...base, target: 'blackhole', vni: null, nextHop: null, via: null });
      else if (target.kind === 'internet-gateway') {
        if (ctx.igwOfVpc.get(s.vpc) === target.id)
          out.push({
            ...base,
            target: 'internet-gateway',
            vni: ctx.l3.get(s.vpc) ?? null,
            nextHop: border?.name ?? null,
            via: target.id,
          });
      } else if (target.kind === 'peering') {
        const p = peerings.get(target.id);
        if (p !== undefined && p.tenant === s.tenant && (p.vpc === s.vpc || p.peerVpc === s.vpc)) {
          const peer = p.vpc === s.vpc ? p.peerVpc : p.vpc;
          if (peer !== s.vpc && ctx.vpcOf(s.tenant, peer) !== undefined)
            out.push({ ...base, target: 'peering', vni: ctx.l3.get(peer) ?? null, nextHop: peer, via: p.id });
        }
      } else {
        const i = ctx.instanceById.get(target.id);
        if (i !== undefined && i.tenant === s.tenant && ctx.subnetOf(i)?.vpc === s.vpc)
          out.push({ ...base, target: 'instance', vni: null, nextHop: i.ip, via: i.id });
      }
    });
  }
  return out;
}

/** Two VPCs in id order. */
const ordered = (x: string, y: string): [string, string] => (x < y ? [x, y] : [y, x]);

/**
 * The peering links and the VRFs made for them; returns each pair's link number by `a b`. A pair
 * is numbered whether or not it has instances yet, so launching an instance never renumbers links.
 */
function compilePeerings(
  ctx: CompileContext,
  routes: readonly VrfRouteEntry[],
  vrfs: Map<string, EntryOf<'vrf'>>,
): Map<string, number> {
  const pairs = new Map<string, { a: string; b: string; peering: string }>();
  for (const r of routes)
    if (r.target === 'peering' && r.nextHop !== null && ctx.l3.has(r.vpc) && ctx.l3.has(r.nextHop)) {
      const [a, b] = ordered(r.vpc, r.nextHop);
      const key = `${a} ${b}`;
      if (!pairs.has(key)) pairs.set(key, { a, b, peering: r.via! });
    }
  const hostsOf = new Map<string, string[]>();
  for (const v of vrfs.values())
    if (v.role === 'hypervisor') {
      const list = hostsOf.get(v.vpc);
      if (list === undefined) hostsOf.set(v.vpc, [v.host]);
      else list.push(v.host);
    }
  // Numbered within each tenant (a part of a compile in parts holds whole tenants, so a pair's
  // number never depends on which other tenants are compiled with it).
  const index = new Map<string, number>();
  const keys = [...pairs.keys()].sort();
  const tenantOf = new Map(ctx.vpcs.map((v) => [v.id, v.tenant] as const));
  const next = new Map<string, number>();
  for (const key of keys) {
    const tenant = tenantOf.get(pairs.get(key)!.a) ?? '';
    const n = next.get(tenant) ?? 0;
    next.set(tenant, n + 1);
    if (n < linksIn(PEERING_LINKS)) index.set(key, n);
  }
  for (const key of keys) {
    const { a, b, peering } = pairs.get(key)!;
    const n = index.get(key);
    const ha = hostsOf.get(a) ?? [];
    const hb = hostsOf.get(b) ?? [];
    if (n === undefined || ha.length === 0 || hb.length === 0) continue; // nothing to carry
    const [aAddress, bAddress] = linkAddresses(PEERING_LINKS, n);
    for (const host of [...new Set([...ha, ...hb])].sort()) {
      for (const vpc of [a, b]) {
        const k = `${host}/${vpc}`;
        if (vrfs.has(k)) continue;
        const h = ctx.hosts.get(host)!;
        const vrf = {
          kind: 'vrf',
          key: k,
          source: peering,
          role: 'peering',
          host,
          vtep: h.vtep,
          vpc,
          l3Vni: ctx.l3.get(vpc)!,
          transit: `${ctx.transit.get(host)}/${TRANSIT_PREFIX}`,
        } as const;
        vrfs.set(k, vrf);
        ctx.push(vrf);
      }
      ctx.push({
        kind: 'peering-link',
        key: `${host}/${a} ${b}`,
        source: peering,
        host,
        peering,
        a,
        b,
        aIface: `pcx-${b}`,
        aAddress: `${aAddress}/30`,
        bIface: `pcx-${a}`,
        bAddress: `${bAddress}/30`,
      });
    }
  }
  return index;
}

const network = (c: Cidr) => `${formatIpv4(cidrNetwork(c))}/${c.prefixLength}`;

function resolved(
  host: string,
  vpc: string,
  table: string,
  destination: string,
  to: { nextHop: string | null; iface: string },
  source: string,
): ResolvedRouteEntry {
  return {
    kind: 'resolved-route',
    key: `${host}/${vpc} ${table} ${destination}`,
    source,
    router: host,
    vrf: vpc,
    table,
    destination,
    blackhole: to.iface === 'null0',
    nextHop: to.nextHop,
    iface: to.iface,
  };
}

const BLACKHOLE = { nextHop: null, iface: 'null0' } as const;

function resolveRoutes(
  ctx: CompileContext,
  routes: readonly VrfRouteEntry[],
  vrfs: ReadonlyMap<string, EntryOf<'vrf'>>,
  peerIndex: ReadonlyMap<string, number>,
): void {
  const border = ctx.fabric.border;
  const vrfsOfVpc = new Map<string, EntryOf<'vrf'>[]>();
  for (const v of vrfs.values()) {
    const list = vrfsOfVpc.get(v.vpc);
    if (list === undefined) vrfsOfVpc.set(v.vpc, [v]);
    else list.push(v);
  }
  // Where each running instance is, and its subnet's VNI.
  const placed = new Map<string, { host: string; vni: number }>();
  for (const i of ctx.running) {
    const vni = ctx.l2.get(ctx.subnetOf(i)!.id);
    if (vni !== undefined) placed.set(i.id, { host: i.host, vni });
  }
  // The hypervisors with each subnet's BD.
  const bdHosts = new Map<string, { host: string; vni: number }[]>();
  for (const e of ctx.entries)
    if (e.kind === 'bridge-domain') {
      const list = bdHosts.get(e.subnet);
      const at = { host: e.host, vni: e.vni };
      if (list === undefined) bdHosts.set(e.subnet, [at]);
      else if (!list.some((x) => x.host === e.host)) list.push(at);
    }
  const seen = new Set<string>();
  const push = (e: ResolvedRouteEntry) => {
    if (seen.has(e.key)) return; // the first route by key wins
    seen.add(e.key);
    ctx.push(e);
  };
  for (const r of routes) {
    const c = parseCidr(r.destination);
    if (c === undefined) continue;
    const destination = network(c);
    if (r.subnet === null) {
      if (r.target !== 'local') continue;
      for (const v of vrfsOfVpc.get(r.vpc) ?? [])
        push(resolved(v.host, v.vpc, 'main', destination, BLACKHOLE, r.source));
      continue;
    }
    for (const { host, vni } of bdHosts.get(r.subnet) ?? []) {
      const table = `vbdif${vni}`;
      let to: { nextHop: string | null; iface: string } | undefined;
      if (r.target === 'blackhole') to = BLACKHOLE;
      else if (r.target === 'internet-gateway') {
        if (border !== null && vrfs.has(`${border.name}/${r.vpc}`))
          to = { nextHop: ctx.transit.get(border.name)!, iface: 'l3vni' };
      } else if (r.target === 'peering' && r.nextHop !== null) {
        const [a, b] = ordered(r.vpc, r.nextHop);
        const n = peerIndex.get(`${a} ${b}`);
        if (n !== undefined && vrfs.has(`${host}/${r.nextHop}`)) {
          const [aAddress, bAddress] = linkAddresses(PEERING_LINKS, n);
          to = { nextHop: r.vpc === a ? bAddress : aAddress, iface: `pcx-${r.nextHop}` };
        }
      } else if (r.target === 'instance' && r.nextHop !== null) {
        const target = placed.get(r.via ?? '');
        if (target !== undefined)
          to =
            target.host === host
              ? { nextHop: r.nextHop, iface: `vbdif${target.vni}` }
              : { nextHop: ctx.transit.get(target.host)!, iface: 'l3vni' };
      }
      if (to !== undefined) push(resolved(host, r.vpc, table, destination, to, r.source));
    }
  }
  // Routes to an instance from a subnet on another hypervisor arrive over the L3 VNI at the VRF
  // beside the instance: there, the routes of packets arriving on `l3vni` send them on to it.
  for (const r of routes) {
    if (r.subnet === null || r.target !== 'instance' || r.nextHop === null) continue;
    const target = placed.get(r.via ?? '');
    const c = parseCidr(r.destination);
    if (target === undefined || c === undefined || !vrfs.has(`${target.host}/${r.vpc}`)) continue;
    push(
      resolved(
        target.host,
        r.vpc,
        'l3vni',
        network(c),
        { nextHop: r.nextHop, iface: `vbdif${target.vni}` },
        r.source,
      ),
    );
  }
}
