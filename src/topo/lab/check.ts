/**
 * Reading a lab file: YAML -> schema -> cross-reference checks, with every problem found listed
 * at once, each with its path (`links[3].b: unknown node "sw9"`). Never throws on bad input.
 * Warnings (legal, but probably not what was meant: two interfaces of one segment with the same
 * address) come with the result, whether the lab is refused or not.
 */
import { type Document, isAlias, isCollection, isPair, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { cidrContains, formatCidr, parseCidr, parseIpv4Address } from '../../wire/index.js';
import { buildFabric, fabricProblems } from '../fabric.js';
import { L3_SWITCH_CPU_PORT, vlanifName } from '../l3-switch.js';
import { Network } from '../network.js';
import { interfaceAddressProblem } from './addresses.js';
import { fabricNodeKinds, fabricSpec } from './fabric.js';
import {
  type LabFile,
  type LabNode,
  labSchema,
  nullPrototype,
  parsePool,
  type StepBody,
  type StepKind,
  stepKind,
} from './schema.js';
import { duplicateAddresses, type LinkEnd } from './segments.js';

export interface LabIssue {
  /** Where, e.g. `links[3].b` or `nodes.r1.routes[0].via`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/** `issues` refuse the lab; `warnings` do not (both carry paths, and are printed the same way). */
export type LabParseResult =
  | { readonly ok: true; readonly lab: LabFile; readonly warnings: LabIssue[] }
  | { readonly ok: false; readonly issues: LabIssue[]; readonly warnings: LabIssue[] };

/**
 * YAML aliases: real files reference an anchor many times (a node template, a repeated step), but
 * an alias bomb (each level ten aliases of the one before) makes a few lines into a billion values
 * that validation would walk. The limits are on what the aliases expand to, counted before anything
 * is built (the yaml package's own guard, `maxAliasCount`, defaults to 100 and would refuse real files).
 */
export const MAX_YAML_ALIASES = 10_000;
export const MAX_YAML_VALUES = 1_000_000;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(key)))
      out += out === '' ? String(key) : `.${String(key)}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

export function formatIssue(issue: LabIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/**
 * Zod's issues as lab issues. A script step matches none of the step shapes when anything in it is
 * wrong; zod then says only "Invalid input" for the whole step. The step's own shape (the one
 * whose every problem lies inside its key, e.g. `migrate`) says what is wrong: its issues are
 * reported instead, with their paths.
 */
function zodIssues(error: z.ZodError): LabIssue[] {
  const out: LabIssue[] = [];
  const add = (issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]) => {
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const own = issue.errors.filter(
        (errors) =>
          errors.length > 0 &&
          errors.every(
            (e) => e.path.length > 0 && e.path[0] === errors[0]!.path[0] && e.code !== 'unrecognized_keys',
          ),
      );
      if (own.length === 1) {
        for (const inner of own[0]!) add(inner, [...prefix, ...issue.path]);
        return;
      }
    }
    out.push({ path: formatPath([...prefix, ...issue.path]), message: issue.message });
  };
  for (const issue of error.issues) add(issue, []);
  return out;
}

/** Parses YAML text and validates it; returns the lab or every problem. */
export function parseLab(text: string): LabParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const what = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return { path: '', message: at ? `YAML line ${at.line} column ${at.col}: ${what}` : `YAML: ${what}` };
      }),
      warnings: [],
    };
  }
  const aliases = aliasProblem(doc, lines);
  if (aliases) return { ok: false, issues: [{ path: '', message: aliases }], warnings: [] };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: -1 }); // counted by aliasProblem
  } catch (error) {
    const message = `YAML: ${error instanceof Error ? error.message : String(error)}`;
    return { ok: false, issues: [{ path: '', message }], warnings: [] };
  }
  return validateLab(data);
}

/**
 * The first alias that breaks a limit (too many aliases, an expansion past MAX_YAML_VALUES, or an
 * alias inside the node it names), as `YAML line L column C: ...`; undefined when none does.
 * Walks the document in order, as the yaml package resolves aliases: each names the last node
 * anchored with its name before it.
 */
function aliasProblem(doc: Document, lines: LineCounter): string | undefined {
  const anchors = new Map<string, object>();
  /** Values each anchored node expands to; NaN while it is being walked. */
  const sizes = new Map<object, number>();
  let aliases = 0;
  let total = 0;
  let problem: string | undefined;
  const at = (node: { range?: readonly number[] | null }) => {
    const { line, col } = lines.linePos(node.range?.[0] ?? 0);
    return `YAML line ${line} column ${col}`;
  };
  const walk = (node: unknown): number => {
    if (problem !== undefined || node === null || typeof node !== 'object') return 0;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) return 0; // reported by the parser
      const size = sizes.get(target);
      aliases += 1;
      if (size === undefined || Number.isNaN(size)) {
        problem = `${at(node)}: alias *${node.source} is inside the ${isSeq(target) ? 'list' : 'map'} it names (a cycle)`;
        return 0;
      }
      total += size;
      if (aliases > MAX_YAML_ALIASES)
        problem = `${at(node)}: more than ${MAX_YAML_ALIASES.toLocaleString('en-US')} aliases; a lab file is refused past that`;
      else if (total > MAX_YAML_VALUES)
        problem = `${at(node)}: alias *${node.source} expands the file past ${MAX_YAML_VALUES.toLocaleString('en-US')} values (an alias bomb?); a lab file is refused past that`;
      return size;
    }
    if (isPair(node)) return walk(node.key) + walk(node.value);
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor !== undefined) {
      anchors.set(anchor, node);
      sizes.set(node, Number.NaN);
    }
    total += 1;
    let size = 1;
    if (isCollection(node)) for (const item of node.items) size += walk(item);
    if (anchor !== undefined) sizes.set(node, size);
    return size;
  };
  walk(doc.contents);
  return problem;
}

/** Validates a lab given as plain data (YAML already parsed, or built in code). */
export function validateLab(data: unknown): LabParseResult {
  const proto = protoKeyIssues(data);
  const parsed = labSchema.safeParse(data);
  if (!parsed.success || proto.length > 0) {
    // The full cross-checks need the shapes right; the node names links and steps use can be
    // checked already, so that a typo there is reported together with the shape problems.
    const issues = [...proto, ...(parsed.success ? [] : zodIssues(parsed.error))];
    const seen = new Set(issues.map((i) => i.path));
    for (const issue of referenceIssues(data)) if (!seen.has(issue.path)) issues.push(issue);
    return { ok: false, issues, warnings: [] };
  }
  const { issues, warnings } = crossCheck(parsed.data);
  return issues.length > 0 ? { ok: false, issues, warnings } : { ok: true, lab: parsed.data, warnings };
}

/**
 * `__proto__` as a key (a node, an interface, a port...): a JavaScript object cannot hold it as
 * a name (assigning it replaces the object's prototype, and zod skips it), so the thing it names
 * would silently vanish. Found in the raw data (YAML and JSON.parse make it an own key) and refused.
 */
function protoKeyIssues(data: unknown): LabIssue[] {
  const issues: LabIssue[] = [];
  const seen = new Set<object>();
  const walk = (value: unknown, path: PropertyKey[]) => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, [...path, i]);
      });
      return;
    }
    for (const key of Object.keys(value)) {
      if (key === '__proto__')
        issues.push({
          path: formatPath([...path, key]),
          message:
            '"__proto__" cannot be a name: it is the prototype key of JavaScript objects (a node, port or interface would vanish)',
        });
      else walk((value as Record<string, unknown>)[key], [...path, key]);
    }
  };
  walk(data, []);
  return issues;
}

/** Unknown node names in links and script steps, read from unvalidated data (anything else is skipped). */
function referenceIssues(data: unknown): LabIssue[] {
  const issues: LabIssue[] = [];
  if (typeof data !== 'object' || data === null) return issues;
  const raw = data as { nodes?: unknown; links?: unknown; script?: unknown; fabric?: unknown };
  if (raw.nodes !== undefined && (typeof raw.nodes !== 'object' || raw.nodes === null)) return issues;
  if (raw.fabric !== undefined) return issues; // its names are known only once its shape is right
  const names = new Set(Object.keys(raw.nodes ?? {}));
  if (Array.isArray(raw.links)) {
    raw.links.forEach((link: unknown, i) => {
      if (typeof link !== 'object' || link === null) return;
      for (const end of ['a', 'b'] as const) {
        const v = (link as Record<string, unknown>)[end];
        if (typeof v !== 'string') continue;
        const { node } = splitEndpoint(v);
        if (!names.has(node)) issues.push({ path: `links[${i}].${end}`, message: `unknown node "${node}"` });
      }
    });
  }
  if (Array.isArray(raw.script)) {
    raw.script.forEach((step: unknown, i) => {
      if (typeof step !== 'object' || step === null) return;
      for (const [kind, body] of Object.entries(step)) {
        if (typeof body !== 'object' || body === null) continue;
        for (const key of ['from', 'node', 'vm', 'to'] as const) {
          if (key === 'to' && kind !== 'migrate') continue; // elsewhere `to` is an address
          const v = (body as Record<string, unknown>)[key];
          if (typeof v === 'string' && !names.has(v))
            issues.push({ path: `script[${i}].${kind}.${key}`, message: `unknown node "${v}"` });
        }
      }
    });
  }
  return issues;
}

/** Splits `node:port`. */
export function splitEndpoint(endpoint: string): { node: string; port: string | undefined } {
  const colon = endpoint.indexOf(':');
  return colon < 0
    ? { node: endpoint, port: undefined }
    : { node: endpoint.slice(0, colon), port: endpoint.slice(colon + 1) };
}

/** The routed interfaces of a router, or the VLANIFs (vlanif<VID> on the internal port `cpu`) of an L3 switch. */
export function routedInterfaces(node: LabNode): Record<
  string,
  {
    ip: string | string[];
    mac?: string;
    port?: string;
    vlan?: number;
    dhcp?: { pool: string; leaseTime?: string | number; router?: string };
  }
> {
  if (node.kind === 'router') return node.interfaces;
  if (node.kind === 'nve') return node.interfaces ?? nullPrototype({});
  if (node.kind === 'l3switch')
    return nullPrototype(
      Object.fromEntries(
        Object.entries(node.vlanifs).map(([vid, v]) => [
          vlanifName(Number(vid)),
          { ...v, port: L3_SWITCH_CPU_PORT, vlan: Number(vid) },
        ]),
      ),
    );
  return nullPrototype({});
}

/** Physical ports a node declares (hosts: eth0 and their nics; routers: their interfaces' ports); null for switches and hubs. */
function declaredPorts(node: LabNode): Set<string> | null {
  if (node.kind === 'host') return new Set(['eth0', ...Object.keys(node.nics ?? {})]);
  if (node.kind === 'router') return new Set(Object.entries(node.interfaces).map(([n, i]) => i.port ?? n));
  if (node.kind === 'nve')
    return new Set([
      ...Object.entries(node.interfaces ?? {}).map(([n, i]) => i.port ?? n),
      ...Object.keys(node.ports ?? {}),
      ...(node.subinterfaces ?? []).map((v) => v.port),
    ]);
  return null; // switches and hubs grow ports as links need them
}

/**
 * What the parts of `crossCheck` share: the lab, where problems go, the nodes the fabric generates,
 * the ports links take (`node:port` to the path of the link end that took it), and the look-ups
 * on them the script's steps use.
 */
interface CheckContext {
  readonly lab: LabFile;
  readonly nodes: LabFile['nodes'];
  readonly add: (path: string, message: string) => void;
  /** The nodes the fabric generates, name to kind. */
  readonly generated: Map<string, string>;
  /** `node:port` to the path of the link end (or step) that took it. */
  readonly used: Map<string, string>;
  /** The kind of a node of the lab or of the fabric; undefined for an unknown name. */
  readonly kindOf: (n: string) => string | undefined;
  /** Why `port` of the generated node `node` cannot be linked (forLink) or captured; null when it can. */
  readonly fabricPortProblem: (node: string, port: string, forLink: boolean) => string | null;
}

function checkContext(lab: LabFile, issues: LabIssue[]): CheckContext {
  const nodes = lab.nodes;
  const generated = lab.fabric ? fabricNodeKinds(lab.fabric) : new Map<string, string>();
  const used = new Map<string, string>();
  // The ports of generated nodes are known once the fabric is built: built here only if the lab names one.
  let fabricNet: Network | null = null;
  const fabricPortProblem = (node: string, port: string, forLink: boolean): string | null => {
    if (fabricNet === null) {
      fabricNet = new Network();
      buildFabric(fabricNet, fabricSpec(lab.fabric!));
    }
    const device = fabricNet.node(node);
    const p = device.port(port);
    // A switch grows a port for a link that names a new one (a capture may name it after that link).
    if (!p && generated.get(node) === 'switch' && (forLink || used.has(`${node}:${port}`))) return null;
    if (!p)
      return `${node} has no port "${port}" (the fabric gives it ${device.ports.map((x) => x.name).join(', ')})`;
    if (forLink && p.link !== null) return `port ${node}:${port} is already linked inside the fabric`;
    return null;
  };
  return {
    lab,
    nodes,
    add: (path, message) => issues.push({ path, message }),
    generated,
    used,
    kindOf: (n) => nodes[n]?.kind ?? generated.get(n),
    fabricPortProblem,
  };
}

/** The checks that need the whole lab (names, ports, addresses, the script's order), after the schema's. */
function crossCheck(lab: LabFile): { issues: LabIssue[]; warnings: LabIssue[] } {
  const issues: LabIssue[] = [];
  const ctx = checkContext(lab, issues);
  checkFabric(ctx);
  for (const [name, node] of Object.entries(lab.nodes)) {
    const at = `nodes.${name}`;
    if (node.kind === 'host') checkHost(ctx, node, at);
    if (node.kind === 'l3switch') checkL3Switch(ctx, node, at);
    if (node.kind === 'router' || node.kind === 'l3switch') checkRouted(ctx, name, node, at);
  }
  issues.push(...nveIssues(lab));
  const ends = checkLinks(ctx);
  checkScript(ctx);
  return { issues, warnings: duplicateAddresses(lab, ends, formatPath) };
}

/** The fabric's own problems, and nodes of the lab named like one the fabric creates. */
function checkFabric({ lab, add, generated }: CheckContext): void {
  if (!lab.fabric) return;
  for (const p of fabricProblems(fabricSpec(lab.fabric))) add(p.path, p.message);
  for (const name of Object.keys(lab.nodes))
    if (generated.has(name)) add(`nodes.${name}`, `the fabric already creates a node named ${name}`);
}

/** A host: ip or DHCP (not both), its DHCP server's pool, its gateway, and its UDP echo port. */
function checkHost({ add }: CheckContext, node: Extract<LabNode, { kind: 'host' }>, at: string): void {
  if (node.dhcp && node.ip !== undefined)
    add(`${at}.dhcp`, 'a host gets its address either from ip or by dhcp, not both');
  if (node.dhcp && node.gateway !== undefined)
    add(`${at}.gateway`, 'a DHCP client learns its gateway from the server');
  if (node.dhcpServer) {
    const own = node.ip ? parseCidr(node.ip) : undefined;
    const pool = parsePool(node.dhcpServer.pool)!;
    if (!own) add(`${at}.dhcpServer`, 'a DHCP server needs the host to have an ip');
    else if (!cidrContains(own, pool.first) || !cidrContains(own, pool.last))
      add(`${at}.dhcpServer.pool`, `the pool is not inside the host's subnet`);
  }
  if (node.gateway !== undefined) {
    const ip = node.ip ? parseCidr(node.ip) : undefined;
    const gateway = parseIpv4Address(node.gateway)!;
    if (!ip) add(`${at}.gateway`, 'a gateway needs the host to have an ip');
    else if (gateway === ip.address)
      add(
        `${at}.gateway`,
        `gateway ${node.gateway} is the host's own address (a gateway is another node on its subnet)`,
      );
    else if (cidrContains(ip, gateway)) {
      // On the subnet: still not its network or broadcast address (RFC 1122 3.2.1.3, RFC 919/922).
      const form = interfaceAddressProblem(gateway, ip);
      if (form) add(`${at}.gateway`, `gateway ${form}`);
    } else
      add(
        `${at}.gateway`,
        `gateway ${node.gateway} is not on the host's subnet ${formatCidr({ address: ip.address & (0xffffffff << (32 - ip.prefixLength)), prefixLength: ip.prefixLength })}`,
      );
  }
  const echo = node.udpEcho === true ? 7 : node.udpEcho || undefined;
  if (echo === 67 && node.dhcpServer) add(`${at}.udpEcho`, 'port 67 is taken by the DHCP server');
  if (echo === 68 && node.dhcp) add(`${at}.udpEcho`, 'port 68 is taken by the DHCP client');
}

