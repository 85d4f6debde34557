/**
 * `compile(intent, fabric, previous?)`: the VPC intent turned into the fabric's configuration (the
 * plan, see plan.ts), as OVN's northd turns its northbound database into logical flows.
 *
 * Guarantees:
 * - Pure and deterministic: no clock, no randomness, objects taken in id order; the plan's entries
 *   are sorted, so the same inputs give the same bytes.
 * - Never throws: compile an intent `validate` accepts; references it would reject (unknown ids,
 *   another tenant's objects, hosts outside the inventory) are skipped, not guessed at.
 * - VNIs are unique fabric-wide (every tenant shares the one VNI space, whatever their CIDRs) and
 *   stable: with `previous`, every subnet and VPC still in the intent keeps the VNI it had; new
 *   ones take the lowest VNI free in their range (subnets from 100000, VPC L3 VNIs from 900000);
 *   a deleted object's VNI becomes free. Source NAT addresses are kept the same way.
 * - Placement follows the instances: a hypervisor gets a subnet's BD and its VPC's VRF only while
 *   a running instance of that subnet is on it. Stopped instances get no MAC/IP route, no DHCP
 *   binding, no rules and no NAT; routes that name them stay (the reachability analysis reports it).
 * - SNAT addresses come from the top of the border's public pool downwards (the service allocates
 *   elastic IPs from the bottom), never an elastic IP's address.
 */

import {
  cidrBroadcast,
  cidrContains,
  cidrNetwork,
  formatIpv4,
  parseCidr,
  parseIpv4Address,
} from '../wire/index.js';
import { GATEWAY_MAC, gatewayAddress } from './addresses.js';
import type { FabricInventory, Instance, Intent, SecurityGroup, Subnet, Vpc } from './intent.js';
import {
  ACL_IMPLICIT_DENY,
  compareEntries,
  entriesOf,
  naturalCompare,
  PLAN_VERSION,
  type Plan,
  type PlanEntry,
  type VrfRouteEntry,
} from './plan.js';

/** The first VNI of each range (VXLAN VNIs are 24 bits, RFC 7348 5). */
export const SUBNET_VNI_BASE = 100000;
export const VPC_L3VNI_BASE = 900000;
const SUBNET_VNI_LIMIT = VPC_L3VNI_BASE - 1;
const VNI_LIMIT = 0xff_ffff;

const byId = <T extends { id: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => naturalCompare(a.id, b.id));

/**
 * Stable allocation: ids keep their previous value when it is still in [base, limit] and not taken;
 * the others get the lowest free value, in id order.
 */
function allocateStable(
  ids: readonly string[],
  previous: ReadonlyMap<string, number>,
  base: number,
  limit: number,
  reserved: (value: number) => boolean,
): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>();
  const free = (v: number) => !taken.has(v) && !reserved(v);
  for (const id of ids) {
    const v = previous.get(id);
    if (v !== undefined && v >= base && v <= limit && free(v)) {
      out.set(id, v);
      taken.add(v);
    }
  }
  let next = base;
  for (const id of ids) {
    if (out.has(id)) continue;
    while (next <= limit && !free(next)) next++;
    if (next > limit) continue; // the range is full: the object gets no VNI (and no entries)
    out.set(id, next);
    taken.add(next);
  }
  return out;
}

/**
 * What other compiles hold, when an intent is compiled in parts (one tenant at a time, see
 * tenant-plans.ts): VNIs and public addresses that belong to another part are never handed out.
 */
export interface Reserved {
  /** Whether the VNI is another part's. */
  readonly vni: (vni: number) => boolean;
  /** Whether the public address (dotted) is another part's: its SNAT address or an elastic IP. */
  readonly publicIp: (address: string) => boolean;
}

const NOTHING_RESERVED: Reserved = { vni: () => false, publicIp: () => false };

/**
 * What a compile keeps from before, by object id: each VPC's L3 VNI, each subnet's VNI, each VPC's
 * SNAT address. A previous plan holds them; the service also stores them, so that a restart (which
 * compiles with no plan applied yet) gives every object what it had.
 */
export interface Allocations {
  readonly l3Vni: ReadonlyMap<string, number>;
  readonly l2Vni: ReadonlyMap<string, number>;
  readonly snat: ReadonlyMap<string, string>;
}

/** The allocations a plan holds. */
export function allocationsOf(plan: Plan): Allocations {
  return {
    l3Vni: new Map(entriesOf(plan, 'l3-vni').map((e) => [e.key, e.vni])),
    l2Vni: new Map(entriesOf(plan, 'l2-vni').map((e) => [e.key, e.vni])),
    snat: new Map(entriesOf(plan, 'snat').map((e) => [e.key, e.publicIp])),
  };
}

