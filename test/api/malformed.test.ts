/**
 * Malformed requests over real HTTP, most on raw sockets (what `fetch` will not send): bad
 * percent-encoding, over-long path segments, headers over Node's 16 KiB, broken request lines and
 * framing, bad and empty bodies, bodies over 1 MiB, other media types, charsets and content codings,
 * query parameters a route does not take (or given twice, or out of their domain). Each must answer
 * its exact status with the documented body `{ error: { code, message, problems: [{ path, message }] } }`
 * and nothing of Fastify's (`FST_...`); the requests that must still pass are checked too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { ErrorCode } from '../../src/store/errors.js';
import { http11, type RawReply, sendInTurn, sendRaw } from '../helpers/raw-http.js';
import { repoPath } from '../helpers/repo.js';
import { startService, type TestService } from '../helpers/service.js';

/** The error codes docs/service.md documents: the status table of its "## Errors" section. */
function documentedCodes(): Map<string, number> {
  const doc = readFileSync(repoPath('docs/service.md'), 'utf8');
  const section = doc.slice(
    doc.indexOf('\n## Errors\n'),
    doc.indexOf('\n## ', doc.indexOf('\n## Errors\n') + 1),
  );
  const codes = new Map<string, number>();
  for (const row of section.matchAll(/^\| (\d{3}) \| ([^|]+) \|/gm))
    for (const code of row[2]!.matchAll(/`([a-z-]+)`/g)) codes.set(code[1]!, Number(row[1]));
  return codes;
}
const VOCABULARY = documentedCodes();

interface Ctx {
  readonly token: string;
  readonly admin: string;
  readonly tenant: string;
  readonly vpc: string;
  readonly vpc2: string;
}

let svc: TestService;
let port: number;
let ctx: Ctx;
before(async () => {
  svc = await startService();
  port = Number(new URL(svc.url).port);
  const { id, token } = await svc.tenant('acme');
  const vpc = (cidr: string, name: string) =>
    svc
      .request('POST', '/v1/vpcs', { token, body: { name, cidrs: [cidr] } })
      .then((r) => r.body.id as string);
  ctx = {
    token,
    admin: svc.adminToken,
    tenant: id,
    vpc: await vpc('10.1.0.0/16', 'one'),
    vpc2: await vpc('10.2.0.0/16', 'two'),
  };
});
after(() => svc.close());

type Build = (c: Ctx) => Buffer | string;
interface Case {
  readonly name: string;
  readonly request: Build;
  readonly status: number;
  readonly code: string;
  /** The problems' paths, exactly and in order. */
  readonly problems: readonly string[];
  readonly message?: RegExp;
}

const fill = (path: string, c: Ctx) =>
  path.replace('{vpc}', c.vpc).replace('{vpc2}', c.vpc2).replace('{tenant}', c.tenant);
type Options = { headers?: Record<string, string>; body?: string | Buffer };
/** A request with the tenant's token. */
const tenant =
  (method: string, path: string, o: Options = {}): Build =>
  (c) =>
    http11(method, fill(path, c), { ...o, headers: { authorization: `Bearer ${c.token}`, ...o.headers } });
/** A request with the admin token. */
const admin =
  (method: string, path: string, o: Options = {}): Build =>
  (c) =>
    http11(method, fill(path, c), { ...o, headers: { authorization: `Bearer ${c.admin}`, ...o.headers } });
/** Bytes as they are (a broken request line or header). */
const raw =
  (text: string): Build =>
  () =>
    text;

const JSON_TYPE = { 'content-type': 'application/json' };
const json = (body: unknown): Options => ({ headers: JSON_TYPE, body: JSON.stringify(body) });
const VPC = { name: 'web', cidrs: ['10.9.0.0/16'] };
const bad400 = (name: string, request: Build, problems: string[], message?: RegExp): Case => ({
  name,
  request,
  status: 400,
  code: 'invalid-request',
  problems,
  message,
});
const query400 = (name: string, request: Build, problems: string[]) =>
  bad400(name, request, problems, /^the query string has problems$/);
const media415 = (name: string, request: Build, problems: string[], message?: RegExp): Case => ({
  name,
  request,
  status: 415,
  code: 'unsupported-media-type',
  problems,
  message,
});

