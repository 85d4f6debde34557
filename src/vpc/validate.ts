/**
 * `validate(intent, fabric?)`: every relation the schemas cannot see, checked at once, each problem
 * with the path of the field at fault (`subnets[subnet-3].cidr`, `routeTables[rtb-2].routes[1].target`).
 *
 * Guarantees: never throws on an intent of the schemas' shapes; problems come in `OBJECT_KINDS`
 * order, then the object's place in its list, then the field; the same intent gives the same list.
 * A reference to an object of another tenant reads as unknown (a tenant never learns of another's
 * objects). With the fabric inventory, instance hosts, the border and elastic IP addresses are
 * checked against it too.
 *
 * Cloud rules followed (AWS VPC User Guide): VPC blocks and subnets are /16 to /28; a subnet lies
 * inside one block of its VPC and overlaps no other subnet of it; five addresses of each subnet are
 * reserved (see addresses.ts); one internet gateway per VPC; peered VPCs must not overlap; an
 * elastic IP needs its VPC to have an internet gateway; no route more specific than the local route.
 * And this fabric's own (as AWS keeps some ranges from VPCs): a VPC block overlaps none of the
 * blocks the fabric numbers its links from inside VRFs (`FABRIC_BLOCKS`: border, transit, peering)
 * nor, with the inventory, the border's public pool.
 */

import {
  type Cidr,
  cidrContains,
  cidrNetwork,
  formatCidr,
  formatIpv4,
  isGroupMac,
  parseCidr,
  parseIpv4Address,
  parseMac,
} from '../wire/index.js';
import {
  cidrsOverlap,
  cidrWithin,
  FABRIC_BLOCKS,
  GATEWAY_MAC,
  MAX_PREFIX,
  MIN_PREFIX,
  reservedRole,
  reservedRoleText,
} from './addresses.js';
import type {
  AclRule,
  FabricInventory,
  Instance,
  Intent,
  NetworkAcl,
  Peering,
  RouteTable,
  SecurityGroup,
  SgRule,
  Subnet,
  Vpc,
} from './intent.js';

export interface Problem {
  readonly path: string;
  readonly message: string;
}

type Owned = { readonly id: string; readonly tenant: string };

/** Objects by id, first occurrence; `get` reads another tenant's object as unknown. */
class Index<T extends Owned> {
  private readonly byId = new Map<string, T>();
  constructor(items: readonly T[]) {
    for (const it of items) if (!this.byId.has(it.id)) this.byId.set(it.id, it);
  }
  get(id: string | undefined, tenant: string): T | undefined {
    if (id === undefined) return undefined;
    const it = this.byId.get(id);
    return it !== undefined && it.tenant === tenant ? it : undefined;
  }
}

function cidrText(c: Cidr): string {
  return formatCidr(c);
}

/** What of the fabric's own a VPC block would overlap (a `FABRIC_BLOCKS` block, or the border's public pool), as text. */
function fabricBlockOverlap(c: Cidr, fabric?: FabricInventory): string | undefined {
  for (const b of Object.values(FABRIC_BLOCKS))
    if (cidrsOverlap(c, parseCidr(b.cidr)!)) return `${b.cidr}, which the fabric reserves for ${b.use}`;
  const pool = fabric?.border ? parseCidr(fabric.border.publicPool) : undefined;
  if (pool !== undefined && cidrsOverlap(c, pool)) return `the border's public pool ${cidrText(pool)}`;
  return undefined;
}

/**
 * What the checks of each kind share: the problems found so far (`add`), the intent's objects by id
 * (another tenant's read as unknown), and the checks common to several kinds.
 */
