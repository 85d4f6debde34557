/**
 * `vnet ping` and `vnet trace`: probes sent by an instance through the running fabric, asked of the
 * API (`POST /v1/ping`, `POST /v1/trace`).
 *
 *   vnet ping SRC DST [--count N] [--size BYTES] [--interval-ms MS] [--timeout-ms MS]
 *   vnet trace SRC DST [--proto tcp|udp|icmp] [--port N]
 *
 * `ping` prints what Linux ping prints (times in simulated microseconds), a request without reply
 * with the drop that ended it; exit status 1 when no reply came back (as ping). `trace` prints
 * every device's decision, then the result and the drops; exit status 0 once the API answered.
 * `--output json` prints the API's answer.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { ApiClient } from '../api-client.js';
import type { LineWriter } from '../output.js';
import { resolveInstance, type ServiceContext } from './client.js';
import type { Obj } from './views.js';

const integer = (what: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`not ${what} ${min}..${max}`);
  return n;
};

const fixed = (us: unknown) => (us === null || us === undefined ? '-' : (us as number).toFixed(3));

/** Linux ping's lines for an answer of `POST /v1/ping`; `src` and `dst` as the user named them. */
export function renderPing(r: Obj, src: string, dst: string): string[] {
  const size = r.size as number;
  const address = String(r.address);
  const lines = [`PING ${dst} (${address}) from ${src}: ${size}(${size + 28}) bytes of data.`];
  for (const p of r.probes as Obj[]) {
    const seq = `icmp_seq=${p.seq}`;
    if (p.status === 'reply')
      lines.push(`${size + 8} bytes from ${p.from}: ${seq} ttl=${p.ttl} time=${fixed(p.rttUs)} us`);
    else if (p.status === 'unreachable' || p.status === 'time-exceeded')
      lines.push(`From ${p.from} ${seq} ${p.message}`);
    else if (p.status === 'not-sent') lines.push(`ping: sendmsg: ${p.message} (${seq})`);
    else lines.push(`no answer for ${seq}${p.dropped ? `: dropped at ${p.dropped}` : ''}`);
  }
  const s = r.summary as Obj;
  const errors = (s.errors as number) > 0 ? `+${s.errors} errors, ` : '';
  lines.push(
    '',
    `--- ${address} ping statistics ---`,
    `${s.transmitted} packets transmitted, ${s.received} received, ${errors}${s.lossPercent}% packet loss`,
  );
  if ((s.received as number) > 0)
    lines.push(
      `rtt min/avg/max/mdev = ${fixed(s.rttMinUs)}/${fixed(s.rttAvgUs)}/${fixed(s.rttMaxUs)}/${fixed(s.rttMdevUs)} us`,
    );
  return lines;
}

/** The trace lines of an answer of `POST /v1/trace`, then the result and every drop. */
export function renderTrace(r: Obj): string[] {
  return [
    ...(r.trace as string[]),
    `result: ${r.delivered ? 'delivered' : 'NOT delivered'}: ${r.outcome}`,
    ...(r.drops as string[]).map((d) => `  drop at ${d}`),
  ];
}

const destination = async (client: ApiClient, dst: string) =>
  /^\d+\.\d+\.\d+\.\d+$/.test(dst) ? dst : resolveInstance(client, dst);

export function registerProbeCommands(program: Command, ctx: ServiceContext): void {
  const { io, leaf } = ctx;
  const { out } = io;
  leaf(
    program
      .command('ping')
      .description('ICMP echo requests from an instance through the fabric, as Linux ping (simulated time)')
      .argument('<src>', 'the source instance (id or name)')
      .argument('<dst>', 'the destination instance (id or name) or an IPv4 address')
      .option('-c, --count <n>', 'echo requests, 1..100', integer('a count', 1, 100), 4)
      .option('-s, --size <bytes>', 'echo data bytes, 0..65507', integer('a size', 0, 65507), 56)
      .option(
        '-i, --interval-ms <ms>',
        'between requests, ms of simulated time',
        integer('an interval', 1, 60000),
        1000,
      )
      .option(
        '-W, --timeout-ms <ms>',
        'how long each request waits for its reply, ms of simulated time',
        integer('a timeout', 1, 60000),
        1000,
      ),
    async (client, flags, src: string, dst: string) => {
      const body = {
        from: await resolveInstance(client, src),
        to: await destination(client, dst),
        count: flags.count,
        size: flags.size,
        intervalMs: flags.intervalMs,
        timeoutMs: flags.timeoutMs,
      };
      const r = await client.request<Obj>('POST', '/v1/ping', body);
      if (flags.output === 'json') out.line(JSON.stringify(r, null, 2));
      else for (const line of renderPing(r, src, dst)) out.line(line);
      if ((r.summary as Obj).received === 0) io.setStatus(1);
    },
  );
}

/**
 * `vnet trace SRC DST`: main.ts's `trace` runs this when given two instances (or an instance and an
 * address) rather than a lab file with --from and --to.
 */
export async function serviceTrace(
  client: ApiClient,
  flags: { output: 'table' | 'json'; proto?: string; port?: number },
  src: string,
  dst: string,
  out: LineWriter,
): Promise<void> {
  const body: Obj = {
    from: await resolveInstance(client, src),
    to: await destination(client, dst),
    protocol: flags.proto ?? 'icmp',
  };
  if (flags.port !== undefined) body.port = flags.port;
  const r = await client.request<Obj>('POST', '/v1/trace', body);
  if (flags.output === 'json') out.line(JSON.stringify(r, null, 2));
  else for (const line of renderTrace(r)) out.line(line);
}
