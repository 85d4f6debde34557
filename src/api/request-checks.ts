/**
 * The checks every request to the VPC service passes before a route handles it, and the answers to
 * requests that never reach a route. What they guarantee:
 *
 * - Every error answer, whoever raises it (a route, Fastify's router or body parser, Node's HTTP
 *   parser), is `{ error: { code, message, problems: [{ path, message }] } }` with a code of
 *   `ErrorCode`, never a Fastify code (`FST_...`) nor an empty body; the status stays the one
 *   HTTP gives (400 bad request line, 414 an over-long path segment, 431 header overflow...).
 * - A body is JSON read as UTF-8, and only that: `Content-Type: application/json` with no charset or
 *   `charset=utf-8`, and no `Content-Encoding`. Anything else is a 415 naming what was sent, before
 *   the body is read.
 * - Each route declares the query parameters it takes (`config: { query }`); one it does not take,
 *   one given twice, one not percent-encoded UTF-8 or a value outside its domain is a 400 naming
 *   the parameter. A route that declares none takes none.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { type ErrorCode, type Problem, ServiceError } from '../store/errors.js';
import type { KindSpec } from '../store/kinds.js';
import { MAX_PAGE } from '../store/store.js';
import { OBJECT_KINDS } from '../vpc/intent.js';

/** The largest body the service reads (1 MiB). */
export const BODY_LIMIT = 1 << 20;

export function errorBody(code: ErrorCode, message: string, problems: readonly Problem[] = []) {
  return { error: { code, message, problems } };
}

/** A query parameter's domain: the problem with a value, or undefined when it is fine. */
export type QueryParam = (value: string) => string | undefined;
/** The query parameters a route takes, in the order they are listed to a client that sent another. */
export type QuerySpec = Readonly<Record<string, QueryParam>>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The query parameters the route takes; none when absent. */
    query?: QuerySpec;
  }
}

const anyValue: QueryParam = () => undefined;

/** `?dryRun=true` (or `1`, or no value) and `false` (`0`): the one query parameter of a change. */
export const DRY_RUN: QuerySpec = {
  dryRun: (v) => (['true', '1', '', 'false', '0'].includes(v) ? undefined : 'true or false'),
};

/** A list's parameters: `limit`, `cursor`, `name` and the kind's filters, each value in its field's domain. */
export function listQueryParams(spec: KindSpec): QuerySpec {
  const shape = (OBJECT_KINDS[spec.kind].schema as unknown as z.ZodObject).shape;
  const field =
    (name: string): QueryParam =>
    (value) => {
      const result = shape[name]?.safeParse(value);
      return result && !result.success ? result.error.issues[0]?.message : undefined;
    };
  const params: Record<string, QueryParam> = {
    limit: (v) =>
      /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_PAGE
        ? undefined
        : `an integer from 1 to ${MAX_PAGE}`,
    cursor: anyValue,
    name: field('name'),
  };
  for (const filter of spec.filters) params[filter] = field(filter);
  return params;
}

