/**
 * The overlay's tables as rows, the way `show` prints them: an NVE's bridge domains, its MAC
 * table (remote MAC -> VTEP and local MACs), flood lists, ARP suppression bindings, VAPs, its
 * VRFs' routes and ARP tables (the gateway's ARP table size), a router's ECMP spread and NAT
 * mappings. The lab's checks make sure the node is of the right kind.
 */
import type { Device } from '../devices/device.js';
import type { Router } from '../devices/router/router.js';
import { describeEncapsulation, Nve, routerOf } from '../overlay/index.js';
import type { Nanos } from '../sim/index.js';
import { formatIpv4, formatMac } from '../wire/index.js';
import type { Row } from './rows.js';
import { formatDuration } from './units.js';

export function overlayTable(node: Device, table: string, now: Nanos): Row[] {
  switch (table) {
    case 'bd':
      return (node as Nve).bridgeDomains().map((bd) => ({
        bd: bd.id === 0 ? 'l3' : bd.id,
        vni: bd.vni,
        tenant: bd.tenant,
        vaps: bd.vaps.map((v) => v.name).join(',') || '-',
        macs: bd.size,
        floodList: bd.floodList.map(formatIpv4).join(',') || '-',
      }));
    case 'bd-mac':
      return (node as Nve).bridgeDomains().flatMap((bd) =>
        bd.macRows(now).map((r) => ({
          bd: bd.id === 0 ? 'l3' : bd.id,
          vni: bd.vni,
          mac: r.mac,
          where: r.where,
          type: r.type,
          seq: r.seq,
          age: r.type === 'controller' || r.type === 'static' ? '-' : formatDuration(r.age),
        })),
      );
    case 'flood':
      return (node as Nve).bridgeDomains().map((bd) => ({
        vni: bd.vni,
        bd: bd.id === 0 ? 'l3' : bd.id,
        vteps: bd.floodList.length,
        floodList: bd.floodList.map(formatIpv4).join(',') || '-',
        bumFrames: bd.counters.bum,
        replicated: bd.counters.replicated,
      }));
    case 'arp-suppression':
      return (node as Nve).bridgeDomains().flatMap((bd) =>
        [...bd.arp.values()]
          .sort((a, b) => a.ip - b.ip)
          .map((b) => ({
            bd: bd.id === 0 ? 'l3' : bd.id,
            vni: bd.vni,
            ip: formatIpv4(b.ip),
            mac: formatMac(b.mac),
            where: b.local ? 'local' : 'remote',
          })),
      );
    case 'vaps':
      return (node as Nve).vaps.all().map((v) => ({
        vap: v.name,
        port: v.port.name,
        encapsulation: describeEncapsulation(v.encap),
        bd: v.bd.id === 0 ? 'l3' : v.bd.id,
        vni: v.bd.vni,
        role: v.role,
      }));
    case 'vrf-routes':
      return [...(node as Nve).vrfs.values()].flatMap((vrf) =>
        vrf.router.routes.routes().map((r) => ({
          tenant: vrf.tenant,
          destination: `${formatIpv4(r.prefix)}/${r.prefixLength}`,
          nextHop: r.nextHop === null ? 'direct' : formatIpv4(r.nextHop),
          interface: r.iface,
          source: r.source,
        })),
      );
    case 'gateway-arp':
      return [...(node as Nve).vrfs.values()].flatMap((vrf) =>
        vrf.router.interfaces.flatMap((i) =>
          i.arp.table(now).map((e) => ({
            tenant: vrf.tenant,
            interface: i.name,
            ip: e.ip,
            mac: e.mac,
            age: formatDuration(e.age),
          })),
        ),
      );
    case 'ecmp':
      return Object.entries((routerOf(node) as Router).ecmpChoices)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([iface, packets]) => ({ interface: iface, packets }));
    case 'nat': {
      const routers = node instanceof Nve ? [...node.vrfs.values()].map((v) => v.router) : [node as Router];
      return routers.flatMap((r) =>
        [...r.nats.values()].flatMap((nat) =>
          nat.table().map((m) => ({
            router: r.name,
            interface: nat.iface,
            protocol: m.protocol,
            inside: m.inside,
            public: m.public,
          })),
        ),
      );
    }
    default:
      return [];
  }
}
