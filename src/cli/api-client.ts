/**
 * The CLI's side of the API: where it is and which token to send, and requests that turn every
 * failure into one clear message.
 *
 * Endpoint and token, first found wins: `--endpoint` / `--token`, then the environment
 * (`VNET_ENDPOINT`, `VNET_TOKEN`), then the config file (`~/.config/vnet/config.json`, or the
 * path in `VNET_CONFIG`: `{ "endpoint": "http://127.0.0.1:7480", "token": "vnet_..." }`), then
 * the default endpoint `http://127.0.0.1:7480`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:7480';

export interface ClientConfig {
  readonly endpoint: string;
  readonly token: string | undefined;
}

/** A failure the CLI reports in one line (and its problems), exit status 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly problems: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The API said no: its status, code, message and problems. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    problems: readonly { path: string; message: string }[],
  ) {
    super(message, problems);
    this.name = 'ApiError';
  }
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.VNET_CONFIG ?? join(homedir(), '.config', 'vnet', 'config.json');
}

export function resolveConfig(
  flags: { endpoint?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): ClientConfig {
  const path = configPath(env);
  let file: { endpoint?: unknown; token?: unknown } = {};
  if (existsSync(path)) {
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as typeof file;
    } catch (error) {
      throw new CliError(`config file ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (file === null || typeof file !== 'object')
      throw new CliError(`config file ${path}: not a JSON object`);
  }
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const endpoint = (
    flags.endpoint ??
    str(env.VNET_ENDPOINT) ??
    str(file.endpoint) ??
    DEFAULT_ENDPOINT
  ).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(endpoint))
    throw new CliError(`the endpoint "${endpoint}" is not an http:// or https:// URL`);
  return { endpoint, token: flags.token ?? str(env.VNET_TOKEN) ?? str(file.token) };
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'no such host';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timed out';
    default:
      return cause?.message ?? (error instanceof Error ? error.message : String(error));
  }
}

/** What a dry run answered: the change was checked and rolled back (thrown to end the command). */
export class DryRunAnswer extends Error {
  constructor(
    readonly answer: {
      object: Record<string, unknown> | null;
      plan: { added: number; changed: number; removed: number; text: string[] } | null;
    },
  ) {
    super('dry run');
    this.name = 'DryRunAnswer';
  }
}

/** The POST routes that change nothing: the server refuses a dryRun on them. */
const QUESTIONS = ['/v1/reach', '/v1/ping', '/v1/trace'];

export class ApiClient {
  /** With `dryRun`, the first change this client sends is a dry run, and its answer ends the command. */
  constructor(
    readonly config: ClientConfig,
    readonly dryRun = false,
  ) {}

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const { endpoint, token } = this.config;
    // A question (reach, ping, trace) changes nothing and takes no dryRun: it is asked as usual.
    const preview = this.dryRun && method !== 'GET' && !QUESTIONS.includes(path);
    if (preview) path = `${path}${path.includes('?') ? '&' : '?'}dryRun=true`;
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${endpoint}${path}`, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(
        `cannot reach the vnet API at ${endpoint}: ${networkReason(error)} (is \`vnet serve\` running there? set --endpoint or VNET_ENDPOINT)`,
      );
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(
        `${endpoint}${path}: HTTP ${response.status}, and the answer is not JSON: is this a vnet API?`,
      );
    }
    if (!response.ok) {
      const e = (
        json as {
          error?: { code?: string; message?: string; problems?: { path: string; message: string }[] };
        }
      )?.error;
      let message = e?.message ?? `HTTP ${response.status}`;
      if (response.status === 401 && !token)
        message += ' (no token given: use --token, VNET_TOKEN or the config file)';
      throw new ApiError(response.status, e?.code ?? 'http', message, e?.problems ?? []);
    }
    // Only a change answers a dry run; a question (`POST /v1/reach`) answers as usual.
    if (preview && (json as { dryRun?: unknown } | undefined)?.dryRun === true)
      throw new DryRunAnswer(json as DryRunAnswer['answer']);
    return json as T;
  }

  /** Every page of a collection, in order; `progress` hears the count after each page. */
  async listAll<T>(
    path: string,
    query: Record<string, string> = {},
    progress?: (n: number) => void,
  ): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ ...query, limit: '500', ...(cursor ? { cursor } : {}) });
      const page: { items: T[]; next: string | null } = await this.request('GET', `${path}?${q}`);
      items.push(...page.items);
      cursor = page.next;
      progress?.(items.length);
    } while (cursor);
    return items;
  }
}
