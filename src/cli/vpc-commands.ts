/**
 * The VPC service's commands: the CLI is a client of the API (`vnet serve`) for everything.
 *
 *   vnet tenant create|list|get|delete        (admin token)
 *   vnet token create TENANT [--name N]        (admin token; prints the new tenant token once)
 *   vnet vpc create NAME --cidr C [--cidr C]... | list | get | delete
 *   vnet subnet create NAME --vpc VPC --cidr C [--route-table RTB] [--network-acl ACL] | list [--vpc] | get | delete
 *   vnet sg create NAME --vpc VPC [--ingress RULE]... [--egress RULE]... | list [--vpc] | get | delete | authorize
 *   vnet subnet associate SUBNET [--route-table RTB] [--network-acl ACL]
 *   vnet route-table create NAME --vpc VPC [--route DEST=TARGET]... | list [--vpc] | get | delete
 *   vnet route-table route add TABLE DEST TARGET | route delete TABLE DEST
 *   vnet igw create NAME --vpc VPC | list [--vpc] | get | delete
 *   vnet eip allocate NAME [--instance I] | associate EIP INSTANCE | disassociate EIP | list | get | release
 *   vnet peering create NAME --vpc A --peer-vpc B | list [--vpc] | get | delete
 *   vnet nacl create NAME --vpc VPC [--ingress RULE]... [--egress RULE]... | list [--vpc] | get | delete
 *   vnet instance launch NAME --subnet S [--ip IP] [--sg SG]... [--host H] | list [--subnet] | get | start | stop | migrate | delete
 *   vnet reach SRC DST [--proto tcp|udp|icmp] [--port N]   (the analysis, then a real packet)
 *   vnet plan                                               (your part of the compiled plan)
 *   vnet ping SRC DST [--count N] [--size B] [--interval-ms MS], vnet trace SRC DST [--proto] [--port]
 *                                                           (probes through the fabric: probe-commands.ts)
 *
 * Objects are named by id (`vpc-0a1b2c3d4e5f`) or by name when that name is unambiguous. Each
 * command takes `--output table|json` (table by default), `--endpoint` and `--token`. Exit status:
 * 0 success; 1 the API refused (its message and every problem printed), could not be reached, or a
 * name matched nothing; 2 usage.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { renderTable } from '../topo/lab/report.js';
import type { Row } from '../topo/lab/run.js';
import { parseCidr } from '../wire/index.js';
import { ApiClient, ApiError, CliError, DryRunAnswer, resolveConfig } from './api-client.js';
import type { LineWriter } from './output.js';
import { registerProbeCommands } from './probe-commands.js';

type Obj = Record<string, unknown>;

export interface ServiceIo {
  readonly out: LineWriter;
  readonly err: LineWriter;
  setStatus(status: number): void;
}

export interface ClientFlags {
  endpoint?: string;
  token?: string;
  output: 'table' | 'json';
}

interface KindView {
  /** `vpc`, as the command is named. */
  readonly command: string;
  readonly title: string;
  readonly collection: string;
  readonly prefix: string;
  readonly row: (o: Obj) => Row;
}

const rulesText = (rules: unknown) =>
  ((rules ?? []) as Obj[])
    .map((r) => {
      const ports = r.ports as [number, number] | undefined;
      const range = ports ? `:${ports[0] === ports[1] ? ports[0] : ports.join('-')}` : '';
      const acl = r.number === undefined ? '' : `${r.number}:${r.action}:`;
      return `${acl}${r.protocol}${range}:${r.cidr ?? r.group}`;
    })
    .join(' ') || '-';

const routesText = (routes: unknown) =>
  ((routes ?? []) as { destination: string; target: { kind: string; id?: string } }[])
    .map((r) => `${r.destination}->${r.target.id ?? r.target.kind}`)
    .join(' ') || '-';

