/**
 * The admin's routes: `/v1/tenants/:id/tokens` (a tenant's API tokens: POST makes one, its secret
 * answered this once; GET lists them, never a secret; DELETE revokes one) and `GET /v1/fabric`
 * (the hypervisors' load and the requests the fabric's limits refused); and `GET /v1/whoami`
 * (any token: whose it is).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseBody } from '../../store/errors.js';
import type { IdParams, RouteContext } from '../route-context.js';

const tokenBody = z.strictObject({ name: z.string().min(1).max(64).optional() });

export function registerAdminRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, fabric, requireAdmin, dryRun, changeRoute } = ctx;
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
    const p = ctx.principal(request);
    if (p.kind === 'admin') return { kind: 'admin', token: p.tokenId };
    const tenant = store.get(null, 'tenant', p.tenant).body;
    return { kind: 'tenant', tenant, token: p.tokenId };
  });
}
