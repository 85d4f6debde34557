/**
 * Builds a Network from a checked lab file. The lab must have passed `validateLab`: its names,
 * addresses and references are known to be good, so building only throws on a broken invariant.
 */
import type { AclRuleSpec, PortRange } from '../devices/acl.js';
import type { DhcpServerOptions } from '../devices/dhcp-server.js';
import type { SwitchPortConfig } from '../devices/switch.js';
import type { LinkProperties } from '../link/index.js';
import { cidr, IpProtocol, ip, mac } from '../wire/index.js';
import { splitEndpoint } from './lab-check.js';
import { type LabFile, parsePool } from './lab-schema.js';
import { Network } from './network.js';
import { parseDuration, parseRate } from './units.js';

const PROTOCOLS: Record<string, number | undefined> = {
  ip: undefined,
  icmp: IpProtocol.icmp,
  tcp: IpProtocol.tcp,
  udp: IpProtocol.udp,
};

function portRange(v: number | string | undefined): PortRange | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return { from: v, to: v };
  const [from, to] = v.split('-').map(Number);
  return { from: from!, to: to! };
}

export function linkProperties(p: {
  delay?: string | number;
  bandwidth?: string | number;
  mtu?: number;
  queue?: number;
  loss?: number;
}): LinkProperties {
  return {
    ...(p.delay !== undefined ? { delay: parseDuration(p.delay) } : {}),
    ...(p.bandwidth !== undefined ? { bandwidth: parseRate(p.bandwidth) } : {}),
    ...(p.mtu !== undefined ? { mtu: p.mtu } : {}),
    ...(p.queue !== undefined ? { queueFrames: p.queue } : {}),
    ...(p.loss !== undefined ? { loss: p.loss } : {}),
  };
}

function dhcpOptions(d: { pool: string; leaseTime?: string | number; router?: string }): DhcpServerOptions {
  const pool = parsePool(d.pool)!;
  return {
    first: pool.first,
    last: pool.last,
    leaseTime: d.leaseTime === undefined ? undefined : parseDuration(d.leaseTime)! / 1e9,
    router: d.router === undefined ? undefined : ip(d.router),
  };
}

export function buildLab(lab: LabFile, options: { seed?: number; trace?: boolean } = {}): Network {
  const net = new Network({ seed: options.seed ?? lab.seed ?? 1, trace: options.trace });
  for (const [name, node] of Object.entries(lab.nodes)) {
    switch (node.kind) {
      case 'host': {
        const host = net.addHost(name, {
          ip: node.ip,
          mac: node.mac === undefined ? undefined : mac(node.mac),
          gateway: node.gateway,
          announce: node.announce,
          dhcp: node.dhcp,
          arp: node.arpTimeout === undefined ? undefined : { timeout: parseDuration(node.arpTimeout) },
        });
        if (node.udpEcho) host.enableUdpEcho(node.udpEcho === true ? 7 : node.udpEcho);
        if (node.dhcpServer) host.enableDhcpServer('eth0', dhcpOptions(node.dhcpServer));
        break;
      }
      case 'hub':
        net.addHub(name);
        break;
      case 'switch': {
        const sw = net.addSwitch(name, {
          macTableSize: node.macTableSize,
          agingTime: node.agingTime === undefined ? undefined : parseDuration(node.agingTime),
          mac: node.mac === undefined ? undefined : mac(node.mac),
          stp: node.stp,
        });
        for (const [portName, cfg] of Object.entries(node.ports ?? {})) {
          sw.addPort(portName);
          const config: SwitchPortConfig =
            'vlan' in cfg
              ? { mode: 'access', vlan: cfg.vlan }
              : {
                  mode: 'trunk',
                  allowed: cfg.allowed ?? 'all',
                  native: cfg.native === undefined ? 1 : cfg.native,
                };
          sw.configurePort(portName, config);
        }
        break;
      }
      case 'router': {
        const router = net.addRouter(
          name,
          Object.entries(node.interfaces).map(([iname, i]) => ({
            name: iname,
            port: i.port,
            addresses: Array.isArray(i.ip) ? i.ip : [i.ip],
            mac: i.mac === undefined ? undefined : mac(i.mac),
            vlan: i.vlan,
          })),
        );
        for (const [iname, i] of Object.entries(node.interfaces))
          if (i.dhcp) router.enableDhcpServer(iname, dhcpOptions(i.dhcp));
        for (const r of node.routes ?? [])
          router.addStaticRoute({
            prefix: cidr(r.to),
            nextHop: r.via === undefined ? undefined : ip(r.via),
            iface: r.dev,
            metric: r.metric,
          });
        for (const [aclName, rules] of Object.entries(node.acls ?? {})) {
          router.defineAcl(
            aclName,
            rules.map(
              (r): AclRuleSpec => ({
                action: r.action,
                protocol: typeof r.protocol === 'number' ? r.protocol : PROTOCOLS[r.protocol ?? 'ip'],
                src: r.src === undefined || r.src === 'any' ? undefined : cidr(r.src),
                dst: r.dst === undefined || r.dst === 'any' ? undefined : cidr(r.dst),
                srcPorts: portRange(r.srcPort),
                dstPorts: portRange(r.dstPort),
              }),
            ),
          );
        }
        for (const b of node.applyAcls ?? []) router.applyAcl(b.interface, b.acl, b.direction);
        break;
      }
    }
  }
  const defaults = linkProperties(lab.linkDefaults ?? {});
  for (const link of lab.links) {
    const a = splitEndpoint(link.a);
    const b = splitEndpoint(link.b);
    net.addLink(a.node, b.node, { ...defaults, ...linkProperties(link), aPort: a.port, bPort: b.port });
  }
  return net;
}
