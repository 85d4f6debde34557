/**
 * The OpenAPI 3.1 document of the API, generated from the same zod schemas that validate request
 * bodies (src/store/kinds.ts, themselves derived from src/vpc/intent.ts): it cannot drift from what
 * the server accepts. OpenAPI 3.1 schemas are JSON Schema 2020-12, which `z.toJSONSchema` writes.
 * Refinements a JSON Schema cannot say (a CIDR's syntax, "exactly one of cidr or group") are in the
 * descriptions of the intent module and enforced by the server.
 */
import { z } from 'zod';
import { KINDS, type KindSpec } from '../store/kinds.js';
import { OBJECT_KINDS } from '../vpc/intent.js';
import { pingAnswer, pingBody, traceAnswer, traceBody } from './probe-schemas.js';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const ERRORS = {
  '400': errorResponse(
    'the request is invalid (its body, a header, a query parameter the route does not take): every problem with its path',
  ),
  '401': errorResponse('no token, or not a valid one'),
  '403': errorResponse('the token may not use this route (a tenant token on an admin route, or the reverse)'),
  '404': errorResponse("no such object (or another tenant's)"),
  '431': errorResponse('the request line and headers are over 16 KiB'),
};

/** The query parameter every change takes (and only changes). */
const dryRunParam = {
  name: 'dryRun',
  in: 'query',
  required: false,
  description:
    'true: check the change and roll it back, answering the object as it would be and the plan difference',
  schema: { type: 'boolean' },
};
/** Routes that change nothing though they are POSTs: they take no dryRun. */
const PROBES = ['/v1/reach', '/v1/ping', '/v1/trace'];

/**
 * What every route may answer besides its own: 414 for a path segment over 100 characters where the
 * path has a parameter, 413 and 415 where a body may be sent (a body over 1 MiB; one that is not
 * application/json in UTF-8), and the dryRun parameter of changes.
 */
function withRequestChecks(paths: Record<string, Json>): void {
  for (const [path, item] of Object.entries(paths))
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const op = operation as { responses: Json; parameters?: Json[] };
      if (path.includes('{')) op.responses['414'] = errorResponse('a path segment is over 100 characters');
      if (method !== 'get' && method !== 'delete') {
        op.responses['413'] = errorResponse('the body is over 1 MiB');
        op.responses['415'] = errorResponse(
          'the body is not application/json in UTF-8 (another type, charset or content coding)',
        );
      }
      if (method !== 'get' && !PROBES.includes(path)) op.parameters = [...(op.parameters ?? []), dryRunParam];
    }
}

function objectSchema(spec: KindSpec): Json {
  const base = jsonSchema(OBJECT_KINDS[spec.kind].schema, 'output');
  const properties = {
    ...(base.properties as Json),
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    version: {
      type: 'integer',
      minimum: 1,
      description: 'increases with each change; send it back in If-Match',
    },
  };
  return {
    ...base,
    properties,
    required: [...((base.required as string[]) ?? []), 'createdAt', 'updatedAt', 'version'],
  };
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const ifMatch = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description: 'the version the change is based on ("3"); 412 when the object has moved on',
  schema: { type: 'string' },
};
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'a retried create with the same key and body returns the first response (header Idempotent-Replayed: true) and creates nothing; the same key with another body is a 422. Kept 24 hours. A dry run (?dryRun=true) never uses up nor records the key: with a key its create would replay, it answers that replay (the first response as object, no plan changes).',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

