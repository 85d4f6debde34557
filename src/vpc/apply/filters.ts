/**
 * `sg-rule` and `acl-rule` entries. A filter takes its rules whole, so a changed rule marks its
 * owner and the owner's rules are set again from the plan once at the end of the apply:
 * - security groups: the instance's `SecurityGroupFilter` on its VAP (stateful, counted as
 *   `security-group`);
 * - network ACLs: the subnet's ACL on its VBDIFs, egress rules inbound, ingress rules outbound (the
 *   router's ACL engine; DHCP to the gateway is always allowed), in rule number order.
 */
import type { AclRuleSpec } from '../../devices/router/acl.js';
import type { SgFilterRule } from '../../overlay/index.js';
import { cidr, IpProtocol } from '../../wire/index.js';
import { type AclRuleEntry, type EntryOf, entriesOf } from '../plan.js';
import type { ApplyContext, Installer } from './context.js';

export const sgRuleInstaller: Installer<'sg-rule'> = {
  add: (ctx, e) => void ctx.filterInstances.add(e.instance),
  remove: (ctx, e) => void ctx.filterInstances.add(e.instance),
};

export const aclRuleInstaller: Installer<'acl-rule'> = {
  add: (ctx, e) => void ctx.aclSubnets.set(e.subnet, 'all'),
  remove: (ctx, e) => void ctx.aclSubnets.set(e.subnet, 'all'),
};

/** The marked instances' security group rules, from the plan. */
export function setMarkedFilters(ctx: ApplyContext): void {
  if (ctx.filterInstances.size === 0) return;
  const rules = new Map<string, SgFilterRule[]>();
  for (const id of ctx.filterInstances) rules.set(id, []);
  for (const r of entriesOf(ctx.next, 'sg-rule'))
    rules.get(r.instance)?.push({
      direction: r.direction,
      protocol: r.protocol,
      ports: r.ports,
      cidr: r.cidr,
      source: r.source,
    });
  for (const id of [...ctx.filterInstances].sort()) {
    const s = ctx.dp.instances.get(id);
    if (s === undefined) continue;
    const list = rules.get(id)!;
    s.filter.setRules(list);
    ctx.actions.push(`~ security groups of ${id} on ${s.nve.name} port ${id}: ${list.length} rules`);
  }
  ctx.filterInstances.clear();
}

const ACL_PROTOCOL: Record<string, number | undefined> = {
  tcp: IpProtocol.tcp,
  udp: IpProtocol.udp,
  icmp: IpProtocol.icmp,
  all: undefined,
};

/** The marked subnets' network ACLs on their VBDIFs, from the plan. */
export function setMarkedAcls(ctx: ApplyContext): void {
  if (ctx.aclSubnets.size === 0) return;
  const rulesOf = new Map<string, AclRuleEntry[]>();
  for (const subnet of ctx.aclSubnets.keys()) rulesOf.set(subnet, []);
  for (const r of entriesOf(ctx.next, 'acl-rule')) rulesOf.get(r.subnet)?.push(r);
  for (const v of entriesOf(ctx.next, 'vbdif')) {
    const targets = ctx.aclSubnets.get(v.subnet);
    if (targets === undefined || (targets !== 'all' && !targets.has(v))) continue;
    const rules = rulesOf.get(v.subnet)!;
    setAcl(ctx, v, rules);
  }
  ctx.aclSubnets.clear();
}

function setAcl(ctx: ApplyContext, v: EntryOf<'vbdif'>, rules: readonly AclRuleEntry[]): void {
  const router = ctx.dp.vrf(v.host, v.vpc);
  if (router === undefined || router.iface(v.iface) === undefined) return;
  const sorted = [...rules].sort((a, b) => a.number - b.number);
  for (const direction of ['egress', 'ingress'] as const) {
    const mine = sorted.filter((r) => r.direction === direction);
    const way = direction === 'egress' ? 'in' : 'out';
    const specs = mine.map(aclSpec);
    // DHCP to the gateway (from an instance with no address yet) is never filtered.
    if (direction === 'egress' && specs.length > 0)
      specs.unshift({
        action: 'permit',
        protocol: IpProtocol.udp,
        dstPorts: { from: 67, to: 67 },
        label: 'dhcp',
      });
    if (specs.length === 0) {
      if (router.appliedAcl(v.iface, way) !== undefined) {
        router.unapplyAcl(v.iface, way);
        ctx.actions.push(`- acl ${router.name} ${v.iface} ${way}`);
      }
      continue;
    }
    const name = `${mine[0]!.acl}/${direction}/${v.subnet}`;
    router.defineAcl(name, specs);
    router.applyAcl(v.iface, name, way);
    ctx.actions.push(`~ acl ${router.name} ${v.iface} ${way}: ${name}, ${mine.length} rules`);
  }
}

function aclSpec(r: AclRuleEntry): AclRuleSpec {
  const c = cidr(r.cidr);
  const protocol = ACL_PROTOCOL[r.protocol];
  const ports =
    r.ports !== null && (r.protocol === 'tcp' || r.protocol === 'udp')
      ? { dstPorts: { from: r.ports[0], to: r.ports[1] } }
      : {};
  const where = r.direction === 'egress' ? { dst: c } : { src: c };
  return {
    action: r.action === 'allow' ? 'permit' : 'deny',
    ...(protocol === undefined ? {} : { protocol }),
    ...where,
    ...ports,
    label: String(r.number),
  };
}
