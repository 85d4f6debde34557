/** A real API server on 127.0.0.1 (port chosen by the system) over a real SQLite file in a temp dir. */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FabricQueue } from '../../src/api/fabric-queue.js';
import { buildServer } from '../../src/api/server.js';
import { ServiceRuntime } from '../../src/api/service-runtime.js';
import { Store, type StoreOptions } from '../../src/store/store.js';

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read field by field
  readonly body: any;
}

export interface TestService {
  readonly url: string;
  readonly dbPath: string;
  readonly store: Store;
  readonly adminToken: string;
  request(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<Reply>;
  /** A new tenant and a token for it. */
  tenant(name: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export function tempDb(prefix = 'vnet-api-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'vnet.db');
}

export async function startService(
  options: StoreOptions & {
    dbPath?: string;
    runtime?: ServiceRuntime;
    fabric?: FabricQueue;
  } = {},
): Promise<TestService> {
  const dbPath = options.dbPath ?? tempDb();
  const store = Store.open(dbPath, options);
  const adminToken = store.ensureAdminToken().created ?? store.createToken(null, 'test admin').token;
  const app = buildServer({ store, runtime: options.runtime, fabric: options.fabric });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const request: TestService['request'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? adminToken : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined = o.raw;
    if (o.body !== undefined) payload = JSON.stringify(o.body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const r = await fetch(`${url}${path}`, { method, headers, body: payload });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text === '' ? undefined : JSON.parse(text) };
  };
  return {
    url,
    dbPath,
    store,
    adminToken,
    request,
    async tenant(name) {
      const t = await request('POST', '/v1/tenants', { body: { name } });
      if (t.status !== 201) throw new Error(`tenant ${name}: ${JSON.stringify(t.body)}`);
      const k = await request('POST', `/v1/tenants/${t.body.id}/tokens`, { body: { name: 'test' } });
      return { id: t.body.id, token: k.body.token };
    },
    async close() {
      await app.close();
      store.close();
    },
  };
}

/** A service with a fabric (a `ServiceRuntime`) and one tenant, and requests made as that tenant. */
export interface ServiceWithTenant {
  readonly svc: TestService;
  readonly runtime: ServiceRuntime;
  readonly tenant: { id: string; token: string };
  /** A request with the tenant's token. */
  as(method: string, path: string, body?: unknown): Promise<Reply>;
}

export async function startServiceWithTenant(name: string): Promise<ServiceWithTenant> {
  const runtime = new ServiceRuntime();
  const svc = await startService({ runtime, hooks: runtime.hooks(), hypervisors: runtime.hypervisors() });
  svc.store.publish();
  const tenant = await svc.tenant(name);
  return {
    svc,
    runtime,
    tenant,
    as: (method, path, body) => svc.request(method, path, { token: tenant.token, body }),
  };
}
