/**
 * Static reachability, as a cloud's reachability analyzer answers it: would a packet from an
 * instance to another instance (or an address) be delivered, and if not, which rule or route stops
 * it. Read from the intent (which instance is where, running or not) and the compiled plan (the
 * rules and routes the data plane is given), so the answer is about what the fabric will do.
 *
 * Hops, in order; the first that blocks ends the walk and names its `source`:
 * 1. the source instance exists and runs;
 * 2. its security groups allow the packet out (stateful: first allowing rule; allow rules only);
 * 3. its subnet's network ACL allows it out (stateless: rules by number, first match, implicit deny);
 * 4. the route of the source subnet (longest prefix: local, internet gateway, peering, instance,
 *    blackhole); across a peering, the destination subnet's table must route back through it;
 * 5. the destination instance exists and runs (checked here rather than last: a stopped instance
 *    has no rules in the plan, so its security groups would otherwise get the blame);
 * 6. the destination subnet's network ACL allows it in; 7. its security groups allow it in;
 * 8. the reply through both network ACLs (stateless, so the reply is checked too, from the service
 *    port to `EPHEMERAL_PORT`, the start of the dynamic range of RFC 6335 6); security groups pass
 *    replies by connection tracking.
 * Network ACLs filter traffic crossing a subnet's boundary only: within one subnet they are not
 * consulted (AWS, "Control subnet traffic with network ACLs"). A destination past an internet
 * gateway is out of the fabric: the walk ends at the border with the address the packet leaves as
 * (hop `outside`), unless it is an elastic IP of the intent's (then it comes back in to that
 * instance). Another tenant's elastic IP is not in the intent a tenant's probe reads: it is the
 * internet to it.
 *
 * Never throws on any intent and plan; unknown ids are answered as blocked hops.
 */

import { cidrContains, formatIpv4, type Ipv4, parseCidr, parseIpv4Address } from '../wire/index.js';
import type { Instance, Intent, Subnet } from './intent.js';
import {
  ACL_IMPLICIT_DENY,
  type AclRuleEntry,
  type Direction,
  entriesOf,
  type Plan,
  type Protocol,
  type SgRuleEntry,
  type VrfRouteEntry,
} from './plan.js';
import type { ReachStep } from './stages.js';

export type ReachProtocol = Exclude<Protocol, 'all'>;

export interface ReachQuery {
  /** The source instance's id. */
  readonly src: string;
  /** The destination instance's id, or an IPv4 address. */
  readonly dst: string;
  readonly protocol: ReachProtocol;
  /** The destination port (tcp, udp). Without one, only rules open to every port match. */
  readonly port?: number;
}

export interface ReachHop {
  /** The hop's name; `stageOf(step)` is the pipeline stage that decides it (stages.ts). */
  readonly step: ReachStep;
  readonly verdict: 'pass' | 'block';
  readonly why: string;
  /** The intent object (or rule: `sg-2/ingress[0]`) that decided. */
  readonly source?: string;
}

export interface ReachResult {
  readonly allowed: boolean;
  readonly hops: readonly ReachHop[];
}

/**
 * The last hop of a destination past the internet gateway that is none of the tenant's instances
 * (the internet, another tenant's elastic IP): the analysis cannot see whether it answers.
 */
export const OUTSIDE_STEP: ReachStep = 'outside';

/** The client port replies are checked against (RFC 6335 6: dynamic ports start at 49152). */
export const EPHEMERAL_PORT = 49152;

interface RuleLike {
  readonly protocol: Protocol;
  readonly ports: readonly [number, number] | null;
  readonly cidr: string;
}

function matches(r: RuleLike, protocol: ReachProtocol, port: number | undefined, remote: Ipv4): boolean {
  if (r.protocol !== 'all' && r.protocol !== protocol) return false;
  const c = parseCidr(r.cidr);
  if (c === undefined || !cidrContains(c, remote)) return false;
  if (r.ports === null || protocol === 'icmp') return true;
  if (port === undefined) return r.ports[0] === 0 && r.ports[1] === 65535;
  return port >= r.ports[0] && port <= r.ports[1];
}