/** An L3 switch: no port named like its internal port `cpu`, and VLANIF IDs in 1..4094. */
function checkL3Switch(
  { add }: CheckContext,
  node: Extract<LabNode, { kind: 'l3switch' }>,
  at: string,
): void {
  if (node.ports && L3_SWITCH_CPU_PORT in node.ports)
    add(`${at}.ports.cpu`, 'port "cpu" is the L3 switch\'s internal port to its routing engine');
  for (const vid of Object.keys(node.vlanifs)) {
    if (!(Number(vid) >= 1 && Number(vid) <= 4094))
      add(`${at}.vlanifs["${vid}"]`, 'VLAN IDs are 1..4094 (0 and 4095 are reserved)');
  }
}

/** A routed node's interfaces (router interfaces, or an L3 switch's VLANIFs) with their subnets. */
interface Routed {
  readonly name: string;
  readonly at: string;
  readonly interfaces: ReturnType<typeof routedInterfaces>;
  readonly subnets: readonly { iname: string; cidr: NonNullable<ReturnType<typeof parseCidr>> }[];
}

/** A router or an L3 switch: its routed interfaces, its routes, and its ACLs. */
function checkRouted(
  ctx: CheckContext,
  name: string,
  node: Extract<LabNode, { kind: 'router' | 'l3switch' }>,
  at: string,
): void {
  const interfaces = routedInterfaces(node);
  const subnets = Object.entries(interfaces).flatMap(([iname, i]) =>
    (Array.isArray(i.ip) ? i.ip : [i.ip]).map((t) => ({ iname, cidr: parseCidr(t)! })),
  );
  const routed: Routed = { name, at, interfaces, subnets };
  checkRoutedInterfaces(ctx, routed);
  checkRoutes(ctx, routed, node.routes ?? []);
  checkAcls(ctx, routed, node);
}

