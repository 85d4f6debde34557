/**
 * The VPC service under load, over real HTTP against a real SQLite file, with the simulated
 * fabric applying every change (as `vnet serve` runs): creates tenants, VPCs, subnets, security
 * groups and instances through the API, then asks `reach` for random pairs of instances of one
 * tenant. Prints requests per second per phase; the time each change took to compile, apply and
 * settle (`ServiceRuntime.lastSyncMs`) sampled over the instance creates, per tenth of the run,
 * so it shows whether one change grows with the service's size; the time to compile the whole
 * intent at once (and to rebuild every tenant's plan, what a restart does); one changed instance
 * at the end (stopped, then live-migrated); the database size and peak RSS.
 *
 * Scale from the environment (the target: 1,000 tenants x 2 VPCs x 5 subnets x 10 instances
 * = 100,000 instances, 10,000 reach pairs): BENCH_VPC_TENANTS (default 10), BENCH_VPC_VPCS per
 * tenant (2), BENCH_VPC_SUBNETS per VPC (5), BENCH_VPC_INSTANCES per subnet (10), BENCH_VPC_REACH
 * pairs (100); the fabric: BENCH_VPC_LEAVES (16), BENCH_VPC_SERVERS per leaf (8), 4 spines.
 * `node --max-old-space-size=16384 dist/bench/vpc-bench.js`. With `BENCH_VPC_DB=path` it only
 * measures loading and compiling the intent of that database, in a fresh process (and with
 * `BENCH_VPC_RESTART=1` a restart: a fresh fabric with every tenant's plan applied and settled).
 */
import { mkdtempSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../src/api/server.js';
import { ServiceRuntime } from '../src/api/service-runtime.js';
import { Store } from '../src/store/store.js';
import { compile } from '../src/vpc/compile.js';
import { TenantPlans } from '../src/vpc/tenant-plans.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** A small seeded generator (mulberry32): the same pairs on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (v: number) => Number(v.toFixed(2));

export async function runVpcBench() {
  const tenants = env('BENCH_VPC_TENANTS', 10);
  const vpcsPer = env('BENCH_VPC_VPCS', 2);
  const subnetsPer = env('BENCH_VPC_SUBNETS', 5);
  const instancesPer = env('BENCH_VPC_INSTANCES', 10);
  const pairs = env('BENCH_VPC_REACH', 100);
  const leaves = env('BENCH_VPC_LEAVES', 16);
  const serversPerLeaf = env('BENCH_VPC_SERVERS', 8);
  const progress = (text: string) => {
    if (process.stderr.isTTY || process.env.BENCH_PROGRESS) process.stderr.write(`${text}\n`);
  };
  const dbPath = join(mkdtempSync(join(tmpdir(), 'vnet-bench-')), 'vnet.db');
  const b0 = performance.now();
  const runtime = new ServiceRuntime({ spines: 4, leaves, serversPerLeaf });
  const fabricSeconds = (performance.now() - b0) / 1000;
  const store = Store.open(dbPath, { hooks: runtime.hooks(), hypervisors: runtime.hypervisors() });
  runtime.persistAllocations(store.loadAllocations(), (changes) => store.saveAllocations(changes));
  const admin = store.ensureAdminToken().created!;
  store.publish();
  const app = buildServer({ store, runtime });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await r.json()) as Record<string, unknown>;
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const phases: Record<string, { requests: number; seconds: number; perSecond: number }> = {};
  const phase = async (name: string, work: () => Promise<number>) => {
    const t0 = performance.now();
    const requests = await work();
    const seconds = (performance.now() - t0) / 1000;
    phases[name] = {
      requests,
      seconds: Number(seconds.toFixed(3)),
      perSecond: Math.round(requests / seconds),
    };
    progress(`${name}: ${requests} requests in ${seconds.toFixed(1)} s`);
  };

  const tokens: string[] = [];
  const instances: { token: string; id: string }[][] = [];
  await phase('tenants and tokens', async () => {
    for (let t = 0; t < tenants; t++) {
      const tenant = await call(admin, 'POST', '/v1/tenants', { name: `t${t}` });
      tokens.push(String((await call(admin, 'POST', `/v1/tenants/${tenant.id}/tokens`, {})).token));
    }
    return tenants * 2;
  });
  const subnetIds: { token: string; id: string; sg: string }[] = [];
  await phase('VPCs, security groups and subnets', async () => {
    let n = 0;
    for (const token of tokens)
      for (let v = 0; v < vpcsPer; v++) {
        const vpc = await call(token, 'POST', '/v1/vpcs', { name: `v${v}`, cidrs: [`10.${v}.0.0/16`] });
        const sg = await call(token, 'POST', '/v1/security-groups', {
          name: 'all',
          vpc: vpc.id,
          ingress: [{ protocol: 'all', cidr: `10.${v}.0.0/16` }],
          egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
        });
        n += 2;
        for (let s = 0; s < subnetsPer; s++) {
          const subnet = await call(token, 'POST', '/v1/subnets', {
            name: `s${s}`,
            vpc: vpc.id,
            cidr: `10.${v}.${s}.0/24`,
          });
          subnetIds.push({ token, id: String(subnet.id), sg: String(sg.id) });
          n++;
        }
      }
    return n;
  });
  const total = subnetIds.length * instancesPer;
  /** Per tenth of the instance creates: each change's compile + apply + settle, ms. */
  const tenths: number[][] = Array.from({ length: 10 }, () => []);
  await phase('instances', async () => {
    let n = 0;
    for (const s of subnetIds) {
      const list: { token: string; id: string }[] = [];
      for (let i = 0; i < instancesPer; i++) {
        const vm = await call(s.token, 'POST', '/v1/instances', {
          name: `${s.id}-${i}`,
          subnet: s.id,
          securityGroups: [s.sg],
        });
        list.push({ token: s.token, id: String(vm.id) });
        tenths[Math.min(9, Math.floor((n * 10) / total))]!.push(runtime.lastSyncMs);
        n++;
        if (n % 10000 === 0) progress(`instances: ${n} of ${total}`);
      }
      instances.push(list);
    }
    return n;
  });
  let agreed = 0;
  const pick = random(42);
  await phase('reach', async () => {
    // Random pairs of instances of one tenant (another tenant's instance is a 404).
    const perTenant = vpcsPer * subnetsPer;
    for (let p = 0; p < pairs; p++) {
      const t = Math.floor(pick() * tenants);
      const group = instances.slice(t * perTenant, (t + 1) * perTenant).flat();
      const a = group[Math.floor(pick() * group.length)]!;
      let b = group[Math.floor(pick() * group.length)]!;
      if (b === a) b = group[(group.indexOf(a) + 1) % group.length]!;
      const r = await call(a.token, 'POST', '/v1/reach', { src: a.id, dst: b.id, protocol: 'icmp' });
      if (r.agree) agreed++;
    }
    return pairs;
  });
  const intent = store.loadIntent();
  const inventory = runtime.dataPlane.inventory();
  const c0 = performance.now();
  const plan = compile(intent, inventory);
  const compileSeconds = (performance.now() - c0) / 1000;
  const r0 = performance.now();
  new TenantPlans(inventory).update(intent, null);
  const rebuildSeconds = (performance.now() - r0) / 1000;
  // One changed instance at the end: stopped (commit, compile, apply), then live-migrated.
  const last = instances.at(-1)!.at(-1)!;
  const a0 = performance.now();
  await call(last.token, 'POST', `/v1/instances/${last.id}/stop`);
  const stopSeconds = (performance.now() - a0) / 1000;
  const stopSync = runtime.lastSyncMs;
  const moving = instances.at(-1)!.at(-2)!;
  const vm = await call(moving.token, 'GET', `/v1/instances/${moving.id}`);
  const to = runtime.hypervisors().find((h) => h !== vm.host)!;
  const m0 = performance.now();
  await call(moving.token, 'POST', `/v1/instances/${moving.id}/migrate`, { host: to });
  const migrateSeconds = (performance.now() - m0) / 1000;
  const migrateSync = runtime.lastSyncMs;
  await app.close();
  store.close();
  return {
    scale: {
      tenants,
      vpcs: tenants * vpcsPer,
      subnets: subnetIds.length,
      instances: intent.instances.length,
      hypervisors: runtime.hypervisors().length,
      planEntries: plan.entries.length,
    },
    fabricBuildSeconds: Number(fabricSeconds.toFixed(3)),
    phases,
    reachAgreed: `${agreed} of ${pairs}`,
    oneChangeMsPerTenthOfInstanceCreates: tenths.map((list) => {
      const sorted = [...list].sort((x, y) => x - y);
      return { changes: list.length, median: ms(quantile(sorted, 0.5)), p99: ms(quantile(sorted, 0.99)) };
    }),
    compileWholeIntentSeconds: Number(compileSeconds.toFixed(3)),
    rebuildEveryTenantPlanSeconds: Number(rebuildSeconds.toFixed(3)),
    oneChangedInstance: {
      stopRequestMs: ms(stopSeconds * 1000),
      stopApplyMs: ms(stopSync),
      migrateRequestMs: ms(migrateSeconds * 1000),
      migrateApplyMs: ms(migrateSync),
    },
    databasePath: dbPath,
    databaseBytes: statSync(dbPath).size + (statSync(`${dbPath}-wal`, { throwIfNoEntry: false })?.size ?? 0),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/**
 * The compile figures alone, in a fresh process, from a database a run left (`BENCH_VPC_DB=path`):
 * loading the intent, compiling it whole, and building every tenant's plan (what a restart does).
 */
export function compileFromDatabase(path: string) {
  const store = Store.open(path);
  const l0 = performance.now();
  const intent = store.loadIntent();
  const loadSeconds = (performance.now() - l0) / 1000;
  store.close();
  const inventory = new ServiceRuntime({
    spines: 4,
    leaves: env('BENCH_VPC_LEAVES', 16),
    serversPerLeaf: env('BENCH_VPC_SERVERS', 8),
  }).dataPlane.inventory();
  const c0 = performance.now();
  const plan = compile(intent, inventory);
  const compileSeconds = (performance.now() - c0) / 1000;
  const r0 = performance.now();
  new TenantPlans(inventory).update(intent, null);
  const rebuildSeconds = (performance.now() - r0) / 1000;
  // What `vnet serve` does at a restart: a fresh fabric, every tenant's plan applied, settled.
  let restartSeconds: number | null = null;
  if (process.env.BENCH_VPC_RESTART) {
    const s0 = performance.now();
    const runtime = new ServiceRuntime({
      spines: 4,
      leaves: env('BENCH_VPC_LEAVES', 16),
      serversPerLeaf: env('BENCH_VPC_SERVERS', 8),
    });
    runtime.sync(intent, null);
    restartSeconds = (performance.now() - s0) / 1000;
  }
  return {
    instances: intent.instances.length,
    planEntries: plan.entries.length,
    loadIntentSeconds: Number(loadSeconds.toFixed(3)),
    compileWholeIntentSeconds: Number(compileSeconds.toFixed(3)),
    rebuildEveryTenantPlanSeconds: Number(rebuildSeconds.toFixed(3)),
    restartSeconds: restartSeconds === null ? null : Number(restartSeconds.toFixed(3)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

if (process.argv[1]?.endsWith('vpc-bench.js')) {
  const db = process.env.BENCH_VPC_DB;
  console.log(JSON.stringify(db ? compileFromDatabase(db) : await runVpcBench(), null, 2));
}
