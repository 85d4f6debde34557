/**
 * `vnet sg create NAME --vpc VPC [--ingress RULE]... [--egress RULE]... | list [--vpc] | get | delete | authorize`.
 * `authorize` appends rules with If-Match, so a concurrent change is refused, never lost.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import { resolveRef, type ServiceContext } from './client.js';
import { commonCommands, rulesCreateCommand } from './kind-commands.js';
import { parseRule } from './parse.js';
import { type Obj, VIEWS } from './views.js';

export function registerSgCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print } = ctx;
  const sg = program.command('sg').description('security groups: stateful allow rules per instance');
  const ruleHelp = 'PROTOCOL[:PORT[-PORT]]:CIDR-or-SG, e.g. tcp:22:0.0.0.0/0 (repeatable)';
  rulesCreateCommand(
    ctx,
    sg,
    VIEWS.sg,
    'create a security group',
    ['allow in', 'allow out'],
    ruleHelp,
    parseRule,
  );
  const collectRule = (v: string, prev: Obj[] | undefined) => [...(prev ?? []), parseRule(v)];
  leaf(
    sg
      .command('authorize')
      .description('add rules to a security group')
      .argument('<sg>', 'id or name')
      .option('--ingress <rule>', `allow in: ${ruleHelp}`, collectRule)
      .option('--egress <rule>', `allow out: ${ruleHelp}`, collectRule),
    async (client, flags, ref: string) => {
      const id = await resolveRef(client, VIEWS.sg, ref);
      const current = await client.request<Obj>('GET', `/v1/security-groups/${id}`);
      const body = {
        ingress: [...(current.ingress as Obj[]), ...((flags.ingress as Obj[]) ?? [])],
        egress: [...(current.egress as Obj[]), ...((flags.egress as Obj[]) ?? [])],
      };
      const changed = await client.request<Obj>('PATCH', `/v1/security-groups/${id}`, body, {
        'if-match': `"${current.version}"`,
      });
      print(flags, VIEWS.sg, [changed], true);
    },
  );
  commonCommands(ctx, sg, VIEWS.sg, [{ flag: 'vpc', field: 'vpc', view: VIEWS.vpc }]);
}