/** Routed interfaces: each DHCP pool inside a subnet of its interface, and one interface per port and VLAN. */
function checkRoutedInterfaces({ add }: CheckContext, { at, interfaces, subnets }: Routed): void {
  for (const [iname, i] of Object.entries(interfaces)) {
    if (!i.dhcp) continue;
    const pool = parsePool(i.dhcp.pool)!;
    const own = subnets.filter((s) => s.iname === iname).map((s) => s.cidr);
    if (!own.some((c) => cidrContains(c, pool.first) && cidrContains(c, pool.last)))
      add(`${at}.interfaces.${iname}.dhcp.pool`, `the pool is not inside a subnet of ${iname}`);
  }
  const vlanPorts = new Map<string, string>();
  for (const [iname, i] of Object.entries(interfaces)) {
    const key = `${i.port ?? iname}/${i.vlan ?? '-'}`;
    const other = vlanPorts.get(key);
    if (other)
      add(
        `${at}.interfaces.${iname}`,
        `uses the same port${i.vlan ? ` and VLAN ${i.vlan}` : ''} as interface ${other}`,
      );
    vlanPorts.set(key, iname);
  }
}

/** Static routes: via or dev, a dev among the interfaces, and a via on a connected subnet. */
function checkRoutes(
  { add }: CheckContext,
  { name, at, interfaces, subnets }: Routed,
  routes: readonly { via?: string; dev?: string }[],
): void {
  routes.forEach((r, i) => {
    const rp = `${at}.routes[${i}]`;
    if (r.via === undefined && r.dev === undefined)
      add(rp, 'a route needs via (next hop) or dev (interface)');
    if (r.dev !== undefined && !(r.dev in interfaces)) add(`${rp}.dev`, `unknown interface "${r.dev}"`);
    if (r.via !== undefined && r.dev === undefined) {
      const hop = parseIpv4Address(r.via)!;
      if (!subnets.some((s) => cidrContains(s.cidr, hop)))
        add(`${rp}.via`, `next hop ${r.via} is not on any connected subnet of ${name}`);
    }
  });
}

