/**
 * Per kind of object: the API's request bodies (derived from the intent schemas in
 * src/vpc/intent.ts, so the two never drift), which fields a create may not set (the service's:
 * `id`, `tenant`, and the allocated `mac`, `state`, `address`), which fields an update may change,
 * where a name is unique, and which fields are references to other objects.
 *
 * Names are unique per kind within a VPC for what lives in one (subnets, route tables, internet
 * gateways, security groups, network ACLs: two VPCs may each have a `web` subnet) and within the
 * tenant for the rest (VPCs, instances, elastic IPs, peerings); tenant names are unique service-wide.
 */
import { z } from 'zod';
import {
  elasticIpSchema,
  instanceSchema,
  internetGatewaySchema,
  ipv4Text,
  networkAclSchema,
  OBJECT_KINDS,
  type ObjectKind,
  peeringSchema,
  routeTableSchema,
  securityGroupSchema,
  subnetSchema,
  tenantSchema,
  vpcSchema,
} from '../vpc/intent.js';

/** A reference from one object to another: where in the body, what kind it must be, and the id. */
export interface Reference {
  readonly path: string;
  readonly kind: ObjectKind;
  readonly id: string;
}

export type Body = Record<string, unknown>;

export interface KindSpec {
  readonly kind: ObjectKind;
  /** URL collection: `/v1/<collection>`. */
  readonly collection: string;
  /** For messages and the OpenAPI document: `VPC`, `subnet`... */
  readonly title: string;
  /** Component name in the OpenAPI document. */
  readonly schemaName: string;
  /** POST body. */
  readonly create: z.ZodType;
  /** PUT body: every field an update may change (optional ones are removed when absent). */
  readonly update: z.ZodObject;
  /** PATCH body: the same fields, each optional; `null` removes an optional field. */
  readonly patch: z.ZodObject;
  /** The field whose value is the name's scope (`vpc`); the tenant when absent. */
  readonly scopeField?: string;
  /** Query parameters `GET /v1/<collection>` filters on (besides `name`). */
  readonly filters: readonly string[];
  readonly refs: (body: Body) => Reference[];
}

function patchOf(update: z.ZodObject): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(update.shape as Record<string, z.ZodType>)) {
    shape[key] =
      field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType).nullable().optional() : field.optional();
  }
  return z.strictObject(shape);
}

const one = (body: Body, field: string, kind: ObjectKind): Reference[] =>
  typeof body[field] === 'string' ? [{ path: field, kind, id: body[field] as string }] : [];

function rulesRefs(body: Body): Reference[] {
  const out: Reference[] = [];
  for (const dir of ['ingress', 'egress']) {
    const rules = (body[dir] ?? []) as { group?: string }[];
    rules.forEach((r, i) => {
      if (r.group !== undefined)
        out.push({ path: `${dir}[${i}].group`, kind: 'security-group', id: r.group });
    });
  }
  return out;
}

const ROUTE_TARGET_KINDS: Record<string, ObjectKind> = {
  'internet-gateway': 'internet-gateway',
  peering: 'peering',
  instance: 'instance',
};

function spec(
  s: Omit<KindSpec, 'patch' | 'schemaName' | 'filters'> & { filters?: readonly string[]; schemaName: string },
): KindSpec {
  return { ...s, filters: s.filters ?? [], patch: patchOf(s.update) };
}

const emptyRules = <T extends z.ZodType>(t: T) => t.default([] as never);

