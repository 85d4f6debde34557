/**
 * The lab file format, as a zod schema: the single source of validation (every problem reported
 * with its path) and of the JSON Schema editors use (`labJsonSchema()`). Shapes here are what the
 * YAML says; `lab/check.ts` adds the cross-references a schema cannot see (unknown nodes, ports
 * used twice, gateways off-subnet), and `lab/build.ts` turns a checked lab into a Network.
 */
import { z } from 'zod';
import { GATEWAY_MODES } from '../../overlay/gateway.js';
import { parseCidr, parseIpv4Address, parseMac } from '../../wire/index.js';
import { parseDuration } from '../units.js';
import { interfaceAddressProblem, interfaceMacProblem } from './addresses.js';
import { duration, rate, size } from './quantities.js';

const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'a name starts with a letter and uses letters, digits, _ . -');
const ipv4 = z
  .string()
  .refine((s) => parseIpv4Address(s) !== undefined, { message: 'not an IPv4 address (a.b.c.d)' });
const cidrText = z
  .string()
  .refine((s) => parseCidr(s) !== undefined, { message: 'not an IPv4 prefix (a.b.c.d/len)' });
const prefixOrAny = z.union([z.literal('any'), cidrText]);
/** An interface's address and prefix: an address an interface can have (`addresses.ts`). */
const interfaceCidr = z.string().superRefine((s, ctx) => {
  const c = parseCidr(s);
  const problem = c ? interfaceAddressProblem(c.address, c) : 'not an IPv4 prefix (a.b.c.d/len)';
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/** An address an interface can have, without its prefix (a VTEP). */
const interfaceIpv4 = z.string().superRefine((s, ctx) => {
  const ip = parseIpv4Address(s);
  const problem = ip === undefined ? 'not an IPv4 address (a.b.c.d)' : interfaceAddressProblem(ip);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/** An interface's own MAC: unicast and not all zeros (IEEE 802). */
const macText = z.string().superRefine((s, ctx) => {
  const mac = parseMac(s);
  const problem = mac === undefined ? 'not a MAC address (aa:bb:cc:dd:ee:ff)' : interfaceMacProblem(mac);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const vlanId = z
  .number()
  .int()
  .min(1, 'VLAN IDs are 1..4094 (0 and 4095 are reserved)')
  .max(4094, 'VLAN IDs are 1..4094 (0 and 4095 are reserved)');
const port = z.number().int().min(1).max(65535);
/**
 * A map keyed by names (nodes, interfaces, ports, ACLs...): parsed into an object without a
 * prototype, so that `map[name]` and `name in map` find only what the lab declares, never
 * Object.prototype's `constructor` or `toString`. (`__proto__` cannot be a key of a JavaScript
 * object at all: zod skips it, and `lab/check.ts` refuses it before zod sees the data.)
 */
function nameMap<K extends z.core.$ZodRecordKey, V extends z.core.SomeType>(key: K, value: V) {
  return z.record(key, value).transform(nullPrototype);
}

export function nullPrototype<T extends object>(map: T): T {
  return Object.assign(Object.create(null) as T, map);
}

const portRange = z.union([port, z.string().regex(/^\d+-\d+$/, 'a port or a range like 1024-65535')]);

/** `first-last` addresses of a DHCP pool. */
export function parsePool(text: string): { first: number; last: number } | undefined {
  const m = /^\s*([\d.]+)\s*-\s*([\d.]+)\s*$/.exec(text);
  const first = m ? parseIpv4Address(m[1]!) : undefined;
  const last = m ? parseIpv4Address(m[2]!) : undefined;
  return first !== undefined && last !== undefined && first <= last ? { first, last } : undefined;
}

const dhcpServer = z.strictObject({
  pool: z.string().refine((s) => parsePool(s) !== undefined, {
    message: 'a pool is FIRST-LAST, e.g. 192.168.0.100-192.168.0.199',
  }),
  leaseTime: duration
    .refine(
      (v) => {
        const ns = parseDuration(v);
        return ns !== undefined && ns >= 60e9 && ns <= 4294967295e9;
      },
      { message: 'a lease lasts from 1 minute to 2^32-1 seconds (RFC 2132 option 51)' },
    )
    .optional(),
  router: ipv4.optional().describe("default router for clients (default: the server's own address)"),
});

const hostNode = z.strictObject({
  kind: z.literal('host'),
  ip: interfaceCidr.optional(),
  mac: macText.optional(),
  gateway: ipv4.optional(),
  announce: z.boolean().optional().describe('send a gratuitous ARP at start (default true)'),
  arpTimeout: duration.optional(),
  udpEcho: z.union([z.boolean(), port]).optional().describe('run a UDP echo service (true: port 7)'),
  dhcp: z.boolean().optional().describe('get address, mask and gateway by DHCP'),
  dhcpServer: dhcpServer.optional().describe('serve DHCP on eth0'),
  nics: nameMap(
    z.string().regex(/^eth[1-9]\d*$/, 'more NICs are named eth1, eth2, ...'),
    z.strictObject({ ip: interfaceCidr.optional(), mac: macText.optional() }),
  )
    .optional()
    .describe('NICs beyond eth0 (a multi-homed host; it does not forward between them)'),
});

const accessPort = z.strictObject({ vlan: vlanId });
const trunkPort = z.strictObject({
  trunk: z.literal(true),
  allowed: z.union([z.literal('all'), z.array(vlanId).min(1)]).optional(),
  native: z.union([vlanId, z.null()]).optional(),
});

const stpOptions = z.strictObject({
  priority: z
    .number()
    .int()
    .min(0)
    .max(61440)
    .multipleOf(4096, 'a bridge priority is a multiple of 4096')
    .optional(),
  helloTime: z.number().min(1).max(10).optional(),
  maxAge: z.number().min(6).max(40).optional(),
  forwardDelay: z.number().min(4).max(30).optional(),
});

const switchNode = z.strictObject({
  kind: z.literal('switch'),
  mac: macText.optional(),
  stp: z.union([z.boolean(), stpOptions]).optional().describe('run IEEE 802.1D spanning tree (default off)'),
  macTableSize: z.number().int().min(1).optional(),
  agingTime: duration.optional(),
  ports: nameMap(z.string(), z.union([accessPort, trunkPort])).optional(),
});

const hubNode = z.strictObject({ kind: z.literal('hub') });

const routerInterface = z.strictObject({
  ip: z.union([interfaceCidr, z.array(interfaceCidr).min(1)]),
  mac: macText.optional(),
  port: z.string().optional().describe('physical port of a sub-interface (default: the interface name)'),
  vlan: vlanId.optional().describe('802.1Q VLAN of a sub-interface or VLANIF'),
  dhcp: dhcpServer.optional().describe('serve DHCP on this interface'),
});

const route = z.strictObject({
  to: cidrText,
  via: ipv4.optional(),
  dev: z.string().optional(),
  metric: z.number().int().min(0).optional(),
});

const aclRule = z.strictObject({
  action: z.enum(['permit', 'deny']),
  protocol: z.union([z.enum(['ip', 'icmp', 'tcp', 'udp']), z.number().int().min(0).max(255)]).optional(),
  src: prefixOrAny.optional(),
  dst: prefixOrAny.optional(),
  srcPort: portRange.optional(),
  dstPort: portRange.optional(),
});

const routerNode = z.strictObject({
  kind: z.literal('router'),
  interfaces: nameMap(z.string(), routerInterface),
  routes: z.array(route).optional(),
  acls: nameMap(z.string(), z.array(aclRule)).optional(),
  applyAcls: z
    .array(z.strictObject({ interface: z.string(), acl: z.string(), direction: z.enum(['in', 'out']) }))
    .optional(),
});

const vlanif = z.strictObject({
  ip: z.union([interfaceCidr, z.array(interfaceCidr).min(1)]),
  mac: macText.optional(),
  dhcp: dhcpServer.optional().describe('serve DHCP on this VLAN'),
});

/** An L3 switch: a switch whose VLANs have routed interfaces (VLANIF), named vlanif<VID> in routes and ACLs. */
const l3switchNode = z.strictObject({
  ...switchNode.shape,
  kind: z.literal('l3switch'),
  vlanifs: nameMap(z.string().regex(/^\d+$/, 'a VLANIF is keyed by its VLAN ID'), vlanif),
  routes: z.array(route).optional(),
  acls: nameMap(z.string(), z.array(aclRule)).optional(),
  applyAcls: z
    .array(z.strictObject({ interface: z.string(), acl: z.string(), direction: z.enum(['in', 'out']) }))
    .optional(),
});

const vni = z.number().int().min(1, 'a VNI is 1..16777215').max(0xff_ffff, 'a VNI is 1..16777215');

/**
 * An NVE (a VTEP): a leaf switch's or a hypervisor's. Its underlay side is a router's
 * (`interfaces`, `routes`); its access side maps ports into bridge domains through VAPs.
 */
const nveNode = z.strictObject({
  kind: z.literal('nve'),
  vtep: interfaceIpv4.describe(
    "the VTEP's source address; a loopback lo is added unless an interface has it",
  ),
  encapsulation: z.enum(['vxlan', 'geneve', 'nvgre']).optional().describe('default vxlan'),
  controlPlane: z.enum(['flood-and-learn', 'controller']).optional().describe('default flood-and-learn'),
  interfaces: nameMap(z.string(), routerInterface)
    .optional()
    .describe('underlay interfaces, as a router has'),
  routes: z.array(route).optional(),
  bridgeDomains: nameMap(
    z.string().regex(/^[1-9]\d*$/, 'a bridge domain is keyed by its number'),
    z.strictObject({ vni, tenant: name.optional().describe('default "default"') }),
  ).describe('BD number -> its VNI (1:1) and tenant'),
  ports: nameMap(z.string(), z.union([accessPort, trunkPort]))
    .optional()
    .describe('VLAN modes of access ports, for VLAN-binding access'),
  vlanBindings: nameMap(
    z.string().regex(/^\d+$/, 'a binding is keyed by its VLAN ID'),
    z.number().int().min(1),
  )
    .optional()
    .describe('VLAN -> BD on every port whose mode carries the VLAN (VLAN-binding access)'),
  subinterfaces: z
    .array(
      z.strictObject({
        port: z.string(),
        bd: z.number().int().min(1),
        vlan: vlanId.optional().describe('dot1q: frames tagged with this VLAN'),
        qinq: z.tuple([vlanId, vlanId]).optional().describe('QinQ: [outer S-tag, inner C-tag]'),
      }),
    )
    .optional()
    .describe('L2 sub-interface access: a port (untagged, dot1q or QinQ) into a BD'),
  vrfs: nameMap(
    name,
    z.strictObject({
      l3vni: vni.optional().describe("the tenant's L3 VNI (symmetric IRB)"),
      transitIp: ipv4.optional().describe("this VRF's address on the L3 VNI (169.254.0.0/16)"),
    }),
  )
    .optional()
    .describe('tenant VRFs, each a router of its own inside the NVE (NAME/TENANT)'),
  vbdifs: nameMap(
    z.string().regex(/^[1-9]\d*$/, 'a VBDIF is keyed by its bridge domain'),
    z.strictObject({
      tenant: name,
      ip: z.union([interfaceCidr, z.array(interfaceCidr).min(1)]),
      mac: macText.optional(),
      anycast: z.boolean().optional().describe('the same IP and MAC on every NVE: a distributed gateway'),
    }),
  )
    .optional()
    .describe("gateway interfaces of a tenant's VRF on a BD (interface vbdif<BD>)"),
  macTableSize: z.number().int().min(1).optional().describe('MAC entries per BD (default 65536)'),
  agingTime: duration.optional(),
});

export const nodeSchema = z.discriminatedUnion(
  'kind',
  [hostNode, switchNode, hubNode, routerNode, l3switchNode, nveNode],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? 'kind must be host, switch, hub, router, l3switch or nve' : undefined,
  },
);

const linkProperties = {
  delay: duration.optional(),
  bandwidth: rate.optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
  queue: z.number().int().min(0).optional().describe('frames that may wait behind the one being sent'),
  loss: z.number().min(0).max(1).optional(),
};

/** The spine-leaf fabric generator (`topo/fabric.ts`): expands into spines, leaves, servers, VMs and tenants. */
const fabricSchema = z.strictObject({
  spines: z.number().int().min(1).max(64),
  leaves: z.number().int().min(1).max(1024),
  serversPerLeaf: z.number().int().min(1).max(1024),
  vmsPerServer: z.number().int().min(0).max(1024),
  nve: z
    .enum(['leaf', 'hypervisor'])
    .optional()
    .describe(
      'where the VTEPs are: on the leaves (servers attach by VLAN) or on the hypervisors (default leaf)',
    ),
  encapsulation: z.enum(['vxlan', 'geneve', 'nvgre']).optional().describe('default vxlan'),
  controlPlane: z
    .enum(['flood-and-learn', 'controller'])
    .optional()
    .describe(
      'remote MAC learning from traffic, or MAC/IP routes from the controller (default flood-and-learn)',
    ),
  gateway: z
    .enum(GATEWAY_MODES)
    .optional()
    .describe('L3 gateway between the subnets: none (L2 only, default), one border, or anycast on every NVE'),
  external: z
    .boolean()
    .optional()
    .describe(
      'an outside network (router internet, host web 198.51.100.10) behind the border, with source NAT per tenant',
    ),
  controllerDelay: duration
    .optional()
    .describe('how long the controller takes to install a route (default 0)'),
  underlayMtu: z
    .number()
    .int()
    .min(68)
    .max(65535)
    .optional()
    .describe('MTU of the underlay links (default 1550)'),
  announce: z
    .boolean()
    .optional()
    .describe('each VM sends a gratuitous ARP when the lab starts, as a booting VM does (default true)'),
  link: z
    .strictObject({ delay: duration.optional(), bandwidth: rate.optional() })
    .optional()
    .describe('delay and bandwidth of every fabric link'),
  tenants: z.array(z.strictObject({ name, subnets: z.array(cidrText).min(1) })).min(1),
});

/** `node` or `node:port`. */
const endpoint = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*(:[A-Za-z0-9_./-]+)?$/, 'a node name, or node:port');

const linkSchema = z.strictObject({ a: endpoint, b: endpoint, ...linkProperties });

const linkRef = z
  .union([z.number().int().min(0), z.tuple([name, name])])
  .describe('a link index, or the two nodes it joins');

/** The tables `vnet show` and the `show` step print. */
export const SHOW_TABLES = [
  'mac',
  'arp',
  'routes',
  'acl',
  'counters',
  'interfaces',
  'stp',
  'dhcp',
  'bd',
  'bd-mac',
  'flood',
  'arp-suppression',
  'vaps',
  'vrf-routes',
  'gateway-arp',
  'ecmp',
  'controller',
  'nat',
  'tcp',
] as const;

/**
 * The `migrate` step (run by `migrate.ts`): live-migrates a VM with the memory transfer model's
 * timing. Kept here with the other steps, so the schema imports no step runner.
 */
export const migrateStepSchema = z
  .strictObject({
    migrate: z.strictObject({
      vm: z.string().describe('the host that moves'),
      to: z.string().describe('the destination hypervisor: a switch, an NVE or a hub'),
      port: z.string().optional().describe('the destination port (default: a new one)'),
      mode: z.enum(['pre-copy', 'post-copy']).optional(),
      memory: size.optional().describe('VM memory (default 1GiB)'),
      pageSize: size.optional().describe('default 4KiB'),
      dirtyRate: z
        .number()
        .min(0)
        .optional()
        .describe('pages dirtied per second while the VM runs (default 0)'),
      workingSet: z.number().int().min(1).optional().describe('pages the writes are confined to'),
      bandwidth: rate.optional().describe('migration link (default 10Gbps)'),
      maxDowntime: duration
        .optional()
        .describe('pre-copy stops iterating once the rest fits this (default 300ms)'),
      maxRounds: z.number().int().min(1).max(1000).optional(),
      switchover: duration.optional().describe('device state transfer and resume (default 5ms)'),
      faultRtt: duration.optional().describe('post-copy: one page fault round trip (default 100us)'),
      announce: z
        .enum(['rarp', 'garp', 'none'])
        .optional()
        .describe('how the VM announces its new place (default rarp, as QEMU)'),
      observe: duration.optional().describe('how long after the resume the step watches (default 5s)'),
    }),
  })
  .describe('live-migrates a VM: memory transfer rounds, downtime, convergence, TCP sessions');

export type MigrateStep = z.infer<typeof migrateStepSchema>['migrate'];

const step = z.union([
  z.strictObject({
    ping: z.strictObject({
      from: name,
      to: ipv4,
      count: z.number().int().min(1).max(100000).optional(),
      interval: duration.optional(),
      timeout: duration.optional(),
      size: z.number().int().min(0).max(65507).optional(),
      ttl: z.number().int().min(1).max(255).optional(),
    }),
  }),
  z.strictObject({
    udp: z.strictObject({
      from: name,
      to: ipv4,
      port,
      srcPort: port.optional(),
      data: z.string().optional(),
      count: z.number().int().min(1).max(1_000_000).optional(),
      interval: duration.optional(),
    }),
  }),
  z.strictObject({ arp: z.strictObject({ node: name, ip: ipv4 }) }),
  z
    .strictObject({ path: z.strictObject({ from: name, to: ipv4 }) })
    .describe('one ping, and the devices its request and its reply crossed, in order'),
  z.strictObject({ wait: duration }),
  z.strictObject({ link: z.strictObject({ link: linkRef, state: z.enum(['up', 'down']) }) }),
  z.strictObject({
    capture: z.strictObject({
      link: linkRef.optional(),
      port: endpoint.optional(),
      file: z.string().regex(/^[\w.-]+\.pcap$/, 'a file name ending in .pcap'),
    }),
  }),
  z
    .strictObject({
      'tcp-server': z.strictObject({
        node: name,
        port,
        app: z
          .enum(['echo', 'discard'])
          .describe('echo (RFC 862) or discard (RFC 863), the sink of tcp-bulk'),
      }),
    })
    .describe('starts a TCP server on a host (instant)'),
  z
    .strictObject({
      'tcp-session': z.strictObject({
        name,
        from: name,
        to: ipv4,
        port,
        every: duration.describe('a message this often, in the background, for the rest of the script'),
        size: z.number().int().min(1).max(65535).optional().describe('bytes per message (default 64)'),
        userTimeout: duration
          .optional()
          .describe('give up when data stays unacknowledged this long (default 60 s)'),
      }),
    })
    .describe(
      'opens a message session to an echo server; the step ends when it is established or has failed',
    ),
  z
    .strictObject({ 'tcp-status': z.strictObject({ session: name }) })
    .describe("a session's statistics at this moment"),
  z
    .strictObject({
      'tcp-bulk': z.strictObject({
        from: name,
        to: ipv4,
        port,
        bytes: z.number().int().min(1).max(1_000_000_000),
        userTimeout: duration.optional(),
      }),
    })
    .describe('sends BYTES to a discard server and reports the throughput (runs until done)'),
  z.strictObject({
    show: z.strictObject({
      node: name,
      table: z.enum(SHOW_TABLES),
    }),
  }),
  migrateStepSchema,
]);

export const labSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  seed: z.number().int().min(0).optional(),
  linkDefaults: z.strictObject(linkProperties).optional(),
  fabric: fabricSchema.optional(),
  nodes: nameMap(name, nodeSchema).prefault({}),
  links: z.array(linkSchema).default([]),
  script: z.array(step).default([]),
});

export type LabFile = z.infer<typeof labSchema>;
export type LabNode = z.infer<typeof nodeSchema>;
export type LabStep = z.infer<typeof step>;
export type LabLink = z.infer<typeof linkSchema>;
export type LabFabric = z.infer<typeof fabricSchema>;

/** A step's kind: the one key of its object (`ping`, `udp`, ..., `migrate`). */
export type StepKind = LabStep extends infer S ? (S extends unknown ? keyof S : never) : never;

/** What a step of kind `K` says (the value under its key). */
export type StepBody<K extends StepKind> = Extract<LabStep, Record<K, unknown>>[K];

/** The kind of `step` (a step object has exactly one key, its kind). */
export function stepKind(step: LabStep): StepKind {
  return Object.keys(step)[0] as StepKind;
}

/** JSON Schema (draft 2020-12) of the lab format, for editors. */
export function labJsonSchema(): unknown {
  return z.toJSONSchema(labSchema, { io: 'input', unrepresentable: 'any' });
}