interface Checks {
  readonly intent: Intent;
  readonly fabric: FabricInventory | undefined;
  /** Records a problem (in the order found: that is the order `validate` returns). */
  readonly add: (path: string, message: string) => void;
  readonly tenants: ReadonlySet<string>;
  readonly vpcs: Index<Vpc>;
  readonly subnets: Index<Subnet>;
  readonly tables: Index<RouteTable>;
  readonly igws: Index<Intent['internetGateways'][number]>;
  readonly peerings: Index<Peering>;
  readonly groups: Index<SecurityGroup>;
  readonly acls: Index<NetworkAcl>;
  readonly instances: Index<Instance>;
  readonly vpcCidrs: (v: Vpc) => Cidr[];
  readonly vpcOfInstance: (i: Instance) => string | undefined;
  /** `tenant/vpc` of every VPC with an internet gateway. */
  readonly vpcsWithIgw: ReadonlySet<string>;
  /** Duplicate ids, unknown tenant, and names taken twice in their scope: a checker for one kind's list. */
  readonly common: <T extends { id: string; name: string; tenant?: string }>(
    key: string,
    scope: (it: T) => string,
  ) => (it: T) => void;
  /** A VPC reference, unknown or of another tenant. */
  readonly refVpc: (path: string, id: string, tenant: string) => Vpc | undefined;
  /** A prefix of the intent: parsed, with host bits clear. */
  readonly prefix: (path: string, text: string) => Cidr | undefined;
  /** A VPC block's or a subnet's size: /MIN_PREFIX to /MAX_PREFIX. */
  readonly sized: (path: string, c: Cidr, what: string) => void;
  /** What a security group rule and a network ACL rule share: ports for tcp and udp only. */
  readonly ruleCommon: (rp: string, r: SgRule | AclRule) => void;
}

/** The shared part of the checks, over `intent`; problems go to `problems`. */
function checks(intent: Intent, fabric: FabricInventory | undefined, problems: Problem[]): Checks {
  const add = (path: string, message: string) => problems.push({ path, message });
  const tenants = new Set(intent.tenants.map((t) => t.id));
  const vpcs = new Index<Vpc>(intent.vpcs);
  const subnets = new Index<Subnet>(intent.subnets);
  const tables = new Index<RouteTable>(intent.routeTables);
  const igws = new Index(intent.internetGateways);
  const peerings = new Index<Peering>(intent.peerings);
  const groups = new Index<SecurityGroup>(intent.securityGroups);
  const acls = new Index<NetworkAcl>(intent.networkAcls);
  const instances = new Index<Instance>(intent.instances);
  const vpcCidrs = (v: Vpc) => v.cidrs.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== undefined);
  const vpcOfInstance = (i: Instance) => subnets.get(i.subnet, i.tenant)?.vpc;
  const vpcsWithIgw = new Set(intent.internetGateways.map((g) => `${g.tenant}/${g.vpc}`));

  /** Duplicate ids, unknown tenant, and names taken twice in their scope. */
  const common = <T extends { id: string; name: string; tenant?: string }>(
    key: string,
    scope: (it: T) => string,
  ) => {
    const ids = new Set<string>();
    const names = new Map<string, string>();
    return (it: T) => {
      const at = `${key}[${it.id}]`;
      if (ids.has(it.id)) add(`${at}.id`, `id ${it.id} is used twice`);
      ids.add(it.id);
      if (it.tenant !== undefined && !tenants.has(it.tenant))
        add(`${at}.tenant`, `unknown tenant ${it.tenant}`);
      const nameKey = `${scope(it)}\u0000${it.name}`;
      const holder = names.get(nameKey);
      if (holder !== undefined && holder !== it.id)
        add(`${at}.name`, `name ${it.name} is already ${holder}'s`);
      else names.set(nameKey, it.id);
    };
  };
  /** A VPC reference, unknown or of another tenant. */
  const refVpc = (path: string, id: string, tenant: string): Vpc | undefined => {
    const v = vpcs.get(id, tenant);
    if (v === undefined) add(path, `unknown VPC ${id}`);
    return v;
  };
  /** A prefix of the intent: parsed, with host bits clear. */
  const prefix = (path: string, text: string): Cidr | undefined => {
    const c = parseCidr(text);
    if (c === undefined) {
      add(path, `${text} is not an IPv4 prefix`);
      return undefined;
    }
    if (cidrNetwork(c) !== c.address) {
      add(path, `${text} has host bits set (the prefix is ${formatIpv4(cidrNetwork(c))}/${c.prefixLength})`);
      return { address: cidrNetwork(c), prefixLength: c.prefixLength };
    }
    return c;
  };
  /** A VPC block's or a subnet's size: /MIN_PREFIX to /MAX_PREFIX. */
  const sized = (path: string, c: Cidr, what: string) => {
    if (c.prefixLength < MIN_PREFIX || c.prefixLength > MAX_PREFIX)
      add(path, `${what} is /${MIN_PREFIX} to /${MAX_PREFIX}, not /${c.prefixLength}`);
  };
  /** Ports are for tcp and udp only. */
  const ruleCommon = (rp: string, r: SgRule | AclRule) => {
    if (r.ports !== undefined && (r.protocol === 'icmp' || r.protocol === 'all'))
      add(`${rp}.ports`, `ports apply to tcp and udp, not ${r.protocol}`);
  };
  return {
    intent,
    fabric,
    add,
    tenants,
    vpcs,
    subnets,
    tables,
    igws,
    peerings,
    groups,
    acls,
    instances,
    vpcCidrs,
    vpcOfInstance,
    vpcsWithIgw,
    common,
    refVpc,
    prefix,
    sized,
    ruleCommon,
  };
}

