/**
 * Ordered access control lists, as on routers: the first rule that matches a packet decides
 * (permit or deny); a packet no rule matches meets the implicit `deny any` at the end. Rules match
 * on protocol, source and destination prefix, and TCP/UDP port ranges. Every rule counts its hits.
 */
import { type Cidr, cidrContains, formatCidr, ipProtocolName } from '../../wire/index.js';

export type AclAction = 'permit' | 'deny';

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface AclRuleSpec {
  readonly action: AclAction;
  /** IP protocol number; undefined matches any. */
  readonly protocol?: number;
  readonly src?: Cidr;
  readonly dst?: Cidr;
  readonly srcPorts?: PortRange;
  readonly dstPorts?: PortRange;
  /** How the rule is named in verdicts (default its position, from 1): a VPC ACL's rule number. */
  readonly label?: string;
}

export interface PacketFields {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  /** TCP/UDP ports when present (not in non-first fragments). */
  readonly srcPort?: number;
  readonly dstPort?: number;
}

export interface AclDecision {
  readonly action: AclAction;
  /** Index of the matching rule, or -1 for the implicit deny. */
  readonly rule: number;
  readonly text: string;
}

export function describeRule(r: AclRuleSpec): string {
  const proto = r.protocol === undefined ? 'ip' : ipProtocolName(r.protocol);
  const ports = (p?: PortRange) =>
    p ? (p.from === p.to ? ` eq ${p.from}` : ` range ${p.from}-${p.to}`) : '';
  return `${r.action} ${proto} ${r.src ? formatCidr(r.src) : 'any'}${ports(r.srcPorts)} ${r.dst ? formatCidr(r.dst) : 'any'}${ports(r.dstPorts)}`;
}

function inRange(port: number | undefined, range: PortRange | undefined): boolean {
  if (range === undefined) return true;
  return port !== undefined && port >= range.from && port <= range.to;
}

export class Acl {
  readonly hits: number[];
  implicitDenyHits = 0;

  constructor(
    readonly name: string,
    readonly rules: readonly AclRuleSpec[],
  ) {
    this.hits = rules.map(() => 0);
  }

  evaluate(p: PacketFields): AclDecision {
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i]!;
      if (r.protocol !== undefined && r.protocol !== p.protocol) continue;
      if (r.src && !cidrContains(r.src, p.src)) continue;
      if (r.dst && !cidrContains(r.dst, p.dst)) continue;
      if (!inRange(p.srcPort, r.srcPorts) || !inRange(p.dstPort, r.dstPorts)) continue;
      this.hits[i]!++;
      return {
        action: r.action,
        rule: i,
        text: `ACL ${this.name} rule ${r.label ?? i + 1} (${describeRule(r)})`,
      };
    }
    this.implicitDenyHits++;
    return { action: 'deny', rule: -1, text: `ACL ${this.name} implicit deny` };
  }

  /** The rules with their hit counts, for `show acl`. */
  table(): { rule: number; text: string; hits: number }[] {
    return [
      ...this.rules.map((r, i) => ({ rule: i + 1, text: describeRule(r), hits: this.hits[i]! })),
      { rule: this.rules.length + 1, text: 'deny ip any any (implicit)', hits: this.implicitDenyHits },
    ];
  }
}