export const KINDS: Record<ObjectKind, KindSpec> = {
  tenant: spec({
    kind: 'tenant',
    collection: 'tenants',
    title: 'tenant',
    schemaName: 'Tenant',
    create: tenantSchema.omit({ id: true }),
    update: tenantSchema.pick({ name: true }),
    refs: () => [],
  }),
  vpc: spec({
    kind: 'vpc',
    collection: 'vpcs',
    title: 'VPC',
    schemaName: 'Vpc',
    create: vpcSchema.omit({ id: true, tenant: true }),
    update: vpcSchema.pick({ name: true, cidrs: true }),
    refs: () => [],
  }),
  subnet: spec({
    kind: 'subnet',
    collection: 'subnets',
    title: 'subnet',
    schemaName: 'Subnet',
    create: subnetSchema.omit({ id: true, tenant: true }),
    update: subnetSchema.pick({ name: true, routeTable: true, networkAcl: true }),
    scopeField: 'vpc',
    filters: ['vpc'],
    refs: (b) => [
      ...one(b, 'vpc', 'vpc'),
      ...one(b, 'routeTable', 'route-table'),
      ...one(b, 'networkAcl', 'network-acl'),
    ],
  }),
  'route-table': spec({
    kind: 'route-table',
    collection: 'route-tables',
    title: 'route table',
    schemaName: 'RouteTable',
    create: routeTableSchema
      .omit({ id: true, tenant: true })
      .extend({ routes: emptyRules(routeTableSchema.shape.routes) }),
    update: routeTableSchema.pick({ name: true, routes: true }),
    scopeField: 'vpc',
    filters: ['vpc'],
    refs: (b) => {
      const out = one(b, 'vpc', 'vpc');
      ((b.routes ?? []) as { target: { kind: string; id?: string } }[]).forEach((r, i) => {
        const kind = ROUTE_TARGET_KINDS[r.target.kind];
        if (kind && r.target.id !== undefined)
          out.push({ path: `routes[${i}].target.id`, kind, id: r.target.id });
      });
      return out;
    },
  }),
  'internet-gateway': spec({
    kind: 'internet-gateway',
    collection: 'internet-gateways',
    title: 'internet gateway',
    schemaName: 'InternetGateway',
    create: internetGatewaySchema.omit({ id: true, tenant: true }),
    update: internetGatewaySchema.pick({ name: true }),
    scopeField: 'vpc',
    filters: ['vpc'],
    refs: (b) => one(b, 'vpc', 'vpc'),
  }),
  'elastic-ip': spec({
    kind: 'elastic-ip',
    collection: 'elastic-ips',
    title: 'elastic IP',
    schemaName: 'ElasticIp',
    create: elasticIpSchema.omit({ id: true, tenant: true, address: true }),
    update: elasticIpSchema.pick({ name: true, instance: true }),
    filters: ['instance'],
    refs: (b) => one(b, 'instance', 'instance'),
  }),
  peering: spec({
    kind: 'peering',
    collection: 'peerings',
    title: 'peering',
    schemaName: 'Peering',
    create: peeringSchema.omit({ id: true, tenant: true }),
    update: peeringSchema.pick({ name: true }),
    filters: ['vpc'],
    refs: (b) => [...one(b, 'vpc', 'vpc'), ...one(b, 'peerVpc', 'vpc')],
  }),
  'security-group': spec({
    kind: 'security-group',
    collection: 'security-groups',
    title: 'security group',
    schemaName: 'SecurityGroup',
    create: securityGroupSchema.omit({ id: true, tenant: true }).extend({
      ingress: emptyRules(securityGroupSchema.shape.ingress),
      egress: emptyRules(securityGroupSchema.shape.egress),
    }),
    update: securityGroupSchema.pick({ name: true, ingress: true, egress: true }),
    scopeField: 'vpc',
    filters: ['vpc'],
    refs: (b) => [...one(b, 'vpc', 'vpc'), ...rulesRefs(b)],
  }),
  'network-acl': spec({
    kind: 'network-acl',
    collection: 'network-acls',
    title: 'network ACL',
    schemaName: 'NetworkAcl',
    create: networkAclSchema.omit({ id: true, tenant: true }).extend({
      ingress: emptyRules(networkAclSchema.shape.ingress),
      egress: emptyRules(networkAclSchema.shape.egress),
    }),
    update: networkAclSchema.pick({ name: true, ingress: true, egress: true }),
    scopeField: 'vpc',
    filters: ['vpc'],
    refs: (b) => one(b, 'vpc', 'vpc'),
  }),
  instance: spec({
    kind: 'instance',
    collection: 'instances',
    title: 'instance',
    schemaName: 'Instance',
    create: instanceSchema.pick({ subnet: true, name: true }).extend({
      /** A fixed address; the service allocates one when absent. */
      ip: ipv4Text.optional(),
      /** Pin to a hypervisor; the scheduler chooses when absent. */
      host: z.string().min(1).optional(),
      securityGroups: emptyRules(instanceSchema.shape.securityGroups),
    }),
    update: instanceSchema.pick({ name: true, securityGroups: true }),
    filters: ['subnet', 'host', 'state'],
    refs: (b) =>
      [...one(b, 'subnet', 'subnet')].concat(
        ((b.securityGroups ?? []) as string[]).map((id, i) => ({
          path: `securityGroups[${i}]`,
          kind: 'security-group' as const,
          id,
        })),
      ),
  }),
};

/** The kinds a tenant manages (everything but tenants), in the order they depend on each other. */
export const TENANT_KINDS: readonly ObjectKind[] = (Object.keys(OBJECT_KINDS) as ObjectKind[]).filter(
  (k) => k !== 'tenant',
);

export function kindOfId(id: string): ObjectKind | undefined {
  const prefix = id.slice(0, id.indexOf('-'));
  return (Object.keys(OBJECT_KINDS) as ObjectKind[]).find((k) => OBJECT_KINDS[k].prefix === prefix);
}