const URLS: Case[] = [
  bad400('a path segment %zz', tenant('GET', '/v1/vpcs/%zz'), ['url'], /%zz/),
  bad400('a collection %zz', tenant('GET', '/v1/%zz'), ['url'], /%zz/),
  bad400('truncated UTF-8 in an id', tenant('GET', '/v1/vpcs/%E0%A4%A'), ['url']),
  bad400('overlong UTF-8 in an id', tenant('GET', '/v1/vpcs/%C0%AF'), ['url']),
  bad400('a lone %ff in a DELETE', tenant('DELETE', '/v1/instances/%ff'), ['url']),
  bad400('bad encoding in a tenant id', admin('GET', '/v1/tenants/%zz/tokens'), ['url']),
  bad400('bad encoding on no route', tenant('GET', '/nothing/%zz'), ['url']),
  query400('a query value %zz', tenant('GET', '/v1/vpcs?name=%zz'), ['name']),
  query400('a query name %zz', tenant('GET', '/v1/vpcs?%zz=1'), ['%zz']),
  query400('a dryRun of %E0', tenant('POST', '/v1/vpcs?dryRun=%E0', json(VPC)), ['dryRun']),
];

const tooLong = (name: string, request: Build): Case => ({
  name,
  request,
  status: 414,
  code: 'uri-too-long',
  problems: ['url'],
});
const LONG_PATHS: Case[] = [
  tooLong('an id of 101 characters', tenant('GET', `/v1/vpcs/${'a'.repeat(101)}`)),
  tooLong('an id of 500 characters in a DELETE', tenant('DELETE', `/v1/subnets/${'b'.repeat(500)}`)),
  tooLong('an instance id of 150 characters', tenant('POST', `/v1/instances/i-${'0'.repeat(150)}/start`)),
  tooLong('a tenant id of 300 characters', admin('GET', `/v1/tenants/${'t'.repeat(300)}/tokens`)),
];

const overflow = (name: string, request: Build): Case => ({
  name,
  request,
  status: 431,
  code: 'headers-too-large',
  problems: [],
  message: /over 16384 bytes/,
});
const manyHeaders: Record<string, string> = {};
for (let i = 0; i < 300; i++) manyHeaders[`x-header-${i}`] = 'v'.repeat(50);
const PARSER: Case[] = [
  overflow('one header of 20 KiB', tenant('GET', '/v1/vpcs', { headers: { 'x-big': 'a'.repeat(20_000) } })),
  overflow('300 headers, 18 KB in all', tenant('GET', '/v1/vpcs', { headers: manyHeaders })),
  overflow('a URL of 17 KB', tenant('GET', `/v1/vpcs?name=${'n'.repeat(17_000)}`)),
  overflow(
    'a huge header on a POST',
    tenant('POST', '/v1/vpcs', { ...json(VPC), headers: { ...JSON_TYPE, 'x-big': 'b'.repeat(40_000) } }),
  ),
  bad400('a request line of garbage', raw('GARBAGE\r\n\r\n'), []),
  bad400('HTTP/9.9', raw('GET /v1/vpcs HTTP/9.9\r\nhost: x\r\n\r\n'), []),
  bad400('an unknown method', raw('FROB /v1/vpcs HTTP/1.1\r\nhost: x\r\n\r\n'), []),
  bad400('a space in the path', raw('GET /v1/v pcs HTTP/1.1\r\nhost: x\r\n\r\n'), []),
  bad400('a NUL in a header value', raw('GET /v1/vpcs HTTP/1.1\r\nhost: x\r\nx-a: a\0b\r\n\r\n'), []),
  bad400('a space in a header name', raw('GET /v1/vpcs HTTP/1.1\r\nhost: x\r\nbad header: 1\r\n\r\n'), []),
  bad400('a header line without a colon', raw('GET /v1/vpcs HTTP/1.1\r\nhost: x\r\nnocolon\r\n\r\n'), []),
  bad400(
    'Content-Length and chunked together',
    tenant('POST', '/v1/vpcs', {
      headers: { ...JSON_TYPE, 'content-length': '5', 'transfer-encoding': 'chunked' },
      body: '0\r\n\r\n',
    }),
    [],
  ),
  bad400(
    'a Content-Length of abc',
    tenant('POST', '/v1/vpcs', { headers: { ...JSON_TYPE, 'content-length': 'abc' }, body: '{}' }),
    [],
  ),
  bad400(
    'two Content-Lengths',
    raw(
      'POST /v1/vpcs HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}',
    ),
    [],
  ),
  bad400(
    'a chunk size of zz',
    tenant('POST', '/v1/vpcs', {
      headers: { ...JSON_TYPE, 'transfer-encoding': 'chunked' },
      body: 'zz\r\n{}\r\n0\r\n\r\n',
    }),
    [],
  ),
  bad400(
    'a transfer coding that is not chunked',
    tenant('POST', '/v1/vpcs', { headers: { ...JSON_TYPE, 'transfer-encoding': 'gzip' }, body: '{}' }),
    [],
  ),
  bad400(
    'HTTP/1.1 without Host',
    raw('GET /healthz HTTP/1.1\r\nconnection: close\r\n\r\n'),
    ['Host'],
    /Host/,
  ),
];