/**
 * Every problem of `intent` (with `fabric`: against its inventory too), kind by kind in
 * `OBJECT_KINDS` order; see the guarantees above.
 */
export function validate(intent: Intent, fabric?: FabricInventory): Problem[] {
  const problems: Problem[] = [];
  const ctx = checks(intent, fabric, problems);
  checkTenants(ctx);
  checkVpcs(ctx);
  checkSubnets(ctx);
  checkRouteTables(ctx);
  checkInternetGateways(ctx);
  checkElasticIps(ctx);
  checkPeerings(ctx);
  checkSecurityGroups(ctx);
  checkNetworkAcls(ctx);
  checkInstances(ctx);
  return problems;
}

/** Tenants: ids and names unique. */
function checkTenants(ctx: Checks): void {
  const { intent, common } = ctx;
  const tenantCheck = common<Intent['tenants'][number]>('tenants', () => '');
  for (const t of intent.tenants) tenantCheck(t);
}

/** VPCs: each block a prefix of the allowed size, overlapping neither another of its blocks nor the fabric's own. */
function checkVpcs(ctx: Checks): void {
  const { intent, fabric, add, common, prefix, sized } = ctx;
  const vpcCheck = common<Vpc>('vpcs', (v) => v.tenant);
  for (const v of intent.vpcs) {
    vpcCheck(v);
    const seen: Cidr[] = [];
    v.cidrs.forEach((text, i) => {
      const path = `vpcs[${v.id}].cidrs[${i}]`;
      const c = prefix(path, text);
      if (c === undefined) return;
      sized(path, c, 'a VPC block');
      const j = seen.findIndex((s) => cidrsOverlap(s, c));
      if (j >= 0) add(path, `overlaps cidrs[${j}] (${cidrText(seen[j]!)})`);
      seen.push(c);
      const fabricUse = fabricBlockOverlap(c, fabric);
      if (fabricUse !== undefined) add(path, `${cidrText(c)} overlaps ${fabricUse}`);
    });
  }
}

/** Subnets: inside a block of their VPC, overlapping no other of it; their route table and network ACL of the same VPC. */
function checkSubnets(ctx: Checks): void {
  const { intent, add, tables, acls, vpcCidrs, common, refVpc, prefix, sized } = ctx;
  const subnetCheck = common<Subnet>('subnets', (s) => s.vpc);
  const subnetsByVpc = new Map<string, { id: string; cidr: Cidr }[]>();
  for (const s of intent.subnets) {
    subnetCheck(s);
    const at = `subnets[${s.id}]`;
    const vpc = refVpc(`${at}.vpc`, s.vpc, s.tenant);
    const c = prefix(`${at}.cidr`, s.cidr);
    if (c !== undefined) {
      sized(`${at}.cidr`, c, 'a subnet');
      if (vpc !== undefined) {
        const blocks = vpcCidrs(vpc);
        if (!blocks.some((b) => cidrWithin(c, b)))
          add(`${at}.cidr`, `${s.cidr} is outside every CIDR of ${vpc.id} (${vpc.cidrs.join(', ')})`);
        const others = subnetsByVpc.get(vpc.id) ?? [];
        const clash = others.find((o) => cidrsOverlap(o.cidr, c));
        if (clash !== undefined) add(`${at}.cidr`, `overlaps ${clash.id} (${cidrText(clash.cidr)})`);
        others.push({ id: s.id, cidr: c });
        subnetsByVpc.set(vpc.id, others);
      }
    }
    if (s.routeTable !== undefined) {
      const t = tables.get(s.routeTable, s.tenant);
      if (t === undefined) add(`${at}.routeTable`, `unknown route table ${s.routeTable}`);
      else if (t.vpc !== s.vpc) add(`${at}.routeTable`, `${t.id} belongs to ${t.vpc}, not ${s.vpc}`);
    }
    if (s.networkAcl !== undefined) {
      const a = acls.get(s.networkAcl, s.tenant);
      if (a === undefined) add(`${at}.networkAcl`, `unknown network ACL ${s.networkAcl}`);
      else if (a.vpc !== s.vpc) add(`${at}.networkAcl`, `${a.id} belongs to ${a.vpc}, not ${s.vpc}`);
    }
  }
}

