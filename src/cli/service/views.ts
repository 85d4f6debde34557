/**
 * How the service commands show objects: each kind's table row (`vnet vpc list`), and the text of
 * its rules and routes. Pure functions of the API's JSON; every kind's view is defined here once.
 */
import type { Row } from '../../topo/rows.js';

export type Obj = Record<string, unknown>;

export interface KindView {
  /** `vpc`, as the command is named. */
  readonly command: string;
  readonly title: string;
  readonly collection: string;
  readonly prefix: string;
  readonly row: (o: Obj) => Row;
}

/** A value as a table cell: `-` for none. */
export function s(v: unknown): string {
  return v === undefined || v === null ? '-' : String(v);
}

export const rulesText = (rules: unknown) =>
  ((rules ?? []) as Obj[])
    .map((r) => {
      const ports = r.ports as [number, number] | undefined;
      const range = ports ? `:${ports[0] === ports[1] ? ports[0] : ports.join('-')}` : '';
      const acl = r.number === undefined ? '' : `${r.number}:${r.action}:`;
      return `${acl}${r.protocol}${range}:${r.cidr ?? r.group}`;
    })
    .join(' ') || '-';

export const routesText = (routes: unknown) =>
  ((routes ?? []) as { destination: string; target: { kind: string; id?: string } }[])
    .map((r) => `${r.destination}->${r.target.id ?? r.target.kind}`)
    .join(' ') || '-';

export const VIEWS = {
  tenant: {
    command: 'tenant',
    title: 'tenant',
    collection: 'tenants',
    prefix: 'tenant',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name) }),
  },
  vpc: {
    command: 'vpc',
    title: 'VPC',
    collection: 'vpcs',
    prefix: 'vpc',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), cidrs: (o.cidrs as string[]).join(',') }),
  },
  subnet: {
    command: 'subnet',
    title: 'subnet',
    collection: 'subnets',
    prefix: 'subnet',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), vpc: s(o.vpc), cidr: s(o.cidr) }),
  },
  sg: {
    command: 'sg',
    title: 'security group',
    collection: 'security-groups',
    prefix: 'sg',
    row: (o: Obj) => ({
      id: s(o.id),
      name: s(o.name),
      vpc: s(o.vpc),
      ingress: rulesText(o.ingress),
      egress: rulesText(o.egress),
    }),
  },
  routeTable: {
    command: 'route-table',
    title: 'route table',
    collection: 'route-tables',
    prefix: 'rtb',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), vpc: s(o.vpc), routes: routesText(o.routes) }),
  },
  igw: {
    command: 'igw',
    title: 'internet gateway',
    collection: 'internet-gateways',
    prefix: 'igw',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), vpc: s(o.vpc) }),
  },
  eip: {
    command: 'eip',
    title: 'elastic IP',
    collection: 'elastic-ips',
    prefix: 'eip',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), address: s(o.address), instance: s(o.instance) }),
  },
  peering: {
    command: 'peering',
    title: 'peering',
    collection: 'peerings',
    prefix: 'pcx',
    row: (o: Obj) => ({ id: s(o.id), name: s(o.name), vpc: s(o.vpc), 'peer vpc': s(o.peerVpc) }),
  },
  nacl: {
    command: 'nacl',
    title: 'network ACL',
    collection: 'network-acls',
    prefix: 'acl',
    row: (o: Obj) => ({
      id: s(o.id),
      name: s(o.name),
      vpc: s(o.vpc),
      ingress: rulesText(o.ingress),
      egress: rulesText(o.egress),
    }),
  },
  instance: {
    command: 'instance',
    title: 'instance',
    collection: 'instances',
    prefix: 'i',
    row: (o: Obj) => ({
      id: s(o.id),
      name: s(o.name),
      subnet: s(o.subnet),
      ip: s(o.ip),
      mac: s(o.mac),
      host: s(o.host),
      state: s(o.state),
      sgs: (o.securityGroups as string[]).join(',') || '-',
    }),
  },
} satisfies Record<string, KindView>;
