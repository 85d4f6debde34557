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
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseBody, ServiceError } from '../store/errors.js';
import { KINDS, type KindSpec } from '../store/kinds.js';
import type { Principal, Store, StoredObject } from '../store/store.js';
import { ProbeError } from '../vpc/probe.js';
import type { ProbeSteps } from '../vpc/probe-steps.js';
import { FabricQueue } from './fabric-queue.js';
import { openApiDocument } from './openapi.js';
import { pingBody, traceBody } from './probe-schemas.js';
import {
  BODY_LIMIT,
  checkRequest,
  clientErrorHandler,
  codeOfStatus,
  DRY_RUN,
  errorBody,
  frameworkErrors,
  listQueryParams,
  messageOf,
} from './request-checks.js';
import type { ServiceRuntime } from './service-runtime.js';

export interface ServerOptions {
  readonly store: Store;
  /** The simulated fabric the intent is applied to (`vnet serve` has one): answers plan and reach. */
  readonly runtime?: ServiceRuntime;
  /** Fastify's request log (pino) to stdout. */
  readonly logger?: boolean;
  /** How the fabric is shared between tenants (src/api/fabric-queue.ts): a queue with the default limits otherwise. */
  readonly fabric?: FabricQueue;
}

/** An object as the API shows it: the intent fields, then the bookkeeping. */
export function present(o: StoredObject): Record<string, unknown> {
  return { ...o.body, createdAt: o.created, updatedAt: o.updated, version: o.version };
}

/** JSON with sorted keys: two bodies that mean the same hash the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

const tokenBody = z.strictObject({ name: z.string().min(1).max(64).optional() });

/** `POST /v1/instances/:id/migrate`: the hypervisor it moves to. */
const migrateBody = z.strictObject({ host: z.string().min(1) });

