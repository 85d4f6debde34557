/**
 * `vnet subnet create | list [--vpc] | get | delete | associate SUBNET [--route-table RTB] [--network-acl ACL]`.
 * `associate` resolves the table and the ACL within the subnet's VPC.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import { resolveRef, type ServiceContext, UsageError } from './client.js';
import { commonCommands, create } from './kind-commands.js';
import { type Obj, VIEWS } from './views.js';

export function registerSubnetCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print, printDetail } = ctx;
  const subnet = program.command('subnet').description("subnets: a block of a VPC's addresses");
  leaf(
    subnet
      .command('create')
      .description('create a subnet')
      .argument('<name>')
      .requiredOption('--vpc <vpc>', 'its VPC (id or name)')
      .requiredOption('--cidr <cidr>', "inside one of the VPC's blocks, e.g. 10.0.1.0/24")
      .option('--route-table <id>', 'its route table (default: the main one)')
      .option('--network-acl <id>', 'its network ACL (default: allow all)'),
    async (client, flags, name: string) => {
      const body: Obj = {
        name,
        vpc: await resolveRef(client, VIEWS.vpc, String(flags.vpc)),
        cidr: flags.cidr,
      };
      if (flags.routeTable) body.routeTable = flags.routeTable;
      if (flags.networkAcl) body.networkAcl = flags.networkAcl;
      print(flags, VIEWS.subnet, [await create(client, VIEWS.subnet, body)], true);
    },
  );
  commonCommands(ctx, subnet, VIEWS.subnet, [{ flag: 'vpc', field: 'vpc', view: VIEWS.vpc }]);
  leaf(
    subnet
      .command('associate')
      .description('associate a subnet with a route table and/or a network ACL')
      .argument('<subnet>', 'id or name')
      .option('--route-table <rtb>', 'a route table of the same VPC (id or name)')
      .option('--network-acl <acl>', 'a network ACL of the same VPC (id or name)'),
    async (client, flags, ref: string) => {
      if (flags.routeTable === undefined && flags.networkAcl === undefined)
        throw new UsageError('give --route-table, --network-acl or both');
      const id = await resolveRef(client, VIEWS.subnet, ref);
      const current = await client.request<Obj>('GET', `/v1/subnets/${id}`);
      const where = { vpc: String(current.vpc) };
      const body: Obj = {};
      if (typeof flags.routeTable === 'string')
        body.routeTable = await resolveRef(client, VIEWS.routeTable, flags.routeTable, where);
      if (typeof flags.networkAcl === 'string')
        body.networkAcl = await resolveRef(client, VIEWS.nacl, flags.networkAcl, where);
      printDetail(flags, await client.request<Obj>('PATCH', `/v1/subnets/${id}`, body));
    },
  );
}
