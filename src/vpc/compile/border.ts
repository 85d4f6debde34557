/**
 * Stage `border`: the internet gateways' side of the fabric. For each VPC with an internet gateway
 * (one per VPC: the first by id), a VRF on the border; a source NAT address from the top of the
 * border's public pool downwards (kept from `previous`, never an elastic IP's or another part's);
 * the link between that VRF and the internet router (the /30 of 100.64.0.0/10 whose number is the
 * SNAT address's place in the pool, so it is unique on the internet router without bookkeeping),
 * the VRF's default route out of it and the internet's route back to the SNAT address; and for each
 * elastic IP bound to a running instance of such a VPC, 1:1 NAT and the internet's route to it.
 */
import {
  cidrBroadcast,
  cidrContains,
  cidrNetwork,
  formatIpv4,
  parseCidr,
  parseIpv4Address,
} from '../../wire/index.js';
import type { CompileContext } from './context.js';
import { EXTERNAL_LINKS, linkAddresses, linksIn, TRANSIT_PREFIX } from './transit.js';

/** The internet router's name when the inventory does not give it. */
const INTERNET = 'internet';
const VRF_SIDE = 'ext';

export function compileBorder(ctx: CompileContext): void {
  for (const g of ctx.byId(ctx.intent.internetGateways.filter(ctx.owned)))
    if (ctx.vpcOf(g.tenant, g.vpc) !== undefined && !ctx.igwOfVpc.has(g.vpc)) ctx.igwOfVpc.set(g.vpc, g.id);
  const border = ctx.fabric.border;
  if (border === null) return;
  const internet = border.internet ?? INTERNET;
  const pool = parseCidr(border.publicPool);
  const snatVpcs = ctx.vpcs.filter((v) => ctx.igwOfVpc.has(v.id) && ctx.l3.has(v.id));
  const snatIp = pool === undefined ? new Map<string, string>() : snatAddresses(ctx, pool, snatVpcs);
  const links = new Map<string, { vrf: string; internet: string }>();
  for (const v of snatVpcs) {
    const igw = ctx.igwOfVpc.get(v.id)!;
    const l3Vni = ctx.l3.get(v.id)!;
    ctx.push({
      kind: 'vrf',
      key: `${border.name}/${v.id}`,
      source: igw,
      role: 'border',
      host: border.name,
      vtep: null,
      vpc: v.id,
      l3Vni,
      transit: `${ctx.transit.get(border.name)}/${TRANSIT_PREFIX}`,
    });
    const publicIp = snatIp.get(v.id);
    if (publicIp === undefined || pool === undefined) continue;
    ctx.push({
      kind: 'snat',
      key: v.id,
      source: igw,
      border: border.name,
      vpc: v.id,
      l3Vni,
      inside: [...v.cidrs],
      publicIp,
    });
    const n = (parseIpv4Address(publicIp)! - cidrNetwork(pool)) >>> 0;
    if (n >= linksIn(EXTERNAL_LINKS)) continue; // a pool larger than the block has links for
    const [internetSide, vrfSide] = linkAddresses(EXTERNAL_LINKS, n);
    const internetIface = `to-${v.id}`;
    links.set(v.id, { vrf: vrfSide, internet: internetIface });
    ctx.push({
      kind: 'external-link',
      key: v.id,
      source: igw,
      border: border.name,
      vpc: v.id,
      vrfIface: VRF_SIDE,
      vrfAddress: `${vrfSide}/30`,
      publicIp,
      internet,
      internetIface,
      internetAddress: `${internetSide}/30`,
    });
    ctx.push(route(border.name, v.id, '0.0.0.0/0', internetSide, VRF_SIDE, igw));
    ctx.push(route(internet, null, `${publicIp}/32`, vrfSide, internetIface, igw));
  }
  const runningIds = new Map(ctx.running.map((i) => [i.id, i] as const));
  for (const e of ctx.byId(ctx.intent.elasticIps.filter(ctx.owned))) {
    const i = e.instance === undefined ? undefined : runningIds.get(e.instance);
    if (i === undefined || i.tenant !== e.tenant) continue;
    const vpc = ctx.subnetOf(i)!.vpc;
    const l3Vni = ctx.l3.get(vpc);
    if (!ctx.igwOfVpc.has(vpc) || l3Vni === undefined) continue;
    ctx.push({
      kind: 'static-nat',
      key: e.address,
      source: e.id,
      border: border.name,
      vpc,
      l3Vni,
      instance: i.id,
      publicIp: e.address,
      insideIp: i.ip,
    });
    const link = links.get(vpc);
    if (link !== undefined) ctx.push(route(internet, null, `${e.address}/32`, link.vrf, link.internet, e.id));
  }
}

function route(
  router: string,
  vrf: string | null,
  destination: string,
  nextHop: string,
  iface: string,
  source: string,
) {
  return {
    kind: 'resolved-route',
    key: `${vrf === null ? router : `${router}/${vrf}`} main ${destination}`,
    source,
    router,
    vrf,
    table: 'main',
    destination,
    blackhole: false,
    nextHop,
    iface,
  } as const;
}

/** SNAT addresses: kept from before when still usable, the others from the top of the pool down. */
function snatAddresses(
  ctx: CompileContext,
  pool: NonNullable<ReturnType<typeof parseCidr>>,
  snatVpcs: readonly { id: string }[],
): Map<string, string> {
  const eipAddresses = new Set(ctx.intent.elasticIps.map((e) => e.address));
  const out = new Map<string, string>();
  const usable = (a: number | undefined): a is number =>
    a !== undefined &&
    cidrContains(pool, a) &&
    a !== cidrNetwork(pool) &&
    a !== cidrBroadcast(pool) &&
    !eipAddresses.has(formatIpv4(a)) &&
    !ctx.reserved.publicIp(formatIpv4(a));
  const taken = new Set<string>();
  for (const v of snatVpcs) {
    const p = ctx.previous.snat.get(v.id);
    if (p !== undefined && usable(parseIpv4Address(p)) && !taken.has(p)) {
      out.set(v.id, p);
      taken.add(p);
    }
  }
  let next = cidrBroadcast(pool) - 1;
  for (const v of snatVpcs) {
    if (out.has(v.id)) continue;
    while (next > cidrNetwork(pool) && (!usable(next) || taken.has(formatIpv4(next)))) next--;
    if (next <= cidrNetwork(pool)) break; // the pool is exhausted
    out.set(v.id, formatIpv4(next));
    taken.add(formatIpv4(next));
  }
  return out;
}
