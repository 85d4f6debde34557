/**
 * Builds a Network from a checked lab file. The lab must have passed `validateLab`: its names,
 * addresses and references are known to be good, so building only throws on a broken invariant.
 */

import type { DhcpServerOptions } from '../../devices/dhcp/dhcp-server.js';
import type { Switch, SwitchPortConfig } from '../../devices/l2/switch.js';
import type { AclRuleSpec, PortRange } from '../../devices/router/acl.js';
import type { Router } from '../../devices/router/router.js';
import type { Link } from '../../link/index.js';
import { cidr, IpProtocol, ip, mac } from '../../wire/index.js';
import { buildFabric, type FabricProgress } from '../fabric.js';
import { addL3Switch, connectL3Switch } from '../l3-switch.js';
import { Network, type RouterInterfaceSpec } from '../network.js';
import { linkProperties, parseDuration } from '../units.js';
import { routedInterfaces, splitEndpoint } from './check.js';
import { fabricControllerDelay, fabricSpec } from './fabric.js';
import { type LabFile, type LabNode, parsePool } from './schema.js';

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

function dhcpOptions(d: { pool: string; leaseTime?: string | number; router?: string }): DhcpServerOptions {
  const pool = parsePool(d.pool)!;
  return {
    first: pool.first,
    last: pool.last,
    leaseTime: d.leaseTime === undefined ? undefined : parseDuration(d.leaseTime)! / 1e9,
    router: d.router === undefined ? undefined : ip(d.router),
  };
}

type SwitchLike = Extract<LabNode, { kind: 'switch' | 'l3switch' }>;
type RoutedLike = Extract<LabNode, { kind: 'router' | 'l3switch' }>;
type NveNode = Extract<LabNode, { kind: 'nve' }>;

/**
 * An NVE from its lab node: underlay interfaces and routes, bridge domains, VAPs. Its VRFs and
 * VBDIFs are joined by internal links, so they are returned to be built after the lab's links.
 */
function buildNve(net: Network, name: string, node: NveNode): (() => void)[] {
  const nve = net.addNve(name, {
    vtep: node.vtep,
    encapsulation: node.encapsulation,
    controlPlane: node.controlPlane,
    macTableSize: node.macTableSize,
    agingTime: node.agingTime === undefined ? undefined : parseDuration(node.agingTime),
    interfaces: Object.entries(node.interfaces ?? {}).map(([iname, i]) => ({
      name: iname,
      port: i.port,
      addresses: Array.isArray(i.ip) ? i.ip : [i.ip],
      mac: i.mac === undefined ? undefined : mac(i.mac),
      vlan: i.vlan,
    })),
  });
  for (const r of node.routes ?? [])
    nve.underlayRouter().addStaticRoute({
      prefix: cidr(r.to),
      nextHop: r.via === undefined ? undefined : ip(r.via),
      iface: r.dev,
      metric: r.metric,
    });
  for (const [id, bd] of Object.entries(node.bridgeDomains))
    nve.addBridgeDomain(Number(id), bd.vni, bd.tenant);
  for (const [port, cfg] of Object.entries(node.ports ?? {}))
    nve.setPortMode(
      port,
      'vlan' in cfg
        ? { mode: 'access', vlan: cfg.vlan }
        : { mode: 'trunk', allowed: cfg.allowed ?? 'all', native: cfg.native === undefined ? 1 : cfg.native },
    );
  for (const [vid, bd] of Object.entries(node.vlanBindings ?? {})) nve.bindVlan(Number(vid), bd);
  for (const v of node.subinterfaces ?? [])
    nve.addSubinterface(
      v.port,
      v.qinq
        ? { kind: 'qinq', outer: v.qinq[0], inner: v.qinq[1] }
        : v.vlan !== undefined
          ? { kind: 'dot1q', vid: v.vlan }
          : { kind: 'untagged' },
      v.bd,
    );
  return [
    () => {
      for (const [tenant, vrf] of Object.entries(node.vrfs ?? {}))
        net.addVrf(
          nve,
          tenant,
          vrf.l3vni !== undefined && vrf.transitIp !== undefined
            ? { l3: { vni: vrf.l3vni, transitIp: vrf.transitIp } }
            : {},
        );
      for (const [bd, v] of Object.entries(node.vbdifs ?? {}))
        net.addVbdif(nve, v.tenant, Number(bd), {
          addresses: Array.isArray(v.ip) ? v.ip : [v.ip],
          mac: v.mac === undefined ? undefined : mac(v.mac),
          anycast: v.anycast,
        });
    },
  ];
}