/** `POST /v1/reach`: from an instance to an instance or an address, by protocol and port. */
const reachBody = z.strictObject({
  src: z.string().min(1),
  dst: z.string().min(1),
  protocol: z.enum(['tcp', 'udp', 'icmp']),
  port: z.number().int().min(1).max(65535).optional(),
});

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
  const PROBES = new Set(['/v1/ping', '/v1/trace', '/v1/reach']);
  const ownerOf = (request: FastifyRequest): string => {
    const p = principals.get(request)!;
    return p.kind === 'tenant' ? p.tenant : 'admin';
  };
  if (fabric !== undefined)
    app.addHook('onRoute', (route) => {
      const methods = ([] as string[]).concat(route.method);
      if (methods.every((m) => m === 'GET' || m === 'HEAD') || PROBES.has(route.url)) return;
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, request, reply) {
        return fabric.run(ownerOf(request), 'change', () => handler.call(this, request, reply));
      };
    });

  const tenantOf = (request: FastifyRequest): string => {
    const p = principals.get(request)!;
    if (p.kind !== 'tenant')
      throw new ServiceError(
        403,
        'forbidden',
        "the admin token manages tenants and the fabric; use a tenant's token for its objects",
      );
    return p.tenant;
  };
  const requireAdmin = (request: FastifyRequest): void => {
    if (principals.get(request)!.kind !== 'admin')
      throw new ServiceError(403, 'forbidden', 'this route needs the admin token');
  };
  /** The tenant whose objects a route works on: the token's, or any for the admin on /v1/tenants. */
  const ownerFor = (spec: KindSpec, request: FastifyRequest): string | null => {
    if (spec.kind === 'tenant') {
      requireAdmin(request);
      return null;
    }
    return tenantOf(request);
  };

  const ifMatch = (request: FastifyRequest): number | undefined => {
    const h = request.headers['if-match'];
    if (h === undefined || h === '*') return undefined;
    const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(String(h));
    if (!m)
      throw new ServiceError(400, 'invalid-request', 'If-Match must be a version, e.g. "3"', [
        { path: 'If-Match', message: 'expected a version number' },
      ]);
    return Number(m[1]);
  };

  const sendObject = (reply: FastifyReply, o: StoredObject, status = 200) =>
    reply.code(status).header('etag', `"${o.version}"`).send(present(o));

  /** A list's query, its parameters already checked (`listQueryParams`). */
  const listQuery = (query: Record<string, string>) => {
    const { limit, cursor, ...where } = query;
    return { limit: limit === undefined ? undefined : Number(limit), cursor: cursor || undefined, where };
  };

  app.get('/openapi.json', async () => document);
  app.get('/healthz', async () => ({ ok: true, schema: store.schemaVersion }));

  /**
   * `?dryRun=true` on a change: it is run and checked as usual, then rolled back; the answer is
   * the object as it would be and the plan's difference for the tenant (terraform's plan).
   */
  const dryRun = (request: FastifyRequest): boolean => {
    const v = (request.query as Record<string, string>).dryRun;
    return v === 'true' || v === '1' || v === '';
  };
  /** A change's route: its one query parameter is `dryRun` (checked by `checkRequest`). */
  const changeRoute = { config: { query: DRY_RUN } };
  const previewed = (
    reply: FastifyReply,
    tenant: string | null,
    change: () => StoredObject | undefined,
  ): FastifyReply => {
    const { result, intent, tenants } = store.preview(change);
    const plan = options.runtime?.previewPlan(tenant, intent, tenants) ?? null;
    return reply
      .code(200)
      .send({ dryRun: true, object: result === undefined ? null : present(result), plan });
  };

  /** The request's `Idempotency-Key`, if any (1 to 255 characters, else a 400). */
  const idempotencyKey = (request: FastifyRequest): string | undefined => {
    const key = request.headers['idempotency-key'];
    if (key === undefined) return undefined;
    if (typeof key !== 'string' || key.length < 1 || key.length > 255)
      throw new ServiceError(400, 'invalid-request', 'Idempotency-Key must be 1 to 255 characters', [
        { path: 'Idempotency-Key', message: '1 to 255 characters' },
      ]);
    return key;
  };
  /** What makes two creates the same request: the method, the path and the body (keys in any order). */
  const fingerprint = (base: string, body: unknown): string =>
    createHash('sha256')
      .update(`POST ${base}\n${canonical(body ?? null)}`)
      .digest('hex');
  /**
   * A dry-run create. Its `Idempotency-Key` is looked at, never consumed nor recorded: a key the
   * real request would replay answers what the replay would (the first response as `object`, an
   * empty plan, `Idempotent-Replayed: true`); a key used for another request is the same 422; an
   * unused key previews the create (`Idempotent-Replayed: false`) and stays free for the real one.
   */
  const dryRunCreate = (
    reply: FastifyReply,
    owner: string | null,
    spec: KindSpec,
    body: unknown,
    keyed: { scope: string; key: string; fingerprint: string } | undefined,
  ): FastifyReply => {
    const earlier =
      keyed && store.recallIdempotent<Record<string, unknown>>(keyed.scope, keyed.key, keyed.fingerprint);
    if (keyed !== undefined) reply.header('idempotent-replayed', String(earlier !== undefined));
    if (earlier === undefined) return previewed(reply, owner, () => store.create(owner, spec.kind, body));
    const unchanged = store.preview(() => undefined);
    const plan = options.runtime?.previewPlan(owner, unchanged.intent, unchanged.tenants) ?? null;
    return reply.code(200).send({ dryRun: true, object: earlier.body, plan });
  };

  type IdParams = { id: string };
  for (const spec of Object.values(KINDS)) {
    const base = `/v1/${spec.collection}`;
    app.post(base, changeRoute, async (request, reply) => {
      const owner = ownerFor(spec, request);
      const key = idempotencyKey(request);
      const keyed =
        key === undefined
          ? undefined
          : { scope: owner ?? 'admin', key, fingerprint: fingerprint(base, request.body) };
      if (dryRun(request)) return dryRunCreate(reply, owner, spec, request.body, keyed);
      const create = () => ({ status: 201, body: present(store.create(owner, spec.kind, request.body)) });
      let result: { status: number; body: Record<string, unknown>; replayed?: boolean };
      if (keyed === undefined) result = create();
      else {
        result = store.idempotent(keyed.scope, keyed.key, keyed.fingerprint, create);
        reply.header('idempotent-replayed', String(result.replayed));
      }
      return reply
        .code(result.status)
        .header('location', `${base}/${String(result.body.id)}`)
        .header('etag', `"${String(result.body.version)}"`)
        .send(result.body);
    });
    app.get(base, { config: { query: listQueryParams(spec) } }, async (request) => {
      const owner = ownerFor(spec, request);
      const page = store.list(owner, spec.kind, listQuery(request.query as Record<string, string>));
      return { items: page.items.map(present), next: page.next };
    });
    app.get<{ Params: IdParams }>(`${base}/:id`, async (request, reply) =>
      sendObject(reply, store.get(ownerFor(spec, request), spec.kind, request.params.id)),
    );
    for (const method of ['PATCH', 'PUT'] as const)
      app.route<{ Params: IdParams }>({
        method,
        url: `${base}/:id`,
        ...changeRoute,
        handler: async (request, reply) => {
          const owner = ownerFor(spec, request);
          const update = () =>
            store.update(owner, spec.kind, request.params.id, request.body, {
              replace: method === 'PUT',
              ifVersion: ifMatch(request),
            });
          return dryRun(request) ? previewed(reply, owner, update) : sendObject(reply, update());
        },
      });
    app.delete<{ Params: IdParams }>(`${base}/:id`, changeRoute, async (request, reply) => {
      const owner = ownerFor(spec, request);
      const remove = () => store.delete(owner, spec.kind, request.params.id, { ifVersion: ifMatch(request) });
      if (dryRun(request))
        return previewed(reply, owner, () => {
          remove();
          return undefined;
        });
      remove();
      return reply.code(204).send();
    });
  }

  for (const [action, state] of [
    ['start', 'running'],
    ['stop', 'stopped'],
  ] as const)
    app.post<{ Params: IdParams }>(`/v1/instances/:id/${action}`, changeRoute, async (request, reply) => {
      const tenant = tenantOf(request);
      const change = () => store.setInstanceState(tenant, request.params.id, state);
      return dryRun(request) ? previewed(reply, tenant, change) : sendObject(reply, change());
    });

  const notWired = (what: string) =>
    new ServiceError(
      501,
      'not-implemented',
      `${what} is not wired to the data plane yet: the intent is stored, and this answers once the compiler and the simulated fabric are connected`,
    );
  app.post<{ Params: IdParams }>('/v1/instances/:id/migrate', changeRoute, async (request, reply) => {
    const tenant = tenantOf(request);
    store.get(tenant, 'instance', request.params.id);
    if (options.runtime === undefined) throw notWired('live migration');
    const { host } = parseBody(migrateBody, request.body ?? {});
    const move = () => store.moveInstance(tenant, request.params.id, host);
    if (dryRun(request)) return previewed(reply, tenant, move);
    // A report left by an earlier migration of this instance is not this one's (a stopped instance
    // moves without a live migration; a failed apply migrates nothing).
    const migrated = options.runtime.dataPlane.migrated;
    migrated.delete(request.params.id);
    const moved = move();
    // The change was applied (compiled, and the instance live-migrated on the data plane) before the answer.
    const migration = migrated.get(request.params.id) ?? null;
    return reply.header('etag', `"${moved.version}"`).send({ ...present(moved), migration });
  });
  const runtime = options.runtime;
  /** Another tenant's instance is unknown, exactly as a missing one (404 naming the field). */
  const ownInstances = (tenant: string, rt: ServiceRuntime, ends: [string, string][]) => {
    for (const [field, id] of ends)
      if (/^i-/.test(id) && !rt.ownsInstance(tenant, id))
        throw new ServiceError(404, 'not-found', `no instance ${id}`, [
          { path: field, message: `no instance ${id}` },
        ]);
  };
  /** A probe in its owner's turn on the fabric, its simulation run in slices. */
  const probe = <T>(tenant: string, steps: () => ProbeSteps<T>): Promise<T> =>
    fabric!.run(tenant, 'probe', () => fabric!.runSliced(runtime!.dataPlane.net, steps()));
  /** A probe that cannot start (an end stopped): 409, naming the end. */
  const probing = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ProbeError)
        throw new ServiceError(409, 'not-running', error.message, [
          { path: error.field, message: error.message },
        ]);
      throw error;
    }
  };
  app.post('/v1/ping', async (request) => {
    const tenant = tenantOf(request);
    if (runtime === undefined) throw notWired('ping');
    const query = parseBody(pingBody, request.body ?? {});
    ownInstances(tenant, runtime, [
      ['from', query.from],
      ['to', query.to],
    ]);
    return probing(() => probe(tenant, () => runtime.pingSteps(query)));
  });
  app.post('/v1/trace', async (request) => {
    const tenant = tenantOf(request);
    if (runtime === undefined) throw notWired('trace');
    const query = parseBody(traceBody, request.body ?? {});
    ownInstances(tenant, runtime, [
      ['from', query.from],
      ['to', query.to],
    ]);
    return probing(() => probe(tenant, () => runtime.traceSteps(query)));
  });
  app.post('/v1/reach', async (request) => {
    const tenant = tenantOf(request);
    if (runtime === undefined) throw notWired('reachability analysis');
    const query = parseBody(reachBody, request.body ?? {});
    ownInstances(tenant, runtime, [
      ['src', query.src],
      ['dst', query.dst],
    ]);
    if (!/^i-/.test(query.src))
      throw new ServiceError(400, 'invalid-request', 'src must be an instance id', [
        { path: 'src', message: 'an instance id like i-0a1b2c' },
      ]);
    const answer = await probe(tenant, () => runtime.reachSteps(query));
    return {
      allowed: answer.analysis.allowed,
      delivered: answer.confirmation.delivered,
      agree: answer.agree,
      hops: answer.analysis.hops,
      outcome: answer.confirmation.outcome,
      drops: answer.confirmation.drops,
      trace: answer.confirmation.trace,
    };
  });
  app.get('/v1/plan', async (request) => {
    const tenant = tenantOf(request);
    if (runtime === undefined) throw notWired('the plan');
    return {
      entries: runtime.planOf(tenant),
      text: runtime.planText(tenant),
      applyError: runtime.applyErrorOf(tenant),
    };
  });

  app.post<{ Params: IdParams }>('/v1/tenants/:id/tokens', changeRoute, async (request, reply) => {
    requireAdmin(request);
    const body = parseBody(tokenBody, request.body ?? {});
    const create = () => store.createToken(request.params.id, body.name ?? 'token');
    if (dryRun(request)) {
      // Checked and rolled back: the token as it would be, without a secret that exists nowhere.
      const { token: _secret, ...info } = store.preview(create).result;
      return reply.code(200).send({ dryRun: true, object: info, plan: null });
    }
    return reply.code(201).send(create());
  });
  app.get<{ Params: IdParams }>('/v1/tenants/:id/tokens', async (request) => {
    requireAdmin(request);
    return { items: store.listTokens(request.params.id) };
  });
  app.delete<{ Params: IdParams & { tokenId: string } }>(
    '/v1/tenants/:id/tokens/:tokenId',
    changeRoute,
    async (request, reply) => {
      requireAdmin(request);
      const remove = () => store.deleteToken(request.params.id, request.params.tokenId);
      if (dryRun(request)) {
        store.preview(remove);
        return reply.code(200).send({ dryRun: true, object: null, plan: null });
      }
      remove();
      return reply.code(204).send();
    },
  );
  app.get('/v1/fabric', async (request) => {
    requireAdmin(request);
    // The requests the fabric's limits refused since the start (all tenants together: admin only).
    return {
      hypervisors: store.hypervisorLoad(),
      refused: fabric === undefined ? null : { ...fabric.refused },
    };
  });
  app.get('/v1/whoami', async (request) => {
    const p = principals.get(request)!;
    if (p.kind === 'admin') return { kind: 'admin', token: p.tokenId };
    const tenant = store.get(null, 'tenant', p.tenant).body;
    return { kind: 'tenant', tenant, token: p.tokenId };
  });

  return app;
}
