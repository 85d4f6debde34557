/**
 * What the API's route modules (routes/) share: the caller (a tenant or the admin, set by
 * server.ts's authentication hook before any handler runs), who may use which route (403
 * otherwise), `If-Match`, `?dryRun=true` and the shape of an object's answer. Every route module
 * gets one `RouteContext` from `buildServer`; none keeps state of its own.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from '../store/errors.js';
import type { KindSpec } from '../store/kinds.js';
import type { Principal, Store, StoredObject } from '../store/store.js';
import type { FabricQueue } from './fabric-queue.js';
import { DRY_RUN } from './request-checks.js';
import type { ServiceRuntime } from './service-runtime.js';

/** An object as the API shows it: the intent fields, then the bookkeeping. */
export function present(o: StoredObject): Record<string, unknown> {
  return { ...o.body, createdAt: o.created, updatedAt: o.updated, version: o.version };
}

export type IdParams = { id: string };

export interface RouteContext {
  readonly store: Store;
  /** The simulated fabric (`vnet serve` has one); the routes that need it answer 501 without. */
  readonly runtime: ServiceRuntime | undefined;
  /** How the fabric is shared between tenants: defined when `runtime` is. */
  readonly fabric: FabricQueue | undefined;
  /** The request's authenticated caller. */
  principal(request: FastifyRequest): Principal;
  /** The caller's tenant; a 403 for the admin token. */
  tenantOf(request: FastifyRequest): string;
  /** A 403 unless the caller is the admin. */
  requireAdmin(request: FastifyRequest): void;
  /** The tenant whose objects a route works on: the token's, or any (null) for the admin on /v1/tenants. */
  ownerFor(spec: KindSpec, request: FastifyRequest): string | null;
  /** The version `If-Match` asks for (undefined: none, or `*`); a 400 when it is not a version. */
  ifMatch(request: FastifyRequest): number | undefined;
  /** An object, its version as the ETag. */
  sendObject(reply: FastifyReply, o: StoredObject, status?: number): FastifyReply;
  /** Whether the request is a dry run (`?dryRun=true`, `=1` or empty). */
  dryRun(request: FastifyRequest): boolean;
  /** A change's route options: its one query parameter is `dryRun` (checked by `checkRequest`). */
  readonly changeRoute: { config: { query: typeof DRY_RUN } };
  /**
   * A dry run's answer: `change` run and checked as usual, then rolled back; the object as it would
   * be and the plan's difference for the tenant (terraform's plan).
   */
  previewed(reply: FastifyReply, tenant: string | null, change: () => StoredObject | undefined): FastifyReply;
  /** The 501 of a route that needs the fabric when the server runs none. */
  notWired(what: string): ServiceError;
}

export function routeContext(
  store: Store,
  runtime: ServiceRuntime | undefined,
  fabric: FabricQueue | undefined,
  principals: WeakMap<FastifyRequest, Principal>,
): RouteContext {
  const principal = (request: FastifyRequest) => principals.get(request)!;
  const requireAdmin = (request: FastifyRequest): void => {
    if (principal(request).kind !== 'admin')
      throw new ServiceError(403, 'forbidden', 'this route needs the admin token');
  };
  const tenantOf = (request: FastifyRequest): string => {
    const p = principal(request);
    if (p.kind !== 'tenant')
      throw new ServiceError(
        403,
        'forbidden',
        "the admin token manages tenants and the fabric; use a tenant's token for its objects",
      );
    return p.tenant;
  };
  return {
    store,
    runtime,
    fabric,
    principal,
    tenantOf,
    requireAdmin,
    ownerFor: (spec, request) => {
      if (spec.kind === 'tenant') {
        requireAdmin(request);
        return null;
      }
      return tenantOf(request);
    },
    ifMatch: (request) => {
      const h = request.headers['if-match'];
      if (h === undefined || h === '*') return undefined;
      const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(String(h));
      if (!m)
        throw new ServiceError(400, 'invalid-request', 'If-Match must be a version, e.g. "3"', [
          { path: 'If-Match', message: 'expected a version number' },
        ]);
      return Number(m[1]);
    },
    sendObject: (reply, o, status = 200) =>
      reply.code(status).header('etag', `"${o.version}"`).send(present(o)),
    dryRun: (request) => {
      const v = (request.query as Record<string, string>).dryRun;
      return v === 'true' || v === '1' || v === '';
    },
    changeRoute: { config: { query: DRY_RUN } },
    previewed: (reply, tenant, change) => {
      const { result, intent, tenants } = store.preview(change);
      const plan = runtime?.previewPlan(tenant, intent, tenants) ?? null;
      return reply
        .code(200)
        .send({ dryRun: true, object: result === undefined ? null : present(result), plan });
    },
    notWired: (what) =>
      new ServiceError(
        501,
        'not-implemented',
        `${what} is not wired to the data plane yet: the intent is stored, and this answers once the compiler and the simulated fabric are connected`,
      ),
  };
}
