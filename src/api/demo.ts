/**
 * The service's demo (`vnet serve --demo`): two tenants, `blue` and `green`, each with a VPC
 * 10.0.0.0/16 (the same addresses for both), two subnets (`web` 10.0.1.0/24 and `db` 10.0.2.0/24),
 * an internet gateway with a route table for `web`, two security groups (`web`: HTTP from anywhere
 * and ICMP from the VPC; `db`: PostgreSQL from the `web` group only) and three instances on three
 * racks (`web1` on leaf1-srv1, `web2` on leaf2-srv1, `db1` on leaf1-srv2). Loaded through the
 * store, so every rule the API applies (names, addresses, relations) applies to it; loaded only
 * into an empty database, so a restart keeps what was changed since.
 *
 * Returns each tenant's API token (they exist only here: the store keeps their hashes).
 */
import type { Store } from '../store/store.js';

export interface DemoTenant {
  readonly name: string;
  readonly id: string;
  readonly token: string;
  readonly instances: Record<string, string>;
}

export function loadDemo(store: Store): DemoTenant[] {
  // One transaction: a demo that cannot be loaded (e.g. a fabric without its hypervisors) leaves
  // nothing behind, so the next `--demo` start still finds an empty database.
  return store.tx(() => load(store));
}

function load(store: Store): DemoTenant[] {
  const out: DemoTenant[] = [];
  for (const name of ['blue', 'green']) {
    const tenant = store.create(null, 'tenant', { name }).body;
    const t = String(tenant.id);
    const { token } = store.createToken(t, 'demo');
    const make = (kind: Parameters<Store['create']>[1], body: Record<string, unknown>) =>
      String(store.create(t, kind, body).body.id);
    const vpc = make('vpc', { name: 'shop', cidrs: ['10.0.0.0/16'] });
    const igw = make('internet-gateway', { name: 'out', vpc });
    const rtb = make('route-table', {
      name: 'public',
      vpc,
      routes: [{ destination: '0.0.0.0/0', target: { kind: 'internet-gateway', id: igw } }],
    });
    const web = make('subnet', { name: 'web', vpc, cidr: '10.0.1.0/24', routeTable: rtb });
    const db = make('subnet', { name: 'db', vpc, cidr: '10.0.2.0/24' });
    const webSg = make('security-group', {
      name: 'web',
      vpc,
      ingress: [
        { protocol: 'tcp', ports: [80, 80], cidr: '0.0.0.0/0' },
        { protocol: 'icmp', cidr: '10.0.0.0/16' },
      ],
      egress: [{ protocol: 'all', cidr: '0.0.0.0/0' }],
    });
    const dbSg = make('security-group', {
      name: 'db',
      vpc,
      ingress: [{ protocol: 'tcp', ports: [5432, 5432], group: webSg }],
      egress: [{ protocol: 'all', cidr: '10.0.0.0/16' }],
    });
    const instances: Record<string, string> = {};
    for (const [vm, subnet, sg, host] of [
      ['web1', web, webSg, 'leaf1-srv1'],
      ['web2', web, webSg, 'leaf2-srv1'],
      ['db1', db, dbSg, 'leaf1-srv2'],
    ] as const)
      instances[vm] = make('instance', { name: vm, subnet, securityGroups: [sg], host });
    out.push({ name, id: t, token, instances });
  }
  return out;
}