const VIEWS = {
  tenant: {
    command: 'tenant',
    title: 'tenant',
    collection: 'tenants',
    prefix: 'tenant',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name) }),
  },
  vpc: {
    command: 'vpc',
    title: 'VPC',
    collection: 'vpcs',
    prefix: 'vpc',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), cidrs: (o.cidrs as string[]).join(',') }),
  },
  subnet: {
    command: 'subnet',
    title: 'subnet',
    collection: 'subnets',
    prefix: 'subnet',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), vpc: s(o.vpc), cidr: s(o.cidr) }),
  },
  sg: {
    command: 'sg',
    title: 'security group',
    collection: 'security-groups',
    prefix: 'sg',
    row: (o: Obj) => ({
      id: s(o.id),
      name: s(o.name),
      vpc: s(o.vpc),
      ingress: rulesText(o.ingress),
      egress: rulesText(o.egress),
    }),
  },
  routeTable: {
    command: 'route-table',
    title: 'route table',
    collection: 'route-tables',
    prefix: 'rtb',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), vpc: s(o.vpc), routes: routesText(o.routes) }),
  },
  igw: {
    command: 'igw',
    title: 'internet gateway',
    collection: 'internet-gateways',
    prefix: 'igw',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), vpc: s(o.vpc) }),
  },
  eip: {
    command: 'eip',
    title: 'elastic IP',
    collection: 'elastic-ips',
    prefix: 'eip',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), address: s(o.address), instance: s(o.instance) }),
  },
  peering: {
    command: 'peering',
    title: 'peering',
    collection: 'peerings',
    prefix: 'pcx',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), vpc: s(o.vpc), 'peer vpc': s(o.peerVpc) }),
  },
  nacl: {
    command: 'nacl',
    title: 'network ACL',
    collection: 'network-acls',
    prefix: 'acl',
    row: (o: Obj) => ({
      id: s(o.id),
      name: s(o.name),
      vpc: s(o.vpc),
      ingress: rulesText(o.ingress),
      egress: rulesText(o.egress),
    }),
  },
  instance: {
    command: 'instance',
    title: 'instance',
    collection: 'instances',
    prefix: 'i',
    row: (o: Obj) => ({
      id: s(o.id),
      name: s(o.name),
      subnet: s(o.subnet),
      ip: s(o.ip),
      mac: s(o.mac),
      host: s(o.host),
      state: s(o.state),
      sgs: (o.securityGroups as string[]).join(',') || '-',
    }),
  },
} satisfies Record<string, KindView>;

function s(v: unknown): string {
  return v === undefined || v === null ? '-' : String(v);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `tcp:22:0.0.0.0/0`, `tcp:1024-65535:sg-0a1b2c`, `icmp:10.0.0.0/8`, `all:sg-0a1b2c`. */
export function parseRule(text: string): Obj {
  const parts = text.split(':');
  const fail = () =>
    new InvalidArgumentError(
      `"${text}" is not a rule: PROTOCOL[:PORT[-PORT]]:CIDR-or-SG, e.g. tcp:22:0.0.0.0/0, tcp:80-443:sg-0a1b2c, icmp:10.0.0.0/8`,
    );
  if (parts.length < 2 || parts.length > 3) throw fail();
  const [protocol, ...rest] = parts as [string, ...string[]];
  if (!['tcp', 'udp', 'icmp', 'all'].includes(protocol)) throw fail();
  const source = rest[rest.length - 1]!;
  const rule: Obj = { protocol };
  if (rest.length === 2) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(rest[0]!);
    if (!m) throw fail();
    rule.ports = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  if (source.includes('/')) rule.cidr = source;
  else if (/^sg-[0-9a-z]+$/.test(source)) rule.group = source;
  else throw fail();
  return rule;
}

/**
 * `100:allow:tcp:80:0.0.0.0/0`, `110:deny:tcp:1024-65535:10.0.0.0/8`, `200:allow:all:0.0.0.0/0`:
 * a network ACL rule, NUMBER:ACTION:PROTOCOL[:PORT[-PORT]]:CIDR.
 */
export function parseAclRule(text: string): Obj {
  const fail = (what: string) =>
    new InvalidArgumentError(
      `"${text}" is not a network ACL rule: ${what}; the form is NUMBER:allow|deny:PROTOCOL[:PORT[-PORT]]:CIDR, e.g. 100:allow:tcp:80:0.0.0.0/0, 200:deny:all:10.0.0.0/8`,
    );
  const parts = text.split(':');
  if (parts.length < 4 || parts.length > 5) throw fail(`${parts.length} parts, not 4 or 5`);
  const [number, action, protocol] = parts as [string, string, string];
  const n = Number(number);
  if (!/^\d+$/.test(number) || n < 1 || n > 32766) throw fail(`the rule number "${number}" is not 1..32766`);
  if (action !== 'allow' && action !== 'deny') throw fail(`the action "${action}" is not allow or deny`);
  if (!['tcp', 'udp', 'icmp', 'all'].includes(protocol))
    throw fail(`the protocol "${protocol}" is not tcp, udp, icmp or all`);
  const rule: Obj = { number: n, action, protocol };
  if (parts.length === 5) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(parts[3]!);
    const [a, b] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [];
    if (a === undefined || b === undefined || a > 65535 || b > 65535 || a > b)
      throw fail(`the ports "${parts[3]}" are not PORT or PORT-PORT within 0..65535`);
    if (protocol !== 'tcp' && protocol !== 'udp') throw fail(`ports are for tcp and udp, not ${protocol}`);
    rule.ports = [a, b];
  }
  const cidr = parts[parts.length - 1]!;
  if (parseCidr(cidr) === undefined) throw fail(`"${cidr}" is not an IPv4 prefix (a.b.c.d/len)`);
  rule.cidr = cidr;
  return rule;
}

