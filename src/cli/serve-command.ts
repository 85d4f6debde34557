/**
 * `vnet serve [--db PATH] [--port N] [--host ADDR]`: opens (or creates and migrates) the state
 * database, makes sure an admin token exists (VNET_ADMIN_TOKEN's, or a new one printed once), and
 * serves the API until SIGINT or SIGTERM, then closes the listener (requests in flight finish) and
 * the database (the WAL is checkpointed).
 *
 * The first lines on stdout say where the state is, the admin token on first start, and
 * `listening on http://HOST:PORT` (with `--port 0`, the port the system chose) and how to point
 * the CLI at it. Exit status: 0 after a signal; 1 when the database or the port cannot be used.
 */
import { resolve } from 'node:path';
import { type DemoTenant, loadDemo } from '../api/demo.js';
import { buildServer } from '../api/server.js';
import { ServiceRuntime } from '../api/service-runtime.js';
import { DEFAULT_PUBLIC_POOL, Store } from '../store/store.js';
import type { LineWriter } from './output.js';

export const DEFAULT_DB = '.vnet/vnet.db';
export const DEFAULT_PORT = 7480;

export interface ServeCommandOptions {
  readonly db?: string;
  readonly port?: number;
  readonly host?: string;
  readonly hypervisors?: string;
  readonly publicPool?: string;
  readonly log?: boolean;
  /** Load the demo into an empty database. */
  readonly demo?: boolean;
}

export async function runServe(
  options: ServeCommandOptions,
  out: LineWriter,
  err: LineWriter,
): Promise<number> {
  const path = resolve(options.db ?? DEFAULT_DB);
  // The simulated fabric the intent is applied to: its hypervisors are where instances can run.
  const runtime = new ServiceRuntime({ publicPool: options.publicPool ?? DEFAULT_PUBLIC_POOL });
  const hypervisors = options.hypervisors
    ? options.hypervisors
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== '')
    : runtime.hypervisors();
  let store: Store;
  let adminToken: string | undefined;
  try {
    store = Store.open(path, {
      hypervisors,
      publicPool: options.publicPool ?? DEFAULT_PUBLIC_POOL,
      hooks: runtime.hooks((error) =>
        err.line(
          `vnet serve: applying the intent failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      ),
    });
  } catch (error) {
    err.line(`vnet serve: ${path}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  // VNIs and SNAT addresses survive a restart: the start's compile gives every object what it had.
  runtime.persistAllocations(store.loadAllocations(), (changes) => store.saveAllocations(changes));
  try {
    adminToken = store.ensureAdminToken(process.env.VNET_ADMIN_TOKEN || undefined).created;
  } catch (error) {
    err.line(`vnet serve: ${error instanceof Error ? error.message : String(error)}`);
    store.close();
    return 1;
  }
  const app = buildServer({ store, logger: options.log, runtime });
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port: options.port ?? DEFAULT_PORT, host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    err.line(
      `vnet serve: cannot listen on ${host}:${options.port ?? DEFAULT_PORT}: ${code === 'EADDRINUSE' ? 'the port is in use (try --port)' : error instanceof Error ? error.message : String(error)}`,
    );
    store.close();
    return 1;
  }
  // A restart rebuilds the data plane from the stored intent: compiled and applied to the new fabric.
  store.publish();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const s = store.settings();
  out.line(
    `vnet serve: state in ${path} (SQLite ${s.journalMode}, synchronous=${s.synchronous === 2 ? 'FULL' : s.synchronous}, schema ${store.schemaVersion})`,
  );
  out.line(
    `vnet serve: hypervisors ${hypervisors.join(', ')}; elastic IPs from ${options.publicPool ?? DEFAULT_PUBLIC_POOL}`,
  );
  if (adminToken) out.line(`vnet serve: admin token (shown this once; it is stored hashed): ${adminToken}`);
  out.line(`vnet serve: listening on ${endpoint} (OpenAPI document at ${endpoint}/openapi.json)`);
  if (options.demo) {
    if (store.list(null, 'tenant').items.length === 0) {
      let demo: DemoTenant[];
      try {
        demo = loadDemo(store);
      } catch (error) {
        err.line(
          `vnet serve: the demo could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
        );
        demo = [];
      }
      if (demo.length > 0) {
        out.line(
          `vnet serve: demo loaded: tenants ${demo.map((t) => t.name).join(' and ')}, each with a VPC 10.0.0.0/16 (the same addresses), subnets web and db, an internet gateway, security groups web and db, instances web1, web2 and db1 on three racks`,
        );
        for (const t of demo) out.line(`vnet serve: ${t.name}'s token (shown this once): ${t.token}`);
        out.line(`vnet serve: try, as ${demo[0]!.name}:`);
        for (const line of [
          `export VNET_ENDPOINT=${endpoint} VNET_TOKEN=${demo[0]!.token}`,
          './bin/vnet instance list',
          './bin/vnet reach web1 db1 --proto tcp --port 5432',
          './bin/vnet reach db1 web1 --proto tcp --port 22',
          './bin/vnet reach web1 198.51.100.10 --proto icmp',
          './bin/vnet instance migrate web1 leaf2-srv2',
          './bin/vnet plan',
        ])
          out.line(`  ${line}`);
      }
    } else
      out.line(
        'vnet serve: --demo: the database already holds tenants (the demo loads into an empty one only; new tokens: vnet token create blue)',
      );
  }
  out.line(`vnet serve: point the CLI at it: export VNET_ENDPOINT=${endpoint} VNET_TOKEN=<a token>`);
  out.flush();

  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  out.line(`vnet serve: ${signal}: finishing requests in flight, closing the database`);
  out.flush();
  await app.close();
  store.close();
  return 0;
}
