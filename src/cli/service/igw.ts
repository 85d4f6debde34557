/**
 * `vnet igw create NAME --vpc VPC | list [--vpc] | get | delete`.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import { resolveRef, type ServiceContext } from './client.js';
import { commonCommands, create, IN_VPC } from './kind-commands.js';
import { VIEWS } from './views.js';

export function registerIgwCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print } = ctx;
  const igw = program.command('igw').description("internet gateways: a VPC's way out to the internet");
  leaf(
    igw
      .command('create')
      .description('create an internet gateway')
      .argument('<name>')
      .requiredOption('--vpc <vpc>', 'its VPC (id or name)'),
    async (client, flags, name: string) => {
      const vpcId = await resolveRef(client, VIEWS.vpc, String(flags.vpc));
      print(flags, VIEWS.igw, [await create(client, VIEWS.igw, { name, vpc: vpcId })], true);
    },
  );
  commonCommands(ctx, igw, VIEWS.igw, IN_VPC);
}
