/**
 * `vnet vtep`: runs a real VTEP (linux/real-vtep.ts) until SIGINT or SIGTERM (or `--seconds`).
 * The quick form is one bridge domain from flags:
 *   vnet vtep --vni N --local ADDR [--remote ADDR]... [--port N] [--encap vxlan|geneve]
 *             [--tap NAMESPACE[,name=IF][,ip=CIDR][,mac=MAC]]... [--host IP/LEN [--mac MAC]]...
 *             [--static MAC,vtep=ADDR[,ip=IP]]... [--control-plane flood-and-learn|static]
 * and `vnet vtep CONFIG.yaml` takes many (linux/vtep-config.ts). Both are checked by one schema.
 *
 * It prints what it built and `ready` once every station is up; then, with `--trace`, every
 * decision of the NVE and its hosts; at the end its counters and drops by reason. Exit status: 0
 * after a signal or `--seconds`; 1 when it cannot start (not root, no /dev/net/tun, an address or
 * port in use, a namespace missing), with the reason; 2 for a bad command line or configuration.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { RealVtep } from '../linux/real-vtep.js';
import { checkVtepConfig } from '../linux/vtep-config.js';
import { formatIpv4 } from '../wire/index.js';
import type { LineWriter } from './output.js';

/** The longest `--seconds` a Node timer can wait (2^31 - 1 ms). */
const MAX_SECONDS = 2_147_483;

export interface VtepCommandOptions {
  readonly vni?: number;
  readonly local?: string;
  readonly remote?: string[];
  readonly port?: number;
  readonly encap?: string;
  readonly tap?: string[];
  readonly static?: string[];
  readonly controlPlane?: string;
  readonly mtu?: number;
  readonly trace?: boolean;
  readonly seconds?: number;
  readonly json?: boolean;
}

/** A `--host` and the `--mac` that followed it, in command-line order. */
export interface HostFlag {
  ip: string;
  mac?: string;
}

/**
 * `FIRST[,key=value]...` (a flag's compact form) as a configuration entry: `FIRST` under `first`,
 * each setting under the entry key `keys` gives it; a problem for a setting not in `keys`.
 */
function parseSettings(
  flag: string,
  text: string,
  first: string,
  keys: Readonly<Record<string, string>>,
): Record<string, string> | string {
  const [head, ...rest] = text.split(',');
  const entry: Record<string, string> = { [first]: head ?? '' };
  for (const part of rest) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const target = Object.hasOwn(keys, key) ? keys[key] : undefined;
    if (target === undefined)
      return `${flag} ${text}: unknown setting "${key}" (${Object.keys(keys)
        .map((k) => `${k}=`)
        .join(', ')})`;
    entry[target] = eq < 0 ? '' : part.slice(eq + 1);
  }
  return entry;
}

/** `NAMESPACE[,name=IF][,ip=CIDR][,mac=MAC]` as a configuration's tap entry, or a problem. */
export function parseTapFlag(text: string): Record<string, string> | string {
  return parseSettings('--tap', text, 'namespace', { name: 'ifname', ip: 'ip', mac: 'mac' });
}

/** `MAC,vtep=ADDR[,ip=IP]` as a configuration's static entry, or a problem. */
export function parseStaticFlag(text: string): Record<string, string> | string {
  return parseSettings('--static', text, 'mac', { vtep: 'vtep', ip: 'ip' });
}

/** The flags given that a configuration file would say instead, as typed. */
function configFlags(options: VtepCommandOptions, hosts: readonly HostFlag[]): string[] {
  const single: [keyof VtepCommandOptions, string][] = [
    ['vni', '--vni'],
    ['local', '--local'],
    ['port', '--port'],
    ['encap', '--encap'],
    ['mtu', '--mtu'],
    ['controlPlane', '--control-plane'],
  ];
  const given = single.filter(([key]) => options[key] !== undefined).map(([, flag]) => flag);
  for (const [list, flag] of [
    [options.remote, '--remote'],
    [options.tap, '--tap'],
    [options.static, '--static'],
  ] as const)
    if ((list ?? []).length > 0) given.push(flag);
  if (hosts.length > 0) given.push('--host');
  return given;
}

