/**
 * Live migration at scale: the overlay benchmark's fabric (4 spines, 32 leaves, 16 servers per
 * leaf, 32 VMs per server: 16,384 VMs, 64 tenants all in 10.0.0.0/16), every VM with a TCP echo
 * server and a TCP session to one VM of its tenant on the next leaf (a message every 10 s), then
 * 1,000 VMs migrated one by one (each starts when the previous one runs at its destination and the
 * network converged), then 1,000 others 50 at a time (a batch starts when the previous batch is
 * done). Each VM moves to the server with the same index on the next leaf, which hosts the same
 * tenants (so its VLAN, or its BD, is there).
 *
 * Migration parameters: 256 MiB of memory, 5,000 dirty pages/s, a 10 Gbit/s migration link
 * (pre-copy, 30 ms downtime limit). Printed: the fabric's start (every VM's gratuitous ARP, flooded
 * to its whole tenant), the sessions' set-up, then per phase the wall time, virtual time, frames, downtimes (simulated: min,
 * mean, max), convergence times, frames lost, and the sessions of the moved VMs that survived
 * (alive at the end with an echo after the move); peak RSS.
 *
 * `node dist/bench/migration-bench.js [controller|flood-and-learn] [leaf|hypervisor]`;
 * BENCH_MIGRATION_SCALE=small runs a 4x8x4x8 fabric with 100 + 100 migrations.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Host } from '../src/devices/ip/host.js';
import { TcpMessageClient } from '../src/devices/tcp/tcp-apps.js';
import type { LiveMigration } from '../src/migration/index.js';
import { planTiming, preCopy } from '../src/migration/index.js';
import { buildFabric, type FabricVm } from '../src/topo/fabric.js';
import { Network } from '../src/topo/network.js';
import { benchFabricSpec } from './overlay-bench.js';

const SECOND = 1e9;

interface PhaseResult {
  readonly migrations: number;
  readonly atOnce: number;
  readonly wallSeconds: number;
  readonly virtualSeconds: number;
  readonly frames: number;
  readonly downtimeMs: { min: number; mean: number; max: number };
  readonly convergenceUs: { min: number; mean: number; max: number; notConverged: number };
  readonly framesLost: number;
  readonly toOldPlaceAfterConvergence: number;
  readonly sessions: number;
  readonly sessionsSurvived: number;
}

function stats(values: number[]): { min: number; mean: number; max: number } {
  if (values.length === 0) return { min: 0, mean: 0, max: 0 };
  const round = (v: number) => Number(v.toFixed(3));
  return {
    min: round(Math.min(...values)),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length),
    max: round(Math.max(...values)),
  };
}

export function runMigrationScenario(
  controlPlane: 'controller' | 'flood-and-learn',
  placement: 'leaf' | 'hypervisor',
  size: { spines: number; leaves: number; serversPerLeaf: number; vmsPerServer: number; tenants: number },
  counts: { oneByOne: number; batched: number; batch: number },
) {
  const t0 = performance.now();
  const net = new Network({ seed: 1 });
  const fabric = buildFabric(net, benchFabricSpec(controlPlane, size, placement));
  net.start();
  const t1 = performance.now();
  // The fabric comes up: every VM's gratuitous ARP reaches every VM of its tenant (flooded in its BD).
  net.run({ until: SECOND });
  const startFrames = net.links.reduce((s, l) => s + l.delivered, 0);
  const t1b = performance.now();

  // Sessions: every VM serves echo; VM k of a tenant talks to the tenant's VM k + (VMs per leaf of the tenant).
  const byTenant = new Map<string, FabricVm[]>();
  for (const vm of fabric.vms) {
    const list = byTenant.get(vm.tenant) ?? [];
    list.push(vm);
    byTenant.set(vm.tenant, list);
  }
  for (const vm of fabric.vms) vm.host.enableTcpEcho(7);
  const perLeafPerTenant = Math.max(1, (size.serversPerLeaf * size.vmsPerServer) / size.tenants);
  const sessions: { client: TcpMessageClient; from: Host; to: Host }[] = [];
  let i = 0;
  for (const vms of byTenant.values()) {
    vms.forEach((vm, k) => {
      const peer = vms[(k + perLeafPerTenant) % vms.length]!;
      const n = i++;
      net.scheduler.at(SECOND + n * 20_000, () => {
        const client = new TcpMessageClient(
          vm.host.tcp,
          `s${n + 1}`,
          vm.host.name,
          peer.host.interfaces[0]!.primary!.address,
          7,
          { every: 10 * SECOND, size: 64, userTimeout: 60 * SECOND },
          peer.host.name,
        );
        sessions.push({ client, from: vm.host, to: peer.host });
      });
    });
  }
  net.run({ until: SECOND + fabric.vms.length * 20_000 + 2 * SECOND });
  const t2 = performance.now();
  const established = sessions.filter((s) => s.client.established).length;

  const plan = preCopy({ memoryBytes: 256 * 2 ** 20, dirtyRate: 5_000, bandwidth: 10e9, maxDowntime: 30e6 });
  const timing = planTiming(plan);
  // The server with the same index on the next leaf: it hosts the same tenants (VM g goes to tenant g mod T).
  const destination = (vm: FabricVm) => `leaf${(vm.leaf % size.leaves) + 1}-srv${vm.server}`;
  // Positions in the fabric's VM list: one-by-one takes every (n / count)th VM, batched the ones halfway between.
  const pick = (count: number, offset: number) =>
    Array.from(
      { length: count },
      (_, j) => fabric.vms[(Math.floor((j * fabric.vms.length) / count) + offset) % fabric.vms.length]!,
    );

  const phase = (vms: FabricVm[], atOnce: number): PhaseResult => {
    const w0 = performance.now();
    const v0 = net.scheduler.now();
    const f0 = net.links.reduce((s, l) => s + l.delivered, 0);
    const done: { vm: FabricVm; m: LiveMigration }[] = [];
    let next = 0;
    const launch = () => {
      const batch = vms.slice(next, next + atOnce);
      next += batch.length;
      let left = batch.length;
      for (const vm of batch) {
        const m = net.migrate(vm.host, destination(vm), { timing, convergenceTimeout: 2 * SECOND });
        done.push({ vm, m });
        // The next start waits for this one to run at its destination and the network to converge.
        m.onResumed(() => {
          const wait = () => {
            if (
              m.report().convergedAfter === null &&
              net.scheduler.now() - m.report().resumedAt < 2 * SECOND
            ) {
              net.scheduler.schedule(10_000, wait);
              return;
            }
            if (--left === 0 && next < vms.length) launch();
          };
          wait();
        });
      }
    };
    launch();
    while (next < vms.length || done.some((d) => d.m.phase !== 'resumed')) {
      const r = net.run({ until: net.scheduler.now() + 10 * SECOND });
      if (r.reason === 'quiet') break;
    }
    // Ten more seconds: every session sends again after the last move.
    net.run({ until: net.scheduler.now() + 11 * SECOND });
    const reports = done.map((d) => {
      const r = d.m.report();
      d.m.finish();
      return r;
    });
    const moved = new Map(done.map((d, k) => [d.vm.host, reports[k]!.resumedAt]));
    const involved = sessions.filter((s) => moved.has(s.from) || moved.has(s.to));
    const survived = involved.filter((s) => {
      const since = Math.max(moved.get(s.from) ?? 0, moved.get(s.to) ?? 0);
      return s.client.alive && s.client.failures.length === 0 && (s.client.lastEcho ?? 0) > since;
    });
    const converged = reports.filter((r) => r.convergedAfter !== null).map((r) => r.convergedAfter! / 1000);
    return {
      migrations: vms.length,
      atOnce,
      wallSeconds: Number(((performance.now() - w0) / 1000).toFixed(3)),
      virtualSeconds: Number(((net.scheduler.now() - v0) / 1e9).toFixed(3)),
      frames: net.links.reduce((s, l) => s + l.delivered, 0) - f0,
      downtimeMs: stats(reports.map((r) => r.downtime / 1e6)),
      convergenceUs: { ...stats(converged), notConverged: reports.length - converged.length },
      framesLost: reports.reduce((s, r) => s + r.framesLostToVm + r.framesLostFromVm, 0),
      toOldPlaceAfterConvergence: reports.reduce((s, r) => s + r.toOldPlaceAfterConvergence, 0),
      sessions: involved.length,
      sessionsSurvived: survived.length,
    };
  };

  const oneByOne = phase(pick(counts.oneByOne, 0), 1);
  const batched = phase(
    pick(counts.batched, Math.floor(fabric.vms.length / counts.batched / 2)),
    counts.batch,
  );
  return {
    controlPlane,
    placement,
    vms: fabric.vms.length,
    tenants: size.tenants,
    buildSeconds: Number(((t1 - t0) / 1000).toFixed(3)),
    startSeconds: Number(((t1b - t1) / 1000).toFixed(3)),
    startFrames,
    sessionSetupSeconds: Number(((t2 - t1b) / 1000).toFixed(3)),
    sessions: sessions.length,
    sessionsEstablished: established,
    model: {
      memory: '256 MiB',
      dirtyRate: 5000,
      bandwidth: '10 Gbit/s',
      stopAfterMs: timing.stopAfter / 1e6,
      downtimeMs: timing.downtime / 1e6,
    },
    oneByOne,
    batched,
    sessionsAliveAtEnd: sessions.filter((s) => s.client.alive).length,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** The benchmark in a fresh Node process (as the overlay benchmark: no heap or type feedback inherited). */
export function runMigrationBench(small = false): unknown {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'controller', 'leaf'], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_MIGRATION_SCALE: small ? 'small' : '' },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`migration benchmark failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

if (process.argv[1]?.endsWith('migration-bench.js')) {
  const plane = process.argv[2] === 'flood-and-learn' ? 'flood-and-learn' : 'controller';
  const placement = process.argv[3] === 'hypervisor' ? 'hypervisor' : 'leaf';
  const small = process.env.BENCH_MIGRATION_SCALE === 'small';
  const result = runMigrationScenario(
    plane,
    placement,
    small
      ? { spines: 4, leaves: 8, serversPerLeaf: 4, vmsPerServer: 8, tenants: 4 }
      : { spines: 4, leaves: 32, serversPerLeaf: 16, vmsPerServer: 32, tenants: 64 },
    small ? { oneByOne: 100, batched: 100, batch: 50 } : { oneByOne: 1000, batched: 1000, batch: 50 },
  );
  console.log(JSON.stringify(result, null, 2));
}