/** ACLs: ports only for TCP and UDP, port ranges low-high within 0..65535, and bindings to known interfaces and ACLs. */
function checkAcls(
  { add }: CheckContext,
  { at, interfaces }: Routed,
  node: Extract<LabNode, { kind: 'router' | 'l3switch' }>,
): void {
  for (const [aclName, rules] of Object.entries(node.acls ?? {})) {
    rules.forEach((r, i) => {
      for (const key of ['srcPort', 'dstPort'] as const) {
        const v = r[key];
        if (v === undefined) continue;
        if (r.protocol !== 'tcp' && r.protocol !== 'udp')
          add(`${at}.acls.${aclName}[${i}].${key}`, 'ports apply to protocol tcp or udp only');
        if (typeof v === 'string') {
          const [from, to] = v.split('-').map(Number);
          if (!(from! >= 0 && to! <= 65535 && from! <= to!))
            add(
              `${at}.acls.${aclName}[${i}].${key}`,
              `"${v}" is not a port range (low-high within 0..65535)`,
            );
        }
      }
    });
  }
  (node.applyAcls ?? []).forEach((b, i) => {
    if (!(b.interface in interfaces))
      add(`${at}.applyAcls[${i}].interface`, `unknown interface "${b.interface}"`);
    if (!node.acls || !(b.acl in node.acls)) add(`${at}.applyAcls[${i}].acl`, `unknown ACL "${b.acl}"`);
  });
}

