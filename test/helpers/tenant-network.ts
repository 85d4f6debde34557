/**
 * The service with its simulated fabric, as `vnet serve` runs it (for tests that probe tenants'
 * networks), and a tenant network that touches every kind the isolation tests need: two VPCs
 * peered, an internet gateway, an elastic IP, security groups, instances on shared hypervisors.
 */
import type { FabricQueue } from '../../src/api/fabric-queue.js';
import { ServiceRuntime } from '../../src/api/service-runtime.js';
import { startService, type TestService } from './service.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field
export type Body = Record<string, any>;

/** A real server over a real SQLite file, with a fabric the intent is applied to. */
export async function startFabricService(
  fabric?: FabricQueue,
): Promise<{ svc: TestService; runtime: ServiceRuntime }> {
  const runtime = new ServiceRuntime();
  const svc = await startService({
    runtime,
    hooks: runtime.hooks(),
    hypervisors: runtime.hypervisors(),
    fabric,
  });
  svc.store.publish();
  return { svc, runtime };
}

/**
 * `name`'s network: VPC 10.0.0.0/16 (subnet 10.0.1.0/24, internet gateway, default route to it)
 * peered with VPC 10.9.0.0/16 (subnet 10.9.1.0/24); instance `web` on leaf1-srv1 with an elastic
 * IP, `db` in the peered VPC on leaf2-srv1; groups open to ICMP, TCP 80 and UDP 7 from anywhere.
 * Every object is named after the tenant (`acme-web1`), so a leak of a name is found by its text.
 */
export async function tenantNetwork(svc: TestService, token: string, name: string): Promise<Body> {
  const created = async (path: string, body: unknown): Promise<Body> => {
    const r = await svc.request('POST', path, { token, body });
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const main = await created('/v1/vpcs', { name: `${name}-main`, cidrs: ['10.0.0.0/16'] });
  const peer = await created('/v1/vpcs', { name: `${name}-peer`, cidrs: ['10.9.0.0/16'] });
  const igw = await created('/v1/internet-gateways', { name: `${name}-igw`, vpc: main.id });
  const pcx = await created('/v1/peerings', { name: `${name}-pcx`, vpc: main.id, peerVpc: peer.id });
  const rtb = await created('/v1/route-tables', {
    name: `${name}-public`,
    vpc: main.id,
    routes: [
      { destination: '0.0.0.0/0', target: { kind: 'internet-gateway', id: igw.id } },
      { destination: '10.9.0.0/16', target: { kind: 'peering', id: pcx.id } },
    ],
  });
  const back = await created('/v1/route-tables', {
    name: `${name}-back`,
    vpc: peer.id,
    routes: [{ destination: '10.0.0.0/16', target: { kind: 'peering', id: pcx.id } }],
  });
  const subnet = await created('/v1/subnets', {
    name: `${name}-apps`,
    vpc: main.id,
    cidr: '10.0.1.0/24',
    routeTable: rtb.id,
  });
  const peerSubnet = await created('/v1/subnets', {
    name: `${name}-data`,
    vpc: peer.id,
    cidr: '10.9.1.0/24',
    routeTable: back.id,
  });
  const rules = [
    { protocol: 'icmp', cidr: '0.0.0.0/0' },
    { protocol: 'tcp', ports: [80, 80], cidr: '0.0.0.0/0' },
    { protocol: 'udp', ports: [7, 7], cidr: '0.0.0.0/0' },
  ];
  const egress = [{ protocol: 'all', cidr: '0.0.0.0/0' }];
  const sg = await created('/v1/security-groups', {
    name: `${name}-web`,
    vpc: main.id,
    ingress: rules,
    egress,
  });
  const peerSg = await created('/v1/security-groups', {
    name: `${name}-db`,
    vpc: peer.id,
    ingress: rules,
    egress,
  });
  const web = await created('/v1/instances', {
    name: `${name}-web1`,
    subnet: subnet.id,
    securityGroups: [sg.id],
    host: 'leaf1-srv1',
  });
  const db = await created('/v1/instances', {
    name: `${name}-db1`,
    subnet: peerSubnet.id,
    securityGroups: [peerSg.id],
    host: 'leaf2-srv1',
  });
  const eip = await created('/v1/elastic-ips', { name: `${name}-eip`, instance: web.id });
  return { main, peer, igw, pcx, rtb, back, subnet, peerSubnet, sg, peerSg, web, db, eip };
}
