/**
 * The tenant's questions to the running fabric: `POST /v1/ping` (echo requests from an instance),
 * `POST /v1/trace` (one packet, every device's decision), `POST /v1/reach` (the static analysis
 * and a real packet) and `GET /v1/plan` (its part of the compiled plan); 501 without a fabric.
 * Another tenant's instance is a 404, exactly as a missing one. A probe waits for its owner's turn
 * on the fabric (fabric-queue.ts) and its simulation runs in slices.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseBody, ServiceError } from '../../store/errors.js';
import { ProbeError } from '../../vpc/probe.js';
import type { ProbeSteps } from '../../vpc/probe-steps.js';
import { pingBody, traceBody } from '../probe-schemas.js';
import type { RouteContext } from '../route-context.js';
import type { ServiceRuntime } from '../service-runtime.js';

/** The probes' routes: each takes its turn on the fabric itself, after its body is checked. */
export const PROBE_URLS: ReadonlySet<string> = new Set(['/v1/ping', '/v1/trace', '/v1/reach']);

/** `POST /v1/reach`: from an instance to an instance or an address, by protocol and port. */
const reachBody = z.strictObject({
  src: z.string().min(1),
  dst: z.string().min(1),
  protocol: z.enum(['tcp', 'udp', 'icmp']),
  port: z.number().int().min(1).max(65535).optional(),
});

export function registerProbeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { tenantOf, notWired, fabric } = ctx;
  const runtime = ctx.runtime;
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
}
