/**
 * The VPC intent: what a tenant declares, in a cloud user's words (VPCs, subnets, route tables,
 * gateways, security groups, network ACLs, instances) and never in the fabric's (no VNI, no VTEP,
 * no bridge domain). The service stores it; `compile` turns it into the fabric's configuration.
 *
 * These zod schemas are the one definition of each object: the API validates request bodies with
 * them (and publishes them in its OpenAPI document), the store keeps objects of these shapes, and
 * `validate` / `compile` read them. Every object has a stable `id` (`vpc-...`, `subnet-...`) given
 * by the service, and belongs to one tenant; references between objects are by id.
 *
 * Shapes only: relations (a subnet inside its VPC's CIDRs, routes to gateways of the same VPC,
 * addresses in use...) are checked by `validate`, with every problem and its path.
 */
import { z } from 'zod';
import { parseCidr, parseIpv4Address } from '../wire/index.js';

export const cidrText = z
  .string()
  .refine((s) => parseCidr(s) !== undefined, { message: 'not an IPv4 prefix (a.b.c.d/len)' });
export const ipv4Text = z
  .string()
  .refine((s) => parseIpv4Address(s) !== undefined, { message: 'not an IPv4 address (a.b.c.d)' });
/** Names: what people type; ids are the service's. */
export const objectName = z
  .string()
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/,
    'a name: letters, digits, _ . - (1 to 63, starting with a letter or digit)',
  );
export const objectId = z.string().regex(/^[a-z]+-[0-9a-z]+$/, 'an id like vpc-0a1b2c');

export const PROTOCOLS = ['tcp', 'udp', 'icmp', 'all'] as const;
export const protocol = z.enum(PROTOCOLS);
/** A port range, inclusive: [443, 443], [1024, 65535]. Omitted for icmp and all. */
export const portRange = z
  .tuple([z.number().int().min(0).max(65535), z.number().int().min(0).max(65535)])
  .refine(([a, b]) => a <= b, { message: 'the first port must not exceed the last' });

export const tenantSchema = z.strictObject({ id: objectId, name: objectName });

export const vpcSchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  name: objectName,
  /** One or more IPv4 blocks (e.g. 10.0.0.0/16), /16 to /28 as the usual clouds allow. */
  cidrs: z.array(cidrText).min(1).max(5),
});

export const subnetSchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  vpc: objectId,
  name: objectName,
  /** Inside one of the VPC's CIDRs, /16 to /28. */
  cidr: cidrText,
  /** The route table associated with the subnet; the VPC's main table (its local route only) otherwise. */
  routeTable: objectId.optional(),
  /** The network ACL associated with the subnet; allow-all otherwise. */
  networkAcl: objectId.optional(),
});

export const routeTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('internet-gateway'), id: objectId }),
  z.strictObject({ kind: z.literal('peering'), id: objectId }),
  z.strictObject({ kind: z.literal('instance'), id: objectId }),
  z.strictObject({ kind: z.literal('blackhole') }),
]);

export const routeSchema = z.strictObject({ destination: cidrText, target: routeTargetSchema });

/** The VPC's local route (every subnet of the VPC reaches every other) is implied, never written. */
export const routeTableSchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  vpc: objectId,
  name: objectName,
  routes: z.array(routeSchema).max(100),
});

/** The way out to the internet, through the fabric's border (source NAT to the border's public range). */
export const internetGatewaySchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  vpc: objectId,
  name: objectName,
});

/** A public address (1:1 NAT on the border) held by the tenant, optionally bound to an instance. */
export const elasticIpSchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  name: objectName,
  /** Allocated by the service from the border's public pool. */
  address: ipv4Text,
  instance: objectId.optional(),
});

/** Two VPCs of one tenant joined; their CIDRs must not overlap. Routes to it are written in route tables. */
export const peeringSchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  name: objectName,
  vpc: objectId,
  peerVpc: objectId,
});

/** A stateful rule: allow traffic of `protocol` (and ports) from/to a CIDR or the members of a security group. */
export const sgRuleSchema = z
  .strictObject({
    protocol,
    ports: portRange.optional(),
    cidr: cidrText.optional(),
    group: objectId.optional(),
  })
  .refine((r) => (r.cidr === undefined) !== (r.group === undefined), {
    message: 'give exactly one of cidr or group',
  });

/** Stateful, per instance, allow rules only; return traffic of an allowed connection is allowed (connection tracking). */
export const securityGroupSchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  vpc: objectId,
  name: objectName,
  ingress: z.array(sgRuleSchema).max(60),
  egress: z.array(sgRuleSchema).max(60),
});

/** Stateless, per subnet, evaluated in `number` order, first match wins, an implicit deny at the end. */
export const aclRuleSchema = z.strictObject({
  number: z.number().int().min(1).max(32766),
  action: z.enum(['allow', 'deny']),
  protocol,
  ports: portRange.optional(),
  cidr: cidrText,
});