/**
 * The links: known nodes and ports (a generated node's from the built fabric), each port linked
 * once, an NVE's port named, a host's NIC (its first free one when the link names none), and two
 * different nodes per link. Fills `used`; returns each link's ends with the port each takes.
 */
function checkLinks({
  lab,
  nodes,
  add,
  generated,
  used,
  fabricPortProblem,
}: CheckContext): [LinkEnd, LinkEnd][] {
  /** Each link's ends with the port each takes (a host's first free NIC when the link names none). */
  const ends: [LinkEnd, LinkEnd][] = [];
  lab.links.forEach((link, i) => {
    const taken: LinkEnd[] = [];
    for (const end of ['a', 'b'] as const) {
      const { node, port } = splitEndpoint(link[end]);
      const path = `links[${i}].${end}`;
      const n = nodes[node];
      taken.push({ node, port });
      if (!n) {
        if (!generated.has(node)) add(path, `unknown node "${node}"`);
        else if (port !== undefined) {
          const problem = fabricPortProblem(node, port, true);
          if (problem) add(path, problem);
          else if (used.has(`${node}:${port}`))
            add(path, `port ${node}:${port} is already linked by ${used.get(`${node}:${port}`)}`);
          else used.set(`${node}:${port}`, path);
        }
        continue;
      }
      const declared = declaredPorts(n);
      if (n.kind === 'nve' && port === undefined)
        add(
          path,
          `name the port of ${node}: an NVE's ports are its interfaces, VLAN-mode ports and sub-interface ports`,
        );
      if (port !== undefined && declared && !declared.has(port))
        add(path, `${node} has no port "${port}" (it has ${[...declared].join(', ') || 'none'})`);
      // A link that names no port of a host takes its first NIC not yet linked.
      const hostNic =
        n.kind === 'host' && port === undefined
          ? [...declared!].find((nic) => !used.has(`${node}:${nic}`))
          : undefined;
      const effective = port ?? (n.kind === 'host' ? (hostNic ?? 'eth0') : undefined);
      taken[taken.length - 1] = { node, port: effective };
      if (effective !== undefined) {
        const key = `${node}:${effective}`;
        const first = used.get(key);
        if (first)
          add(
            path,
            n.kind === 'host' && port === undefined
              ? `every NIC of ${node} is already linked (eth0 by ${first})`
              : `port ${key} is already linked by ${first}`,
          );
        else used.set(key, path);
      }
    }
    const a = splitEndpoint(link.a).node;
    if (a === splitEndpoint(link.b).node) add(`links[${i}]`, `both ends are on ${a}`);
    ends.push(taken as [LinkEnd, LinkEnd]);
  });
  return ends;
}

/** What the script's steps share as it is read in order: the context, plus what earlier steps did. */
interface ScriptContext extends CheckContext {
  /** Where each VM is for a `migrate` step: its eth0's link's other end, then each earlier step's destination. */
  readonly places: Map<string, { node: string; port: string | undefined } | null>;
  /** Ports a `migrate` step plugged the VM into (by the step). */
  readonly plugged: Map<string, string>;
  /** Ports a VM left (free again). */
  readonly unplugged: Set<string>;
  /** Each capture file to the step that writes it. */
  readonly captureFiles: Map<string, string>;
  /** Each TCP session's name to the step that opens it. */
  readonly sessions: Map<string, string>;
}

/** That a step's node exists and is of one of `kinds`. */
function needNode({ add, kindOf }: CheckContext, n: string, path: string, kinds: readonly string[]): void {
  const kind = kindOf(n);
  if (kind === undefined) add(path, `unknown node "${n}"`);
  else if (!kinds.includes(kind)) add(path, `${n} is a ${kind}; this step needs a ${kinds.join(' or ')}`);
}

/** That a step's link reference names a link: an index in range, or two nodes some link joins. */
function linkIndex(
  { lab, add, generated }: CheckContext,
  ref: number | [string, string],
  path: string,
): void {
  if (typeof ref === 'number') {
    if (ref >= lab.links.length) add(path, `there is no link ${ref} (the lab has ${lab.links.length})`);
    return;
  }
  const [x, y] = ref;
  if (generated.has(x) && generated.has(y)) return; // a fabric link: checked when the fabric is built
  const found = lab.links.some((l) => {
    const a = splitEndpoint(l.a).node;
    const b = splitEndpoint(l.b).node;
    return (a === x && b === y) || (a === y && b === x);
  });
  if (!found) add(path, `no link joins ${x} and ${y}`);
}