/** Route tables: one route per destination, none inside the VPC (the local route's), each target of the table's VPC. */
function checkRouteTables(ctx: Checks): void {
  const { intent, add, igws, peerings, instances, vpcCidrs, vpcOfInstance, common, refVpc, prefix } = ctx;
  const tableCheck = common<RouteTable>('routeTables', (t) => t.vpc);
  for (const t of intent.routeTables) {
    tableCheck(t);
    const at = `routeTables[${t.id}]`;
    const vpc = refVpc(`${at}.vpc`, t.vpc, t.tenant);
    const seen: string[] = [];
    t.routes.forEach((r, i) => {
      const rp = `${at}.routes[${i}]`;
      const d = prefix(`${rp}.destination`, r.destination);
      if (d !== undefined) {
        const norm = cidrText(d);
        const j = seen.indexOf(norm);
        if (j >= 0) add(`${rp}.destination`, `${norm} is already routed by routes[${j}]`);
        const block = vpc === undefined ? undefined : vpcCidrs(vpc).find((b) => cidrWithin(d, b));
        if (block !== undefined)
          add(
            `${rp}.destination`,
            `${norm} falls inside ${t.vpc}'s ${cidrText(block)}, which the local route covers`,
          );
        seen.push(norm);
      } else seen.push('');
      const target = r.target;
      const tp = `${rp}.target`;
      if (target.kind === 'internet-gateway') {
        const g = igws.get(target.id, t.tenant);
        if (g === undefined) add(tp, `unknown internet gateway ${target.id}`);
        else if (g.vpc !== t.vpc) add(tp, `${g.id} belongs to ${g.vpc}, not ${t.vpc}`);
      } else if (target.kind === 'peering') {
        const p = peerings.get(target.id, t.tenant);
        if (p === undefined) add(tp, `unknown peering ${target.id}`);
        else if (p.vpc !== t.vpc && p.peerVpc !== t.vpc)
          add(tp, `${p.id} joins ${p.vpc} and ${p.peerVpc}, not ${t.vpc}`);
      } else if (target.kind === 'instance') {
        const inst = instances.get(target.id, t.tenant);
        if (inst === undefined) add(tp, `unknown instance ${target.id}`);
        else {
          const iv = vpcOfInstance(inst);
          if (iv !== undefined && iv !== t.vpc) add(tp, `${inst.id} is in ${iv}, not ${t.vpc}`);
        }
      }
    });
  }
}

/** Internet gateways: one per VPC, and (with the inventory) a border to reach the internet through. */
function checkInternetGateways(ctx: Checks): void {
  const { intent, fabric, add, common, refVpc } = ctx;
  const igwCheck = common<Intent['internetGateways'][number]>('internetGateways', (g) => g.vpc);
  const igwOfVpc = new Map<string, string>();
  for (const g of intent.internetGateways) {
    igwCheck(g);
    const at = `internetGateways[${g.id}]`;
    const vpc = refVpc(`${at}.vpc`, g.vpc, g.tenant);
    if (vpc !== undefined) {
      const other = igwOfVpc.get(vpc.id);
      if (other !== undefined) add(`${at}.vpc`, `${vpc.id} already has ${other}`);
      else igwOfVpc.set(vpc.id, g.id);
    }
    if (fabric !== undefined && fabric.border === null)
      add(at, 'the fabric has no border to reach the internet through');
  }
}

