/**
 * The service's errors: an HTTP status, a stable machine code and a message a person can act on,
 * with every problem and its path when there are several (`cidrs[1]: not an IPv4 prefix`). The
 * store throws them; the API turns them into `{ error: { code, message, problems } }`.
 */

import type { z } from 'zod';
import { formatPath } from '../topo/lab/check.js';

export interface Problem {
  /** Where in the request body (`routes[0].target.id`); empty for the whole request. */
  readonly path: string;
  readonly message: string;
}

export type ErrorCode =
  | 'invalid-request'
  | 'invalid-reference'
  | 'invalid-intent'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'name-taken'
  | 'in-use'
  | 'ip-taken'
  | 'exhausted'
  | 'version-mismatch'
  | 'already-there'
  | 'not-running'
  | 'idempotency-key-reused'
  | 'not-implemented'
  | 'too-many-requests'
  | 'busy'
  | 'probe-too-long'
  | 'request-timeout'
  | 'body-too-large'
  | 'uri-too-long'
  | 'unsupported-media-type'
  | 'headers-too-large'
  | 'internal';

export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly problems: readonly Problem[] = [],
  ) {
    super(message);
    this.name = 'ServiceError';
  }

  /** Seconds after which the request may be tried again (`Retry-After`), if it may. */
  retryAfterSeconds: number | undefined;

  /** This error, answered with `Retry-After: seconds`. */
  retryAfter(seconds: number): this {
    this.retryAfterSeconds = seconds;
    return this;
  }
}

export function notFound(kind: string, id: string): ServiceError {
  return new ServiceError(404, 'not-found', `no ${kind} ${id}`);
}

/** `routes[0].target.id`: the path of a problem, written as lab files' problems are. */
export { formatPath };

/** Every zod issue as a problem with its path; unknown fields one problem each, at their own path. */
export function zodProblems(error: z.ZodError): Problem[] {
  const out: Problem[] = [];
  const add = (issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: 'unknown field' });
      return;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A route target (or any union) whose shape was picked by its tag: report that shape's problems.
      const own = issue.errors.filter(
        (errors) => errors.length > 0 && errors.every((e) => e.path.length > 0),
      );
      if (own.length === 1) {
        for (const inner of own[0]!) add(inner, path);
        return;
      }
    }
    out.push({ path: formatPath(path), message: issue.message });
  };
  for (const issue of error.issues) add(issue, []);
  return out;
}

/** Parses a request body with a schema, or throws a 400 with every problem. */
export function parseBody<T>(schema: z.ZodType<T>, input: unknown): T {
  if (input === undefined || input === null)
    throw new ServiceError(400, 'invalid-request', 'the request needs a JSON body', [
      { path: '', message: 'expected a JSON object' },
    ]);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = zodProblems(result.error);
  throw new ServiceError(
    400,
    'invalid-request',
    `the request body has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    problems,
  );
}