/** A step checker per kind: the step's body and its path (`script[i]`). */
type StepCheckers = { readonly [K in StepKind]: (ctx: ScriptContext, body: StepBody<K>, at: string) => void };

/** What each step kind checks, keyed by kind; one entry per step of the schema (the type makes sure of it). */
const stepCheckers: StepCheckers = {
  ping: (ctx, p, at) => needNode(ctx, p.from, `${at}.ping.from`, ['host']),
  'tcp-server': (ctx, t, at) => needNode(ctx, t.node, `${at}.tcp-server.node`, ['host']),
  'tcp-bulk': (ctx, t, at) => needNode(ctx, t.from, `${at}.tcp-bulk.from`, ['host']),
  'tcp-session': (ctx, s, at) => {
    needNode(ctx, s.from, `${at}.tcp-session.from`, ['host']);
    const first = ctx.sessions.get(s.name);
    if (first) ctx.add(`${at}.tcp-session.name`, `session "${s.name}" is already opened by ${first}`);
    else ctx.sessions.set(s.name, `${at}.tcp-session`);
  },
  'tcp-status': ({ add, sessions }, { session: name }, at) => {
    if (!sessions.has(name))
      add(
        `${at}.tcp-status.session`,
        `no tcp-session step before this one opens "${name}"${sessions.size ? ` (sessions: ${[...sessions.keys()].join(', ')})` : ''}`,
      );
  },
  udp: (ctx, u, at) => needNode(ctx, u.from, `${at}.udp.from`, ['host']),
  path: (ctx, p, at) => needNode(ctx, p.from, `${at}.path.from`, ['host']),
  arp: (ctx, a, at) => needNode(ctx, a.node, `${at}.arp.node`, ['host', 'router']),
  wait: () => {}, // nothing to check beyond the schema
  link: (ctx, l, at) => linkIndex(ctx, l.link as number | [string, string], `${at}.link.link`),
  migrate: (ctx, mg, at) => {
    needNode(ctx, mg.vm, `${at}.migrate.vm`, ['host']);
    needNode(ctx, mg.to, `${at}.migrate.to`, ['switch', 'hub', 'nve']);
    if (mg.to === mg.vm) ctx.add(`${at}.migrate.to`, 'a VM cannot move into itself');
    else checkMigrate(ctx, mg, at);
  },
  capture: checkCapture,
  show: (ctx, { node, table }, at) => {
    const tableKinds: Record<string, string[]> = {
      mac: ['switch', 'l3switch'],
      arp: ['host', 'router', 'l3switch', 'nve'],
      routes: ['host', 'router', 'l3switch', 'nve'],
      acl: ['router', 'l3switch'],
      interfaces: ['host', 'router', 'l3switch', 'nve'],
      counters: ['host', 'router', 'switch', 'hub', 'l3switch', 'nve'],
      stp: ['switch', 'l3switch'],
      dhcp: ['host', 'router', 'l3switch'],
      bd: ['nve'],
      'bd-mac': ['nve'],
      flood: ['nve'],
      'arp-suppression': ['nve'],
      vaps: ['nve'],
      'vrf-routes': ['nve'],
      'gateway-arp': ['nve'],
      ecmp: ['router', 'nve'],
      controller: ['nve'],
      nat: ['router', 'nve'],
      tcp: ['host', 'router'],
    };
    needNode(ctx, node, `${at}.show.node`, tableKinds[table]!);
  },
};

/** The script: each step in order, by the checker of its kind (run after the links, whose ports it reads). */
function checkScript(ctx: CheckContext): void {
  const script: ScriptContext = {
    ...ctx,
    places: new Map(),
    plugged: new Map(),
    unplugged: new Set(),
    captureFiles: new Map(),
    sessions: new Map(),
  };
  ctx.lab.script.forEach((step, i) => {
    const kind = stepKind(step);
    const checker = stepCheckers[kind] as (ctx: ScriptContext, body: unknown, at: string) => void;
    checker(script, step[kind as keyof typeof step], `script[${i}]`);
  });
}

/** Where a VM is before a `migrate` step: its eth0's link's other end, then each earlier step's destination. */
function placeOf(
  { lab, used, places }: ScriptContext,
  vm: string,
): { node: string; port: string | undefined } | null {
  if (!places.has(vm)) {
    const path = used.get(`${vm}:eth0`);
    const m = path === undefined ? null : /^links\[(\d+)\]\.(a|b)$/.exec(path);
    const link = m === null ? undefined : lab.links[Number(m[1])];
    places.set(vm, link === undefined ? null : splitEndpoint(m![2] === 'a' ? link.b : link.a));
  }
  return places.get(vm)!;
}

/** Who has a port at this point of the script: a `migrate` step, or a link unless a VM left it. */
function takenBy({ used, plugged, unplugged }: ScriptContext, key: string): string | undefined {
  return plugged.get(key) ?? (unplugged.has(key) ? undefined : used.get(key));
}