/** Elastic IPs: addresses unique and (with the inventory) in the public pool; one per instance, whose VPC has an internet gateway. */
function checkElasticIps(ctx: Checks): void {
  const { intent, fabric, add, instances, vpcOfInstance, vpcsWithIgw, common } = ctx;
  const eipCheck = common<Intent['elasticIps'][number]>('elasticIps', (e) => e.tenant);
  const pool = fabric?.border ? parseCidr(fabric.border.publicPool) : undefined;
  const eipByAddress = new Map<string, string>();
  const eipByInstance = new Map<string, string>();
  for (const e of intent.elasticIps) {
    eipCheck(e);
    const at = `elasticIps[${e.id}]`;
    const a = parseIpv4Address(e.address);
    const holder = eipByAddress.get(e.address);
    if (holder !== undefined) add(`${at}.address`, `${e.address} is already ${holder}'s`);
    else eipByAddress.set(e.address, e.id);
    if (a !== undefined && pool !== undefined && fabric?.border && !cidrContains(pool, a))
      add(`${at}.address`, `${e.address} is outside the border's public pool ${fabric.border.publicPool}`);
    if (e.instance !== undefined) {
      const inst = instances.get(e.instance, e.tenant);
      if (inst === undefined) add(`${at}.instance`, `unknown instance ${e.instance}`);
      else {
        const other = eipByInstance.get(inst.id);
        if (other !== undefined) add(`${at}.instance`, `${inst.id} already has ${other}`);
        else eipByInstance.set(inst.id, e.id);
        const v = vpcOfInstance(inst);
        if (v !== undefined && !vpcsWithIgw.has(`${e.tenant}/${v}`))
          add(`${at}.instance`, `${v} (of ${inst.id}) has no internet gateway`);
      }
    }
  }
}

/** Peerings: two different VPCs, peered once, whose blocks do not overlap. */
function checkPeerings(ctx: Checks): void {
  const { intent, add, vpcCidrs, common, refVpc } = ctx;
  const peeringCheck = common<Peering>('peerings', (p) => p.tenant);
  const pairs = new Map<string, string>();
  for (const p of intent.peerings) {
    peeringCheck(p);
    const at = `peerings[${p.id}]`;
    const a = refVpc(`${at}.vpc`, p.vpc, p.tenant);
    const b = refVpc(`${at}.peerVpc`, p.peerVpc, p.tenant);
    if (p.vpc === p.peerVpc) {
      add(`${at}.peerVpc`, 'a VPC cannot peer with itself');
      continue;
    }
    const pair = [p.vpc, p.peerVpc].sort().join(' and ');
    const first = pairs.get(pair);
    if (first !== undefined) add(at, `${pair} are already peered by ${first}`);
    else pairs.set(pair, p.id);
    if (a !== undefined && b !== undefined) {
      for (const ca of vpcCidrs(a))
        for (const cb of vpcCidrs(b))
          if (cidrsOverlap(ca, cb))
            add(
              `${at}.peerVpc`,
              `${b.id}'s ${cidrText(cb)} overlaps ${a.id}'s ${cidrText(ca)}: peered VPCs must not overlap`,
            );
    }
  }
}

/** Security groups: ports for tcp and udp only; a rule's group of the same VPC. */
function checkSecurityGroups(ctx: Checks): void {
  const { intent, add, groups, common, refVpc, ruleCommon } = ctx;
  const sgCheck = common<SecurityGroup>('securityGroups', (g) => g.vpc);
  for (const g of intent.securityGroups) {
    sgCheck(g);
    const at = `securityGroups[${g.id}]`;
    refVpc(`${at}.vpc`, g.vpc, g.tenant);
    for (const direction of ['ingress', 'egress'] as const) {
      g[direction].forEach((r, i) => {
        const rp = `${at}.${direction}[${i}]`;
        ruleCommon(rp, r);
        if (r.group !== undefined) {
          const other = groups.get(r.group, g.tenant);
          if (other === undefined) add(`${rp}.group`, `unknown security group ${r.group}`);
          else if (other.vpc !== g.vpc)
            add(`${rp}.group`, `${other.id} belongs to ${other.vpc}, not ${g.vpc}`);
        }
      });
    }
  }
}

