/**
 * The service commands' option parsers: security group and network ACL rules, route destinations
 * and `--route DEST=TARGET`. Each returns the API's shape of what it parsed, or throws commander's
 * InvalidArgumentError with the form expected (a usage mistake, exit status 2).
 */
import { InvalidArgumentError } from 'commander';
import { parseCidr } from '../../wire/index.js';
import type { Obj } from './views.js';

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `tcp:22:0.0.0.0/0`, `tcp:1024-65535:sg-0a1b2c`, `icmp:10.0.0.0/8`, `all:sg-0a1b2c`. */
export function parseRule(text: string): Obj {
  const parts = text.split(':');
  const fail = () =>
    new InvalidArgumentError(
      `"${text}" is not a rule: PROTOCOL[:PORT[-PORT]]:CIDR-or-SG, e.g. tcp:22:0.0.0.0/0, tcp:80-443:sg-0a1b2c, icmp:10.0.0.0/8`,
    );
  if (parts.length < 2 || parts.length > 3) throw fail();
  const [protocol, ...rest] = parts as [string, ...string[]];
  if (!['tcp', 'udp', 'icmp', 'all'].includes(protocol)) throw fail();
  const source = rest[rest.length - 1]!;
  const rule: Obj = { protocol };
  if (rest.length === 2) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(rest[0]!);
    if (!m) throw fail();
    rule.ports = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  if (source.includes('/')) rule.cidr = source;
  else if (/^sg-[0-9a-z]+$/.test(source)) rule.group = source;
  else throw fail();
  return rule;
}

/**
 * `100:allow:tcp:80:0.0.0.0/0`, `110:deny:tcp:1024-65535:10.0.0.0/8`, `200:allow:all:0.0.0.0/0`:
 * a network ACL rule, NUMBER:ACTION:PROTOCOL[:PORT[-PORT]]:CIDR.
 */
export function parseAclRule(text: string): Obj {
  const fail = (what: string) =>
    new InvalidArgumentError(
      `"${text}" is not a network ACL rule: ${what}; the form is NUMBER:allow|deny:PROTOCOL[:PORT[-PORT]]:CIDR, e.g. 100:allow:tcp:80:0.0.0.0/0, 200:deny:all:10.0.0.0/8`,
    );
  const parts = text.split(':');
  if (parts.length < 4 || parts.length > 5) throw fail(`${parts.length} parts, not 4 or 5`);
  const [number, action, protocol] = parts as [string, string, string];
  const n = Number(number);
  if (!/^\d+$/.test(number) || n < 1 || n > 32766) throw fail(`the rule number "${number}" is not 1..32766`);
  if (action !== 'allow' && action !== 'deny') throw fail(`the action "${action}" is not allow or deny`);
  if (!['tcp', 'udp', 'icmp', 'all'].includes(protocol))
    throw fail(`the protocol "${protocol}" is not tcp, udp, icmp or all`);
  const rule: Obj = { number: n, action, protocol };
  if (parts.length === 5) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(parts[3]!);
    const [a, b] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [];
    if (a === undefined || b === undefined || a > 65535 || b > 65535 || a > b)
      throw fail(`the ports "${parts[3]}" are not PORT or PORT-PORT within 0..65535`);
    if (protocol !== 'tcp' && protocol !== 'udp') throw fail(`ports are for tcp and udp, not ${protocol}`);
    rule.ports = [a, b];
  }
  const cidr = parts[parts.length - 1]!;
  if (parseCidr(cidr) === undefined) throw fail(`"${cidr}" is not an IPv4 prefix (a.b.c.d/len)`);
  rule.cidr = cidr;
  return rule;
}

/** A route's destination: an IPv4 prefix. */
export function parseDestination(text: string): string {
  if (parseCidr(text) === undefined)
    throw new InvalidArgumentError(`"${text}" is not a route destination: an IPv4 prefix (a.b.c.d/len)`);
  return text;
}

/** `--route DEST=TARGET`: the target (an id, `blackhole` or a name) is resolved later. */
export function parseRouteOption(text: string): { destination: string; target: string } {
  const eq = text.indexOf('=');
  if (eq < 0 || eq === text.length - 1)
    throw new InvalidArgumentError(
      `"${text}" is not a route: DEST=TARGET, e.g. 0.0.0.0/0=igw-0a1b2c, 10.2.0.0/16=pcx-0a1b2c, 10.9.0.0/16=blackhole`,
    );
  return { destination: parseDestination(text.slice(0, eq)), target: text.slice(eq + 1) };
}
