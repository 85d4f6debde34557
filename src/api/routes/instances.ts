/**
 * An instance's actions: `POST /v1/instances/:id/start` and `/stop` (no change when it already is),
 * and `/migrate` (a live migration to another hypervisor, keeping MAC and IP; answered once the
 * data plane has moved it, with the migration's figures; 501 without a fabric). Each takes
 * `?dryRun=true`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseBody } from '../../store/errors.js';
import { type IdParams, present, type RouteContext } from '../route-context.js';

/** `POST /v1/instances/:id/migrate`: the hypervisor it moves to. */
const migrateBody = z.strictObject({ host: z.string().min(1) });

export function registerInstanceRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, tenantOf, sendObject, dryRun, changeRoute, previewed, notWired } = ctx;
  for (const [action, state] of [
    ['start', 'running'],
    ['stop', 'stopped'],
  ] as const)
    app.post<{ Params: IdParams }>(`/v1/instances/:id/${action}`, changeRoute, async (request, reply) => {
      const tenant = tenantOf(request);
      const change = () => store.setInstanceState(tenant, request.params.id, state);
      return dryRun(request) ? previewed(reply, tenant, change) : sendObject(reply, change());
    });
  app.post<{ Params: IdParams }>('/v1/instances/:id/migrate', changeRoute, async (request, reply) => {
    const tenant = tenantOf(request);
    store.get(tenant, 'instance', request.params.id);
    if (ctx.runtime === undefined) throw notWired('live migration');
    const { host } = parseBody(migrateBody, request.body ?? {});
    const move = () => store.moveInstance(tenant, request.params.id, host);
    if (dryRun(request)) return previewed(reply, tenant, move);
    // A report left by an earlier migration of this instance is not this one's (a stopped instance
    // moves without a live migration; a failed apply migrates nothing).
    const migrated = ctx.runtime.dataPlane.migrated;
    migrated.delete(request.params.id);
    const moved = move();
    // The change was applied (compiled, and the instance live-migrated on the data plane) before the answer.
    const migration = migrated.get(request.params.id) ?? null;
    return reply.header('etag', `"${moved.version}"`).send({ ...present(moved), migration });
  });
}
