/**
 * `vnet nacl create NAME --vpc VPC [--ingress RULE]... [--egress RULE]... | list [--vpc] | get | delete`.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import type { ServiceContext } from './client.js';
import { commonCommands, IN_VPC, rulesCreateCommand } from './kind-commands.js';
import { parseAclRule } from './parse.js';
import { VIEWS } from './views.js';

export function registerNaclCommands(program: Command, ctx: ServiceContext): void {
  const nacl = program
    .command('nacl')
    .description('network ACLs: stateless numbered allow/deny rules per subnet');
  const aclHelp =
    'NUMBER:allow|deny:PROTOCOL[:PORT[-PORT]]:CIDR, e.g. 100:allow:tcp:80:0.0.0.0/0 (repeatable)';
  rulesCreateCommand(
    ctx,
    nacl,
    VIEWS.nacl,
    'create a network ACL (what no rule allows is denied)',
    ['in', 'out'],
    aclHelp,
    parseAclRule,
  );
  commonCommands(ctx, nacl, VIEWS.nacl, IN_VPC);
}
