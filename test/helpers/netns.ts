/**
 * Real network namespaces for tests of the real data plane: uniquely named (the test's own prefix
 * and this process's id), joined by veth pairs, removed whatever happens (`cleanup` in a finally).
 * `vtep` starts `vnet vtep` inside a namespace as its own process and resolves once it printed
 * `ready`. Every command runs through iproute2's `ip`, as a user would type it.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { repoPath } from './repo.js';

/** Why the tests of the real data plane cannot run here (not root, no `ip`, no /dev/net/tun), or null. */
export function realDataPlaneUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TAP devices, raw sockets)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs iproute2 (ip)';
  if (spawnSync('ping', ['-V']).status !== 0) return 'needs ping (apt-get install iputils-ping)';
  if (spawnSync('iperf3', ['-v']).status !== 0) return 'needs iperf3 (apt-get install iperf3)';
  if (spawnSync('ethtool', ['--version']).status !== 0) return 'needs ethtool (apt-get install ethtool)';
  if (spawnSync('test', ['-c', '/dev/net/tun']).status !== 0) return 'needs /dev/net/tun';
  return null;
}

/** Whether this kernel can make a tunnel device of `kind` (`vxlan`, `geneve`): tried in a namespace of its own. */
export function kernelHasDevice(kind: string): boolean {
  const ns = `vnet-probe-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', ns]).status !== 0) return false;
  try {
    const args = kind === 'vxlan' ? ['id', '1', 'dstport', '4789'] : ['id', '1', 'remote', '192.0.2.1'];
    return spawnSync('ip', ['-n', ns, 'link', 'add', 'probe0', 'type', kind, ...args]).status === 0;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

let serial = 0;

export class Namespaces {
  /** A short prefix unique to this test: namespace and interface names stay under 15 characters. */
  readonly prefix: string;
  private readonly made: string[] = [];
  private readonly processes: ChildProcess[] = [];

  constructor(tag: string) {
    this.prefix = `${tag}${process.pid % 10000}${serial++}`;
  }

  /** Makes namespace `PREFIX-name` with its loopback up; returns its full name. */
  add(name: string): string {
    const ns = `${this.prefix}-${name}`;
    execFileSync('ip', ['netns', 'add', ns]);
    this.made.push(ns);
    this.ip(ns, 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** `ip -n NS ARGS`, its output. */
  ip(ns: string, ...args: string[]): string {
    return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
  }

  /** Runs a command in namespace `ns`; returns its status and output (never throws). */
  run(
    ns: string,
    command: string,
    ...args: string[]
  ): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** A veth pair between two namespaces, with an address on each end, both up. */
  veth(a: string, aAddress: string, b: string, bAddress: string): { a: string; b: string } {
    const an = `${this.prefix}a`;
    const bn = `${this.prefix}b`;
    execFileSync('ip', ['link', 'add', an, 'netns', a, 'type', 'veth', 'peer', 'name', bn, 'netns', b]);
    this.ip(a, 'address', 'add', aAddress, 'dev', an);
    this.ip(a, 'link', 'set', an, 'up');
    this.ip(b, 'address', 'add', bAddress, 'dev', bn);
    this.ip(b, 'link', 'set', bn, 'up');
    return { a: an, b: bn };
  }

  /** Starts a long-running command in `ns` (killed at cleanup). */
  spawn(ns: string, command: string, ...args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.push(child);
    return child;
  }

  /** Starts `vnet vtep ARGS` in `ns`; resolves when it printed `ready` (rejects if it exits first). */
  async vtep(ns: string, ...args: string[]): Promise<RunningVtep> {
    const child = this.spawn(ns, process.execPath, repoPath('bin/vnet'), 'vtep', ...args);
    const v = new RunningVtep(child);
    await v.ready;
    return v;
  }

  /** Kills what it started and deletes every namespace it made (their interfaces go with them). */
  cleanup(): void {
    for (const p of this.processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of this.made) spawnSync('ip', ['netns', 'del', ns]);
    this.made.length = 0;
  }
}

export class RunningVtep {
  stdout = '';
  stderr = '';
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      const late = setTimeout(
        () => reject(new Error(`vnet vtep printed no "ready" in 15 s: ${this.stderr}`)),
        15_000,
      );
      late.unref();
      child.stdout?.on('data', (d: string) => {
        this.stdout += d;
        if (/^ready$/m.test(this.stdout)) {
          clearTimeout(late);
          resolve();
        }
      });
      child.stderr?.on('data', (d: string) => {
        this.stderr += d;
      });
      void this.exited.then((code) =>
        reject(new Error(`vnet vtep exited (${code}) before ready: ${this.stderr}`)),
      );
    });
  }

  /** SIGTERM, then the exit status and everything it printed. */
  async stop(): Promise<{ code: number | null; stdout: string; stderr: string }> {
    this.child.kill('SIGTERM');
    const code = await this.exited;
    return { code, stdout: this.stdout, stderr: this.stderr };
  }
}
