/**
 * The overlay at scale: 4 spines, 32 leaves, 16 servers per leaf, 32 VMs per server (16,384
 * VMs), 64 tenants that all use 10.0.0.0/16 (so every tenant reuses the same MACs and IPs). Every
 * VM pings one VM of its own tenant on another leaf, ARP first, under both control planes
 * (flood-and-learn and controller). VM i sends at i x 5 us, so the pings overlap in flight.
 *
 * Printed per control plane: build time, frames (link-level deliveries, as the switch-only
 * all-pairs benchmark counts them), events, wall time of the run, frames per second, peak RSS,
 * replies received, link drops, and table sizes: BD MAC entries and ARP suppression entries per
 * leaf, MAC entries per server switch, ARP entries per VM; head-end copies. `switch-only` (as the
 * first argument) runs the same VMs and traffic with plain VLAN switching instead of the overlay,
 * the switch-only figure at the same scale. Env: BENCH_OVERLAY_SCALE=small runs a 4x8x4x8 fabric
 * instead (256 VMs, 16 tenants), =medium a 4x16x8x32 one (4,096 VMs, 32 tenants) for quicker
 * profiling; published figures use the default size.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Host } from '../src/devices/ip/host.js';
import { Switch } from '../src/devices/l2/switch.js';
import type { Nve } from '../src/overlay/index.js';
import { buildFabric, type FabricSpec } from '../src/topo/fabric.js';
import { Network } from '../src/topo/network.js';
import { cidr, ip } from '../src/wire/index.js';

export interface OverlayBenchResult {
  readonly controlPlane: string;
  readonly placement: string;
  readonly vms: number;
  readonly tenants: number;
  readonly buildSeconds: number;
  readonly runSeconds: number;
  readonly frames: number;
  readonly events: number;
  readonly framesPerSecond: number;
  readonly peakRssMiB: number;
  readonly pings: number;
  readonly replies: number;
  readonly linkDrops: Record<string, number>;
  /** Per-device table sizes: each server switch's MAC table, each VM's ARP cache. */
  readonly serverMacEntries: { min: number; max: number };
  readonly vmArpEntries: { min: number; max: number };
  readonly perLeaf: {
    readonly bdMacEntries: { min: number; max: number };
    readonly arpSuppressionEntries: { min: number; max: number };
    readonly encapsulated: number;
    readonly replicated: number;
    readonly arpSuppressed: number;
  };
}

const GAP = 5_000;

/** The benchmarks' fabric: `tenants` tenants all in 10.0.0.0/16 (the same MACs and IPs), deep link queues. */
export function benchFabricSpec(
  controlPlane: 'flood-and-learn' | 'controller',
  size: { spines: number; leaves: number; serversPerLeaf: number; vmsPerServer: number; tenants: number },
  placement: 'leaf' | 'hypervisor' = 'leaf',
): FabricSpec {
  return {
    ...size,
    nve: placement,
    controlPlane,
    tenants: Array.from({ length: size.tenants }, (_, i) => ({
      name: `t${i + 1}`,
      subnets: [cidr('10.0.0.0/16')],
    })),
    link: { queueFrames: 100_000 },
  };
}

/** The figures every mode prints: times, link-level deliveries, events, memory, echo replies, link drops. */
function runFigures(
  net: Network,
  events: number,
  runs: readonly { statistics(): { received: number } }[],
  t0: number,
  t1: number,
  t2: number,
) {
  const links = net.links;
  const frames = links.reduce((sum, l) => sum + l.delivered, 0);
  const linkDrops: Record<string, number> = {};
  for (const l of links) for (const [k, v] of Object.entries(l.drops)) linkDrops[k] = (linkDrops[k] ?? 0) + v;
  const runSeconds = (t2 - t1) / 1000;
  return {
    buildSeconds: Number(((t1 - t0) / 1000).toFixed(3)),
    runSeconds: Number(runSeconds.toFixed(3)),
    frames,
    events,
    framesPerSecond: Math.round(frames / runSeconds),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    replies: runs.reduce((s, r) => s + r.statistics().received, 0),
    linkDrops,
  };
}

function range(values: number[]): { min: number; max: number } {
  return { min: Math.min(...values), max: Math.max(...values) };
}

