/**
 * `vnet eip allocate NAME [--instance I] | associate EIP INSTANCE | disassociate EIP | list | get | release`.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import { resolveRef, type ServiceContext } from './client.js';
import { commonCommands, create } from './kind-commands.js';
import { type Obj, VIEWS } from './views.js';

export function registerEipCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print } = ctx;
  const eip = program
    .command('eip')
    .description('elastic IPs: public addresses, bound to an instance or not');
  leaf(
    eip
      .command('allocate')
      .description("allocate an elastic IP from the border's public pool")
      .argument('<name>')
      .option('--instance <instance>', 'bind it to this instance (id or name)'),
    async (client, flags, name: string) => {
      const body: Obj = { name };
      if (typeof flags.instance === 'string')
        body.instance = await resolveRef(client, VIEWS.instance, flags.instance);
      print(flags, VIEWS.eip, [await create(client, VIEWS.eip, body)], true);
    },
  );
  leaf(
    eip
      .command('associate')
      .description('bind an elastic IP to an instance')
      .argument('<eip>', 'id or name')
      .argument('<instance>', 'id or name'),
    async (client, flags, ref: string, instanceRef: string) => {
      const id = await resolveRef(client, VIEWS.eip, ref);
      const instanceId = await resolveRef(client, VIEWS.instance, instanceRef);
      print(
        flags,
        VIEWS.eip,
        [await client.request<Obj>('PATCH', `/v1/elastic-ips/${id}`, { instance: instanceId })],
        true,
      );
    },
  );
  leaf(
    eip
      .command('disassociate')
      .description('unbind an elastic IP from its instance (the address stays allocated)')
      .argument('<eip>', 'id or name'),
    async (client, flags, ref: string) => {
      const id = await resolveRef(client, VIEWS.eip, ref);
      print(
        flags,
        VIEWS.eip,
        [await client.request<Obj>('PATCH', `/v1/elastic-ips/${id}`, { instance: null })],
        true,
      );
    },
  );
  commonCommands(ctx, eip, VIEWS.eip, [{ flag: 'instance', field: 'instance', view: VIEWS.instance }], {
    verb: 'release',
    done: 'released',
  });
}