const big = `{"name":"${'x'.repeat(1 << 20)}","cidrs":[]}`;
const BODIES: Case[] = [
  bad400('invalid JSON', tenant('POST', '/v1/vpcs', { headers: JSON_TYPE, body: '{"name": ' }), []),
  bad400('a trailing comma', tenant('POST', '/v1/vpcs', { headers: JSON_TYPE, body: '{"name":"a",}' }), []),
  bad400(
    '__proto__ in the body',
    tenant('POST', '/v1/vpcs', { headers: JSON_TYPE, body: '{"__proto__":{"x":1}}' }),
    [],
  ),
  bad400('an empty JSON body on a create', tenant('POST', '/v1/vpcs', { headers: JSON_TYPE, body: '' }), []),
  bad400('no body at all on a create', tenant('POST', '/v1/vpcs'), ['']),
  bad400(
    'an empty JSON body on a PUT',
    tenant('PUT', '/v1/vpcs/{vpc}', { headers: JSON_TYPE, body: '' }),
    [],
  ),
  bad400('no body on a PATCH', tenant('PATCH', '/v1/vpcs/{vpc}'), ['']),
  bad400(
    'an empty JSON body on a token',
    admin('POST', '/v1/tenants/{tenant}/tokens', { headers: JSON_TYPE, body: '' }),
    [],
  ),
  bad400('a JSON array', tenant('POST', '/v1/vpcs', json([VPC])), ['']),
  bad400('a JSON string', tenant('POST', '/v1/vpcs', json('web')), ['']),
  bad400('JSON null', tenant('POST', '/v1/vpcs', { headers: JSON_TYPE, body: 'null' }), ['']),
  {
    name: 'a body of 1 MiB and more',
    request: tenant('POST', '/v1/vpcs', { headers: JSON_TYPE, body: big }),
    status: 413,
    code: 'body-too-large',
    problems: [],
    message: /over 1048576 bytes/,
  },
  {
    name: 'a chunked body over 1 MiB',
    request: tenant('POST', '/v1/vpcs', {
      headers: { ...JSON_TYPE, 'transfer-encoding': 'chunked' },
      body: `${Buffer.byteLength(big).toString(16)}\r\n${big}\r\n0\r\n\r\n`,
    }),
    status: 413,
    code: 'body-too-large',
    problems: [],
  },
  {
    name: 'a Content-Length of 2 MB',
    request: tenant('POST', '/v1/vpcs', {
      headers: { ...JSON_TYPE, 'content-length': '2000000' },
      body: '{}',
    }),
    status: 413,
    code: 'body-too-large',
    problems: [],
  },
];

const asJson = (type: string, body: string | Buffer = JSON.stringify(VPC)): Options => ({
  headers: { 'content-type': type },
  body,
});
const MEDIA: Case[] = [
  media415('text/plain', tenant('POST', '/v1/vpcs', asJson('text/plain')), ['Content-Type'], /text\/plain/),
  media415('a form', tenant('POST', '/v1/vpcs', asJson('application/x-www-form-urlencoded', 'name=web')), [
    'Content-Type',
  ]),
  media415('a body without Content-Type', tenant('POST', '/v1/vpcs', { body: JSON.stringify(VPC) }), [
    'Content-Type',
  ]),
  media415(
    'charset=utf-16 on UTF-8 bytes',
    tenant('POST', '/v1/vpcs', asJson('application/json; charset=utf-16')),
    ['Content-Type'],
    /charset=utf-16/,
  ),
  media415(
    'charset=utf-16 on UTF-16 bytes',
    tenant(
      'POST',
      '/v1/vpcs',
      asJson('application/json; charset=utf-16', Buffer.from(JSON.stringify(VPC), 'utf16le')),
    ),
    ['Content-Type'],
    /charset=utf-16/,
  ),
  media415(
    'charset=iso-8859-1',
    tenant('POST', '/v1/vpcs', asJson('application/json;charset=iso-8859-1')),
    ['Content-Type'],
    /iso-8859-1/,
  ),
  media415(
    'a quoted charset="UTF-16BE"',
    tenant('POST', '/v1/vpcs', asJson('application/json; charset="UTF-16BE"')),
    ['Content-Type'],
    /UTF-16BE/,
  ),
  media415(
    'a gzip Content-Encoding',
    tenant('POST', '/v1/vpcs', { ...json(VPC), headers: { ...JSON_TYPE, 'content-encoding': 'gzip' } }),
    ['Content-Encoding'],
    /gzip/,
  ),
  media415(
    'merge-patch on a PATCH',
    tenant('PATCH', '/v1/vpcs/{vpc}', asJson('application/merge-patch+json')),
    ['Content-Type'],
  ),
  media415('text/plain on a PUT', tenant('PUT', '/v1/vpcs/{vpc}', asJson('text/plain')), ['Content-Type']),
  media415('XML on a token', admin('POST', '/v1/tenants/{tenant}/tokens', asJson('text/xml', '<token/>')), [
    'Content-Type',
  ]),
  media415(
    'charset=utf-16 on a ping',
    tenant('POST', '/v1/ping', asJson('application/json; charset=utf-16')),
    ['Content-Type'],
  ),
];