export function runOverlayScenario(
  controlPlane: 'flood-and-learn' | 'controller',
  size: { spines: number; leaves: number; serversPerLeaf: number; vmsPerServer: number; tenants: number },
  placement: 'leaf' | 'hypervisor' = 'leaf',
): OverlayBenchResult {
  const t0 = performance.now();
  const net = new Network({ seed: 1 });
  const fabric = buildFabric(net, benchFabricSpec(controlPlane, size, placement));
  net.start();
  const t1 = performance.now();
  // VM k of a tenant pings the tenant's VM k + (VMs per leaf of the tenant), which sits on the next leaf.
  const byTenant = new Map<string, Host[]>();
  for (const vm of fabric.vms) {
    const list = byTenant.get(vm.tenant) ?? [];
    list.push(vm.host);
    byTenant.set(vm.tenant, list);
  }
  const perLeafPerTenant = Math.max(1, (size.serversPerLeaf * size.vmsPerServer) / size.tenants);
  let pings = 0;
  const runs: { done: boolean; statistics(): { received: number } }[] = [];
  let i = 0;
  for (const hosts of byTenant.values()) {
    hosts.forEach((h, k) => {
      const target = hosts[(k + perLeafPerTenant) % hosts.length]!;
      const dst = target.interfaces[0]!.primary!.address;
      const at = (i++ % fabric.vms.length) * GAP;
      net.scheduler.at(at, () => runs.push(h.ping(dst, { count: 1, timeout: 2e9 })));
      pings++;
    });
  }
  const result = net.run({ until: fabric.vms.length * GAP + 3e9 });
  const t2 = performance.now();
  const nves = fabric.nves as Nve[];
  const bdMacs = nves.map((n) => n.bridgeDomains().reduce((s, bd) => s + bd.size, 0));
  const arpEntries = nves.map((n) => n.bridgeDomains().reduce((s, bd) => s + bd.arp.size, 0));
  const now = net.scheduler.now();
  const servers = [...net.nodes.values()].filter((n): n is Switch => n instanceof Switch);
  const serverMacs = servers.length > 0 ? servers.map((s) => s.macTable.size) : [0];
  const vmArp = fabric.vms.map((v) => v.host.interfaces[0]!.arp.table(now).length);
  return {
    controlPlane,
    placement,
    vms: fabric.vms.length,
    tenants: size.tenants,
    ...runFigures(net, result.events, runs, t0, t1, t2),
    pings,
    serverMacEntries: range(serverMacs),
    vmArpEntries: range(vmArp),
    perLeaf: {
      bdMacEntries: range(bdMacs),
      arpSuppressionEntries: range(arpEntries),
      encapsulated: nves.reduce((s, n) => s + n.counters.encapsulated, 0),
      replicated: nves.reduce((s, n) => s + n.counters.replicated, 0),
      arpSuppressed: nves.reduce((s, n) => s + n.counters.arpSuppressed, 0),
    },
  };
}

/**
 * The same fabric without the overlay, for comparison at the same scale: plain VLAN switching in a
 * tree (one core switch, a leaf switch per leaf, the same server switches), each tenant a VLAN
 * (the same MACs and IPs in every VLAN), the same VMs, announcements and pings. A tenant's
 * broadcast reaches the same stations as in the overlay (through the core instead of head-end
 * replication), so the frames are comparable; nothing is encapsulated or routed.
 */
