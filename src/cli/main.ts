/**
 * The `vnet` command line. Each subcommand lives in its own module; this file only wires them to
 * commander and turns their result into an exit status.
 */

import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { labJsonSchema } from '../topo/lab/schema.js';
import { runDecode } from './decode-command.js';
import { type MigrateCommandOptions, runMigrate } from './migrate-command.js';
import { LineWriter } from './output.js';
import { type RunCommandOptions, runRun, runShow, runTrace, type ShowCommandOptions } from './run-command.js';
import { runServe, type ServeCommandOptions } from './serve-command.js';
import { registerServiceCommands, runClient } from './service/index.js';
import { serviceTrace } from './service/probe.js';
import { runTour } from './tour-command.js';
import { type HostFlag, runVtep, type VtepCommandOptions } from './vtep-command.js';

function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not an integer >= 0`);
  return Number(value);
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('not a number >= 0');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('not a number > 0');
  return n;
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`"${value}" is not a positive integer`);
  return Number(value);
}

function port(value: string, previous: number[] | undefined): number[] {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535)
    throw new InvalidArgumentError(`"${value}" is not a UDP port (1..65535)`);
  return [...(previous ?? []), n];
}

interface TraceOptions {
  from?: string;
  to?: string;
  proto: string;
  port?: number;
  json?: boolean;
  seed?: number;
  output?: string;
  endpoint?: string;
  token?: string;
}

export async function main(argv: readonly string[]): Promise<number> {
  const out = new LineWriter(process.stdout);
  const err = new LineWriter(process.stderr);
  let status = 0;
  const program = new Command()
    .name('vnet')
    .description('vnet: network virtualization you can watch, from one cable to VXLAN fabrics')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.line(s.trimEnd()), writeErr: (s) => err.line(s.trimEnd()) });

  program
    .command('decode')
    .description('print every frame of pcap/pcapng capture files')
    .argument('<files...>', 'capture files (pcap or pcapng, link type Ethernet); - reads standard input')
    .option('--json', 'one JSON object per frame per line')
    .option('-v, --verbose', 'print the layer tree under each summary line')
    .option('--vxlan-port <port>', 'UDP port decoded as VXLAN (repeatable; default 4789)', port)
    .option('--geneve-port <port>', 'UDP port decoded as GENEVE (repeatable; default 6081)', port)
    .action(
      async (
        files: string[],
        opts: { json?: boolean; verbose?: boolean; vxlanPort?: number[]; genevePort?: number[] },
      ) => {
        status = await runDecode(
          files,
          {
            json: opts.json,
            verbose: opts.verbose,
            vxlanPorts: opts.vxlanPort,
            genevePorts: opts.genevePort,
          },
          out,
          err,
        );
      },
    );

  program
    .command('run')
    .description('run a lab file: build the network, run its script, print every step')
    .argument('<lab>', 'lab file (YAML)')
    .option('--json', 'print the results as one JSON document')
    .option('--pcap <dir>', "write the lab's captures into this directory")
    .option(
      '--seed <n>',
      "seed for the random number generator (default: the lab's, else 1)",
      nonNegativeInteger,
    )
    .option('--budget <events>', 'stop after this many events (default 5,000,000)', positiveInteger)
    .option('--time-budget <seconds>', 'stop after this much wall time (default 60)', positiveNumber)
    .option('--force', "build a lab even when its estimate does not fit this machine's heap")
    .action((lab: string, opts: RunCommandOptions) => {
      status = runRun(lab, opts, out, err);
    });

  program
    .command('show')
    .description(
      "run a lab file's script quietly, then print one node's table (see docs/labs.md for the tables)",
    )
    .argument('<lab>', 'lab file (YAML)')
    .argument('<node>', 'a node of the lab (or of its fabric)')
    .argument(
      '<table>',
      'mac, arp, routes, acl, counters, interfaces, stp, dhcp, bd, bd-mac, flood, arp-suppression, vaps, vrf-routes, gateway-arp, ecmp, controller, nat',
    )
    .option('--json', 'print the table as JSON')
    .option('--seed <n>', 'seed for the random number generator', nonNegativeInteger)
    .option('--budget <events>', 'stop after this many events (default 5,000,000)', positiveInteger)
    .option('--time-budget <seconds>', 'stop after this much wall time (default 60)', positiveNumber)
    .option('--force', "build a lab even when its estimate does not fit this machine's heap")
    .action((lab: string, node: string, table: string, opts: ShowCommandOptions) => {
      status = runShow(lab, node, table, opts, out, err);
    });

  const serviceIo = { out, err, setStatus: (s: number) => (status = s) };
  program
    .command('trace')
    .description(
      "send one packet and print every device's decision about it: through a lab (trace LAB --from NODE --to IP), or from an instance through the VPC service (trace SRC DST)",
    )
    .argument('<lab-or-src>', 'lab file (YAML); or the source instance (id or name) of the VPC service')
    .argument('[dst]', 'with an instance: the destination instance (id or name) or an IPv4 address')
    .option('--from <node>', 'lab: sending host')
    .option('--to <ip>', 'lab: destination IPv4 address')
    .option(
      '--proto <proto>',
      'icmp (an echo request), udp (to the echo port) or, for an instance, tcp',
      'icmp',
    )
    .option('--port <port>', 'destination port (lab udp: default 7)', (v: string) => port(v, undefined)[0]!)
    .option('--json', 'print the events as JSON')
    .option('--seed <n>', 'lab: seed for the random number generator', nonNegativeInteger)
    .option('-o, --output <format>', 'instance: table or json')
    .option(
      '--endpoint <url>',
      'instance: the API (default: VNET_ENDPOINT, the config file, http://127.0.0.1:7480)',
    )
    .option('--token <token>', 'instance: API token (default: VNET_TOKEN, the config file)')
    .action(async (first: string, dst: string | undefined, opts: TraceOptions) => {
      if (dst === undefined) {
        if (opts.from === undefined || opts.to === undefined) {
          err.line(
            'vnet trace: a lab needs --from NODE and --to IP (or give two instances: vnet trace SRC DST)',
          );
          status = 2;
          return;
        }
        status = runTrace(first, { ...opts, from: opts.from, to: opts.to }, out, err);
        return;
      }
      if (opts.from !== undefined || opts.to !== undefined || !['icmp', 'udp', 'tcp'].includes(opts.proto)) {
        err.line('vnet trace: with two instances, no --from/--to; --proto is tcp, udp or icmp');
        status = 2;
        return;
      }
      const output = opts.json || opts.output === 'json' ? 'json' : 'table';
      await runClient(serviceIo, 'vnet trace', { ...opts, output }, (client) =>
        serviceTrace(client, { output, proto: opts.proto, port: opts.port }, first, dst, out),
      );
    });

  program
    .command('migrate')
    .description(
      "run a lab file's script quietly, then live-migrate a VM and print the rounds, downtime, convergence and TCP sessions",
    )
    .argument('<lab>', 'lab file (YAML)')
    .argument('<vm>', 'the host that moves')
    .argument('<destination>', 'the hypervisor it moves to: a switch, an NVE or a hub')
    .option('--mode <mode>', 'pre-copy or post-copy', 'pre-copy')
    .option('--memory <size>', 'VM memory (default 1GiB)')
    .option('--page-size <size>', 'page size (default 4KiB)')
    .option('--dirty-rate <pages/s>', 'pages dirtied per second (default 0)', nonNegativeNumber)
    .option('--working-set <pages>', 'pages the writes are confined to', positiveInteger)
    .option('--bandwidth <rate>', 'migration link (default 10Gbps)')
    .option('--max-downtime <duration>', 'pre-copy stops iterating once the rest fits this (default 300ms)')
    .option('--max-rounds <n>', 'pre-copy round limit (default 30)', positiveInteger)
    .option('--switchover <duration>', 'device state transfer and resume (default 5ms)')
    .option('--fault-rtt <duration>', 'post-copy page fault round trip (default 100us)')
    .option('--announce <how>', 'rarp, garp or none (default rarp)')
    .option('--observe <duration>', 'how long to watch after the resume (default 5s)')
    .option('--port <port>', 'the destination port (default a new one)')
    .option('--json', 'print the result as JSON')
    .option('--seed <n>', 'seed for the random number generator', nonNegativeInteger)
    .option('--budget <events>', 'stop after this many events (default 5,000,000)', positiveInteger)
    .option('--time-budget <seconds>', 'stop after this much wall time (default 60)', positiveNumber)
    .option('--force', "build a lab even when its estimate does not fit this machine's heap")
    .action((lab: string, vm: string, destination: string, opts: MigrateCommandOptions) => {
      status = runMigrate(lab, vm, destination, opts, out, err);
    });

  program
    .command('tour')
    .description(
      "run the lecture's examples in order: hub, switch, routers, ARP, VLANs, loops and spanning tree",
    )
    .option(
      '--examples <dir>',
      'directory of the example labs',
      fileURLToPath(new URL('../../../examples', import.meta.url)),
    )
    .action((opts: { examples: string }) => {
      status = runTour(opts.examples, out, err);
    });

  program
    .command('schema')
    .description('print the JSON Schema of lab files (for editors)')
    .action(() => {
      out.line(JSON.stringify(labJsonSchema(), null, 2));
    });

  program
    .command('serve')
    .description(
      'run the VPC service: the HTTP API, with its state in a SQLite database (see docs/service.md)',
    )
    .option('--db <path>', 'the state database (default ./.vnet/vnet.db)')
    .option('--port <n>', 'TCP port; 0 lets the system choose (default 7480)', (v: string) => {
      if (!/^\d+$/.test(v) || Number(v) > 65535)
        throw new InvalidArgumentError(`"${v}" is not a TCP port (0..65535)`);
      return Number(v);
    })
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option(
      '--hypervisors <names>',
      "comma-separated hypervisors instances are placed on (default: the default fabric's four)",
    )
    .option('--public-pool <cidr>', 'where elastic IPs come from (default 203.0.113.0/24)')
    .option('--log', 'log every request (JSON lines on stdout)')
    .option('--demo', 'load the demo (two tenants, VPCs, security groups, instances) into an empty database')
    .action(async (opts: ServeCommandOptions) => {
      status = await runServe(opts, out, err);
    });

  // `--mac` belongs to the `--host` before it: both are collected here in command-line order.
  const hostFlags: HostFlag[] = [];
  const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
  program
    .command('vtep')
    .description(
      "run a real VTEP: vnet's NVE on a UDP socket, its stations TAP devices in network namespaces or hosts of its own (root; see docs/real.md)",
    )
    .argument('[config]', 'a configuration file (YAML) with many bridge domains, instead of the flags')
    .option('--vni <n>', "the bridge domain's VNI", positiveInteger)
    .option('--local <address>', "the VTEP's address on the underlay (an address of this host)")
    .option('--remote <address>', 'a remote VTEP to flood to (repeatable)', collect)
    .option('--port <n>', 'UDP port (default 4789 VXLAN, 6081 GENEVE)', (v: string) => port(v, undefined)[0]!)
    .option('--encap <kind>', 'vxlan or geneve (default vxlan)')
    .option(
      '--tap <spec>',
      'NAMESPACE[,name=IF][,ip=CIDR][,mac=MAC]: a TAP device moved into that namespace (repeatable)',
      collect,
    )
    .option(
      '--host <ip/len>',
      "a host of vnet's own stack: ARP, ping, UDP and TCP echo on port 7 (repeatable)",
      (v: string) => {
        hostFlags.push({ ip: v });
        return v;
      },
    )
    .option('--mac <mac>', 'the MAC of the --host before it', (v: string) => {
      const last = hostFlags.at(-1);
      if (last === undefined) throw new InvalidArgumentError('--mac follows the --host it belongs to');
      last.mac = v;
      return v;
    })
    .option(
      '--static <spec>',
      'MAC,vtep=ADDR[,ip=IP]: a remote station known in advance (repeatable)',
      collect,
    )
    .option(
      '--control-plane <kind>',
      'flood-and-learn (default), or static: only the --static stations, with ARP suppression for their IPs',
    )
    .option(
      '--mtu <n>',
      "the stations' MTU (default 1500 minus the encapsulation's 50 bytes)",
      positiveInteger,
    )
    .option('--trace', 'print every decision of the NVE and its hosts')
    .option('--seconds <n>', 'stop after this many seconds (default: at SIGINT or SIGTERM)', positiveNumber)
    .option('--json', 'print the final counters as JSON')
    .action(async (config: string | undefined, opts: VtepCommandOptions) => {
      status = await runVtep(config, opts, hostFlags, out, err);
    });

  registerServiceCommands(program, serviceIo);

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    status = error.exitCode === 0 ? 0 : 2;
  }
  await out.end();
  await err.end();
  return status;
}
