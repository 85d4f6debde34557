/**
 * `vnet tenant create|list|get|delete` and `vnet token create TENANT` (the admin token's commands).
 * A new token is printed this once: the service keeps only its hash.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import { resolveRef, type ServiceContext } from './client.js';
import { commonCommands, create } from './kind-commands.js';
import { type Obj, VIEWS } from './views.js';

export function registerTenantCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print } = ctx;
  const { out } = ctx.io;
  const tenant = program.command('tenant').description('tenants (admin token)');
  leaf(
    tenant.command('create').description('create a tenant').argument('<name>'),
    async (client, flags, name: string) => {
      print(flags, VIEWS.tenant, [await create(client, VIEWS.tenant, { name })], true);
    },
  );
  commonCommands(ctx, tenant, VIEWS.tenant);
  const token = program.command('token').description("tenants' API tokens (admin token)");
  leaf(
    token
      .command('create')
      .description('make an API token for a tenant; it is printed this once')
      .argument('<tenant>', 'tenant id or name')
      .option('--name <name>', 'what the token is for', 'cli'),
    async (client, flags, ref: string) => {
      const id = await resolveRef(client, VIEWS.tenant, ref);
      const t = await client.request<Obj>('POST', `/v1/tenants/${id}/tokens`, { name: flags.name });
      if (flags.output === 'json') out.line(JSON.stringify(t, null, 2));
      else {
        out.line(`token ${t.id} for tenant ${t.tenant} (shown this once; the service keeps only its hash):`);
        out.line(String(t.token));
      }
    },
  );
}