/** A route's destination: an IPv4 prefix. */
export function parseDestination(text: string): string {
  if (parseCidr(text) === undefined)
    throw new InvalidArgumentError(`"${text}" is not a route destination: an IPv4 prefix (a.b.c.d/len)`);
  return text;
}

/** `--route DEST=TARGET`: the target (an id, `blackhole` or a name) is resolved later. */
export function parseRouteOption(text: string): { destination: string; target: string } {
  const eq = text.indexOf('=');
  if (eq < 0 || eq === text.length - 1)
    throw new InvalidArgumentError(
      `"${text}" is not a route: DEST=TARGET, e.g. 0.0.0.0/0=igw-0a1b2c, 10.2.0.0/16=pcx-0a1b2c, 10.9.0.0/16=blackhole`,
    );
  return { destination: parseDestination(text.slice(0, eq)), target: text.slice(eq + 1) };
}

/** A usage mistake found once the command runs: its message, exit status 2. */
class UsageError extends Error {}

/** An id, or a name that matches exactly one object (within `where`, e.g. a VPC). */
async function resolveRef(
  client: ApiClient,
  view: KindView,
  ref: string,
  where: Record<string, string> = {},
): Promise<string> {
  if (new RegExp(`^${view.prefix}-[0-9a-z]+$`).test(ref)) return ref;
  const found = await client.listAll<Obj>(`/v1/${view.collection}`, { ...where, name: ref });
  if (found.length === 1) return String(found[0]!.id);
  if (found.length === 0) throw new CliError(`no ${view.title} named "${ref}"`);
  throw new CliError(
    `"${ref}" names ${found.length} ${view.title}s (${found.map((o) => o.id).join(', ')}): use an id`,
  );
}

/** An instance by id, or by a name that matches exactly one. */
export const resolveInstance = (client: ApiClient, ref: string): Promise<string> =>
  resolveRef(client, VIEWS.instance, ref);

/**
 * Runs a client command's body with a client made from its flags, and reports its failure: the
 * API's message, status and code and every problem on stderr, exit status 1; a dry run's answer
 * printed; a usage mistake, exit status 2.
 */
export async function runClient(
  io: ServiceIo,
  name: string,
  flags: ClientFlags & Record<string, unknown>,
  body: (client: ApiClient) => Promise<void>,
): Promise<void> {
  const { out, err } = io;
  try {
    const client = new ApiClient(resolveConfig(flags), flags.dryRun === true);
    await body(client);
  } catch (error) {
    if (error instanceof DryRunAnswer) {
      const plan = error.answer.plan;
      if (flags.output === 'json') out.line(JSON.stringify(error.answer, null, 2));
      else for (const line of plan?.text ?? ['(no plan: the server runs no fabric)']) out.line(line);
      return;
    }
    if (error instanceof UsageError) {
      err.line(`${name}: ${error.message}`);
      io.setStatus(2);
      return;
    }
    if (!(error instanceof CliError)) throw error;
    const status = error instanceof ApiError ? ` (${error.status} ${error.code})` : '';
    err.line(`${name}: ${error.message}${status}`);
    const said = error.problems.length === 1 && error.message.includes(error.problems[0]!.message);
    if (!said) for (const p of error.problems) err.line(`  ${p.path ? `${p.path}: ` : ''}${p.message}`);
    io.setStatus(1);
  }
}

