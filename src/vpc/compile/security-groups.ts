/**
 * Stage `security-groups`: each running instance's security group rules, in group id then rule
 * order; a rule naming a group is expanded to each running member of that group in the VPC (its /32).
 */

import type { SecurityGroup } from '../intent.js';
import { naturalCompare } from '../plan.js';
import type { CompileContext } from './context.js';

export function compileSecurityGroups(ctx: CompileContext): void {
  // Per running instance, group references expanded to running members.
  const groups = new Map(ctx.intent.securityGroups.filter(ctx.owned).map((g) => [g.id, g] as const));
  const groupOf = (tenant: string, vpc: string, id: string): SecurityGroup | undefined => {
    const g = groups.get(id);
    return g !== undefined && g.tenant === tenant && g.vpc === vpc ? g : undefined;
  };
  for (const i of ctx.running) {
    const s = ctx.subnetOf(i)!;
    for (const gid of [...new Set(i.securityGroups)].sort(naturalCompare)) {
      const g = groupOf(i.tenant, s.vpc, gid);
      if (g === undefined) continue;
      for (const direction of ['ingress', 'egress'] as const) {
        g[direction].forEach((r, idx) => {
          const remote: { cidr: string; peerGroup: string | null }[] = [];
          if (r.cidr !== undefined) remote.push({ cidr: r.cidr, peerGroup: null });
          else if (r.group !== undefined && groupOf(i.tenant, s.vpc, r.group) !== undefined) {
            for (const m of ctx.running)
              if (
                m.tenant === i.tenant &&
                m.securityGroups.includes(r.group) &&
                ctx.subnetOf(m)?.vpc === s.vpc
              )
                remote.push({ cidr: `${m.ip}/32`, peerGroup: r.group });
          }
          for (const { cidr, peerGroup } of remote)
            ctx.push({
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
}