export function compile(
  intent: Intent,
  fabric: FabricInventory,
  previous?: Plan | Allocations,
  reserved: Reserved = NOTHING_RESERVED,
): Plan {
  const entries: PlanEntry[] = [];
  const push = (e: PlanEntry) => entries.push(e);
  const tenants = new Set(intent.tenants.map((t) => t.id));
  const owned = <T extends { tenant: string }>(it: T) => tenants.has(it.tenant);

  // Objects that resolve, in id order.
  const vpcs = byId(intent.vpcs.filter(owned));
  const vpcById = new Map(vpcs.map((v) => [v.id, v] as const));
  const vpcOf = (tenant: string, id: string): Vpc | undefined => {
    const v = vpcById.get(id);
    return v?.tenant === tenant ? v : undefined;
  };
  const subnets = byId(intent.subnets.filter((s) => owned(s) && vpcOf(s.tenant, s.vpc) !== undefined));
  const subnetById = new Map(subnets.map((s) => [s.id, s] as const));
  const subnetOf = (i: Instance): Subnet | undefined => {
    const s = subnetById.get(i.subnet);
    return s?.tenant === i.tenant ? s : undefined;
  };
  const hosts = new Map(fabric.hypervisors.map((h) => [h.name, h] as const));
  const instances = byId(intent.instances.filter((i) => owned(i) && subnetOf(i) !== undefined));
  const running = instances.filter((i) => i.state === 'running' && hosts.has(i.host));
  const instanceById = new Map(instances.map((i) => [i.id, i] as const));
  const border = fabric.border;

  // VNIs, stable across compiles.
  const prev: Allocations =
    previous === undefined
      ? allocationsOf({ version: PLAN_VERSION, entries: [] })
      : 'entries' in previous
        ? allocationsOf(previous)
        : previous;
  const l3 = allocateStable(
    vpcs.map((v) => v.id),
    prev.l3Vni,
    VPC_L3VNI_BASE,
    VNI_LIMIT,
    reserved.vni,
  );
  const l2 = allocateStable(
    subnets.map((s) => s.id),
    prev.l2Vni,
    SUBNET_VNI_BASE,
    SUBNET_VNI_LIMIT,
    reserved.vni,
  );

  for (const v of vpcs) {
    const vni = l3.get(v.id);
    if (vni !== undefined)
      push({ kind: 'l3-vni', key: v.id, source: v.id, tenant: v.tenant, vpc: v.id, vni });
  }
  for (const s of subnets) {
    const vni = l2.get(s.id);
    const l3Vni = l3.get(s.vpc);
    const c = parseCidr(s.cidr);
    if (vni === undefined || l3Vni === undefined || c === undefined) continue;
    push({
      kind: 'l2-vni',
      key: s.id,
      source: s.id,
      tenant: s.tenant,
      vpc: s.vpc,
      subnet: s.id,
      cidr: s.cidr,
      vni,
      l3Vni,
    });
    push({
      kind: 'anycast-gateway',
      key: s.id,
      source: s.id,
      vpc: s.vpc,
      subnet: s.id,
      vni,
      address: `${formatIpv4(gatewayAddress(c))}/${c.prefixLength}`,
      mac: GATEWAY_MAC,
    });
  }

  // Placement: BDs and VRFs where running instances are; MAC/IP routes and DHCP bindings.
  for (const i of running) {
    const s = subnetOf(i)!;
    const h = hosts.get(i.host)!;
    const vni = l2.get(s.id);
    const l3Vni = l3.get(s.vpc);
    const c = parseCidr(s.cidr);
    if (vni === undefined || l3Vni === undefined || c === undefined) continue;
    push({
      kind: 'bridge-domain',
      key: `${h.name}/vni ${vni}`,
      source: s.id,
      host: h.name,
      vtep: h.vtep,
      vpc: s.vpc,
      subnet: s.id,
      vni,
    });
    push({
      kind: 'vrf',
      key: `${h.name}/${s.vpc}`,
      source: s.vpc,
      role: 'hypervisor',
      host: h.name,
      vtep: h.vtep,
      vpc: s.vpc,
      l3Vni,
    });
    push({
      kind: 'mac-ip-route',
      key: `vni ${vni}/${i.mac}`,
      source: i.id,
      vpc: s.vpc,
      subnet: s.id,
      instance: i.id,
      vni,
      l3Vni,
      mac: i.mac,
      ip: i.ip,
      host: h.name,
      vtep: h.vtep,
    });
    push({
      kind: 'dhcp-binding',
      key: `${s.id}/${i.mac}`,
      source: i.id,
      subnet: s.id,
      instance: i.id,
      host: h.name,
      vni,
      mac: i.mac,
      ip: i.ip,
      prefixLength: c.prefixLength,
      gateway: formatIpv4(gatewayAddress(c)),
    });
  }

  // Internet gateways: one per VPC (the first by id when validate would complain).
  const igwOfVpc = new Map<string, string>();
  for (const g of byId(intent.internetGateways.filter(owned)))
    if (vpcOf(g.tenant, g.vpc) !== undefined && !igwOfVpc.has(g.vpc)) igwOfVpc.set(g.vpc, g.id);

  // Routes: the local route of each VPC block, then each associated table's routes per subnet.
  for (const v of vpcs) {
    for (const cidr of v.cidrs)
      push({
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
  }
  const tables = new Map(intent.routeTables.filter(owned).map((t) => [t.id, t] as const));
  const peerings = new Map(intent.peerings.filter(owned).map((p) => [p.id, p] as const));
  for (const s of subnets) {
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
      let route: VrfRouteEntry | undefined;
      const target = r.target;
      if (target.kind === 'blackhole')
        route = { ...base, target: 'blackhole', vni: null, nextHop: null, via: null };
      else if (target.kind === 'internet-gateway') {
        if (igwOfVpc.get(s.vpc) === target.id)
          route = {
            ...base,
            target: 'internet-gateway',
            vni: l3.get(s.vpc) ?? null,
            nextHop: border?.name ?? null,
            via: target.id,
          };
      } else if (target.kind === 'peering') {
        const p = peerings.get(target.id);
        if (p !== undefined && p.tenant === s.tenant && (p.vpc === s.vpc || p.peerVpc === s.vpc)) {
          const peer = p.vpc === s.vpc ? p.peerVpc : p.vpc;
          if (peer !== s.vpc && vpcOf(s.tenant, peer) !== undefined)
            route = { ...base, target: 'peering', vni: l3.get(peer) ?? null, nextHop: peer, via: p.id };
        }
      } else {
        const i = instanceById.get(target.id);
        if (i !== undefined && i.tenant === s.tenant && subnetOf(i)?.vpc === s.vpc)
          route = { ...base, target: 'instance', vni: null, nextHop: i.ip, via: i.id };
      }
      if (route !== undefined) push(route);
    });
  }

  // Security groups, per running instance, group references expanded to running members.
  const groups = new Map(intent.securityGroups.filter(owned).map((g) => [g.id, g] as const));
  const groupOf = (tenant: string, vpc: string, id: string): SecurityGroup | undefined => {
    const g = groups.get(id);
    return g !== undefined && g.tenant === tenant && g.vpc === vpc ? g : undefined;
  };
  for (const i of running) {
    const s = subnetOf(i)!;
    for (const gid of [...new Set(i.securityGroups)].sort(naturalCompare)) {
      const g = groupOf(i.tenant, s.vpc, gid);
      if (g === undefined) continue;
      for (const direction of ['ingress', 'egress'] as const) {
        g[direction].forEach((r, idx) => {
          const remote: { cidr: string; peerGroup: string | null }[] = [];
          if (r.cidr !== undefined) remote.push({ cidr: r.cidr, peerGroup: null });
          else if (r.group !== undefined && groupOf(i.tenant, s.vpc, r.group) !== undefined) {
            for (const m of running)
              if (m.tenant === i.tenant && m.securityGroups.includes(r.group) && subnetOf(m)?.vpc === s.vpc)
                remote.push({ cidr: `${m.ip}/32`, peerGroup: r.group });
          }
          for (const { cidr, peerGroup } of remote)
            push({
              kind: 'sg-rule',
              key: `${i.id}/${direction}/${g.id}[${idx}]/${cidr}`,
              source: `${g.id}/${direction}[${idx}]`,
              instance: i.id,
              host: i.host,
              ip: i.ip,
              direction,
              group: g.id,
              protocol: r.protocol,
              ports: r.ports ?? null,
              cidr,
              peerGroup,
            });
        });
      }
    }
  }

  // Network ACLs, per subnet, in rule order, the implicit deny last.
  const acls = new Map(intent.networkAcls.filter(owned).map((a) => [a.id, a] as const));
  for (const s of subnets) {
    const a = s.networkAcl === undefined ? undefined : acls.get(s.networkAcl);
    const vni = l2.get(s.id);
    if (a === undefined || a.tenant !== s.tenant || a.vpc !== s.vpc || vni === undefined) continue;
    for (const direction of ['ingress', 'egress'] as const) {
      const seen = new Set<number>();
      const rules = a[direction]
        .map((r, idx) => ({ r, idx }))
        .sort((x, y) => x.r.number - y.r.number || x.idx - y.idx);
      for (const { r, idx } of rules) {
        if (seen.has(r.number) || r.number >= ACL_IMPLICIT_DENY) continue;
        seen.add(r.number);
        push({
          kind: 'acl-rule',
          key: `${s.id}/${direction}/${r.number}`,
          source: `${a.id}/${direction}[${idx}]`,
          subnet: s.id,
          vni,
          acl: a.id,
          direction,
          number: r.number,
          action: r.action,
          protocol: r.protocol,
          ports: r.ports ?? null,
          cidr: r.cidr,
        });
      }
      push({
        kind: 'acl-rule',
        key: `${s.id}/${direction}/${ACL_IMPLICIT_DENY}`,
        source: a.id,
        subnet: s.id,
        vni,
        acl: a.id,
        direction,
        number: ACL_IMPLICIT_DENY,
        action: 'deny',
        protocol: 'all',
        ports: null,
        cidr: '0.0.0.0/0',
      });
    }
  }

  // The border: a VRF, source NAT per VPC with an internet gateway, 1:1 NAT per bound elastic IP.
  if (border !== null) {
    const pool = parseCidr(border.publicPool);
    const eipAddresses = new Set(intent.elasticIps.map((e) => e.address));
    const snatVpcs = vpcs.filter((v) => igwOfVpc.has(v.id) && l3.has(v.id));
    const prevSnat = prev.snat;
    const snatIp = new Map<string, string>();
    if (pool !== undefined) {
      const usable = (a: number | undefined): a is number =>
        a !== undefined &&
        cidrContains(pool, a) &&
        a !== cidrNetwork(pool) &&
        a !== cidrBroadcast(pool) &&
        !eipAddresses.has(formatIpv4(a)) &&
        !reserved.publicIp(formatIpv4(a));
      const taken = new Set<string>();
      for (const v of snatVpcs) {
        const p = prevSnat.get(v.id);
        if (p !== undefined && usable(parseIpv4Address(p)) && !taken.has(p)) {
          snatIp.set(v.id, p);
          taken.add(p);
        }
      }
      let next = cidrBroadcast(pool) - 1;
      for (const v of snatVpcs) {
        if (snatIp.has(v.id)) continue;
        while (next > cidrNetwork(pool) && (!usable(next) || taken.has(formatIpv4(next)))) next--;
        if (next <= cidrNetwork(pool)) break; // the pool is exhausted
        snatIp.set(v.id, formatIpv4(next));
        taken.add(formatIpv4(next));
      }
    }
    for (const v of snatVpcs) {
      const igw = igwOfVpc.get(v.id)!;
      const l3Vni = l3.get(v.id)!;
      push({
        kind: 'vrf',
        key: `${border.name}/${v.id}`,
        source: igw,
        role: 'border',
        host: border.name,
        vtep: null,
        vpc: v.id,
        l3Vni,
      });
      const publicIp = snatIp.get(v.id);
      if (publicIp !== undefined)
        push({
          kind: 'snat',
          key: v.id,
          source: igw,
          border: border.name,
          vpc: v.id,
          l3Vni,
          inside: [...v.cidrs],
          publicIp,
        });
    }
    const runningIds = new Map(running.map((i) => [i.id, i] as const));
    for (const e of byId(intent.elasticIps.filter(owned))) {
      const i = e.instance === undefined ? undefined : runningIds.get(e.instance);
      if (i === undefined || i.tenant !== e.tenant) continue;
      const vpc = subnetOf(i)!.vpc;
      const l3Vni = l3.get(vpc);
      if (!igwOfVpc.has(vpc) || l3Vni === undefined) continue;
      push({
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
    }
  }

  // One entry per (kind, key): the first pushed wins (a BD or VRF shared by several instances).
  const unique = new Map<string, PlanEntry>();
  for (const e of entries) {
    const id = `${e.kind} ${e.key}`;
    if (!unique.has(id)) unique.set(id, e);
  }
  return { version: PLAN_VERSION, entries: [...unique.values()].sort(compareEntries) };
}
