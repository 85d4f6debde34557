/**
 * Network namespaces, through iproute2 (`ip`): whether one exists, moving an interface into one,
 * and configuring an interface inside one. Every failure becomes an error that names the
 * namespace and what `ip` said.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why a namespace step failed. */
export class NamespaceError extends Error {}

/** Whether the named namespace exists (`ip netns add NAME` makes /run/netns/NAME). */
export function namespaceExists(name: string): boolean {
  return /^[A-Za-z0-9_.-]+$/.test(name) && existsSync(`/run/netns/${name}`);
}

/** Runs `ip ARGS` (in namespace `ns` when given), returning its output; throws with `ip`'s message. */
export function ipCommand(args: readonly string[], ns?: string): string {
  const full = ns === undefined ? [...args] : ['-n', ns, ...args];
  try {
    return execFileSync('ip', full, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new NamespaceError(`ip ${full.join(' ')}: ${stderr || (error as Error).message}`);
  }
}

/**
 * Moves interface `ifname` of this namespace into namespace `ns`, renames it `rename` there, and
 * brings it up with `mtu` (and `mac`, `address` when given).
 */
export function moveInto(
  ifname: string,
  ns: string,
  options: { rename: string; mtu: number; mac?: string; address?: string },
): void {
  if (!namespaceExists(ns))
    throw new NamespaceError(`network namespace "${ns}" does not exist (ip netns add ${ns})`);
  ipCommand(['link', 'set', 'dev', ifname, 'netns', ns]);
  const settings = ['link', 'set', 'dev', ifname, 'name', options.rename, 'mtu', String(options.mtu)];
  if (options.mac !== undefined) settings.push('address', options.mac);
  ipCommand(settings, ns);
  if (options.address !== undefined)
    ipCommand(['address', 'add', options.address, 'dev', options.rename], ns);
  ipCommand(['link', 'set', 'dev', options.rename, 'up'], ns);
}