export function registerServiceCommands(program: Command, io: ServiceIo): void {
  const { out } = io;

  /** Adds the client options to a leaf command and runs its body with a client, reporting failures. */
  const leaf = <A extends unknown[]>(
    cmd: Command,
    body: (client: ApiClient, flags: ClientFlags & Record<string, unknown>, ...args: A) => Promise<void>,
  ) =>
    cmd
      .addOption(
        new Option('-o, --output <format>', 'table or json').choices(['table', 'json']).default('table'),
      )
      .option('--endpoint <url>', 'the API (default: VNET_ENDPOINT, the config file, http://127.0.0.1:7480)')
      .option('--token <token>', 'API token (default: VNET_TOKEN, the config file)')
      .option('--dry-run', 'check the change and show what it would do to the plan, without making it')
      .action(async (...all: unknown[]) => {
        const command = all[all.length - 1] as Command;
        const flags = command.opts() as ClientFlags & Record<string, unknown>;
        const args = all.slice(0, command.registeredArguments.length) as A;
        const path: string[] = [];
        for (let c: Command | null = command; c?.parent; c = c.parent) path.unshift(c.name());
        await runClient(io, `vnet ${path.join(' ')}`, flags, (client) => body(client, flags, ...args));
      });

  const print = (flags: ClientFlags, view: KindView, objects: Obj[], one = false) => {
    if (flags.output === 'json') out.line(JSON.stringify(one ? objects[0] : objects, null, 2));
    else for (const line of renderTable(objects.map(view.row))) out.line(line);
  };
  const printDetail = (flags: ClientFlags, o: Obj) => {
    if (flags.output === 'json') return out.line(JSON.stringify(o, null, 2));
    const width = Math.max(...Object.keys(o).map((k) => k.length));
    for (const [k, v] of Object.entries(o))
      out.line(
        `${k.padEnd(width)}  ${k === 'ingress' || k === 'egress' ? rulesText(v) : k === 'routes' ? routesText(v) : Array.isArray(v) ? v.join(', ') || '-' : s(v)}`,
      );
  };

  const progress = (what: string) => {
    if (!process.stderr.isTTY) return undefined;
    return (n: number) => process.stderr.write(`\r\x1b[2Kfetched ${n} ${what}...`);
  };
  const endProgress = () => {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  };

  /** list, get, delete: the same for every kind. */
  const common = (
    parent: Command,
    view: KindView,
    filters: { flag: string; field: string; view: KindView }[] = [],
    remove = { verb: 'delete', done: 'deleted' },
  ) => {
    const list = parent.command('list').description(`list ${view.title}s`);
    for (const f of filters)
      list.option(`--${f.flag} <${f.flag}>`, `only those of this ${f.view.title} (id or name)`);
    leaf(list, async (client, flags) => {
      const query: Record<string, string> = {};
      for (const f of filters)
        if (typeof flags[f.flag] === 'string')
          query[f.field] = await resolveRef(client, f.view, flags[f.flag] as string);
      const items = await client.listAll<Obj>(`/v1/${view.collection}`, query, progress(`${view.title}s`));
      endProgress();
      print(flags, view, items);
    });
    leaf(
      parent.command('get').description(`show one ${view.title}`).argument('<ref>', 'id or name'),
      async (client, flags, ref: string) => {
        const id = await resolveRef(client, view, ref);
        printDetail(flags, await client.request<Obj>('GET', `/v1/${view.collection}/${id}`));
      },
    );
    leaf(
      parent
        .command(remove.verb)
        .description(`${remove.verb} a ${view.title}`)
        .argument('<ref>', 'id or name'),
      async (client, flags, ref: string) => {
        const id = await resolveRef(client, view, ref);
        await client.request('DELETE', `/v1/${view.collection}/${id}`);
        if (flags.output === 'json') out.line(JSON.stringify({ [remove.done]: id }));
        else out.line(`${remove.done} ${view.title} ${id}`);
      },
    );
  };

  const create = async (client: ApiClient, view: KindView, body: Obj) =>
    client.request<Obj>('POST', `/v1/${view.collection}`, body);

  /** `create NAME --vpc V [--ingress RULE]... [--egress RULE]...`: a VPC's rule set (a security group, a network ACL). */
  const rulesCreate = (
    parent: Command,
    view: KindView,
    description: string,
    [inWord, outWord]: readonly [string, string],
    help: string,
    parse: (text: string) => Obj,
  ) => {
    const collect = (v: string, prev: Obj[] | undefined) => [...(prev ?? []), parse(v)];
    leaf(
      parent
        .command('create')
        .description(description)
        .argument('<name>')
        .requiredOption('--vpc <vpc>', 'its VPC (id or name)')
        .option('--ingress <rule>', `${inWord}: ${help}`, collect)
        .option('--egress <rule>', `${outWord}: ${help}`, collect),
      async (client, flags, name: string) => {
        const body = {
          name,
          vpc: await resolveRef(client, VIEWS.vpc, String(flags.vpc)),
          ingress: flags.ingress ?? [],
          egress: flags.egress ?? [],
        };
        print(flags, view, [await create(client, view, body)], true);
      },
    );
  };

  // tenants and tokens (admin)
  const tenant = program.command('tenant').description('tenants (admin token)');
  leaf(
    tenant.command('create').description('create a tenant').argument('<name>'),
    async (client, flags, name: string) => {
      print(flags, VIEWS.tenant, [await create(client, VIEWS.tenant, { name })], true);
    },
  );
  common(tenant, VIEWS.tenant);
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

  // VPCs
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
  common(vpc, VIEWS.vpc);

  // subnets
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
  common(subnet, VIEWS.subnet, [{ flag: 'vpc', field: 'vpc', view: VIEWS.vpc }]);
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

  // route tables
  const inVpc = [{ flag: 'vpc', field: 'vpc', view: VIEWS.vpc }];
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
  common(routeTable, VIEWS.routeTable, inVpc);
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

  // internet gateways
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
  common(igw, VIEWS.igw, inVpc);

  // elastic IPs
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
  common(eip, VIEWS.eip, [{ flag: 'instance', field: 'instance', view: VIEWS.instance }], {
    verb: 'release',
    done: 'released',
  });

  // peerings
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
  common(peering, VIEWS.peering, inVpc);

  // network ACLs
  const nacl = program
    .command('nacl')
    .description('network ACLs: stateless numbered allow/deny rules per subnet');
  const aclHelp =
    'NUMBER:allow|deny:PROTOCOL[:PORT[-PORT]]:CIDR, e.g. 100:allow:tcp:80:0.0.0.0/0 (repeatable)';
  rulesCreate(
    nacl,
    VIEWS.nacl,
    'create a network ACL (what no rule allows is denied)',
    ['in', 'out'],
    aclHelp,
    parseAclRule,
  );
  common(nacl, VIEWS.nacl, inVpc);

  // security groups
  const sg = program.command('sg').description('security groups: stateful allow rules per instance');
  const ruleHelp = 'PROTOCOL[:PORT[-PORT]]:CIDR-or-SG, e.g. tcp:22:0.0.0.0/0 (repeatable)';
  rulesCreate(sg, VIEWS.sg, 'create a security group', ['allow in', 'allow out'], ruleHelp, parseRule);
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
  common(sg, VIEWS.sg, [{ flag: 'vpc', field: 'vpc', view: VIEWS.vpc }]);

  // instances
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
  common(instance, VIEWS.instance, [{ flag: 'subnet', field: 'subnet', view: VIEWS.subnet }]);

  // reachability and the plan
  leaf(
    program
      .command('reach')
      .description(
        'would traffic pass? the analysis of the plan, hop by hop, then one real packet through the fabric',
      )
      .argument('<src>', 'the source instance (id or name)')
      .argument('<dst>', 'the destination instance (id or name) or an IPv4 address')
      .addOption(
        new Option('--proto <protocol>', 'tcp, udp or icmp').choices(['tcp', 'udp', 'icmp']).default('icmp'),
      )
      .option('--port <port>', 'the destination port (tcp, udp)', (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('not a port 1..65535');
        return n;
      }),
    async (client, flags, src: string, dst: string) => {
      const body: Obj = {
        src: await resolveRef(client, VIEWS.instance, src),
        dst: /^\d+\.\d+\.\d+\.\d+$/.test(dst) ? dst : await resolveRef(client, VIEWS.instance, dst),
        protocol: flags.proto,
      };
      if (flags.port !== undefined) body.port = flags.port;
      const r = await client.request<Obj>('POST', '/v1/reach', body);
      if (flags.output === 'json') return out.line(JSON.stringify(r, null, 2));
      for (const h of r.hops as Obj[])
        out.line(
          `${h.verdict === 'pass' ? 'pass ' : 'BLOCK'}  ${s(h.step)}: ${s(h.why)}${h.source ? ` [${s(h.source)}]` : ''}`,
        );
      out.line(
        `analysis: ${r.allowed ? 'allowed' : 'blocked'}; data plane: ${s(r.outcome)}${r.agree ? '' : ' (THEY DISAGREE)'}`,
      );
      for (const d of r.drops as string[]) out.line(`  drop at ${d}`);
      if (!r.agree) io.setStatus(1);
    },
  );
  leaf(
    program
      .command('plan')
      .description('your part of the compiled plan: what the fabric is configured with for your objects'),
    async (client, flags) => {
      const r = await client.request<Obj>('GET', '/v1/plan');
      if (flags.output === 'json') return out.line(JSON.stringify(r.entries, null, 2));
      for (const line of r.text as string[]) out.line(line);
    },
  );
  registerProbeCommands(program, io, leaf);
}
