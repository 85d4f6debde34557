/**
 * Stage `acls`: each subnet's network ACL, per direction in rule number order (the first of a
 * number wins), and the implicit deny as rule 32767 after every real rule (AWS shows it as `*`).
 */
import { ACL_IMPLICIT_DENY } from '../plan.js';
import type { CompileContext } from './context.js';

export function compileAcls(ctx: CompileContext): void {
  // Network ACLs, per subnet, in rule order, the implicit deny last.
  const acls = new Map(ctx.intent.networkAcls.filter(ctx.owned).map((a) => [a.id, a] as const));
  for (const s of ctx.subnets) {
    const a = s.networkAcl === undefined ? undefined : acls.get(s.networkAcl);
    const vni = ctx.l2.get(s.id);
    if (a === undefined || a.tenant !== s.tenant || a.vpc !== s.vpc || vni === undefined) continue;
    for (const direction of ['ingress', 'egress'] as const) {
      const seen = new Set<number>();
      const rules = a[direction]
        .map((r, idx) => ({ r, idx }))
        .sort((x, y) => x.r.number - y.r.number || x.idx - y.idx);
      for (const { r, idx } of rules) {
        if (seen.has(r.number) || r.number >= ACL_IMPLICIT_DENY) continue;
        seen.add(r.number);
        ctx.push({
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
      ctx.push({
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
}