const QUERIES: Case[] = [
  query400('an unknown parameter on GET /:id', tenant('GET', '/v1/vpcs/{vpc}?x=1'), ['x']),
  query400('state=exploded on the instances', tenant('GET', '/v1/instances?state=exploded'), ['state']),
  query400('a vpc filter that is no id', tenant('GET', '/v1/subnets?vpc=VPC%201'), ['vpc']),
  query400('a name filter that is no name', tenant('GET', '/v1/vpcs?name=-bad'), ['name']),
  query400('limit twice', tenant('GET', '/v1/vpcs?limit=1&limit=2'), ['limit']),
  query400('cursor twice', tenant('GET', '/v1/vpcs?cursor=a&cursor=b'), ['cursor']),
  query400('name twice', tenant('GET', '/v1/vpcs?name=one&name=two'), ['name']),
  query400('dryRun on a list', tenant('GET', '/v1/vpcs?dryRun=true'), ['dryRun']),
  query400(
    'a bad limit, an unknown and a bad state at once',
    tenant('GET', '/v1/instances?limit=0&colour=blue&state=on'),
    ['limit', 'colour', 'state'],
  ),
  query400('dryrun misspelt on a create', tenant('POST', '/v1/vpcs?dryrun=true', json(VPC)), ['dryrun']),
  query400('dryRun twice on a create', tenant('POST', '/v1/vpcs?dryRun=true&dryRun=false', json(VPC)), [
    'dryRun',
  ]),
  query400('dryRun=maybe on a create', tenant('POST', '/v1/vpcs?dryRun=maybe', json(VPC)), ['dryRun']),
  query400('force on a PATCH', tenant('PATCH', '/v1/vpcs/{vpc}?force=1', json({ name: 'renamed' })), [
    'force',
  ]),
  query400('an unknown parameter on a PUT', tenant('PUT', '/v1/vpcs/{vpc}?x=1', json({ name: 'one' })), [
    'x',
  ]),
  query400('cascade on a DELETE', tenant('DELETE', '/v1/vpcs/{vpc2}?cascade=true'), ['cascade']),
  query400('an unknown parameter on start', tenant('POST', '/v1/instances/i-0a1b2c/start?x=1'), ['x']),
  query400('dryRun=maybe on stop', tenant('POST', '/v1/instances/i-0a1b2c/stop?dryRun=maybe'), ['dryRun']),
  query400('host in the query of migrate', tenant('POST', '/v1/instances/i-0a1b2c/migrate?host=h1'), [
    'host',
  ]),
  query400('count in the query of ping', tenant('POST', '/v1/ping?count=3', json({})), ['count']),
  query400('an unknown parameter on trace', tenant('POST', '/v1/trace?x=1', json({})), ['x']),
  query400('dryRun on reach (not a change)', tenant('POST', '/v1/reach?dryRun=true', json({})), ['dryRun']),
  query400('tenant on the plan', tenant('GET', '/v1/plan?tenant=x'), ['tenant']),
  query400('state=exploded on whoami', tenant('GET', '/v1/whoami?state=exploded'), ['state']),
  query400('verbose on the fabric', admin('GET', '/v1/fabric?verbose=1'), ['verbose']),
  query400('limit on the tokens', admin('GET', '/v1/tenants/{tenant}/tokens?limit=5'), ['limit']),
  query400(
    'an unknown parameter on a new token',
    admin('POST', '/v1/tenants/{tenant}/tokens?x=1', json({})),
    ['x'],
  ),
  query400(
    'an unknown parameter on revoking a token',
    admin('DELETE', '/v1/tenants/{tenant}/tokens/tok-0a1b?x=1'),
    ['x'],
  ),
  query400('an unknown parameter on a tenant', admin('GET', '/v1/tenants/{tenant}?x=1'), ['x']),
  query400(
    'an unknown parameter on /healthz',
    raw('GET /healthz?x=1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'),
    ['x'],
  ),
  query400(
    'an unknown parameter on /openapi.json',
    raw('GET /openapi.json?v=2 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'),
    ['v'],
  ),
];

