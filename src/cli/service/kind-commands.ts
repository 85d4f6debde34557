/**
 * The commands every kind has: `list` (with the kind's filters), `get` and `delete` (or another
 * verb, e.g. `eip release`); `create` for the kinds made of rule sets (security groups, network
 * ACLs); and `create`'s request. Each is a leaf of `ServiceContext`, so it takes the client options
 * and reports failures as every service command does.
 */
import type { Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import { resolveRef, type ServiceContext } from './client.js';
import { type KindView, type Obj, VIEWS } from './views.js';

/** A filter of `list`: `--vpc V` keeps the objects whose `vpc` is V's id. */
export interface ListFilter {
  readonly flag: string;
  readonly field: string;
  readonly view: KindView;
}

/** The filter of kinds that belong to a VPC. */
export const IN_VPC: readonly ListFilter[] = [{ flag: 'vpc', field: 'vpc', view: VIEWS.vpc }];

/** A progress line on a terminal while a long list is fetched (nothing otherwise). */
const progress = (what: string) => {
  if (!process.stderr.isTTY) return undefined;
  return (n: number) => process.stderr.write(`\r\x1b[2Kfetched ${n} ${what}...`);
};
const endProgress = () => {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
};

/** `POST /v1/<collection>`: creates an object, answers it. */
export const create = async (client: ApiClient, view: KindView, body: Obj) =>
  client.request<Obj>('POST', `/v1/${view.collection}`, body);

/** list, get, delete: the same for every kind. */
export function commonCommands(
  ctx: ServiceContext,
  parent: Command,
  view: KindView,
  filters: readonly ListFilter[] = [],
  remove = { verb: 'delete', done: 'deleted' },
): void {
  const { leaf, print, printDetail } = ctx;
  const { out } = ctx.io;
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
    parent.command(remove.verb).description(`${remove.verb} a ${view.title}`).argument('<ref>', 'id or name'),
    async (client, flags, ref: string) => {
      const id = await resolveRef(client, view, ref);
      await client.request('DELETE', `/v1/${view.collection}/${id}`);
      if (flags.output === 'json') out.line(JSON.stringify({ [remove.done]: id }));
      else out.line(`${remove.done} ${view.title} ${id}`);
    },
  );
}

/** `create NAME --vpc V [--ingress RULE]... [--egress RULE]...`: a VPC's rule set (a security group, a network ACL). */
export function rulesCreateCommand(
  ctx: ServiceContext,
  parent: Command,
  view: KindView,
  description: string,
  [inWord, outWord]: readonly [string, string],
  help: string,
  parse: (text: string) => Obj,
): void {
  const { leaf, print } = ctx;
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
}