/** The configuration the flags describe (checked by the same schema as a file). */
function configFromFlags(options: VtepCommandOptions, hosts: readonly HostFlag[]): unknown {
  const taps = (options.tap ?? []).map(parseTapFlag);
  const statics = (options.static ?? []).map(parseStaticFlag);
  const bad = [...taps, ...statics].find((t) => typeof t === 'string');
  if (bad !== undefined) return bad;
  return {
    local: options.local,
    ...(options.encap !== undefined ? { encapsulation: options.encap } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
    ...(options.controlPlane !== undefined ? { controlPlane: options.controlPlane } : {}),
    bridgeDomains: [
      {
        vni: options.vni,
        remotes: options.remote ?? [],
        taps,
        hosts: hosts.map((h) => (h.mac === undefined ? { ip: h.ip } : { ip: h.ip, mac: h.mac })),
        ...(statics.length > 0 ? { static: statics } : {}),
      },
    ],
  };
}

export async function runVtep(
  file: string | undefined,
  options: VtepCommandOptions,
  hosts: readonly HostFlag[],
  out: LineWriter,
  err: LineWriter,
  stopSignal: Promise<void> = untilSignal(),
): Promise<number> {
  let data: unknown;
  if (file !== undefined) {
    const given = configFlags(options, hosts);
    if (given.length > 0) {
      err.line(`vnet vtep: give a configuration file or the flags (${given.join(', ')}), not both`);
      return 2;
    }
    try {
      data = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      err.line(
        `vnet vtep: ${file}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
      return 2;
    }
  } else {
    const missing = [
      options.vni === undefined ? '--vni' : '',
      options.local === undefined ? '--local' : '',
    ].filter(Boolean);
    if (missing.length > 0) {
      err.line(`vnet vtep: ${missing.join(' and ')} required (or a configuration file)`);
      return 2;
    }
    data = configFromFlags(options, hosts);
    if (typeof data === 'string') {
      err.line(`vnet vtep: ${data}`);
      return 2;
    }
  }
  const checked = checkVtepConfig(data);
  if (!checked.ok) {
    for (const p of checked.problems) err.line(`vnet vtep: ${file !== undefined ? `${file}: ` : ''}${p}`);
    return 2;
  }
  const tracer = options.trace
    ? {
        enabled: true,
        emit: (e: { time: number; node: string; port?: string; kind: string; message: string }) =>
          out.line(
            `${(e.time / 1e9).toFixed(6)} ${e.node}${e.port ? ` ${e.port}` : ''} [${e.kind}] ${e.message}`,
          ),
      }
    : undefined;
  let vtep: RealVtep;
  try {
    vtep = await RealVtep.start({ ...checked.spec, tracer });
  } catch (error) {
    err.line(`vnet vtep: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const spec = checked.spec;
  const encap = (spec.encapsulation ?? 'vxlan').toUpperCase();
  out.line(`vtep ${formatIpv4(spec.local)}: ${encap} on UDP ${vtep.underlay.port}`);
  for (const b of spec.bridgeDomains)
    out.line(
      `  VNI ${b.vni}: flood to ${b.remotes.length > 0 ? b.remotes.map(formatIpv4).join(', ') : '(no remote VTEP)'}`,
    );
  for (const s of vtep.stations) out.line(`  VNI ${s.vni}: ${s.kind} ${s.where} ${s.mac} (port ${s.port})`);
  out.line('ready');
  out.flush();
  if (options.seconds !== undefined && options.seconds > MAX_SECONDS) {
    vtep.stop();
    err.line(`vnet vtep: --seconds ${options.seconds}: at most ${MAX_SECONDS} (a timer cannot wait longer)`);
    return 2;
  }
  const timeout =
    options.seconds === undefined
      ? null
      : new Promise<void>((r) => setTimeout(r, options.seconds! * 1000).unref());
  // Keeps the process alive while the VTEP runs (its sockets do too; this makes it explicit).
  const keepAlive = setInterval(() => {}, 1 << 30);
  await Promise.race(timeout === null ? [stopSignal] : [stopSignal, timeout]);
  clearInterval(keepAlive);
  vtep.stop();
  const c = vtep.nve.counters;
  const summary = {
    encapsulated: c.encapsulated,
    decapsulated: c.decapsulated,
    bumFrames: c.bumFrames,
    replicated: c.replicated,
    arpSuppressed: c.arpSuppressed,
    underlayReceived: vtep.underlay.counters.received,
    underlaySent: vtep.underlay.counters.sent,
    sendErrors: vtep.underlay.counters.sendErrors,
    drops: vtep.nve.drops,
    macs: vtep.nve
      .bridgeDomains()
      .flatMap((bd) =>
        bd.macRows(vtep.nve.now()).map((r) => ({ vni: bd.vni, mac: r.mac, where: r.where, type: r.type })),
      ),
  };
  if (options.json) out.line(JSON.stringify(summary));
  else {
    out.line(
      `stopped: ${summary.encapsulated} encapsulated, ${summary.decapsulated} decapsulated, ${summary.bumFrames} BUM (${summary.replicated} head-end copies)`,
    );
    const drops = Object.entries(summary.drops);
    out.line(`drops: ${drops.length === 0 ? 'none' : drops.map(([r, n]) => `${r} ${n}`).join(', ')}`);
    for (const m of summary.macs) out.line(`  VNI ${m.vni} ${m.mac} -> ${m.where} (${m.type})`);
  }
  return 0;
}

/** Resolves at the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
