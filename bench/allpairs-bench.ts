/**
 * The ns-3 anchor scenarios of ../shared/peers/ns3/, rebuilt in vnet with the same setup, run
 * side by side with the ns-3 programs when they are built (/tmp/ns3-anchors, see build_ns3.sh):
 *
 *  bridge:     N hosts, each on its own 1 Gbps / 1 us link to one learning switch, 10.1.0.0/16.
 *  leafspine:  S spine and L leaf routers, every leaf linked to every spine (10 Gbps, 1 us, a /30
 *              each), H hosts per leaf, each on its own 1 Gbps / 1 us link and /24; static routes
 *              (ns-3 computes them with global routing; here each leaf reaches a remote host's /24
 *              through spine (host index mod S): static paths, kept although vnet's routers now do ECMP).
 *
 *  overlay:    the bridge's hosts and traffic over a VXLAN fabric (`overlayAllPairsScenario`; vnet
 *              only): the overlay's frames per second at the bridge scenario's scale.
 *
 * Traffic (ns3_allpairs_common.h, mode "custom"): every host sends one 56-byte UDP echo request
 * (port 10 -> 9) to every other host, exchange e = (k-1)*N + i (host i -> host (i+k) mod N) at
 * 1 s + e * 20 us; the run ends 100 ms after the last request. Frames counts every link-level
 * delivery (ns-3's PhyRxEnd); frames per second is frames over the wall time of the run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Host } from '../src/devices/ip/host.js';
import type { Router } from '../src/devices/router/router.js';
import { buildFabric } from '../src/topo/fabric.js';
import { Network } from '../src/topo/network.js';
import { type Cidr, cidr, type Ipv4, ip } from '../src/wire/index.js';

const GAP = 20_000;
const START = 1e9;
const PAYLOAD = new Uint8Array(56);

export interface ScenarioResult {
  readonly tool: 'vnet' | 'ns-3';
  readonly scenario: string;
  readonly hosts: number;
  readonly exchanges: number;
  readonly replies: number;
  readonly frames: number;
  readonly events: number;
  readonly setupSeconds: number;
  readonly runSeconds: number;
  readonly framesPerSecond: number;
  readonly eventsPerSecond: number;
  readonly peakRssMiB: number;
}

function allPairs(
  net: Network,
  hosts: Host[],
  addresses: Ipv4[],
): { exchanges: number; replies: () => number; last: number } {
  let replies = 0;
  for (const h of hosts) {
    h.enableUdpEcho(9);
    h.bindUdp(10, () => {
      replies++;
    });
  }
  const n = hosts.length;
  let e = 0;
  let t = START;
  for (let k = 1; k < n; k++) {
    for (let i = 0; i < n; i++, e++) {
      const from = hosts[i]!;
      const to = addresses[(i + k) % n]!;
      t = START + GAP * e;
      net.scheduler.at(t, () => {
        from.sendUdp(10, to, 9, PAYLOAD);
      });
    }
  }
  return { exchanges: e, replies: () => replies, last: t };
}

/**
 * The part every scenario shares once its network is built: starts it, schedules the all-pairs
 * traffic, runs until 100 ms after the last request, and gathers the figures (set-up timed from `t0`).
 */
function runAllPairs(
  scenario: string,
  net: Network,
  hosts: Host[],
  addresses: Ipv4[],
  t0: bigint,
): ScenarioResult {
  net.start();
  const traffic = allPairs(net, hosts, addresses);
  const setup = seconds(t0);
  const t1 = process.hrtime.bigint();
  net.run({ until: traffic.last + 100e6 });
  return finish(
    'vnet',
    scenario,
    net,
    hosts.length,
    traffic.exchanges,
    traffic.replies(),
    setup,
    seconds(t1),
  );
}

