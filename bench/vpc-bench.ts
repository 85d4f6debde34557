/**
 * The VPC service under load, over real HTTP against a real SQLite file, with the simulated
 * fabric applying every change (as `vnet serve` runs): creates tenants, VPCs, subnets, security
 * groups and instances through the API, then asks `reach` for random pairs. Prints requests per
 * second per phase, the time to compile the whole intent, the time to apply one changed instance
 * at the end, the database size and peak RSS.
 *
 * Scale from the environment (the target is 1,000 / 2,000 / 10,000 / 100,000 / 10,000):
 * BENCH_VPC_TENANTS (default 10), BENCH_VPC_VPCS per tenant (2), BENCH_VPC_SUBNETS per VPC (5),
 * BENCH_VPC_INSTANCES per subnet (10), BENCH_VPC_REACH pairs (100).
 * `node dist/bench/vpc-bench.js`.
 */
import { mkdtempSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../src/api/server.js';
import { ServiceRuntime } from '../src/api/service-runtime.js';
import { Store } from '../src/store/store.js';
import { compile } from '../src/vpc/compile.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

export async function runVpcBench() {
  const tenants = env('BENCH_VPC_TENANTS', 10);
  const vpcsPer = env('BENCH_VPC_VPCS', 2);
  const subnetsPer = env('BENCH_VPC_SUBNETS', 5);
  const instancesPer = env('BENCH_VPC_INSTANCES', 10);
  const pairs = env('BENCH_VPC_REACH', 100);
  const dbPath = join(mkdtempSync(join(tmpdir(), 'vnet-bench-')), 'vnet.db');
  const runtime = new ServiceRuntime();
  const store = Store.open(dbPath, { hooks: runtime.hooks(), hypervisors: runtime.hypervisors() });
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
        n++;
      }
      instances.push(list);
    }
    return n;
  });
  let agreed = 0;
  await phase('reach', async () => {
    for (let p = 0; p < pairs; p++) {
      const group = instances[p % instances.length]!;
      const a = group[p % group.length]!;
      const b = group[(p + 1) % group.length]!;
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
  // One changed instance at the end: stop the last one (commit, compile, apply).
  const last = instances.at(-1)!.at(-1)!;
  const a0 = performance.now();
  await call(last.token, 'POST', `/v1/instances/${last.id}/stop`);
  const oneChangeSeconds = (performance.now() - a0) / 1000;
  await app.close();
  store.close();
  return {
    scale: {
      tenants,
      vpcs: tenants * vpcsPer,
      subnets: subnetIds.length,
      instances: intent.instances.length,
      planEntries: plan.entries.length,
    },
    phases,
    reachAgreed: `${agreed} of ${pairs}`,
    compileWholeIntentSeconds: Number(compileSeconds.toFixed(3)),
    oneChangedInstanceSeconds: Number(oneChangeSeconds.toFixed(3)),
    databaseBytes: statSync(dbPath).size + (statSync(`${dbPath}-wal`, { throwIfNoEntry: false })?.size ?? 0),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

if (process.argv[1]?.endsWith('vpc-bench.js')) console.log(JSON.stringify(await runVpcBench(), null, 2));
