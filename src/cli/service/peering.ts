/**
 * `vnet peering create NAME --vpc A --peer-vpc B | list [--vpc] | get | delete`.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import { resolveRef, type ServiceContext } from './client.js';
import { commonCommands, create, IN_VPC } from './kind-commands.js';
import { VIEWS } from './views.js';

export function registerPeeringCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print } = ctx;
  const peering = program.command('peering').description('peerings: two VPCs of the tenant joined');
  leaf(
    peering
      .command('create')
      .description('peer two VPCs (their blocks must not overlap; add routes to the peering in both)')
      .argument('<name>')
      .requiredOption('--vpc <vpc>', 'one VPC (id or name)')
      .requiredOption('--peer-vpc <vpc>', 'the other VPC (id or name)'),
    async (client, flags, name: string) => {
      const body = {
        name,
        vpc: await resolveRef(client, VIEWS.vpc, String(flags.vpc)),
        peerVpc: await resolveRef(client, VIEWS.vpc, String(flags.peerVpc)),
      };
      print(flags, VIEWS.peering, [await create(client, VIEWS.peering, body)], true);
    },
  );
  commonCommands(ctx, peering, VIEWS.peering, IN_VPC);
}
