/**
 * `vnet vpc create NAME --cidr C [--cidr C]... | list | get | delete`.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import type { ServiceContext } from './client.js';
import { commonCommands, create } from './kind-commands.js';
import { collect } from './parse.js';
import { VIEWS } from './views.js';

export function registerVpcCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print } = ctx;
  const vpc = program.command('vpc').description('VPCs: private networks of one or more IPv4 blocks');
  leaf(
    vpc
      .command('create')
      .description('create a VPC')
      .argument('<name>')
      .requiredOption('--cidr <cidr>', 'an IPv4 block, e.g. 10.0.0.0/16 (repeatable, up to 5)', collect),
    async (client, flags, name: string) => {
      print(flags, VIEWS.vpc, [await create(client, VIEWS.vpc, { name, cidrs: flags.cidr })], true);
    },
  );
  commonCommands(ctx, vpc, VIEWS.vpc);
}