/**
 * A `migrate` step of a VM of the lab to a switch, hub or NVE: the VM is linked somewhere else, of
 * the kind it can move from, and the port it is plugged into is free; then it is there.
 */
function checkMigrate(ctx: ScriptContext, mg: { vm: string; to: string; port?: string }, at: string): void {
  const { nodes, add, kindOf, plugged, unplugged, places } = ctx;
  // Generated VMs are plugged inside the fabric: the run reports their problems.
  if (nodes[mg.vm]?.kind !== 'host') return;
  const toKind = kindOf(mg.to);
  if (toKind !== 'switch' && toKind !== 'hub' && toKind !== 'nve') return;
  const place = placeOf(ctx, mg.vm);
  if (place === null)
    return add(`${at}.migrate.vm`, `${mg.vm} is not linked to anything: there is no place to move it from`);
  if (place.node === mg.to) return add(`${at}.migrate.to`, `${mg.vm} is already on ${mg.to}`);
  const fromKind = kindOf(place.node);
  const need =
    toKind === 'switch' && fromKind !== 'switch' && fromKind !== 'l3switch'
      ? 'a switch'
      : toKind === 'nve' && fromKind !== 'nve'
        ? 'an NVE'
        : null;
  if (need !== null)
    return add(
      `${at}.migrate.to`,
      `${mg.vm} is attached to ${place.node}, not ${need}: it cannot move to ${toKind === 'nve' ? 'NVE' : 'switch'} ${mg.to}`,
    );
  if (mg.port !== undefined) {
    const key = `${mg.to}:${mg.port}`;
    const by = takenBy(ctx, key);
    if (by !== undefined)
      return add(
        `${at}.migrate.port`,
        `port ${key} is already ${by.startsWith('links') ? 'linked' : 'taken'} by ${by}`,
      );
    plugged.set(key, `${at}.migrate`);
  }
  if (place.port !== undefined) {
    const old = `${place.node}:${place.port}`;
    if (plugged.has(old)) plugged.delete(old);
    else unplugged.add(old);
  }
  places.set(mg.vm, { node: mg.to, port: mg.port });
}

/** A `capture` step: a file no earlier capture writes, and exactly one of a link or a port that exists. */
function checkCapture(ctx: ScriptContext, c: StepBody<'capture'>, at: string): void {
  const { nodes, add, generated, used, captureFiles, fabricPortProblem } = ctx;
  const firstFile = captureFiles.get(c.file);
  if (firstFile) add(`${at}.capture.file`, `${c.file} is already written by ${firstFile}`);
  else captureFiles.set(c.file, `${at}.capture`);
  if ((c.link === undefined) === (c.port === undefined))
    add(`${at}.capture`, 'give exactly one of link or port');
  if (c.link !== undefined) linkIndex(ctx, c.link as number | [string, string], `${at}.capture.link`);
  if (c.port !== undefined) {
    const { node, port } = splitEndpoint(c.port);
    const n = nodes[node];
    if (!n && generated.has(node)) {
      if (port === undefined) add(`${at}.capture.port`, 'name the port: node:port');
      else {
        const problem = fabricPortProblem(node, port, false);
        if (problem) add(`${at}.capture.port`, problem);
      }
    } else if (!n) add(`${at}.capture.port`, `unknown node "${node}"`);
    else if (port === undefined) add(`${at}.capture.port`, 'name the port: node:port');
    else {
      const declared = declaredPorts(n);
      const exists = declared
        ? declared.has(port)
        : used.has(`${node}:${port}`) ||
          ((n.kind === 'switch' || n.kind === 'l3switch') && n.ports !== undefined && port in n.ports);
      if (!exists)
        add(`${at}.capture.port`, `${node} has no port "${port}" in this lab (name it in a link first)`);
    }
  }
}

