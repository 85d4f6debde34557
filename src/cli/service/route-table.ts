/**
 * `vnet route-table create NAME --vpc VPC [--route DEST=TARGET]... | list | get | delete` and
 * `vnet route-table route add TABLE DEST TARGET | route delete TABLE DEST`. A route change reads
 * the table and writes it back with If-Match, so a concurrent change is refused, never lost.
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import type { Command } from 'commander';
import { type ApiClient, CliError } from '../api-client.js';
import { resolveRef, type ServiceContext } from './client.js';
import { commonCommands, create, IN_VPC } from './kind-commands.js';
import { parseDestination, parseRouteOption } from './parse.js';
import { type Obj, VIEWS } from './views.js';

export function registerRouteTableCommands(program: Command, ctx: ServiceContext): void {
  const { leaf, print } = ctx;
  /** A route target: `blackhole`, an id (igw-, pcx-, i-), or the name of one of those. */
  const resolveTarget = async (client: ApiClient, vpc: string, text: string): Promise<Obj> => {
    if (text === 'blackhole') return { kind: 'blackhole' };
    const kinds = [
      ['igw', 'internet-gateway', 'internet-gateways', { vpc }],
      ['pcx', 'peering', 'peerings', {}],
      ['i', 'instance', 'instances', {}],
    ] as const;
    for (const [prefix, kind] of kinds)
      if (new RegExp(`^${prefix}-[0-9a-z]+$`).test(text)) return { kind, id: text };
    const found: Obj[] = [];
    for (const [, kind, collection, where] of kinds)
      for (const o of await client.listAll<Obj>(`/v1/${collection}`, { ...where, name: text }))
        found.push({ kind, id: String(o.id) });
    if (found.length === 1) return found[0]!;
    if (found.length === 0)
      throw new CliError(
        `no internet gateway of ${vpc}, peering or instance named "${text}" to route to (a target is igw-..., pcx-..., i-..., blackhole or one of their names)`,
      );
    throw new CliError(`"${text}" names ${found.map((f) => f.id).join(', ')}: use an id`);
  };
  const routeTable = program
    .command('route-table')
    .description("route tables: where a subnet's traffic leaving the VPC goes");
  leaf(
    routeTable
      .command('create')
      .description('create a route table')
      .argument('<name>')
      .requiredOption('--vpc <vpc>', 'its VPC (id or name)')
      .option(
        '--route <DEST=TARGET>',
        'a route, e.g. 0.0.0.0/0=igw-0a1b2c; TARGET is igw-..., pcx-..., i-..., blackhole or a name (repeatable)',
        (v: string, prev: { destination: string; target: string }[] | undefined) => [
          ...(prev ?? []),
          parseRouteOption(v),
        ],
      ),
    async (client, flags, name: string) => {
      const vpcId = await resolveRef(client, VIEWS.vpc, String(flags.vpc));
      const routes = [];
      for (const r of (flags.route as { destination: string; target: string }[]) ?? [])
        routes.push({ destination: r.destination, target: await resolveTarget(client, vpcId, r.target) });
      print(
        flags,
        VIEWS.routeTable,
        [await create(client, VIEWS.routeTable, { name, vpc: vpcId, routes })],
        true,
      );
    },
  );
  commonCommands(ctx, routeTable, VIEWS.routeTable, IN_VPC);
  const route = routeTable.command('route').description("a route table's routes");
  /** Reads the table, changes its routes, and writes them back if nobody changed it meanwhile. */
  const changeRoutes = async (
    client: ApiClient,
    ref: string,
    change: (routes: Obj[], vpc: string) => Promise<Obj[]>,
  ) => {
    const id = await resolveRef(client, VIEWS.routeTable, ref);
    const current = await client.request<Obj>('GET', `/v1/route-tables/${id}`);
    const routes = await change(current.routes as Obj[], String(current.vpc));
    return client.request<Obj>(
      'PATCH',
      `/v1/route-tables/${id}`,
      { routes },
      {
        'if-match': `"${current.version}"`,
      },
    );
  };
  leaf(
    route
      .command('add')
      .description('add a route to a route table')
      .argument('<table>', 'id or name')
      .argument('<destination>', 'an IPv4 prefix, e.g. 0.0.0.0/0', parseDestination)
      .argument(
        '<target>',
        'igw-..., pcx-..., i-..., blackhole, or the name of a gateway, peering or instance',
      ),
    async (client, flags, ref: string, destination: string, target: string) => {
      const changed = await changeRoutes(client, ref, async (routes, vpc) => [
        ...routes,
        { destination, target: await resolveTarget(client, vpc, target) },
      ]);
      print(flags, VIEWS.routeTable, [changed], true);
    },
  );
  leaf(
    route
      .command('delete')
      .description('delete the route to a destination from a route table')
      .argument('<table>', 'id or name')
      .argument('<destination>', 'the IPv4 prefix of the route', parseDestination),
    async (client, flags, ref: string, destination: string) => {
      const changed = await changeRoutes(client, ref, async (routes) => {
        const kept = routes.filter((r) => r.destination !== destination);
        if (kept.length === routes.length) throw new CliError(`${ref} has no route to ${destination}`);
        return kept;
      });
      print(flags, VIEWS.routeTable, [changed], true);
    },
  );
}
