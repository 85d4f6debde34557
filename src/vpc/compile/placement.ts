/**
 * Stage `placement`: where the instances run. Each subnet's distributed gateway (`anycast-gateway`);
 * on each hypervisor with a running instance of a subnet, the subnet's BD, its VPC's VRF and the
 * gateway's routed interface there (`vbdif`, with a DHCP server in manual allocation); each running
 * instance's MAC/IP route (EVPN type 2, RFC 7432 7.2) and DHCP binding (RFC 2131).
 */
import { cidrBroadcast, cidrNetwork, formatIpv4, parseCidr } from '../../wire/index.js';
import { GATEWAY_MAC, gatewayAddress } from '../addresses.js';
import type { CompileContext } from './context.js';
import { TRANSIT_PREFIX } from './transit.js';

export function compilePlacement(ctx: CompileContext): void {
  const { l2, l3, push } = ctx;
  for (const s of ctx.subnets) {
    const vni = l2.get(s.id);
    const c = parseCidr(s.cidr);
    if (vni === undefined || !l3.has(s.vpc) || c === undefined) continue;
    push({
      kind: 'anycast-gateway',
      key: s.id,
      source: s.id,
      vpc: s.vpc,
      subnet: s.id,
      vni,
      address: `${formatIpv4(gatewayAddress(c))}/${c.prefixLength}`,
      mac: GATEWAY_MAC,
    });
  }
  const vbdifs = new Set<string>();
  for (const i of ctx.running) {
    const s = ctx.subnetOf(i)!;
    const h = ctx.hosts.get(i.host)!;
    const vni = l2.get(s.id);
    const l3Vni = l3.get(s.vpc);
    const c = parseCidr(s.cidr);
    if (vni === undefined || l3Vni === undefined || c === undefined) continue;
    const gateway = formatIpv4(gatewayAddress(c));
    push({
      kind: 'bridge-domain',
      key: `${h.name}/vni ${vni}`,
      source: s.id,
      host: h.name,
      vtep: h.vtep,
      vpc: s.vpc,
      subnet: s.id,
      vni,
    });
    push({
      kind: 'vrf',
      key: `${h.name}/${s.vpc}`,
      source: s.vpc,
      role: 'hypervisor',
      host: h.name,
      vtep: h.vtep,
      vpc: s.vpc,
      l3Vni,
      transit: `${ctx.transit.get(h.name)}/${TRANSIT_PREFIX}`,
    });
    const bd = `${h.name}/vni ${vni}`;
    if (!vbdifs.has(bd)) {
      vbdifs.add(bd);
      push({
        kind: 'vbdif',
        key: bd,
        source: s.id,
        host: h.name,
        vpc: s.vpc,
        subnet: s.id,
        vni,
        iface: `vbdif${vni}`,
        address: `${gateway}/${c.prefixLength}`,
        mac: GATEWAY_MAC,
        // The pool past the reserved addresses (.1 to .3): manual allocation hands out bindings only.
        dhcpFirst: formatIpv4((cidrNetwork(c) + 4) >>> 0),
        dhcpLast: formatIpv4((cidrBroadcast(c) - 1) >>> 0),
      });
    }
    push({
      kind: 'mac-ip-route',
      key: `vni ${vni}/${i.mac}`,
      source: i.id,
      vpc: s.vpc,
      subnet: s.id,
      instance: i.id,
      vni,
      l3Vni,
      mac: i.mac,
      ip: i.ip,
      host: h.name,
      vtep: h.vtep,
    });
    push({
      kind: 'dhcp-binding',
      key: `${s.id}/${i.mac}`,
      source: i.id,
      subnet: s.id,
      instance: i.id,
      host: h.name,
      vni,
      mac: i.mac,
      ip: i.ip,
      prefixLength: c.prefixLength,
      gateway,
    });
  }
}