function collectionPaths(spec: KindSpec, admin: boolean): Record<string, Json> {
  const name = spec.schemaName;
  const tag = spec.collection;
  const security = [{ [admin ? 'adminToken' : 'tenantToken']: [] }];
  const filters = ['name', ...spec.filters].map((f) => ({
    name: f,
    in: 'query',
    required: false,
    description: `only those whose ${f} is this`,
    schema: { type: 'string' },
  }));
  const conflict = errorResponse(
    'a name already taken in its scope, an address in use, or the object is in use',
  );
  return {
    [`/v1/${spec.collection}`]: {
      get: {
        tags: [tag],
        summary: `List ${spec.title}s, oldest first`,
        security,
        parameters: [
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
          },
          {
            name: 'cursor',
            in: 'query',
            required: false,
            description: "the previous page's `next`",
            schema: { type: 'string' },
          },
          ...filters,
        ],
        responses: { '200': { description: 'one page', content: json(ref(`${name}List`)) }, ...ERRORS },
      },
      post: {
        tags: [tag],
        summary: `Create a ${spec.title}`,
        security,
        parameters: [idempotencyKey],
        requestBody: { required: true, content: json(ref(`${name}Create`)) },
        responses: {
          '201': { description: 'created', content: json(ref(name)) },
          ...ERRORS,
          '409': conflict,
          '422': errorResponse(
            'an Idempotency-Key reused for another request, or the change would make the intent invalid',
          ),
        },
      },
    },
    [`/v1/${spec.collection}/{id}`]: {
      parameters: [idParam],
      get: {
        tags: [tag],
        summary: `Get a ${spec.title}`,
        security,
        responses: { '200': { description: `the ${spec.title}`, content: json(ref(name)) }, ...ERRORS },
      },
      patch: {
        tags: [tag],
        summary: `Change some fields of a ${spec.title} (null removes an optional one)`,
        security,
        parameters: [ifMatch],
        requestBody: { required: true, content: json(ref(`${name}Patch`)) },
        responses: {
          '200': { description: 'changed', content: json(ref(name)) },
          ...ERRORS,
          '409': conflict,
          '412': errorResponse('If-Match names an older version'),
        },
      },
      put: {
        tags: [tag],
        summary: `Replace the changeable fields of a ${spec.title}`,
        security,
        parameters: [ifMatch],
        requestBody: { required: true, content: json(ref(`${name}Update`)) },
        responses: {
          '200': { description: 'changed', content: json(ref(name)) },
          ...ERRORS,
          '409': conflict,
          '412': errorResponse('If-Match names an older version'),
        },
      },
      delete: {
        tags: [tag],
        summary: `Delete a ${spec.title}`,
        security,
        parameters: [ifMatch],
        responses: {
          '204': { description: 'deleted' },
          ...ERRORS,
          '409': errorResponse('still used by other objects (listed)'),
          '412': errorResponse('If-Match names an older version'),
        },
      },
    },
  };
}