function buildSwitch(net: Network, name: string, node: SwitchLike): Switch {
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
        : { mode: 'trunk', allowed: cfg.allowed ?? 'all', native: cfg.native === undefined ? 1 : cfg.native };
    sw.configurePort(portName, config);
  }
  return sw;
}

function routerInterfaces(node: RoutedLike): RouterInterfaceSpec[] {
  return Object.entries(routedInterfaces(node)).map(([iname, i]) => ({
    name: iname,
    port: i.port,
    addresses: Array.isArray(i.ip) ? i.ip : [i.ip],
    mac: i.mac === undefined ? undefined : mac(i.mac),
    vlan: i.vlan,
  }));
}

/** DHCP servers, static routes and ACLs of a router or of an L3 switch's routing engine. */
function buildRouting(router: Router, node: RoutedLike): void {
  for (const [iname, i] of Object.entries(routedInterfaces(node)))
    if (i.dhcp) router.enableDhcpServer(iname, dhcpOptions(i.dhcp));
  for (const r of node.routes ?? []) {
    router.addStaticRoute({
      prefix: cidr(r.to),
      nextHop: r.via === undefined ? undefined : ip(r.via),
      iface: r.dev,
      metric: r.metric,
    });
  }
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
}

export interface BuildOptions {
  readonly seed?: number;
  readonly trace?: boolean;
  /** Called as a large fabric is built (the CLI shows it on a terminal). */
  readonly progress?: FabricProgress;
}

/**
 * The links `buildLab` made for a lab's `links`, in the lab's order, by network: what a script's
 * `link: N` names. `Network.links` is no substitute: a fabric's links come first, and unplugging a
 * link (a `migrate` step moving a VM) renumbers the ones after it.
 */
const labLinks = new WeakMap<Network, readonly Link[]>();

/** The links of `lab.links` as `buildLab` made them (index N is the lab's `links[N]`), or undefined for a network it did not build. */
export function labLinksOf(net: Network): readonly Link[] | undefined {
  return labLinks.get(net);
}

export function buildLab(lab: LabFile, options: BuildOptions = {}): Network {
  const net = new Network({
    seed: options.seed ?? lab.seed ?? 1,
    trace: options.trace,
    controllerDelay: fabricControllerDelay(lab.fabric),
  });
  // The fabric first: the lab's links and steps may name its nodes (a step's `link: N` is still the lab's links[N]).
  if (lab.fabric) buildFabric(net, fabricSpec(lab.fabric), options.progress);
  const internal: (() => void)[] = [];
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
        for (const [nic, spec] of Object.entries(node.nics ?? {})) {
          host.addInterface({
            name: nic,
            mac: spec.mac === undefined ? net.allocateMac() : mac(spec.mac),
            addresses: spec.ip ? [cidr(spec.ip)] : [],
          });
        }
        if (node.udpEcho) host.enableUdpEcho(node.udpEcho === true ? 7 : node.udpEcho);
        if (node.dhcpServer) host.enableDhcpServer('eth0', dhcpOptions(node.dhcpServer));
        break;
      }
      case 'hub':
        net.addHub(name);
        break;
      case 'switch':
        buildSwitch(net, name, node);
        break;
      case 'router':
        buildRouting(net.addRouter(name, routerInterfaces(node)), node);
        break;
      case 'nve':
        internal.push(...buildNve(net, name, node));
        break;
      case 'l3switch': {
        // A switch and its routing engine (`NAME/l3`), joined inside the box by a trunk of the VLANIF VLANs.
        const l3 = addL3Switch(
          net,
          buildSwitch(net, name, node),
          Object.keys(node.vlanifs).map(Number),
          routerInterfaces(node),
        );
        const engine = l3.engine;
        // Made and linked after the lab's own links (a step's `link: N` names the lab's links[N]
        // only: see labLinksOf), so a lab link that names no port of the switch never takes `cpu`.
        internal.push(() => connectL3Switch(net, l3));
        buildRouting(engine, node);
        break;
      }
    }
  }
  const defaults = linkProperties(lab.linkDefaults ?? {});
  const links = lab.links.map((link) => {
    const a = splitEndpoint(link.a);
    const b = splitEndpoint(link.b);
    return net.addLink(a.node, b.node, {
      ...defaults,
      ...linkProperties(link),
      aPort: a.port,
      bPort: b.port,
    });
  });
  labLinks.set(net, links);
  for (const link of internal) link();
  return net;
}