/** The NVE nodes' own cross-references: bridge domains, VNIs, bindings, sub-interfaces, VRFs and VBDIFs. */
function nveIssues(lab: LabFile): LabIssue[] {
  const issues: LabIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const encapsulations = new Set<string>();
  const planes = new Set<string>();
  for (const [name, node] of Object.entries(lab.nodes)) {
    if (node.kind !== 'nve') continue;
    const at = `nodes.${name}`;
    encapsulations.add(node.encapsulation ?? 'vxlan');
    planes.add(node.controlPlane ?? 'flood-and-learn');
    const bds = new Map(Object.entries(node.bridgeDomains).map(([id, b]) => [Number(id), b]));
    const vnis = new Map<number, string>();
    for (const [id, b] of Object.entries(node.bridgeDomains)) {
      const other = vnis.get(b.vni);
      if (other)
        add(
          `${at}.bridgeDomains["${id}"].vni`,
          `VNI ${b.vni} is already bridge domain ${other}'s (a VNI maps to one BD)`,
        );
      vnis.set(b.vni, id);
    }
    const needBd = (bd: number, path: string) => {
      if (!bds.has(bd)) add(path, `unknown bridge domain ${bd}`);
    };
    for (const [vid, bd] of Object.entries(node.vlanBindings ?? {})) {
      if (!(Number(vid) >= 1 && Number(vid) <= 4094))
        add(`${at}.vlanBindings["${vid}"]`, 'VLAN IDs are 1..4094 (0 and 4095 are reserved)');
      needBd(bd, `${at}.vlanBindings["${vid}"]`);
    }
    const subs = new Map<string, number>();
    (node.subinterfaces ?? []).forEach((v, i) => {
      const path = `${at}.subinterfaces[${i}]`;
      needBd(v.bd, `${path}.bd`);
      if (v.vlan !== undefined && v.qinq !== undefined)
        add(path, 'a sub-interface is dot1q (vlan) or QinQ (qinq), not both');
      const key = `${v.port}/${v.qinq ? v.qinq.join('.') : (v.vlan ?? 'untagged')}`;
      const first = subs.get(key);
      if (first !== undefined) add(path, `the same port and encapsulation as subinterfaces[${first}]`);
      else subs.set(key, i);
    });
    for (const [tenant, vrf] of Object.entries(node.vrfs ?? {})) {
      const path = `${at}.vrfs.${tenant}`;
      if ((vrf.l3vni === undefined) !== (vrf.transitIp === undefined))
        add(
          path,
          'an L3 VNI needs a transitIp (the VRF address other NVEs route through), and a transitIp an l3vni',
        );
      if (vrf.l3vni !== undefined && vnis.has(vrf.l3vni))
        add(`${path}.l3vni`, `VNI ${vrf.l3vni} is bridge domain ${vnis.get(vrf.l3vni)}'s`);
    }
    for (const [bd, v] of Object.entries(node.vbdifs ?? {})) {
      const path = `${at}.vbdifs["${bd}"]`;
      const domain = bds.get(Number(bd));
      if (!domain) add(path, `unknown bridge domain ${bd}`);
      if (!node.vrfs || !(v.tenant in node.vrfs))
        add(`${path}.tenant`, `${name} has no VRF for tenant ${v.tenant} (declare it in vrfs)`);
      else if (domain && (domain.tenant ?? 'default') !== v.tenant)
        add(
          `${path}.tenant`,
          `bridge domain ${bd} belongs to tenant ${domain.tenant ?? 'default'}, not ${v.tenant}`,
        );
      if (v.anycast && (node.controlPlane ?? 'flood-and-learn') !== 'controller')
        add(
          `${path}.anycast`,
          "an anycast gateway needs controlPlane: controller (each NVE must not learn the others' gateway MAC)",
        );
    }
  }
  // Across NVEs: a VNI is one segment, so it belongs to one tenant and is either a BD's or an L3 VNI;
  // and every VTEP address is one NVE's.
  const vniUse = new Map<number, { what: string; at: string; node: string }>();
  const vteps = new Map<string, string>();
  for (const [name, node] of Object.entries(lab.nodes)) {
    if (node.kind !== 'nve') continue;
    const first = vteps.get(node.vtep);
    if (first) add(`nodes.${name}.vtep`, `VTEP ${node.vtep} is already ${first}'s`);
    else vteps.set(node.vtep, name);
    const uses: [number, string, string][] = [
      ...Object.entries(node.bridgeDomains).map(([id, b]): [number, string, string] => [
        b.vni,
        `a BD of tenant ${b.tenant ?? 'default'}`,
        `nodes.${name}.bridgeDomains["${id}"].vni`,
      ]),
      ...Object.entries(node.vrfs ?? {})
        .filter(([, v]) => v.l3vni !== undefined)
        .map(([t, v]): [number, string, string] => [
          v.l3vni!,
          `the L3 VNI of tenant ${t}`,
          `nodes.${name}.vrfs.${t}.l3vni`,
        ]),
    ];
    for (const [vni, what, at] of uses) {
      const seen = vniUse.get(vni);
      if (seen === undefined) vniUse.set(vni, { what, at, node: name });
      // (Within one NVE, a VNI used twice is already reported above.)
      else if (seen.node !== name && seen.what !== what)
        add(at, `VNI ${vni} is ${what} here but ${seen.what} at ${seen.at}`);
    }
    // Internal port names, and ports that cannot be both underlay and access.
    const underlay = new Set(Object.entries(node.interfaces ?? {}).map(([n, i]) => i.port ?? n));
    const access = [
      ...Object.keys(node.ports ?? {}).map((p) => [p, `nodes.${name}.ports["${p}"]`] as const),
      ...(node.subinterfaces ?? []).map(
        (v, i) => [v.port, `nodes.${name}.subinterfaces[${i}].port`] as const,
      ),
    ];
    for (const [p, at] of access) {
      if (underlay.has(p))
        add(at, `port ${p} is an underlay interface of ${name}; an access port cannot be one too`);
      if (/^(vbdif\d+|l3vni-.*)$/.test(p))
        add(at, `port name ${p} is reserved for the NVE's internal links to its VRFs`);
    }
    const vtepOnInterface = Object.values(node.interfaces ?? {}).some((i) =>
      (Array.isArray(i.ip) ? i.ip : [i.ip]).some((c) => c.split('/')[0] === node.vtep),
    );
    if (!vtepOnInterface && 'lo' in (node.interfaces ?? {}))
      add(
        `nodes.${name}.interfaces.lo`,
        `interface lo is the VTEP's loopback (${node.vtep} is on no interface)`,
      );
  }
  if (encapsulations.size > 1)
    add('nodes', `every NVE of a fabric uses one encapsulation (found ${[...encapsulations].join(', ')})`);
  if (planes.size > 1)
    add('nodes', `every NVE of a fabric uses one control plane (found ${[...planes].join(', ')})`);
  return issues;
}