function finish(
  tool: 'vnet',
  scenario: string,
  net: Network,
  hosts: number,
  exchanges: number,
  replies: number,
  setup: number,
  run: number,
): ScenarioResult {
  const frames = net.links.reduce((sum, l) => sum + l.delivered, 0);
  const events = net.scheduler.executed;
  return {
    tool,
    scenario,
    hosts,
    exchanges,
    replies,
    frames,
    events,
    setupSeconds: Number(setup.toFixed(3)),
    runSeconds: Number(run.toFixed(3)),
    framesPerSecond: Math.round(frames / run),
    eventsPerSecond: Math.round(events / run),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

export function bridgeScenario(n: number): ScenarioResult {
  const t0 = process.hrtime.bigint();
  const net = new Network({ seed: 1 });
  const sw = net.addSwitch('br', { macTableSize: 65536 });
  const hosts: Host[] = [];
  const addresses: Ipv4[] = [];
  for (let i = 0; i < n; i++) {
    const address = ip('10.1.0.0') + i + 1;
    const h = net.addHost(`n${i}`, { ip: { address, prefixLength: 16 }, announce: false });
    net.addLink(h, sw, { delay: 1_000, bandwidth: 1e9 });
    hosts.push(h);
    addresses.push(address);
  }
  return runAllPairs('bridge', net, hosts, addresses, t0);
}

/**
 * The bridge scenario's hosts and traffic over a VXLAN overlay instead of one switch: the same
 * number of hosts, all in one /16 (VMs of one tenant, one bridge domain), the same links (1 us,
 * 1 Gbps, underlay included), the same all-pairs plan and no start-up announcements; the fabric is
 * 4 spines, n / 32 leaves (the NVEs), 4 servers per leaf (VLAN switches) and 8 VMs per server. A
 * broadcast reaches the same hosts as on the bridge, through head-end replication to the other
 * leaves (each copy across a spine) and the servers' switches. It is the overlay at the bridge
 * scenario's scale: the figure to set beside the bridge's frames per second.
 */
export function overlayAllPairsScenario(
  n: number,
  controlPlane: 'flood-and-learn' | 'controller',
): ScenarioResult {
  if (n % 32 !== 0) throw new RangeError(`overlay all-pairs needs a multiple of 32 hosts, not ${n}`);
  const t0 = process.hrtime.bigint();
  const net = new Network({ seed: 1 });
  const fabric = buildFabric(net, {
    spines: 4,
    leaves: n / 32,
    serversPerLeaf: 4,
    vmsPerServer: 8,
    nve: 'leaf',
    controlPlane,
    tenants: [{ name: 't1', subnets: [cidr('10.1.0.0/16')] }],
    link: { delay: 1_000, bandwidth: 1e9 },
    announce: false,
  });
  const hosts = fabric.vms.map((vm) => vm.host);
  const addresses = hosts.map((h) => h.interfaces[0]!.primary!.address);
  return runAllPairs(`overlay ${controlPlane}`, net, hosts, addresses, t0);
}

export function leafSpineScenario(spines: number, leaves: number, hostsPerLeaf: number): ScenarioResult {
  const t0 = process.hrtime.bigint();
  const net = new Network({ seed: 1 });
  const fabric = { delay: 1_000, bandwidth: 10e9 };
  const access = { delay: 1_000, bandwidth: 1e9 };
  // Fabric links: leaf l, spine s get 10.255.(l*spines+s)/30 as .1 (leaf) and .2 (spine) -- as
  // numbers: base + 4 * index.
  const p2p = (l: number, s: number): { leaf: Cidr; spine: Cidr } => {
    const base = ip('10.128.0.0') + 4 * (l * spines + s);
    return { leaf: { address: base + 1, prefixLength: 30 }, spine: { address: base + 2, prefixLength: 30 } };
  };
  const hostNet = (g: number): number => ip('10.1.0.0') + g * 256; // 10.1.0.0/24, 10.1.1.0/24, ... (g < 32768)
  const spineRouters: Router[] = [];
  for (let s = 0; s < spines; s++) {
    spineRouters.push(
      net.addRouter(
        `spine${s}`,
        Array.from({ length: leaves }, (_, l) => ({ name: `eth${l}`, addresses: [p2p(l, s).spine] })),
      ),
    );
  }
  const hosts: Host[] = [];
  const addresses: Ipv4[] = [];
  const leafRouters: Router[] = [];
  for (let l = 0; l < leaves; l++) {
    const uplinks = Array.from({ length: spines }, (_, s) => ({
      name: `up${s}`,
      addresses: [p2p(l, s).leaf],
    }));
    const downlinks = Array.from({ length: hostsPerLeaf }, (_, h) => {
      const g = l * hostsPerLeaf + h;
      return { name: `h${h}`, addresses: [{ address: hostNet(g) + 1, prefixLength: 24 }] };
    });
    const leaf = net.addRouter(`leaf${l}`, [...uplinks, ...downlinks]);
    leafRouters.push(leaf);
    for (let s = 0; s < spines; s++)
      net.addLink(leaf, spineRouters[s]!, { ...fabric, aPort: `up${s}`, bPort: `eth${l}` });
    for (let h = 0; h < hostsPerLeaf; h++) {
      const g = l * hostsPerLeaf + h;
      const address = hostNet(g) + 2;
      const host = net.addHost(`host${g}`, {
        ip: { address, prefixLength: 24 },
        gateway: hostNet(g) + 1,
        announce: false,
      });
      net.addLink(host, leaf, { ...access, bPort: `h${h}` });
      hosts.push(host);
      addresses.push(address);
    }
  }
  const total = leaves * hostsPerLeaf;
  for (let g = 0; g < total; g++) {
    const owner = Math.floor(g / hostsPerLeaf);
    const prefix = { address: hostNet(g), prefixLength: 24 };
    for (let s = 0; s < spines; s++)
      spineRouters[s]!.addStaticRoute({ prefix, nextHop: p2p(owner, s).leaf.address });
    const spine = g % spines;
    for (let l = 0; l < leaves; l++)
      if (l !== owner) leafRouters[l]!.addStaticRoute({ prefix, nextHop: p2p(l, spine).spine.address });
  }
  return runAllPairs(`leafspine ${spines}x${leaves}x${hostsPerLeaf}`, net, hosts, addresses, t0);
}

const NS3_DIR = '/tmp/ns3-anchors';

/** Runs an ns-3 anchor program and reads its RESULT line; null when it is not built. */
export function ns3Scenario(program: string, args: string[], scenario: string): ScenarioResult | null {
  const path = `${NS3_DIR}/${program}`;
  if (!existsSync(path)) return null;
  const r = spawnSync(path, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT'));
  if (!line) return null;
  const kv = Object.fromEntries(
    line
      .split(' ')
      .slice(1)
      .map((p) => p.split('=')),
  );
  const run = Number(kv.run_wall_s);
  return {
    tool: 'ns-3',
    scenario,
    hosts: Number(kv.n_hosts ?? kv.hosts ?? 0),
    exchanges: Number(kv.exchanges),
    replies: Number(kv.replies),
    frames: Number(kv.frames_rx),
    events: Number(kv.events),
    setupSeconds: Number(kv.setup_wall_s),
    runSeconds: run,
    framesPerSecond: Math.round(Number(kv.frames_rx) / run),
    eventsPerSecond: Math.round(Number(kv.events) / run),
    peakRssMiB: Math.round(Number(kv.peak_rss_kib ?? 0) / 1024),
  };
}

export function runAllPairsBench(options: { bridgeHosts: number[]; leafSpine: [number, number, number][] }) {
  const rows: {
    scenario: string;
    vnet: ScenarioResult;
    ns3: ScenarioResult | null;
    speedup: number | null;
  }[] = [];
  for (const n of options.bridgeHosts) {
    const vnet = bridgeScenario(n);
    const ns3 = ns3Scenario(
      'ns3_bridge_allpairs',
      [`--nHosts=${n}`, '--mode=custom', '--tc=default'],
      `bridge`,
    );
    rows.push({
      scenario: `bridge N=${n}`,
      vnet,
      ns3,
      speedup: ns3 ? Number((vnet.framesPerSecond / ns3.framesPerSecond).toFixed(2)) : null,
    });
  }
  for (const [s, l, h] of options.leafSpine) {
    const vnet = leafSpineScenario(s, l, h);
    const ns3 = ns3Scenario(
      'ns3_leafspine_allpairs',
      [`--nSpine=${s}`, `--nLeaf=${l}`, `--hostsPerLeaf=${h}`, '--ecmp=1', '--mode=custom', '--tc=default'],
      `leafspine`,
    );
    rows.push({
      scenario: `leafspine ${s}x${l}x${h} (${l * h} hosts)`,
      vnet,
      ns3,
      speedup: ns3 ? Number((vnet.framesPerSecond / ns3.framesPerSecond).toFixed(2)) : null,
    });
  }
  // The bridge's hosts and traffic over the overlay (see overlayAllPairsScenario), beside its row.
  const overlayAtBridgeScale = options.bridgeHosts.flatMap((n) => {
    const bridge = rows.find((r) => r.scenario === `bridge N=${n}`)!.vnet;
    return (['flood-and-learn', 'controller'] as const).map((plane) => {
      const overlay = overlayAllPairsScenario(n, plane);
      return {
        scenario: `overlay ${plane} N=${n}`,
        vnet: overlay,
        framesPerSecondVsBridge: Number((overlay.framesPerSecond / bridge.framesPerSecond).toFixed(2)),
        runVsBridge: Number((overlay.runSeconds / bridge.runSeconds).toFixed(2)),
      };
    });
  });
  return { ns3Available: existsSync(`${NS3_DIR}/ns3_bridge_allpairs`), rows, overlayAtBridgeScale };
}
