/**
 * The HTTP JSON API (Fastify) over the store.
 *
 * - `/v1/<collection>` for every kind a tenant owns (vpcs, subnets, route-tables,
 *   internet-gateways, elastic-ips, peerings, security-groups, network-acls, instances): POST
 *   creates, GET lists (`?limit=&cursor=`, oldest first, `next` cursor; `?name=` and the kind's
 *   reference filters such as `?vpc=`), GET/PATCH/PUT/DELETE `/:id`. Instances also have
 *   `/start`, `/stop` and `/migrate` (a move to another hypervisor, keeping MAC and IP; 501
 *   without a runtime);
 *   `POST /v1/reach` (the static analysis and a real packet through the simulated fabric),
 *   `POST /v1/ping` (echo requests from an instance, ping's answer and summary), `POST /v1/trace`
 *   (one packet, every device's decision) and
 *   `GET /v1/plan` (the tenant's part of the compiled plan) when the server has a runtime (501
 *   otherwise).
 * - `/v1/tenants` (admin): tenants, and `/v1/tenants/:id/tokens` their API tokens. `/v1/fabric`
 *   (admin): the hypervisors and their load.
 * - `GET /openapi.json`: the OpenAPI 3.1 document, from the zod schemas. `GET /healthz`.
 *
 * Auth: `Authorization: Bearer <token>`. A tenant token sees and changes only its tenant's objects;
 * another tenant's id answers 404 exactly as a missing one does, so ids leak nothing. The admin
 * token manages tenants, tokens and the fabric, and is refused (403) on tenants' collections.
 *
 * Dry runs: `?dryRun=true` on any change (create, update, delete, start, stop, migrate) checks it
 * and rolls it back, answering the object as it would be and the tenant's plan difference. A dry-run
 * create never consumes nor records its `Idempotency-Key`; with a key the real create would replay,
 * it answers that replay (see `dryRunCreate`).
 *
 * Errors: `{ error: { code, message, problems: [{ path, message }] } }`, every problem listed, for
 * every error the server answers (those of Fastify's router and Node's HTTP parser too). Bodies are
 * JSON in UTF-8, and each route takes only the query parameters it declares: see request-checks.ts.
 *
 * This file makes the server (its error answers, authentication, the fabric's turns for changes);
 * the routes are in routes/, a module per group, sharing route-context.ts.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { ServiceError } from '../store/errors.js';
import type { Principal, Store } from '../store/store.js';
import { FabricQueue } from './fabric-queue.js';
import { openApiDocument } from './openapi.js';
import {
  BODY_LIMIT,
  checkRequest,
  clientErrorHandler,
  codeOfStatus,
  errorBody,
  frameworkErrors,
  messageOf,
} from './request-checks.js';
import { routeContext } from './route-context.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerInstanceRoutes } from './routes/instances.js';
import { registerObjectRoutes } from './routes/objects.js';
import { PROBE_URLS, registerProbeRoutes } from './routes/probes.js';
import type { ServiceRuntime } from './service-runtime.js';

export { present } from './route-context.js';

export interface ServerOptions {
  readonly store: Store;
  /** The simulated fabric the intent is applied to (`vnet serve` has one): answers plan and reach. */
  readonly runtime?: ServiceRuntime;
  /** Fastify's request log (pino) to stdout. */
  readonly logger?: boolean;
  /** How the fabric is shared between tenants (src/api/fabric-queue.ts): a queue with the default limits otherwise. */
  readonly fabric?: FabricQueue;
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const { store } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT,
    // Errors raised before a route is found, and by Node's HTTP parser, in the documented shape.
    frameworkErrors,
    clientErrorHandler,
    // A missing Host is answered by checkRequest (Node's own answer has no body).
    http: { requireHostHeader: false },
  });
  app.removeContentTypeParser('text/plain');
  const principals = new WeakMap<FastifyRequest, Principal>();
  const document = openApiDocument();

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof ServiceError) {
      if (error.status === 401) reply.header('www-authenticate', 'Bearer');
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.status).send(errorBody(error.code, error.message, error.problems));
    }
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.code(status).send(errorBody(codeOfStatus(status), messageOf(error)));
    request.log.error(error);
    return reply.code(500).send(errorBody('internal', 'internal error (see the server log)'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('not-found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    const header = request.headers.authorization;
    if (header === undefined)
      throw new ServiceError(401, 'unauthorized', 'no token: send "Authorization: Bearer <token>"');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = m ? store.authenticate(m[1]!) : undefined;
    if (!principal)
      throw new ServiceError(
        401,
        'unauthorized',
        'the token is not valid (revoked, mistyped, or of another server)',
      );
    principals.set(request, principal);
  });
  app.addHook('onRequest', async (request) => checkRequest(request));

  /**
   * The fabric is shared (src/api/fabric-queue.ts): a change (any request but a read; it may be
   * compiled, applied and settled) waits for its owner's turn and holds the fabric while its handler
   * runs. Probes take their turn in their own routes, after their body is checked.
   */
  const fabric = options.runtime === undefined ? undefined : (options.fabric ?? new FabricQueue());
  const ownerOf = (request: FastifyRequest): string => {
    const p = principals.get(request)!;
    return p.kind === 'tenant' ? p.tenant : 'admin';
  };
  if (fabric !== undefined)
    app.addHook('onRoute', (route) => {
      const methods = ([] as string[]).concat(route.method);
      if (methods.every((m) => m === 'GET' || m === 'HEAD') || PROBE_URLS.has(route.url)) return;
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, request, reply) {
        return fabric.run(ownerOf(request), 'change', () => handler.call(this, request, reply));
      };
    });

  const ctx = routeContext(store, options.runtime, fabric, principals);
  app.get('/openapi.json', async () => document);
  app.get('/healthz', async () => ({ ok: true, schema: store.schemaVersion }));
  registerObjectRoutes(app, ctx);
  registerInstanceRoutes(app, ctx);
  registerProbeRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  return app;
}