const ROUTES: Case[] = [
  {
    name: 'no such route',
    request: tenant('GET', '/v1/nothing'),
    status: 404,
    code: 'not-found',
    problems: [],
  },
  { name: 'PROPFIND', request: tenant('PROPFIND', '/v1/vpcs'), status: 404, code: 'not-found', problems: [] },
  {
    name: 'no token',
    request: raw('GET /v1/vpcs HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'),
    status: 401,
    code: 'unauthorized',
    problems: [],
  },
];

/** The documented error shape, exactly, and nothing of Fastify's. */
function assertErrorShape(r: RawReply, c: Case): void {
  assert.equal(r.status, c.status, `status: ${r.raw.slice(0, 400)}`);
  assert.ok(!r.raw.includes('FST_'), `a Fastify code in ${r.raw.slice(0, 400)}`);
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(r.text);
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'problems']);
  assert.equal(body.error.code, c.code, body.error.message);
  assert.equal(VOCABULARY.get(body.error.code), c.status, `${c.code} is documented with status ${c.status}`);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.ok(Array.isArray(body.error.problems));
  for (const p of body.error.problems) {
    assert.deepEqual(Object.keys(p).sort(), ['message', 'path']);
    assert.equal(typeof p.path, 'string');
    assert.equal(typeof p.message, 'string');
  }
  assert.deepEqual(
    body.error.problems.map((p: { path: string }) => p.path),
    c.problems,
    JSON.stringify(body.error.problems),
  );
  if (c.message) assert.match(body.error.message, c.message);
}

/** Every code the service has (the compiler checks this against `ErrorCode`). */
const ALL_CODES: Record<ErrorCode, true> = {
  'already-there': true,
  busy: true,
  'probe-too-long': true,
  'too-many-requests': true,
  'body-too-large': true,
  exhausted: true,
  forbidden: true,
  'headers-too-large': true,
  'idempotency-key-reused': true,
  'in-use': true,
  internal: true,
  'invalid-intent': true,
  'invalid-reference': true,
  'invalid-request': true,
  'ip-taken': true,
  'name-taken': true,
  'not-found': true,
  'not-implemented': true,
  'not-running': true,
  'request-timeout': true,
  unauthorized: true,
  'unsupported-media-type': true,
  'uri-too-long': true,
  'version-mismatch': true,
};

test('docs/service.md documents every error code with its status', () => {
  assert.deepEqual([...VOCABULARY.keys()].sort(), Object.keys(ALL_CODES).sort());
  assert.equal(VOCABULARY.get('unsupported-media-type'), 415);
  assert.equal(VOCABULARY.get('headers-too-large'), 431);
});

for (const [group, cases] of Object.entries({ URLS, LONG_PATHS, PARSER, BODIES, MEDIA, QUERIES, ROUTES }))
  for (const c of cases)
    test(`${group}: ${c.name} → ${c.status} ${c.code}`, async () => {
      assertErrorShape(await sendRaw(port, c.request(ctx)), c);
    });

test('on a kept-alive connection, a request after answered ones gets its 431 and 400 in the same shape', async () => {
  const keep = (extra = '') => `GET /healthz HTTP/1.1\r\nhost: x\r\n${extra}\r\n`;
  const [ok, tooLarge] = await sendInTurn(port, [keep(), keep(`x-big: ${'a'.repeat(20_000)}\r\n`)]);
  assert.equal(ok?.status, 200);
  assertErrorShape(tooLarge!, {
    name: '431',
    request: raw(''),
    status: 431,
    code: 'headers-too-large',
    problems: [],
  });
  const [first, second, broken] = await sendInTurn(port, [
    keep(),
    keep(),
    'GET /healthz HTTP/1.1\r\nhost: x\r\nbad header: 1\r\n\r\n',
  ]);
  assert.deepEqual([first?.status, second?.status], [200, 200]);
  assertErrorShape(broken!, {
    name: '400',
    request: raw(''),
    status: 400,
    code: 'invalid-request',
    problems: [],
  });
});

