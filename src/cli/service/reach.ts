/**
 * `vnet reach SRC DST [--proto] [--port]` (the analysis hop by hop, then one real packet; exit
 * status 1 when they disagree) and `vnet plan` (the tenant's part of the compiled plan).
 * Names resolve to ids (or the command fails naming the ambiguity); output and exit status as
 * client.ts reports them.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { resolveRef, type ServiceContext } from './client.js';
import { type Obj, s, VIEWS } from './views.js';

export function registerReachCommands(program: Command, ctx: ServiceContext): void {
  const { leaf } = ctx;
  const { out } = ctx.io;
  const { io } = ctx;
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
}