export function runSwitchFabricScenario(size: {
  leaves: number;
  serversPerLeaf: number;
  vmsPerServer: number;
  tenants: number;
}): Omit<OverlayBenchResult, 'controlPlane' | 'placement' | 'perLeaf'> & { controlPlane: 'switch-only' } {
  const t0 = performance.now();
  const net = new Network({ seed: 1 });
  const vlanOf = (tenant: number) => 100 + tenant;
  const allVlans = Array.from({ length: size.tenants }, (_, t) => vlanOf(t));
  const trunk = { mode: 'trunk', allowed: allVlans, native: null } as const;
  const link = { queueFrames: 100_000 };
  const macTableSize = size.leaves * size.serversPerLeaf * size.vmsPerServer;
  const core = net.addSwitch('core', { macTableSize });
  const byTenant: Host[][] = allVlans.map(() => []);
  let vm = 0;
  for (let l = 1; l <= size.leaves; l++) {
    const leaf = net.addSwitch(`leaf${l}`, { macTableSize });
    for (const sw of [core, leaf]) sw.addPort(`to-${sw === core ? leaf.name : 'core'}`);
    core.configurePort(`to-${leaf.name}`, trunk);
    leaf.configurePort('to-core', trunk);
    net.addLink(core, leaf, { ...link, aPort: `to-${leaf.name}`, bPort: 'to-core' });
    for (let v = 1; v <= size.serversPerLeaf; v++) {
      const server = net.addSwitch(`leaf${l}-srv${v}`);
      const vlans: number[] = [];
      for (let m = 1; m <= size.vmsPerServer; m++) {
        // VMs go round the tenants, as the overlay fabric places them.
        const tenant = vm++ % size.tenants;
        const k = byTenant[tenant]!.length;
        const host = net.addHost(`t${tenant + 1}-vm${k + 1}`, {
          ip: { address: ip('10.0.0.0') + 10 + k, prefixLength: 16 },
          mac: 0x02_00_00_00_00_00 + k + 1,
        });
        byTenant[tenant]!.push(host);
        server.addPort(String(m));
        server.configurePort(String(m), { mode: 'access', vlan: vlanOf(tenant) });
        vlans.push(vlanOf(tenant));
        net.addLink(host, server, { ...link, bPort: String(m) });
      }
      server.addPort('uplink');
      server.configurePort('uplink', { mode: 'trunk', allowed: vlans, native: null });
      leaf.addPort(`srv${v}`);
      leaf.configurePort(`srv${v}`, { mode: 'trunk', allowed: vlans, native: null });
      net.addLink(server, leaf, { ...link, aPort: 'uplink', bPort: `srv${v}` });
    }
  }
  net.start();
  const t1 = performance.now();
  const perLeafPerTenant = Math.max(1, (size.serversPerLeaf * size.vmsPerServer) / size.tenants);
  const runs: { statistics(): { received: number } }[] = [];
  let i = 0;
  for (const hosts of byTenant) {
    hosts.forEach((h, k) => {
      const target = hosts[(k + perLeafPerTenant) % hosts.length]!;
      const dst = target.interfaces[0]!.primary!.address;
      net.scheduler.at(i++ * GAP, () => runs.push(h.ping(dst, { count: 1, timeout: 2e9 })));
    });
  }
  const result = net.run({ until: vm * GAP + 3e9 });
  const t2 = performance.now();
  const now = net.scheduler.now();
  const servers = [...net.nodes.values()].filter(
    (n): n is Switch => n instanceof Switch && n.name.includes('-srv'),
  );
  return {
    controlPlane: 'switch-only',
    vms: vm,
    tenants: size.tenants,
    ...runFigures(net, result.events, runs, t0, t1, t2),
    pings: vm,
    serverMacEntries: range(servers.map((s) => s.macTable.size)),
    vmArpEntries: range(byTenant.flat().map((h) => h.interfaces[0]!.arp.table(now).length)),
  };
}

/**
 * Both control planes, each in a fresh Node process: a run that follows the other benchmarks in
 * one process inherits their heap and their type feedback, and measured up to 1.9 times slower.
 */
export function runOverlayBench(small = false): OverlayBenchResult[] {
  return (['flood-and-learn', 'controller'] as const).map((plane) => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), plane], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_OVERLAY_SCALE: small ? 'small' : '' },
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`overlay benchmark (${plane}) failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as OverlayBenchResult;
  });
}

if (process.argv[1]?.endsWith('overlay-bench.js')) {
  const which = process.argv[2];
  const scale = process.env.BENCH_OVERLAY_SCALE;
  const size =
    scale === 'small'
      ? { spines: 4, leaves: 8, serversPerLeaf: 4, vmsPerServer: 8, tenants: 16 }
      : scale === 'medium'
        ? { spines: 4, leaves: 16, serversPerLeaf: 8, vmsPerServer: 32, tenants: 32 }
        : { spines: 4, leaves: 32, serversPerLeaf: 16, vmsPerServer: 32, tenants: 64 };
  if (which === 'switch-only') console.log(JSON.stringify(runSwitchFabricScenario(size)));
  else {
    const planes =
      which === 'controller' || which === 'flood-and-learn'
        ? [which]
        : (['flood-and-learn', 'controller'] as const);
    for (const p of planes)
      console.log(JSON.stringify(runOverlayScenario(p as 'flood-and-learn' | 'controller', size)));
  }
}