/** The query parameters of a request as sent, each name with its raw (still encoded) values. */
function rawQuery(url: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const at = url.indexOf('?');
  if (at < 0) return out;
  for (const pair of url.slice(at + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    out.set(name, [...(out.get(name) ?? []), value]);
  }
  return out;
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The request's query against the route's `QuerySpec`: every problem at once, as one 400. */
function checkQuery(request: FastifyRequest): void {
  const spec = request.routeOptions.config.query ?? {};
  const known = Object.keys(spec);
  const problems: Problem[] = [];
  for (const [rawName, rawValues] of rawQuery(request.url)) {
    const name = decoded(rawName);
    const values = rawValues.map(decoded);
    if (name === undefined || values.includes(undefined)) {
      problems.push({ path: name ?? rawName, message: 'not valid percent-encoded UTF-8' });
      continue;
    }
    const param = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (param === undefined) {
      const takes = known.length > 0 ? known.join(', ') : 'this route takes none';
      problems.push({ path: name, message: `unknown query parameter (${takes})` });
    } else if (values.length > 1)
      problems.push({ path: name, message: `given ${values.length} times: give it once` });
    else {
      const problem = param(values[0]!);
      if (problem !== undefined) problems.push({ path: name, message: problem });
    }
  }
  if (problems.length > 0)
    throw new ServiceError(400, 'invalid-request', 'the query string has problems', problems);
}

const unsupported = (path: string, message: string) =>
  new ServiceError(415, 'unsupported-media-type', message, [{ path, message }]);

/** A body, if the request has one, is `application/json` in UTF-8 with no content coding. */
function checkMediaType(request: FastifyRequest): void {
  const headers = request.headers;
  const length = headers['content-length'];
  const hasBody = headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody || request.method === 'GET' || request.method === 'HEAD') return;
  const coding = headers['content-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'identity')
    throw unsupported(
      'Content-Encoding',
      `a body with Content-Encoding ${coding} is not read: send it as is`,
    );
  const type = headers['content-type'];
  if (type === undefined) throw unsupported('Content-Type', 'a body needs Content-Type: application/json');
  const [essence = '', ...parameters] = type.split(';');
  if (essence.trim().toLowerCase() !== 'application/json')
    throw unsupported('Content-Type', `the body is ${essence.trim()}: send application/json`);
  for (const parameter of parameters) {
    const m = /^\s*charset\s*=\s*"?([^"]*)"?\s*$/i.exec(parameter);
    if (m && !['utf-8', 'utf8'].includes(m[1]!.toLowerCase()))
      throw unsupported(
        'Content-Type',
        `charset=${m[1]} is not read: JSON is UTF-8 (send no charset, or charset=utf-8)`,
      );
  }
}

/** The checks of a routed request (an unknown route answers 404 whatever it sent). */
export function checkRequest(request: FastifyRequest): void {
  if (request.is404) return;
  if (request.raw.httpVersion === '1.1' && request.headers.host === undefined)
    throw new ServiceError(400, 'invalid-request', 'an HTTP/1.1 request needs a Host header', [
      { path: 'Host', message: 'missing' },
    ]);
  checkMediaType(request);
  checkQuery(request);
}

/** Fastify's errors below 500 (body parser, content type) by status: the code they answer with. */
export function codeOfStatus(status: number): ErrorCode {
  if (status === 413) return 'body-too-large';
  if (status === 415) return 'unsupported-media-type';
  return 'invalid-request';
}

/** Fastify's own messages, where ours says more. */
export function messageOf(error: FastifyError | Error): string {
  if ((error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return `the body is over ${BODY_LIMIT} bytes (1 MiB)`;
  return error.message;
}

/** The first path segment that is not percent-encoded UTF-8. */
function badSegment(url: string): string {
  const path = url.split('?')[0]!;
  return path.split('/').find((segment) => decoded(segment) === undefined) ?? path;
}

/** Fastify's router errors (`frameworkErrors`): a URL it cannot decode, a path segment over its limit. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    const segment = badSegment(request.url);
    reply
      .code(400)
      .send(
        errorBody('invalid-request', `the path is not valid: ${segment} is not percent-encoded UTF-8`, [
          { path: 'url', message: `${segment}: not valid percent-encoded UTF-8` },
        ]),
      );
    return;
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    reply
      .code(414)
      .send(
        errorBody('uri-too-long', 'a path segment is over 100 characters: no id is that long', [
          { path: 'url', message: 'a segment over 100 characters' },
        ]),
      );
    return;
  }
  request.log.error(error);
  reply.code(500).send(errorBody('internal', 'internal error (see the server log)'));
}

/**
 * Node's HTTP parser refused the request (Fastify's `clientErrorHandler`, on the server's
 * `clientError`): the same shape, written on the socket, which is then closed. A header overflow
 * stays a 431, a timeout a 408, anything else (a bad request line, header or chunk) is a 400.
 */
export function clientErrorHandler(error: Error & { code?: string; reason?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, errorBody('headers-too-large', `the request line and headers are over ${maxHeaderSize} bytes`)]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, errorBody('request-timeout', 'the request did not arrive in time')]
        : [
            400,
            errorBody(
              'invalid-request',
              `not a valid HTTP/1.1 request: ${error.reason ?? 'cannot parse it'}`,
            ),
          ];
  const text = JSON.stringify(body);
  // Once a response has started on this connection (a pipelined request's), another cannot be
  // written: then the connection just goes, as Node does.
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!socket.writable || answering?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
  // The client has a second to read the answer and close; then the connection goes regardless.
  const linger = setTimeout(() => socket.destroy(), 1_000);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