function flow(protocol: ReachProtocol, port: number | undefined): string {
  return protocol === 'icmp' || port === undefined ? protocol : `${protocol} ${port}`;
}

function ruleText(r: RuleLike): string {
  const ports =
    r.ports === null ? '' : r.ports[0] === r.ports[1] ? ` ${r.ports[0]}` : ` ${r.ports[0]}-${r.ports[1]}`;
  return `${r.protocol}${ports}`;
}

export function analyzeReach(intent: Intent, plan: Plan, query: ReachQuery): ReachResult {
  const hops: ReachHop[] = [];
  const pass = (step: ReachStep, why: string, source?: string) =>
    hops.push(source === undefined ? { step, verdict: 'pass', why } : { step, verdict: 'pass', why, source });
  const block = (step: ReachStep, why: string, source: string): ReachResult => {
    hops.push({ step, verdict: 'block', why, source });
    return { allowed: false, hops };
  };
  const { protocol, port } = query;
  const what = flow(protocol, port);

  const src = intent.instances.find((i) => i.id === query.src);
  const subnetOf = (i: Instance): Subnet | undefined =>
    intent.subnets.find((s) => s.id === i.subnet && s.tenant === i.tenant);
  const srcSubnet = src === undefined ? undefined : subnetOf(src);
  if (src === undefined || srcSubnet === undefined)
    return block('source-instance', `unknown instance ${query.src}`, query.src);
  const tenantInstances = intent.instances.filter((i) => i.tenant === src.tenant);
  const srcIp = parseIpv4Address(src.ip);
  if (srcIp === undefined) return block('source-instance', `${src.id} has no address`, src.id);

  let dstIp = parseIpv4Address(query.dst);
  let named: Instance | undefined;
  if (dstIp === undefined) {
    named = tenantInstances.find((i) => i.id === query.dst);
    dstIp = named === undefined ? undefined : parseIpv4Address(named.ip);
    if (named === undefined || dstIp === undefined || subnetOf(named) === undefined)
      return block('destination-instance', `unknown instance ${query.dst}`, query.dst);
  }
  const dstText = formatIpv4(dstIp);

  if (src.state !== 'running') return block('source-instance', `${src.id} is stopped`, src.id);
  pass('source-instance', `${src.id} (${src.ip}) runs on ${src.host}`, src.id);

  // Security groups of an instance, one direction.
  const sgHop = (inst: Instance, direction: Direction, remote: Ipv4, step: ReachStep): boolean => {
    const rules = entriesOf(plan, 'sg-rule').filter(
      (r) => r.instance === inst.id && r.direction === direction,
    );
    const hit: SgRuleEntry | undefined = rules.find((r) => matches(r, protocol, port, remote));
    const toFrom = direction === 'egress' ? 'to' : 'from';
    if (hit !== undefined) {
      pass(step, `${hit.source} allows ${ruleText(hit)} ${toFrom} ${hit.cidr}`, hit.source);
      return true;
    }
    const groups = [...new Set(inst.securityGroups)];
    if (groups.length === 0)
      block(step, `${inst.id} has no security group: no ${direction} is allowed`, inst.id);
    else
      block(
        step,
        `${groups.join(' and ')} ${groups.length === 1 ? 'has' : 'have'} no ${direction} rule for ${what} ${toFrom} ${formatIpv4(remote)}`,
        groups.join(','),
      );
    return false;
  };

  // A subnet's network ACL, one direction; `reply` checks the stateless return of the flow.
  const aclHop = (
    subnet: Subnet,
    direction: Direction,
    remote: Ipv4,
    step: ReachStep,
    reply: boolean,
  ): boolean => {
    const rules = entriesOf(plan, 'acl-rule')
      .filter((r) => r.subnet === subnet.id && r.direction === direction)
      .sort((a, b) => a.number - b.number);
    const toFrom = direction === 'egress' ? 'to' : 'from';
    if (rules.length === 0) {
      pass(step, `${subnet.id} has no network ACL: all traffic allowed`, subnet.id);
      return true;
    }
    const p = reply ? (protocol === 'icmp' ? undefined : EPHEMERAL_PORT) : port;
    const desc = `${reply ? 'the reply ' : ''}${flow(protocol, p)} ${toFrom} ${formatIpv4(remote)}`;
    const hit: AclRuleEntry | undefined = rules.find((r) => matches(r, protocol, p, remote));
    if (hit === undefined || hit.number === ACL_IMPLICIT_DENY) {
      const acl = rules[0]!.acl;
      block(step, `${acl} ${direction} denies ${desc}: no rule matches (implicit deny)`, acl);
      return false;
    }
    if (hit.action === 'deny') {
      block(step, `${hit.acl} ${direction} rule ${hit.number} denies ${desc}`, hit.source);
      return false;
    }
    pass(step, `${hit.acl} ${direction} rule ${hit.number} allows ${desc}`, hit.source);
    return true;
  };

  if (!sgHop(src, 'egress', dstIp, 'source-sg-egress')) return { allowed: false, hops };

  // Route lookup in a VPC for a subnet: longest prefix; the local route wins a tie.
  const lookup = (vpc: string, subnet: string, ip: Ipv4): VrfRouteEntry | undefined => {
    let best: VrfRouteEntry | undefined;
    let bestLen = -1;
    for (const r of entriesOf(plan, 'vrf-route')) {
      if (r.vpc !== vpc || (r.subnet !== null && r.subnet !== subnet)) continue;
      const c = parseCidr(r.destination);
      if (c === undefined || !cidrContains(c, ip)) continue;
      if (c.prefixLength > bestLen || (c.prefixLength === bestLen && r.target === 'local')) {
        best = r;
        bestLen = c.prefixLength;
      }
    }
    return best;
  };
  const tableOf = (s: Subnet) => s.routeTable ?? `the main table of ${s.vpc}`;
  /** The running-or-not instance of `vpc` holding `ip`. */
  const instanceAt = (vpc: string, ip: Ipv4): Instance | undefined =>
    tenantInstances.find((i) => parseIpv4Address(i.ip) === ip && subnetOf(i)?.vpc === vpc);

  // The route decides where the packet goes; the egress ACL's hop (skipped within one subnet) comes first.
  const route = lookup(srcSubnet.vpc, srcSubnet.id, dstIp);
  let dst: Instance | undefined;
  let seenFrom = srcIp;
  let appliance = false;
  if (route === undefined) {
    if (!aclHop(srcSubnet, 'egress', dstIp, 'source-acl-egress', false)) return { allowed: false, hops };
    return block(
      'route',
      `no route to ${dstText} in ${tableOf(srcSubnet)}`,
      srcSubnet.routeTable ?? srcSubnet.vpc,
    );
  }
  if (route.target === 'local') {
    dst = instanceAt(srcSubnet.vpc, dstIp);
  } else if (route.target === 'peering') {
    dst = route.nextHop === null ? undefined : instanceAt(route.nextHop, dstIp);
  } else if (route.target === 'instance') {
    dst = tenantInstances.find((i) => i.id === route.via);
    appliance = true;
  } else if (route.target === 'internet-gateway') {
    const eip = entriesOf(plan, 'static-nat').find((e) => e.publicIp === dstText);
    if (eip !== undefined) dst = intent.instances.find((i) => i.id === eip.instance);
  }
  const sameSubnet = dst !== undefined && dst.subnet === srcSubnet.id && route.target === 'local';
  if (sameSubnet)
    pass('source-acl-egress', `within ${srcSubnet.id}: network ACLs do not apply`, srcSubnet.id);
  else if (!aclHop(srcSubnet, 'egress', dstIp, 'source-acl-egress', false)) return { allowed: false, hops };

  switch (route.target) {
    case 'blackhole':
      return block('route', `${tableOf(srcSubnet)} routes ${route.destination} to blackhole`, route.source);
    case 'local':
      if (dst === undefined)
        return block(
          'route',
          `the local route ${route.destination} of ${srcSubnet.vpc} covers ${dstText}, but no instance of ${srcSubnet.vpc} has it`,
          route.source,
        );
      pass('route', `local route ${route.destination} of ${srcSubnet.vpc}`, route.source);
      break;
    case 'peering': {
      const peer = route.nextHop ?? '';
      if (dst === undefined)
        return block(
          'route',
          `${tableOf(srcSubnet)} routes ${route.destination} to ${route.via} (${peer}), but no instance of ${peer} has ${dstText}`,
          route.source,
        );
      pass(
        'route',
        `${tableOf(srcSubnet)} routes ${route.destination} to ${route.via} (${peer})`,
        route.source,
      );
      const dstSubnet = subnetOf(dst)!;
      const back = lookup(peer, dstSubnet.id, srcIp);
      if (back === undefined || back.target !== 'peering' || back.via !== route.via)
        return block(
          'route-back',
          `${tableOf(dstSubnet)} has no route back to ${src.ip} through ${route.via}`,
          dstSubnet.routeTable ?? dstSubnet.id,
        );
      pass(
        'route-back',
        `${tableOf(dstSubnet)} routes ${back.destination} back through ${back.via}`,
        back.source,
      );
      break;
    }
    case 'instance':
      if (dst === undefined)
        return block(
          'route',
          `${tableOf(srcSubnet)} routes ${route.destination} to an unknown instance`,
          route.source,
        );
      pass(
        'route',
        `${tableOf(srcSubnet)} routes ${route.destination} to ${dst.id} (${dst.ip}), which forwards it on`,
        route.source,
      );
      break;
    case 'internet-gateway': {
      const snat = entriesOf(plan, 'snat').find((e) => e.vpc === srcSubnet.vpc);
      const own = entriesOf(plan, 'static-nat').find((e) => e.instance === src.id);
      if (route.nextHop === null || (snat === undefined && own === undefined))
        return block('route', `${route.via} has no border to leave through`, route.via ?? route.source);
      const publicIp = own?.publicIp ?? snat!.publicIp;
      const how = own !== undefined ? `1:1 NAT, ${own.source}` : `source NAT, ${snat!.source}`;
      pass(
        'route',
        `${tableOf(srcSubnet)} routes ${route.destination} to ${route.via}: leaves ${route.nextHop} as ${publicIp} (${how})`,
        route.source,
      );
      if (dst === undefined) {
        if (named !== undefined)
          return block(
            'destination-instance',
            `${named.id}'s private address ${named.ip} is not reachable from the internet`,
            named.id,
          );
        if (!aclHop(srcSubnet, 'ingress', dstIp, 'return-acl-ingress', true)) return { allowed: false, hops };
        pass(
          OUTSIDE_STEP,
          `${dstText} is outside your VPCs: the analysis ends at the border; the packet tells whether it answers`,
        );
        return { allowed: true, hops };
      }
      seenFrom = parseIpv4Address(publicIp) ?? srcIp;
      break;
    }
  }
  if (dst === undefined) return block('destination-instance', `no instance has ${dstText}`, route.source);
  if (named !== undefined && named.id !== dst.id && !appliance)
    return block(
      'destination-instance',
      `${dstText} leads to ${dst.id}, not to ${named.id} (${subnetOf(named)?.vpc} is not reachable this way)`,
      route.source,
    );
  if (dst.state !== 'running') return block('destination-instance', `${dst.id} is stopped`, dst.id);
  pass('destination-instance', `${dst.id} (${dst.ip}) runs on ${dst.host}`, dst.id);

  const dstSubnet = subnetOf(dst)!;
  const crossing = !sameSubnet;
  if (crossing && !aclHop(dstSubnet, 'ingress', seenFrom, 'destination-acl-ingress', false))
    return { allowed: false, hops };
  if (!crossing)
    pass('destination-acl-ingress', `within ${dstSubnet.id}: network ACLs do not apply`, dstSubnet.id);
  if (!sgHop(dst, 'ingress', seenFrom, 'destination-sg-ingress')) return { allowed: false, hops };
  if (crossing) {
    if (!aclHop(dstSubnet, 'egress', seenFrom, 'return-acl-egress', true)) return { allowed: false, hops };
    if (!aclHop(srcSubnet, 'ingress', dstIp, 'return-acl-ingress', true)) return { allowed: false, hops };
  }
  if (appliance) pass('appliance', `${dst.id} forwards the packet on: beyond it is not analyzed`, dst.id);
  return { allowed: true, hops };
}
