/**
 * The real data plane, measured side by side on this machine (root): the same two-VM topology in
 * three data planes, iperf3 between the VMs (TCP for 3 s; UDP flat out with 1,400-byte and
 * 64-byte datagrams for 3 s each), received packets per second and Gbit/s.
 *
 * - `kernel-vxlan`: the kernel's vxlan device in each VM namespace, a veth underlay between them
 *   (the VM is its own VTEP: the fastest the kernel does it).
 * - `kernel-bridge-vxlan`: each VM namespace on a veth into a VTEP namespace, where a Linux bridge
 *   joins it to the kernel's vxlan device (the kernel as a hypervisor's VTEP).
 * - `vnet-vtep`: each VM namespace on a TAP of `vnet vtep`, running in the VTEP namespace (vnet's
 *   NVE as the hypervisor's VTEP; same topology as the bridge).
 *
 * `node dist/bench/real-vtep-bench.js [scenario...]`; prints one JSON document. Every namespace it
 * makes is named `vb<pid>-...` and removed at the end, whatever happens. BENCH_REAL_SECONDS sets
 * each iperf3 run's length; BENCH_VTEP_NODE_FLAGS passes flags to the VTEPs' Node (`--cpu-prof`).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SECONDS = Number(process.env.BENCH_REAL_SECONDS ?? 3);
const VNET = fileURLToPath(new URL('../../bin/vnet', import.meta.url));

interface Measure {
  readonly test: string;
  readonly gbps: number;
  readonly pps: number;
  readonly lossPercent: number | null;
  readonly retransmits: number | null;
}

interface ScenarioResult {
  readonly scenario: string;
  readonly measures: Measure[];
}

const NODE_FLAGS = (process.env.BENCH_VTEP_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
const prefix = `vb${process.pid % 100000}`;
const made: string[] = [];
const children: ChildProcess[] = [];

function ip(args: string[], ns?: string): void {
  execFileSync('ip', ns === undefined ? args : ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function addNs(name: string): string {
  const ns = `${prefix}-${name}`;
  ip(['netns', 'add', ns]);
  made.push(ns);
  ip(['link', 'set', 'lo', 'up'], ns);
  return ns;
}

function veth(
  a: string,
  an: string,
  aAddr: string | null,
  b: string,
  bn: string,
  bAddr: string | null,
): void {
  ip(['link', 'add', an, 'netns', a, 'type', 'veth', 'peer', 'name', bn, 'netns', b]);
  if (aAddr) ip(['address', 'add', aAddr, 'dev', an], a);
  if (bAddr) ip(['address', 'add', bAddr, 'dev', bn], b);
  ip(['link', 'set', an, 'up'], a);
  ip(['link', 'set', bn, 'up'], b);
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  children.length = 0;
  for (const ns of made) spawnSync('ip', ['netns', 'del', ns]);
  made.length = 0;
}

/** SIGTERM, and the process's end. */
function stopGently(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.on('exit', () => resolve());
    c.kill('SIGTERM');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** iperf3 from `client` to `server` (at `address`): TCP, then UDP at 1,400 and 64 bytes. */
async function iperf(server: string, client: string, address: string): Promise<Measure[]> {
  const out: Measure[] = [];
  const runs: [string, string[]][] = [
    ['tcp', []],
    ['udp-1400', ['-u', '-b', '0', '-l', '1400']],
    ['udp-64', ['-u', '-b', '0', '-l', '64']],
  ];
  for (const [test, args] of runs) {
    const s = spawn('ip', ['netns', 'exec', server, 'iperf3', '-s', '-1', '-B', address], {
      stdio: 'ignore',
    });
    children.push(s);
    await sleep(300);
    const r = spawnSync(
      'ip',
      ['netns', 'exec', client, 'iperf3', '-c', address, '-t', String(SECONDS), '-J', ...args],
      {
        encoding: 'utf8',
        timeout: (SECONDS + 20) * 1000,
      },
    );
    s.kill();
    const j = JSON.parse(r.stdout || '{}');
    if (j.error || !j.end) {
      out.push({ test, gbps: 0, pps: 0, lossPercent: null, retransmits: null });
      continue;
    }
    if (test === 'tcp') {
      const rx = j.end.sum_received;
      out.push({
        test,
        gbps: round((rx.bits_per_second as number) / 1e9, 3),
        pps: 0,
        lossPercent: null,
        retransmits: j.end.sum_sent.retransmits ?? null,
      });
    } else {
      const sum = j.end.sum_received ?? j.end.sum;
      const packets = (sum.packets as number) - (sum.lost_packets as number);
      const seconds = sum.seconds as number;
      out.push({
        test,
        gbps: round((sum.bits_per_second as number) / 1e9, 3),
        pps: Math.round(packets / seconds),
        lossPercent: round(sum.lost_percent as number, 1),
        retransmits: null,
      });
    }
  }
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function kernelVxlan(): Promise<ScenarioResult> {
  const a = addNs('a');
  const b = addNs('b');
  veth(a, `${prefix}a`, '192.168.90.1/24', b, `${prefix}b`, '192.168.90.2/24');
  for (const [ns, local, remote, addr, dev] of [
    [a, '192.168.90.1', '192.168.90.2', '10.90.0.1/24', `${prefix}a`],
    [b, '192.168.90.2', '192.168.90.1', '10.90.0.2/24', `${prefix}b`],
  ] as const) {
    addVxlan(ns, local, remote, dev);
    ip(['address', 'add', addr, 'dev', 'vx0'], ns);
    ip(['link', 'set', 'vx0', 'up'], ns);
  }
  return { scenario: 'kernel-vxlan', measures: await iperf(b, a, '10.90.0.2') };
}

/** The kernel's VXLAN device `vx0` in `ns`: VNI 100, port 4789, flooding to `remote` over `dev`. */
function addVxlan(ns: string, local: string, remote: string, dev: string): void {
  ip(
    [
      'link',
      'add',
      'vx0',
      'type',
      'vxlan',
      'id',
      '100',
      'local',
      local,
      'remote',
      remote,
      'dstport',
      '4789',
      'dev',
      dev,
    ],
    ns,
  );
}

/** Two VTEP namespaces joined by a veth underlay, and a VM namespace for each. */
function vtepPair(): { va: string; vb: string; ma: string; mb: string } {
  const va = addNs('va');
  const vb = addNs('vb');
  const ma = addNs('ma');
  const mb = addNs('mb');
  veth(va, `${prefix}u`, '192.168.91.1/24', vb, `${prefix}w`, '192.168.91.2/24');
  return { va, vb, ma, mb };
}

async function kernelBridgeVxlan(): Promise<ScenarioResult> {
  const { va, vb, ma, mb } = vtepPair();
  for (const [vtep, vm, local, remote, addr, dev, side] of [
    [va, ma, '192.168.91.1', '192.168.91.2', '10.91.0.1/24', `${prefix}u`, 'x'],
    [vb, mb, '192.168.91.2', '192.168.91.1', '10.91.0.2/24', `${prefix}w`, 'y'],
  ] as const) {
    addVxlan(vtep, local, remote, dev);
    ip(['link', 'add', 'br0', 'type', 'bridge'], vtep);
    veth(vtep, `${prefix}${side}`, null, vm, 'eth0', addr);
    ip(['link', 'set', 'vx0', 'master', 'br0'], vtep);
    ip(['link', 'set', `${prefix}${side}`, 'master', 'br0'], vtep);
    ip(['link', 'set', 'vx0', 'mtu', '1450'], vtep);
    ip(['link', 'set', 'eth0', 'mtu', '1450'], vm);
    ip(['link', 'set', 'vx0', 'up'], vtep);
    ip(['link', 'set', 'br0', 'up'], vtep);
  }
  return { scenario: 'kernel-bridge-vxlan', measures: await iperf(mb, ma, '10.91.0.2') };
}

async function vnetVtep(): Promise<ScenarioResult> {
  const { va, vb, ma, mb } = vtepPair();
  for (const [vtep, vm, local, remote, addr] of [
    [va, ma, '192.168.91.1', '192.168.91.2', '10.91.0.1/24'],
    [vb, mb, '192.168.91.2', '192.168.91.1', '10.91.0.2/24'],
  ] as const) {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        vtep,
        process.execPath,
        ...NODE_FLAGS,
        VNET,
        'vtep',
        '--vni',
        '100',
        '--local',
        local,
        '--remote',
        remote,
        '--tap',
        `${vm},name=eth0,ip=${addr}`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stdout?.on('data', (d) => {
        text += d;
        if (/^ready$/m.test(text)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`vnet vtep exited ${code}`)));
    });
  }
  const measures = await iperf(mb, ma, '10.91.0.2');
  // A VTEP stopped by a signal finishes cleanly (and writes its profile, when asked for one).
  await Promise.all(children.splice(0).map(stopGently));
  return { scenario: 'vnet-vtep', measures };
}

const SCENARIOS: Record<string, () => Promise<ScenarioResult>> = {
  'kernel-vxlan': kernelVxlan,
  'kernel-bridge-vxlan': kernelBridgeVxlan,
  'vnet-vtep': vnetVtep,
};

export async function runRealVtepBench(
  names = Object.keys(SCENARIOS),
): Promise<ScenarioResult[] | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root' };
  if (spawnSync('iperf3', ['-v']).status !== 0) return { skipped: 'needs iperf3' };
  const results: ScenarioResult[] = [];
  for (const name of names) {
    try {
      results.push(await SCENARIOS[name]!());
    } finally {
      cleanup();
    }
  }
  return results;
}

if (process.argv[1]?.endsWith('real-vtep-bench.js')) {
  const names = process.argv.slice(2);
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  runRealVtepBench(names.length > 0 ? names : undefined)
    .then((r) => console.log(JSON.stringify({ seconds: SECONDS, results: r }, null, 2)))
    .finally(cleanup);
}
