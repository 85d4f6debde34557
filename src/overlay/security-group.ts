/**
 * A security group on the data plane: a stateful filter on an instance's VAP on its hypervisor
 * (as OVN's ACLs on a logical switch port, or a hypervisor's conntrack-based firewall).
 *
 * - Egress (frames from the instance) is checked against the instance's egress rules by
 *   destination, ingress (frames to it) against its ingress rules by source; protocol and the
 *   destination port must match. Allow rules only: nothing matching is dropped and counted as
 *   `security-group` on the NVE, with the group and the flow in the trace.
 * - Connection tracking: a packet an allow rule passes records its flow (protocol, the instance's
 *   port, the remote address and port; an ICMP echo's identifier as both ports), and a packet of a
 *   recorded flow passes both ways without rules, so the reply of an allowed flow comes back. An
 *   ICMP echo request is always judged by the rules; only echo replies ride on a recorded echo.
 *   ICMP errors (unreachable, time exceeded, parameter problem) pass as related traffic.
 * - Not judged: non-IPv4 frames (ARP) and DHCP (the instance must reach its gateway's DHCP, as a
 *   cloud's security groups never block it).
 */

import type { Nanos } from '../sim/index.js';
import {
  type Cidr,
  cidr,
  cidrContains,
  EtherType,
  formatIpv4,
  IpProtocol,
  readU16,
  readU32,
} from '../wire/index.js';
import type { VapFilter, VapVerdict } from './nve.js';

/** The protocols a security group rule names (`all`: any IP protocol). */
export type SgProtocol = 'tcp' | 'udp' | 'icmp' | 'all';
/** Ingress: traffic to the instance; egress: traffic from it. */
export type SgDirection = 'ingress' | 'egress';

export interface SgFilterRule {
  readonly direction: SgDirection;
  readonly protocol: SgProtocol;
  readonly ports: readonly [number, number] | null;
  readonly cidr: string;
  /** The group and rule (`sg-a1/ingress[0]`) the rule came from, for traces. */
  readonly source: string;
}

interface CompiledRule extends SgFilterRule {
  readonly prefix: Cidr;
}

const PROTOCOL_NUMBER: Record<Exclude<SgProtocol, 'all'>, number> = {
  tcp: IpProtocol.tcp,
  udp: IpProtocol.udp,
  icmp: IpProtocol.icmp,
};

const PROTOCOL_NAME: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };

export class SecurityGroupFilter implements VapFilter {
  readonly reason = 'security-group';
  private rules: CompiledRule[] = [];
  /** Flows seen allowed, from the instance's side: `proto localPort remoteIp remotePort`. */
  private readonly flows = new Set<string>();
  readonly counters = { allowed: 0, tracked: 0, dropped: 0 };

  constructor(
    /** The instance's id, for traces. */
    readonly instance: string,
    rules: readonly SgFilterRule[] = [],
  ) {
    this.setRules(rules);
  }

  /** Replaces the rules; recorded flows stay (as a cloud keeps tracked connections). */
  setRules(rules: readonly SgFilterRule[]): void {
    this.rules = rules.map((r) => ({ ...r, prefix: cidr(r.cidr) }));
  }

  get ruleList(): readonly SgFilterRule[] {
    return this.rules.map(({ prefix: _p, ...r }) => r);
  }

  check(frame: Uint8Array, direction: 'from-station' | 'to-station', _now: Nanos): VapVerdict | null {
    if (frame.length < 34 || readU16(frame, 12) !== EtherType.ipv4) return null;
    const ihl = (frame[14]! & 0x0f) * 4;
    const l4 = 14 + ihl;
    const protocol = frame[23]!;
    const src = readU32(frame, 26);
    const dst = readU32(frame, 30);
    const fragment = (readU16(frame, 20) & 0x1fff) !== 0;
    let sport = 0;
    let dport = 0;
    let echoReply = false;
    if ((protocol === IpProtocol.tcp || protocol === IpProtocol.udp) && !fragment && frame.length >= l4 + 4) {
      sport = readU16(frame, l4);
      dport = readU16(frame, l4 + 2);
      if (protocol === IpProtocol.udp && (dport === 67 || dport === 68)) return null;
    } else if (protocol === IpProtocol.icmp && frame.length >= l4 + 8) {
      const type = frame[l4]!;
      if (type === 3 || type === 11 || type === 12)
        return { allow: true, why: this.text('related ICMP error') };
      sport = dport = readU16(frame, l4 + 4);
      echoReply = type === 0;
    }
    const egress = direction === 'from-station';
    const remote = egress ? dst : src;
    const localPort = egress ? sport : dport;
    const remotePort = egress ? dport : sport;
    const key = `${protocol} ${localPort} ${remote} ${remotePort}`;
    const flow = `${PROTOCOL_NAME[protocol] ?? `proto ${protocol}`} ${formatIpv4(src)}${protocol === IpProtocol.icmp ? '' : `:${sport}`} -> ${formatIpv4(dst)}${protocol === IpProtocol.icmp ? '' : `:${dport}`}`;
    if (this.flows.has(key) && (protocol !== IpProtocol.icmp || echoReply)) {
      this.counters.tracked++;
      return { allow: true, why: this.text(`${flow} belongs to a tracked flow`) };
    }
    const want: SgDirection = egress ? 'egress' : 'ingress';
    for (const r of this.rules) {
      if (r.direction !== want) continue;
      if (r.protocol !== 'all' && PROTOCOL_NUMBER[r.protocol] !== protocol) continue;
      if (!cidrContains(r.prefix, remote)) continue;
      if (
        r.ports !== null &&
        r.protocol !== 'icmp' &&
        r.protocol !== 'all' &&
        (dport < r.ports[0] || dport > r.ports[1])
      )
        continue;
      this.flows.add(key);
      this.counters.allowed++;
      return { allow: true, why: this.text(`${r.source} allows ${flow}`) };
    }
    this.counters.dropped++;
    const groups = [...new Set(this.rules.map((r) => r.source.split('/')[0]))];
    return {
      allow: false,
      why: this.text(
        `no ${want} rule${groups.length > 0 ? ` of ${groups.join(', ')}` : ' (no security group)'} allows ${flow}`,
      ),
    };
  }

  private text(s: string): string {
    return `security group of ${this.instance}: ${s}`;
  }
}