export function openApiDocument(): Json {
  const schemas: Json = {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message', 'problems'],
          properties: {
            code: {
              type: 'string',
              description: 'stable, for programs: invalid-request, not-found, name-taken, in-use, ...',
            },
            message: { type: 'string', description: 'for people' },
            problems: {
              type: 'array',
              items: {
                type: 'object',
                required: ['path', 'message'],
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    TokenCreate: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
      additionalProperties: false,
    },
    Token: {
      type: 'object',
      required: ['id', 'tenant', 'name', 'created'],
      properties: {
        id: { type: 'string' },
        tenant: { type: 'string' },
        name: { type: 'string' },
        created: { type: 'string', format: 'date-time' },
        token: { type: 'string', description: 'the secret: in the create response only, never again' },
      },
    },
  };
  let paths: Record<string, Json> = {};
  for (const spec of Object.values(KINDS)) {
    schemas[spec.schemaName] = objectSchema(spec);
    schemas[`${spec.schemaName}Create`] = jsonSchema(spec.create, 'input');
    schemas[`${spec.schemaName}Update`] = jsonSchema(spec.update, 'input');
    schemas[`${spec.schemaName}Patch`] = jsonSchema(spec.patch, 'input');
    schemas[`${spec.schemaName}List`] = {
      type: 'object',
      required: ['items', 'next'],
      properties: {
        items: { type: 'array', items: ref(spec.schemaName) },
        next: { type: ['string', 'null'], description: 'the cursor of the next page; null on the last' },
      },
    };
    paths = { ...paths, ...collectionPaths(spec, spec.kind === 'tenant') };
  }
  const tenantSecurity = [{ tenantToken: [] }];
  const adminSecurity = [{ adminToken: [] }];
  const notWired = errorResponse('not wired to the data plane yet');
  const instanceAction = (summary: string) => ({
    parameters: [idParam],
    post: {
      tags: ['instances'],
      summary,
      security: tenantSecurity,
      responses: { '200': { description: 'the instance', content: json(ref('Instance')) }, ...ERRORS },
    },
  });
  paths['/v1/instances/{id}/start'] = instanceAction('Start an instance (nothing changes if it runs)');
  paths['/v1/instances/{id}/stop'] = instanceAction('Stop an instance (nothing changes if it is stopped)');
  paths['/v1/instances/{id}/migrate'] = {
    parameters: [idParam],
    post: {
      tags: ['instances'],
      summary: 'Live-migrate an instance',
      security: tenantSecurity,
      responses: { '501': notWired, ...ERRORS },
    },
  };
  paths['/v1/reach'] = {
    post: {
      tags: ['data plane'],
      summary: 'Can A reach B, and why not',
      security: tenantSecurity,
      responses: { '501': notWired, ...ERRORS },
    },
  };
  schemas.PingRequest = jsonSchema(pingBody, 'input');
  schemas.PingAnswer = jsonSchema(pingAnswer, 'output');
  schemas.TraceRequest = jsonSchema(traceBody, 'input');
  schemas.TraceAnswer = jsonSchema(traceAnswer, 'output');
  const notRunning = errorResponse('an end of the probe is stopped (the field names which)');
  paths['/v1/ping'] = {
    post: {
      tags: ['data plane'],
      summary:
        'ICMP echo requests from an instance through the fabric: each reply, error or timeout, and the summary',
      security: tenantSecurity,
      requestBody: { required: true, content: json(ref('PingRequest')) },
      responses: {
        '200': { description: 'every probe and the summary', content: json(ref('PingAnswer')) },
        '409': notRunning,
        '501': notWired,
        ...ERRORS,
      },
    },
  };
  paths['/v1/trace'] = {
    post: {
      tags: ['data plane'],
      summary: "One packet from an instance with every device's decision traced, overlay and underlay",
      security: tenantSecurity,
      requestBody: { required: true, content: json(ref('TraceRequest')) },
      responses: {
        '200': { description: 'the trace', content: json(ref('TraceAnswer')) },
        '409': notRunning,
        '501': notWired,
        ...ERRORS,
      },
    },
  };
  paths['/v1/plan'] = {
    get: {
      tags: ['data plane'],
      summary: 'The compiled plan of the intent',
      security: tenantSecurity,
      responses: { '501': notWired, ...ERRORS },
    },
  };
  paths['/v1/tenants/{id}/tokens'] = {
    parameters: [idParam],
    get: {
      tags: ['tenants'],
      summary: "List a tenant's tokens (never their secrets)",
      security: adminSecurity,
      responses: {
        '200': {
          description: 'the tokens',
          content: json({ type: 'object', properties: { items: { type: 'array', items: ref('Token') } } }),
        },
        ...ERRORS,
      },
    },
    post: {
      tags: ['tenants'],
      summary: 'Make an API token for a tenant; the secret is in this response only',
      security: adminSecurity,
      requestBody: { required: false, content: json(ref('TokenCreate')) },
      responses: {
        '201': { description: 'the token, with its secret', content: json(ref('Token')) },
        ...ERRORS,
      },
    },
  };
  paths['/v1/tenants/{id}/tokens/{tokenId}'] = {
    parameters: [idParam, { name: 'tokenId', in: 'path', required: true, schema: { type: 'string' } }],
    delete: {
      tags: ['tenants'],
      summary: 'Revoke a token',
      security: adminSecurity,
      responses: { '204': { description: 'revoked' }, ...ERRORS },
    },
  };
  paths['/v1/fabric'] = {
    get: {
      tags: ['fabric'],
      summary: 'The hypervisors instances are placed on, with their load',
      security: adminSecurity,
      responses: { '200': { description: 'the fabric', content: json({ type: 'object' }) }, ...ERRORS },
    },
  };
  withRequestChecks(paths);
  return {
    openapi: '3.1.0',
    info: {
      title: 'vnet VPC service',
      version: '0.1.0',
      description:
        'Tenants declare VPCs, subnets, route tables, gateways, security groups, network ACLs and instances; see docs/service.md.',
    },
    servers: [{ url: '/' }],
    components: {
      schemas,
      securitySchemes: {
        tenantToken: {
          type: 'http',
          scheme: 'bearer',
          description: "a tenant's token: its own objects only",
        },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'the admin token: tenants, tokens, the fabric',
        },
      },
    },
    paths,
  };
}
