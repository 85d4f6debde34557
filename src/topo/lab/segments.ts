/**
 * The lab's Ethernet segments, as far as its file tells (for warnings, not for building): which
 * interfaces share a broadcast domain, through cables, hubs and switch VLANs. Two interfaces on one
 * segment with the same IPv4 address is legal (real networks allow it; ARP answers race, and
 * duplicate address detection, RFC 5227, is the lesson), so the checker warns instead of refusing.
 *
 * Model: a vertex is "what a frame with tag T reaches" at a place: a switch's VLAN (`sw#10`), a hub
 * with one tag (`hub#u` for untagged), an interface's port (`r:eth0#10`), or a cable (`#3#u`). Each
 * link joins, for every tag, the vertex of each end; union-find gives the segments. NVEs and the
 * nodes a fabric generates are boundaries (an NVE bridges into VNIs; that is not followed here).
 */
import { parseCidr } from '../../wire/index.js';
import type { LabFile, LabNode } from './schema.js';

export interface LinkEnd {
  readonly node: string;
  readonly port: string | undefined;
}

/** An interface address and where the lab file gives it (`nodes.a.ip`). */
interface Placed {
  readonly vertex: string;
  readonly ip: string;
  readonly path: (string | number)[];
}

type Tag = number | 'u';

/**
 * Warnings for addresses used twice on one segment: the second and later uses, each naming the first.
 * `links` are the lab's links with each end's effective port (a host's first free NIC when unnamed).
 */
export function duplicateAddresses(
  lab: LabFile,
  links: readonly (readonly [LinkEnd, LinkEnd])[],
  formatPath: (path: readonly PropertyKey[]) => string,
): { path: string; message: string }[] {
  const parent = new Map<string, string>();
  const find = (v: string): string => {
    let root = v;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    for (let x = v; x !== root; ) {
      const up = parent.get(x)!;
      parent.set(x, root);
      x = up;
    }
    return root;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };

  // Every tag a frame in this lab can carry: untagged, and each VLAN the file names.
  const tags = new Set<Tag>(['u', 1]);
  for (const node of Object.values(lab.nodes)) {
    for (const mode of Object.values(('ports' in node ? node.ports : undefined) ?? {})) {
      if ('vlan' in mode) tags.add(mode.vlan);
      else if (Array.isArray(mode.allowed)) for (const v of mode.allowed) tags.add(v);
    }
    if (node.kind === 'router' || node.kind === 'nve')
      for (const i of Object.values(node.interfaces ?? {})) if (i.vlan !== undefined) tags.add(i.vlan);
    if (node.kind === 'l3switch') for (const vid of Object.keys(node.vlanifs)) tags.add(Number(vid));
  }

  /** What a frame with `tag` reaches entering `node` at `port`; undefined if the port drops it. */
  const vertex = (end: LinkEnd, tag: Tag): string | undefined => {
    const node: LabNode | undefined = lab.nodes[end.node];
    if (node?.kind === 'hub') return `${end.node}#${tag}`;
    if (node?.kind === 'switch' || node?.kind === 'l3switch') {
      const mode = end.port === undefined ? undefined : node.ports?.[end.port];
      if (mode === undefined || 'vlan' in mode) {
        return tag === 'u' ? `${end.node}#${mode?.vlan ?? 1}` : undefined;
      }
      const native = mode.native === undefined ? 1 : mode.native;
      if (tag === 'u') return native === null ? undefined : `${end.node}#${native}`;
      return mode.allowed === undefined || mode.allowed === 'all' || mode.allowed.includes(tag)
        ? `${end.node}#${tag}`
        : undefined;
    }
    return `${end.node}:${end.port ?? ''}#${tag}`; // an interface's port (or an NVE's, a boundary)
  };
  links.forEach(([a, b], i) => {
    for (const tag of tags) {
      const cable = `#${i}#${tag}`;
      for (const end of [a, b]) {
        const v = vertex(end, tag);
        if (v !== undefined) union(v, cable);
      }
    }
  });

  const placed: Placed[] = [];
  const place = (vertex: string, ip: string | string[], path: (string | number)[]) => {
    if (typeof ip === 'string') placed.push({ vertex, ip, path });
    else
      ip.forEach((one, k) => {
        placed.push({ vertex, ip: one, path: [...path, k] });
      });
  };
  for (const [name, node] of Object.entries(lab.nodes)) {
    if (node.kind === 'host') {
      if (node.ip !== undefined) place(`${name}:eth0#u`, node.ip, ['nodes', name, 'ip']);
      for (const [nic, n] of Object.entries(node.nics ?? {}))
        if (n.ip !== undefined) place(`${name}:${nic}#u`, n.ip, ['nodes', name, 'nics', nic, 'ip']);
    } else if (node.kind === 'router' || node.kind === 'nve') {
      for (const [iname, i] of Object.entries(node.interfaces ?? {}))
        place(`${name}:${i.port ?? iname}#${i.vlan ?? 'u'}`, i.ip, [
          'nodes',
          name,
          'interfaces',
          iname,
          'ip',
        ]);
    } else if (node.kind === 'l3switch') {
      for (const [vid, v] of Object.entries(node.vlanifs))
        place(`${name}#${Number(vid)}`, v.ip, ['nodes', name, 'vlanifs', vid, 'ip']);
    }
  }

  const first = new Map<string, string>();
  const warnings: { path: string; message: string }[] = [];
  for (const p of placed) {
    const address = p.ip.split('/')[0]!;
    if (parseCidr(p.ip) === undefined) continue;
    const key = `${find(p.vertex)}|${address}`;
    const at = formatPath(p.path);
    const seen = first.get(key);
    if (seen === undefined) first.set(key, at);
    else
      warnings.push({
        path: at,
        message: `${address} is also the address of ${seen} on the same segment: a duplicate address (both answer ARP for it)`,
      });
  }
  return warnings;
}
