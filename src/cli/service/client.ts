/**
 * What every service command shares: the client options (`--output`, `--endpoint`, `--token`,
 * `--dry-run`) added to each leaf command, the rendering of objects (a table, a detail view, or
 * JSON), names resolved to ids, and the reporting of failures (the API's message, status and code
 * and every problem on stderr, exit status 1; a dry run's answer printed; a usage mistake, exit
 * status 2). The kinds' command modules (this folder) build on `ServiceContext` only.
 */
import { type Command, Option } from 'commander';
import { renderTable } from '../../topo/rows.js';
import { ApiClient, ApiError, CliError, DryRunAnswer, resolveConfig } from '../api-client.js';
import type { LineWriter } from '../output.js';
import { type KindView, type Obj, routesText, rulesText, s, VIEWS } from './views.js';

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

/** A usage mistake found once the command runs: its message, exit status 2. */
export class UsageError extends Error {}

/** The id of `ref`: an id, or a name that matches exactly one object (within `where`, e.g. a VPC). */
export async function resolveRef(
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

/** A leaf command's body: the client, the command's flags, then its arguments. */
export type Leaf = <A extends unknown[]>(
  cmd: Command,
  body: (client: ApiClient, flags: ClientFlags & Obj, ...args: A) => Promise<void>,
) => Command;

/** What the kinds' command modules register their commands with. */
export interface ServiceContext {
  readonly io: ServiceIo;
  /** Adds the client options to a leaf command and runs its body with a client, reporting failures. */
  readonly leaf: Leaf;
  /** Objects as a table (or JSON: the first alone when `one`). */
  print(flags: ClientFlags, view: KindView, objects: Obj[], one?: boolean): void;
  /** One object, a field per line (or JSON). */
  printDetail(flags: ClientFlags, o: Obj): void;
}

export function serviceContext(io: ServiceIo): ServiceContext {
  const { out } = io;
  const leaf: Leaf = <A extends unknown[]>(
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
  return { io, leaf, print, printDetail };
}
