/**
 * `vnet instance launch NAME --subnet S [--ip IP] [--sg SG]... [--host H] | list [--subnet] | get |
 * start | stop | migrate | delete`. `migrate` prints the live migration's figures after the instance.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import { resolveRef, type ServiceContext } from './client.js';
import { commonCommands, create } from './kind-commands.js';
import { collect } from './parse.js';
import { type Obj, s, VIEWS } from './views.js';

export function registerInstanceCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print } = ctx;
  const { out } = ctx.io;
  const instance = program.command('instance').description('instances: VMs in a subnet, on a hypervisor');
  leaf(
    instance
      .command('launch')
      .description('launch an instance (its IP, MAC and hypervisor are allocated unless given)')
      .argument('<name>')
      .requiredOption('--subnet <subnet>', 'its subnet (id or name)')
      .option('--ip <ip>', 'a fixed address in the subnet (not its first four or its last)')
      .option('--sg <sg>', 'a security group id (repeatable, up to 5)', collect)
      .option('--host <hypervisor>', 'pin to a hypervisor (default: the least loaded)'),
    async (client, flags, name: string) => {
      const body: Obj = {
        name,
        subnet: await resolveRef(client, VIEWS.subnet, String(flags.subnet)),
        securityGroups: await Promise.all(
          ((flags.sg as string[]) ?? []).map((g) => resolveRef(client, VIEWS.sg, g)),
        ),
      };
      if (flags.ip) body.ip = flags.ip;
      if (flags.host) body.host = flags.host;
      print(flags, VIEWS.instance, [await create(client, VIEWS.instance, body)], true);
    },
  );
  for (const action of ['start', 'stop'] as const)
    leaf(
      instance.command(action).description(`${action} an instance`).argument('<instance>', 'id or name'),
      async (client, flags, ref: string) => {
        const id = await resolveRef(client, VIEWS.instance, ref);
        print(
          flags,
          VIEWS.instance,
          [await client.request<Obj>('POST', `/v1/instances/${id}/${action}`)],
          true,
        );
      },
    );
  leaf(
    instance
      .command('migrate')
      .description('live-migrate an instance to another hypervisor')
      .argument('<instance>', 'id or name')
      .argument('<hypervisor>'),
    async (client, flags, ref: string, host: string) => {
      const id = await resolveRef(client, VIEWS.instance, ref);
      const moved = await client.request<Obj>('POST', `/v1/instances/${id}/migrate`, { host });
      const { migration, ...instance } = moved as Obj & { migration?: Obj | null };
      if (flags.output === 'json') return out.line(JSON.stringify(moved, null, 2));
      print(flags, VIEWS.instance, [instance], true);
      if (migration)
        out.line(
          `live migration ${s(migration.from)} -> ${s(migration.to)}: ${((migration.totalTime as number) / 1e6).toFixed(3)} ms in all, ${((migration.downtime as number) / 1e6).toFixed(3)} ms down; ${migration.convergedAfter === null ? 'NOT converged' : `converged ${((migration.convergedAfter as number) / 1e3).toFixed(0)} us after the resume`}; ${s(migration.framesLostToVm)} frames lost`,
        );
    },
  );
  commonCommands(ctx, instance, VIEWS.instance, [{ flag: 'subnet', field: 'subnet', view: VIEWS.subnet }]);
}
