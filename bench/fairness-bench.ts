/**
 * Fairness of the VPC service under probes (issue 17, part 2): while two tenants send the worst
 * probes the service allows (two clients each, `POST /v1/ping` of 100 echo requests of 65,507
 * bytes, over and over, honouring `429 Retry-After`), a third tenant reads its instances in a loop;
 * the figure is that tenant's read latency (p50, p99, max) and reads per second.
 *
 *   node dist/bench/fairness-bench.js [--seconds 20] [--bin bin/vnet]
 *
 * It runs `vnet serve` as a child process on a temporary database, as a user would; `--bin` points
 * at another checkout's `bin/vnet` to compare two builds side by side. Prints JSON.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : fallback;
};
const seconds = Number(flag('--seconds', '20'));
const bin = resolve(flag('--bin', 'bin/vnet'));

// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field
type Body = any;

async function start(): Promise<{ url: string; admin: string; stop: () => void }> {
  const db = join(mkdtempSync(join(tmpdir(), 'vnet-fair-')), 'vnet.db');
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--db', db], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, VNET_ADMIN_TOKEN: '' },
  });
  let out = '';
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
      const admin = /admin token[^:]*: (vnet_\S+)/.exec(out)?.[1];
      if (url !== undefined && admin !== undefined) ok({ url, admin, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => fail(new Error(`vnet serve exited ${code}: ${out}`)));
  });
}

async function main() {
  const server = await start();
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: (text ? JSON.parse(text) : undefined) as Body };
  };
  const tenant = async (name: string) => {
    const t = await call(server.admin, 'POST', '/v1/tenants', { name });
    const token = (await call(server.admin, 'POST', `/v1/tenants/${t.body.id}/tokens`, {})).body
      .token as string;
    const vpc = (await call(token, 'POST', '/v1/vpcs', { name: 'main', cidrs: ['10.0.0.0/16'] })).body;
    const subnet = (await call(token, 'POST', '/v1/subnets', { name: 'a', vpc: vpc.id, cidr: '10.0.1.0/24' }))
      .body;
    const sg = (
      await call(token, 'POST', '/v1/security-groups', {
        name: 'open',
        vpc: vpc.id,
        ingress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
        egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
      })
    ).body;
    const launch = async (n: string, host: string) =>
      (
        await call(token, 'POST', '/v1/instances', {
          name: n,
          subnet: subnet.id,
          securityGroups: [sg.id],
          host,
        })
      ).body;
    return { token, a: await launch('a', 'leaf1-srv1'), b: await launch('b', 'leaf2-srv2') };
  };
  const attackers = [await tenant('noisy1'), await tenant('noisy2')];
  const victim = await tenant('quiet');

  const deadline = performance.now() + seconds * 1000;
  let pings = 0;
  let refused = 0;
  let failed = 0;
  const attack = async (t: { token: string; a: Body; b: Body }) => {
    while (performance.now() < deadline) {
      const r = await call(t.token, 'POST', '/v1/ping', {
        from: t.a.id,
        to: t.b.id,
        count: 100,
        size: 65507,
        intervalMs: 1,
      });
      if (r.status === 200) pings++;
      else if (r.status === 429) {
        refused++;
        const wait = Number(r.headers.get('retry-after') ?? '1');
        await new Promise((ok) => setTimeout(ok, wait * 1000));
      } else failed++;
    }
  };
  const latencies: number[] = [];
  const read = async () => {
    // Let the attackers get going first.
    await new Promise((ok) => setTimeout(ok, 500));
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const r = await call(victim.token, 'GET', '/v1/instances');
      if (r.status !== 200) throw new Error(`read failed: ${r.status}`);
      latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all([...attackers.flatMap((t) => [attack(t), attack(t)]), read()]);
  const elapsed = (performance.now() - started - 500) / 1000;
  server.stop();
  latencies.sort((x, y) => x - y);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100;
  console.log(
    JSON.stringify(
      {
        bin,
        seconds,
        attackers: {
          tenants: 2,
          clientsEach: 2,
          ping: { count: 100, size: 65507 },
          answered: pings,
          refused429: refused,
          failed,
        },
        victimReads: {
          reads: latencies.length,
          perSecond: Math.round((latencies.length / elapsed) * 10) / 10,
          p50Ms: at(0.5),
          p99Ms: at(0.99),
          maxMs: at(1),
        },
      },
      null,
      2,
    ),
  );
}

await main();
