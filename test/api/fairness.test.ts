/**
 * One fabric, many tenants (src/api/fabric-queue.ts): waiting work is served round-robin by
 * tenant; a tenant past its limit gets 429 with Retry-After, a request that waited too long 503;
 * a probe runs in slices, so other tenants' reads are answered while it runs; a probe past its
 * event budget is stopped (503) and leaves the fabric as it was (tracing off, ports closed).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FabricQueue } from '../../src/api/fabric-queue.js';
import type { ServiceRuntime } from '../../src/api/service-runtime.js';
import type { TraceSwitch } from '../../src/devices/trace.js';
import type { TestService } from '../helpers/service.js';
import { startFabricService } from '../helpers/tenant-network.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field
type Body = any;

test('waiting work is served round-robin by tenant, each in order', async () => {
  const q = new FabricQueue({ changesPerTenant: 10 });
  const order: string[] = [];
  const hold = await q.acquire('x', 'change');
  const jobs = [
    ...['a1', 'a2', 'a3'].map((n) => q.run('a', 'change', () => order.push(n))),
    ...['b1', 'b2'].map((n) => q.run('b', 'change', () => order.push(n))),
    q.run('c', 'change', () => order.push('c1')),
  ];
  hold();
  await Promise.all(jobs);
  assert.deepEqual(order, ['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
});

test("a tenant past its limit is refused at once (429, Retry-After); another tenant's work is not", async () => {
  const q = new FabricQueue({ probesPerTenant: 2 });
  const hold = await q.acquire('a', 'probe');
  const waiting = q.acquire('a', 'probe');
  await assert.rejects(
    q.acquire('a', 'probe'),
    (e: Error & { status?: number; retryAfterSeconds?: number }) => {
      assert.deepEqual([e.status, e.retryAfterSeconds], [429, 1]);
      assert.equal(
        e.message,
        'at most 2 probes of one tenant wait or run at a time; retry after the ones in flight',
      );
      return true;
    },
  );
  const other = q.acquire('b', 'probe');
  hold();
  (await waiting)();
  (await other)();
  // Once its probes are done the tenant may send more; changes count apart from probes.
  (await q.acquire('a', 'probe'))();
  assert.deepEqual(q.refused, { tooMany: 1, waitedTooLong: 0, probeTooLong: 0 });
});

test('a request that waited past maxWaitMs is refused with 503 and Retry-After', async () => {
  const q = new FabricQueue({ maxWaitMs: 1 });
  const hold = await q.acquire('a', 'change');
  const late = q.acquire('b', 'change');
  await new Promise((r) => setTimeout(r, 5));
  hold();
  await assert.rejects(late, (e: Error & { status?: number; code?: string; retryAfterSeconds?: number }) => {
    assert.deepEqual([e.status, e.code, e.retryAfterSeconds], [503, 'busy', 1]);
    return true;
  });
  // The fabric is free again.
  (await q.acquire('b', 'change'))();
});

let svc: TestService;
let runtime: ServiceRuntime;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};
const as = (tenant: string, method: string, path: string, body?: unknown) =>
  svc.request(method, path, { token: tokens[tenant]!, body });

async function pair(tenant: string): Promise<{ a: Body; b: Body; sg: Body }> {
  const vpc = (await as(tenant, 'POST', '/v1/vpcs', { name: 'm', cidrs: ['10.0.0.0/16'] })).body;
  const subnet = (await as(tenant, 'POST', '/v1/subnets', { name: 's', vpc: vpc.id, cidr: '10.0.1.0/24' }))
    .body;
  const sg = (
    await as(tenant, 'POST', '/v1/security-groups', {
      name: 'open',
      vpc: vpc.id,
      ingress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
      egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
    })
  ).body;
  const launch = async (name: string, host: string) =>
    (await as(tenant, 'POST', '/v1/instances', { name, subnet: subnet.id, securityGroups: [sg.id], host }))
      .body;
  return { a: await launch('a', 'leaf1-srv1'), b: await launch('b', 'leaf2-srv2'), sg };
}

/** Waits (a turn of the event loop at a time, at most 5,000) until `seen`; fails naming `what` otherwise. */
async function until(seen: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 5000; turn++) {
    if (seen()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.fail(`never seen: ${what}`);
}

let noisy: { a: Body; b: Body; sg: Body };
const fabric = new FabricQueue({ maxProbeEvents: 2_000_000 });
before(async () => {
  ({ svc, runtime } = await startFabricService(fabric));
  for (const t of ['noisy', 'quiet']) {
    const made = await svc.tenant(t);
    tokens[t] = made.token;
    ids[t] = made.id;
  }
  noisy = await pair('noisy');
  await pair('quiet');
});
after(() => svc.close());

test("while a tenant's largest ping runs, another tenant's reads are answered, and its change waits for the fabric", async () => {
  const done: string[] = [];
  const big = as('noisy', 'POST', '/v1/ping', {
    from: noisy.a.id,
    to: noisy.b.id,
    count: 100,
    size: 65507,
    intervalMs: 1,
  }).then((r) => {
    done.push('ping');
    return r;
  });
  // Reads go straight to the store, between the ping's slices (once the ping holds the fabric).
  await until(() => fabric.waitingOf(ids.noisy!, 'probe') === 1, 'the ping holds the fabric');
  for (let i = 0; i < 3; i++) {
    const r = await as('quiet', 'GET', '/v1/instances');
    assert.equal(r.status, 200);
    done.push(`read${i}`);
  }
  // A change needs the fabric: it is answered after the ping.
  const change = as(
    'quiet',
    'PATCH',
    `/v1/instances/${(await as('quiet', 'GET', '/v1/instances')).body.items[0].id}`,
    {
      name: 'renamed',
    },
  ).then((r) => {
    done.push('change');
    return r;
  });
  const [ping, patched] = await Promise.all([big, change]);
  assert.equal(ping.status, 200, JSON.stringify(ping.body));
  assert.deepEqual([ping.body.summary.transmitted, ping.body.summary.received], [100, 100]);
  assert.equal(patched.status, 200);
  assert.deepEqual(done, ['read0', 'read1', 'read2', 'ping', 'change']);
});

test('a third probe of one tenant while two are in flight: 429 with Retry-After, in the documented shape', async () => {
  // Another tenant's change holds the fabric, so the first two probes wait for their turn.
  const hold = await fabric.acquire('someone else', 'change');
  const ping = () =>
    as('noisy', 'POST', '/v1/ping', {
      from: noisy.a.id,
      to: noisy.b.id,
      count: 20,
      size: 8000,
      intervalMs: 1,
    });
  const first = ping();
  const second = ping();
  // Both are admitted (waiting) before the third is sent.
  await until(() => fabric.waitingOf(ids.noisy!, 'probe') === 2, 'two probes wait');
  const third = await ping();
  hold();
  assert.deepEqual([(await first).status, (await second).status, third.status], [200, 200, 429]);
  assert.equal(third.headers.get('retry-after'), '1');
  // The admin sees the refusals counted (all tenants together).
  const counters = await svc.request('GET', '/v1/fabric');
  assert.deepEqual(counters.body.refused, { tooMany: 1, waitedTooLong: 0, probeTooLong: 0 });
  assert.deepEqual(third.body, {
    error: {
      code: 'too-many-requests',
      message: 'at most 2 probes of one tenant wait or run at a time; retry after the ones in flight',
      problems: [],
    },
  });
});

test('a probe past its event budget is stopped (503) and leaves the fabric as it was', async () => {
  const small = new FabricQueue({ maxProbeEvents: 20 });
  await assert.rejects(
    small.runSliced(
      runtime.dataPlane.net,
      runtime.traceSteps({ from: noisy.a.id, to: noisy.b.id, protocol: 'tcp', port: 8080 }),
    ),
    (e: Error & { status?: number; code?: string }) => {
      assert.deepEqual([e.status, e.code], [503, 'probe-too-long']);
      return true;
    },
  );
  // Tracing is off again and the listener the trace opened is closed.
  assert.equal((runtime.dataPlane.net.tracer as TraceSwitch).enabled, false);
  assert.equal(runtime.dataPlane.instance(noisy.b.id)!.tcp.isListening(8080), false);
  const again = await as('noisy', 'POST', '/v1/trace', {
    from: noisy.a.id,
    to: noisy.b.id,
    protocol: 'tcp',
    port: 8080,
  });
  assert.deepEqual([again.status, again.body.delivered], [200, true]);
});