test('what must still pass: UTF-8 bodies, no charset, known query parameters, HTTP/1.0 without Host', async () => {
  const expect = async (status: number, build: Build) => {
    const r = await sendRaw(port, build(ctx));
    assert.equal(r.status, status, r.raw.slice(0, 400));
    return JSON.parse(r.text);
  };
  const vpc = (name: string, cidr: string) => JSON.stringify({ name, cidrs: [cidr] });
  await expect(201, tenant('POST', '/v1/vpcs', asJson('application/json', vpc('u0', '10.20.0.0/16'))));
  await expect(
    201,
    tenant('POST', '/v1/vpcs', asJson('application/json; charset=utf-8', vpc('u1', '10.21.0.0/16'))),
  );
  await expect(
    201,
    tenant('POST', '/v1/vpcs', asJson('Application/JSON;charset="UTF-8"', vpc('u2', '10.22.0.0/16'))),
  );
  await expect(
    201,
    tenant('POST', '/v1/vpcs', {
      headers: { ...JSON_TYPE, 'content-encoding': 'identity' },
      body: vpc('u3', '10.23.0.0/16'),
    }),
  );
  const dry = await expect(
    200,
    tenant('POST', '/v1/vpcs?dryRun=true', asJson('application/json', vpc('u4', '10.24.0.0/16'))),
  );
  assert.equal(dry.dryRun, true);
  await expect(200, tenant('POST', '/v1/vpcs?dryRun', asJson('application/json', vpc('u4', '10.24.0.0/16'))));
  const page = await expect(200, tenant('GET', '/v1/vpcs?limit=2&name=u1'));
  assert.deepEqual(
    page.items.map((v: { name: string }) => v.name),
    ['u1'],
  );
  assert.equal((await expect(200, tenant('GET', '/v1/vpcs?limit=2'))).items.length, 2);
  await expect(200, tenant('GET', '/v1/instances?state=running&limit=10'));
  await expect(200, tenant('GET', '/v1/subnets?vpc={vpc}'));
  await expect(200, tenant('GET', '/v1/vpcs/{vpc}'));
  await expect(200, tenant('GET', '/v1/whoami'));
  await expect(200, raw('GET /healthz HTTP/1.0\r\n\r\n'));
  await expect(200, tenant('PATCH', '/v1/vpcs/{vpc}?dryRun=true', json({ name: 'renamed' })));
});

test('the OpenAPI document lists these statuses where they can occur, and dryRun on changes only', async () => {
  const doc = (await svc.request('GET', '/openapi.json', { token: null })).body;
  const statuses = (path: string, method: string) => Object.keys(doc.paths[path][method].responses);
  const params = (path: string, method: string) =>
    (doc.paths[path][method].parameters ?? []).map((p: { name: string }) => p.name);
  for (const [path, item] of Object.entries<Record<string, { responses?: object }>>(doc.paths))
    for (const [method, op] of Object.entries(item))
      if (op.responses) assert.ok(statuses(path, method).includes('431'), `${method} ${path}`);
  assert.deepEqual(
    statuses('/v1/vpcs', 'post').filter((s) => ['413', '414', '415'].includes(s)),
    ['413', '415'],
  );
  assert.deepEqual(
    statuses('/v1/vpcs/{id}', 'get').filter((s) => ['413', '414', '415'].includes(s)),
    ['414'],
  );
  assert.deepEqual(
    statuses('/v1/vpcs/{id}', 'patch').filter((s) => ['413', '414', '415'].includes(s)),
    ['413', '414', '415'],
  );
  assert.ok(statuses('/v1/ping', 'post').includes('415'));
  assert.deepEqual(params('/v1/vpcs', 'post'), ['Idempotency-Key', 'dryRun']);
  assert.deepEqual(params('/v1/instances/{id}/start', 'post'), ['dryRun']);
  assert.deepEqual(params('/v1/vpcs', 'get'), ['limit', 'cursor', 'name']);
  assert.deepEqual(params('/v1/reach', 'post'), []);
  assert.deepEqual(params('/v1/vpcs/{id}', 'get'), []);
});
