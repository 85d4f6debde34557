/**
 * `/v1/<collection>` for every kind (kinds.ts), the tenants' objects and the admin's tenants alike:
 * POST creates (`Idempotency-Key`: a retry answers the first response, never a second object), GET
 * lists (`?limit=&cursor=` and the kind's filters) and GET/PATCH/PUT/DELETE `/:id` (`If-Match`).
 * Every change takes `?dryRun=true`. A tenant reaches only its own objects (another's id is a 404).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from '../../store/errors.js';
import { KINDS, type KindSpec } from '../../store/kinds.js';
import { listQueryParams } from '../request-checks.js';
import { type IdParams, present, type RouteContext } from '../route-context.js';

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

/** A list's query, its parameters already checked (`listQueryParams`). */
function listQuery(query: Record<string, string>) {
  const { limit, cursor, ...where } = query;
  return { limit: limit === undefined ? undefined : Number(limit), cursor: cursor || undefined, where };
}

/** The request's `Idempotency-Key`, if any (1 to 255 characters, else a 400). */
function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length < 1 || key.length > 255)
    throw new ServiceError(400, 'invalid-request', 'Idempotency-Key must be 1 to 255 characters', [
      { path: 'Idempotency-Key', message: '1 to 255 characters' },
    ]);
  return key;
}

/** What makes two creates the same request: the method, the path and the body (keys in any order). */
function fingerprint(base: string, body: unknown): string {
  return createHash('sha256')
    .update(`POST ${base}\n${canonical(body ?? null)}`)
    .digest('hex');
}

export function registerObjectRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, ownerFor, ifMatch, sendObject, dryRun, changeRoute, previewed } = ctx;

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
    const plan = ctx.runtime?.previewPlan(owner, unchanged.intent, unchanged.tenants) ?? null;
    return reply.code(200).send({ dryRun: true, object: earlier.body, plan });
  };

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
}
