/** `vnet serve` as a child process, as a user runs it: its stdout read until it says where it listens. */
import { type ChildProcess, spawn } from 'node:child_process';
import { repoPath } from './repo.js';

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** The admin token, when this start printed one (the first start of a database). */
  readonly adminToken: string | undefined;
  /** Everything on stdout so far. */
  stdout(): string;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function serveProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [repoPath('bin/vnet'), 'serve', '--port', '0', ...args], {
    cwd: repoPath(''),
    env: { ...process.env, VNET_ADMIN_TOKEN: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vnet serve did not start: ${out}${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          url: m[1]!,
          adminToken: /admin token[^:]*: (vnet_\S+)/.exec(out)?.[1],
          stdout: () => out,
          exited: () => exit,
        });
      }
    });
    void exit.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`vnet serve exited (${code}) before listening: ${out}${err}`));
    });
  });
}

export async function call(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read field by field
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