export const networkAclSchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  vpc: objectId,
  name: objectName,
  ingress: z.array(aclRuleSchema).max(40),
  egress: z.array(aclRuleSchema).max(40),
});

export const instanceSchema = z.strictObject({
  id: objectId,
  tenant: objectId,
  subnet: objectId,
  name: objectName,
  /** Given by the tenant (a fixed IP) or allocated by the service; never the network, gateway, reserved or broadcast address. */
  ip: ipv4Text,
  /** Allocated by the service (locally administered, unique fabric-wide). */
  mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'a MAC address (aa:bb:cc:dd:ee:ff)'),
  securityGroups: z.array(objectId).max(5),
  /** The hypervisor it runs on: pinned by the tenant's request, or chosen by the scheduler. */
  host: z.string(),
  state: z.enum(['running', 'stopped']),
});

export type Tenant = z.infer<typeof tenantSchema>;
export type Vpc = z.infer<typeof vpcSchema>;
export type Subnet = z.infer<typeof subnetSchema>;
export type RouteTarget = z.infer<typeof routeTargetSchema>;
export type Route = z.infer<typeof routeSchema>;
export type RouteTable = z.infer<typeof routeTableSchema>;
export type InternetGateway = z.infer<typeof internetGatewaySchema>;
export type ElasticIp = z.infer<typeof elasticIpSchema>;
export type Peering = z.infer<typeof peeringSchema>;
export type SgRule = z.infer<typeof sgRuleSchema>;
export type SecurityGroup = z.infer<typeof securityGroupSchema>;
export type AclRule = z.infer<typeof aclRuleSchema>;
export type NetworkAcl = z.infer<typeof networkAclSchema>;
export type Instance = z.infer<typeof instanceSchema>;

/** Everything declared, fabric-wide (every tenant), as the store holds it. */
export interface Intent {
  readonly tenants: readonly Tenant[];
  readonly vpcs: readonly Vpc[];
  readonly subnets: readonly Subnet[];
  readonly routeTables: readonly RouteTable[];
  readonly internetGateways: readonly InternetGateway[];
  readonly elasticIps: readonly ElasticIp[];
  readonly peerings: readonly Peering[];
  readonly securityGroups: readonly SecurityGroup[];
  readonly networkAcls: readonly NetworkAcl[];
  readonly instances: readonly Instance[];
}

export const EMPTY_INTENT: Intent = {
  tenants: [],
  vpcs: [],
  subnets: [],
  routeTables: [],
  internetGateways: [],
  elasticIps: [],
  peerings: [],
  securityGroups: [],
  networkAcls: [],
  instances: [],
};

/** The kinds of object, with their id prefix and the Intent key that lists them. */
export const OBJECT_KINDS = {
  tenant: { prefix: 'tenant', key: 'tenants', schema: tenantSchema },
  vpc: { prefix: 'vpc', key: 'vpcs', schema: vpcSchema },
  subnet: { prefix: 'subnet', key: 'subnets', schema: subnetSchema },
  'route-table': { prefix: 'rtb', key: 'routeTables', schema: routeTableSchema },
  'internet-gateway': { prefix: 'igw', key: 'internetGateways', schema: internetGatewaySchema },
  'elastic-ip': { prefix: 'eip', key: 'elasticIps', schema: elasticIpSchema },
  peering: { prefix: 'pcx', key: 'peerings', schema: peeringSchema },
  'security-group': { prefix: 'sg', key: 'securityGroups', schema: securityGroupSchema },
  'network-acl': { prefix: 'acl', key: 'networkAcls', schema: networkAclSchema },
  instance: { prefix: 'i', key: 'instances', schema: instanceSchema },
} as const;

export type ObjectKind = keyof typeof OBJECT_KINDS;

/**
 * The fabric a plan is compiled onto: its hypervisors (where instances run; each an NVE with a
 * VTEP, on a leaf) and its border (where internet gateways and elastic IPs leave, with a public
 * address pool). The service takes it from the running fabric.
 *
 * `transit` is the NVE's VRFs' address on their L3 VNI (169.254.0.0/16); when an inventory leaves it
 * out, it is the NVE's place in the list + 1 (the hypervisors in order, then the border), as the
 * service fabric numbers them. `internet` names the router the border's VRFs link to (`internet`).
 */
export interface FabricInventory {
  readonly hypervisors: readonly {
    readonly name: string;
    readonly vtep: string;
    readonly leaf: string;
    readonly transit?: string;
  }[];
  readonly border: {
    readonly name: string;
    readonly publicPool: string;
    readonly transit?: string;
    readonly internet?: string;
  } | null;
}