/** Network ACLs: rule numbers unique per direction; ports for tcp and udp only. */
function checkNetworkAcls(ctx: Checks): void {
  const { intent, add, common, refVpc, ruleCommon } = ctx;
  const aclCheck = common<NetworkAcl>('networkAcls', (a) => a.vpc);
  for (const a of intent.networkAcls) {
    aclCheck(a);
    const at = `networkAcls[${a.id}]`;
    refVpc(`${at}.vpc`, a.vpc, a.tenant);
    for (const direction of ['ingress', 'egress'] as const) {
      const numbers = new Map<number, number>();
      a[direction].forEach((r, i) => {
        const rp = `${at}.${direction}[${i}]`;
        const j = numbers.get(r.number);
        if (j !== undefined) add(`${rp}.number`, `rule ${r.number} is already ${direction}[${j}]`);
        else numbers.set(r.number, i);
        ruleCommon(rp, r);
      });
    }
  }
}

/** Instances: an allocatable address of their subnet, unique there; a unicast MAC, unique; security groups of their VPC; (with the inventory) a known hypervisor. */
function checkInstances(ctx: Checks): void {
  const { intent, fabric, add, subnets, groups, common } = ctx;
  const instanceCheck = common<Instance>('instances', (i) => i.tenant);
  const ipHolder = new Map<string, string>();
  const macHolder = new Map<number, string>();
  const hosts = fabric === undefined ? undefined : new Set(fabric.hypervisors.map((h) => h.name));
  for (const inst of intent.instances) {
    instanceCheck(inst);
    const at = `instances[${inst.id}]`;
    const s = subnets.get(inst.subnet, inst.tenant);
    if (s === undefined) add(`${at}.subnet`, `unknown subnet ${inst.subnet}`);
    const a = parseIpv4Address(inst.ip);
    const c = s === undefined ? undefined : parseCidr(s.cidr);
    if (a === undefined) add(`${at}.ip`, `${inst.ip} is not an IPv4 address`);
    else if (s !== undefined && c !== undefined) {
      if (!cidrContains(c, a)) add(`${at}.ip`, `${inst.ip} is outside ${s.id} (${s.cidr})`);
      else {
        const role = reservedRole(c, a);
        if (role !== undefined)
          add(`${at}.ip`, `${inst.ip} is reserved in ${s.cidr}: ${reservedRoleText(role)}`);
        const key = `${s.id}/${a}`;
        const holder = ipHolder.get(key);
        if (holder !== undefined) add(`${at}.ip`, `${inst.ip} is already ${holder}'s in ${s.id}`);
        else ipHolder.set(key, inst.id);
      }
    }
    const m = parseMac(inst.mac);
    if (m === undefined) add(`${at}.mac`, `${inst.mac} is not a MAC address`);
    else if (isGroupMac(m)) add(`${at}.mac`, `${inst.mac} is a group MAC; an instance needs a unicast one`);
    else if (inst.mac === GATEWAY_MAC) add(`${at}.mac`, `${inst.mac} is the gateway's anycast MAC`);
    else {
      const holder = macHolder.get(m);
      if (holder !== undefined) add(`${at}.mac`, `${inst.mac} is already ${holder}'s`);
      else macHolder.set(m, inst.id);
    }
    inst.securityGroups.forEach((gid, i) => {
      const g = groups.get(gid, inst.tenant);
      if (g === undefined) add(`${at}.securityGroups[${i}]`, `unknown security group ${gid}`);
      else if (s !== undefined && g.vpc !== s.vpc)
        add(`${at}.securityGroups[${i}]`, `${g.id} belongs to ${g.vpc}, not ${s.vpc}`);
    });
    if (hosts !== undefined && !hosts.has(inst.host)) add(`${at}.host`, `unknown hypervisor ${inst.host}`);
  }
}
