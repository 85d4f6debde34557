/**
 * `validate`: the golden intent is clean, and each broken intent of the table gives exactly its
 * problems, with their paths, every one at once (a change that breaks several rules lists them all).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FabricInventory, type Intent, validate } from '../../src/vpc/index.js';
import { type Draft, edited, goldenIntent, goldenInventory } from '../helpers/vpc.js';

const GOLDEN = goldenIntent();
const FABRIC = goldenInventory();
const A = { tenant: 'tenant-a' };
// biome-ignore lint/suspicious/noExplicitAny: drafts are edited freely
const find = (list: any[], id: string): any => list.find((o) => o.id === id)!;
// biome-ignore lint/suspicious/noExplicitAny: drafts are edited freely
const subnet = (d: Draft, id: string): any => find(d.subnets, id);
// biome-ignore lint/suspicious/noExplicitAny: drafts are edited freely
const inst = (d: Draft, id: string): any => find(d.instances, id);

interface Case {
  readonly name: string;
  readonly edit: (d: Draft) => void;
  readonly fabric?: FabricInventory | 'none';
  readonly want: readonly (readonly [string, string])[];
}

const CASES: Case[] = [
  {
    name: 'unknown ids, and another tenant’s objects read as unknown',
    edit: (d) => {
      d.vpcs.push({ id: 'vpc-z1', tenant: 'tenant-zz', name: 'x', cidrs: ['10.7.0.0/16'] });
      subnet(d, 'subnet-a2').routeTable = 'rtb-zz';
      subnet(d, 'subnet-b1').routeTable = 'rtb-a1';
      subnet(d, 'subnet-b2').networkAcl = 'acl-a1';
      find(d.routeTables, 'rtb-a1').routes[0].target.id = 'igw-zz';
      find(d.elasticIps, 'eip-a1').instance = 'i-zz';
      inst(d, 'i-a2').subnet = 'subnet-zz';
      inst(d, 'i-a1').securityGroups = ['sg-b1'];
    },
    want: [
      ['vpcs[vpc-z1].tenant', 'unknown tenant tenant-zz'],
      ['subnets[subnet-a2].routeTable', 'unknown route table rtb-zz'],
      ['subnets[subnet-b1].routeTable', 'unknown route table rtb-a1'],
      ['subnets[subnet-b2].networkAcl', 'unknown network ACL acl-a1'],
      ['routeTables[rtb-a1].routes[0].target', 'unknown internet gateway igw-zz'],
      ['elasticIps[eip-a1].instance', 'unknown instance i-zz'],
      ['instances[i-a1].securityGroups[0]', 'unknown security group sg-b1'],
      ['instances[i-a2].subnet', 'unknown subnet subnet-zz'],
    ],
  },
  {
    name: 'a subnet outside its VPC: the subnet and the instances in it',
    edit: (d) => {
      subnet(d, 'subnet-a2').cidr = '10.9.2.0/24';
    },
    want: [
      ['subnets[subnet-a2].cidr', '10.9.2.0/24 is outside every CIDR of vpc-a1 (10.0.0.0/16)'],
      ['instances[i-a3].ip', '10.0.2.10 is outside subnet-a2 (10.9.2.0/24)'],
      ['instances[i-a5].ip', '10.0.2.11 is outside subnet-a2 (10.9.2.0/24)'],
    ],
  },
  {
    name: 'overlapping subnets, sizes, host bits',
    edit: (d) => {
      d.vpcs.push({ ...A, id: 'vpc-a9', name: 'big', cidrs: ['10.0.0.0/8', '10.20.0.0/16', '10.20.1.0/24'] });
      d.subnets.push({ ...A, id: 'subnet-a7', vpc: 'vpc-a1', name: 'half', cidr: '10.0.1.128/25' });
      d.subnets.push({ ...A, id: 'subnet-a8', vpc: 'vpc-a1', name: 'tiny', cidr: '10.0.3.0/29' });
      d.subnets.push({ ...A, id: 'subnet-a9', vpc: 'vpc-a1', name: 'sloppy', cidr: '10.0.4.5/24' });
    },
    want: [
      ['vpcs[vpc-a9].cidrs[0]', 'a VPC block is /16 to /28, not /8'],
      ['vpcs[vpc-a9].cidrs[1]', 'overlaps cidrs[0] (10.0.0.0/8)'],
      ['vpcs[vpc-a9].cidrs[2]', 'overlaps cidrs[0] (10.0.0.0/8)'],
      ['subnets[subnet-a7].cidr', 'overlaps subnet-a1 (10.0.1.0/24)'],
      ['subnets[subnet-a8].cidr', 'a subnet is /16 to /28, not /29'],
      ['subnets[subnet-a9].cidr', '10.0.4.5/24 has host bits set (the prefix is 10.0.4.0/24)'],
    ],
  },
  {
    name: 'routes and associations that cross VPCs',
    edit: (d) => {
      find(d.routeTables, 'rtb-a2').routes.push(
        { destination: '0.0.0.0/0', target: { kind: 'internet-gateway', id: 'igw-a1' } },
        { destination: '192.168.0.0/16', target: { kind: 'instance', id: 'i-a1' } },
      );
      d.vpcs.push({ ...A, id: 'vpc-a9', name: 'third', cidrs: ['10.2.0.0/16'] });
      d.routeTables.push({
        ...A,
        id: 'rtb-a9',
        vpc: 'vpc-a9',
        name: 'third',
        routes: [{ destination: '10.0.0.0/16', target: { kind: 'peering', id: 'pcx-a1' } }],
      });
      subnet(d, 'subnet-a3').networkAcl = 'acl-a1';
      subnet(d, 'subnet-a2').routeTable = 'rtb-a2';
    },
    want: [
      ['subnets[subnet-a2].routeTable', 'rtb-a2 belongs to vpc-a2, not vpc-a1'],
      ['subnets[subnet-a3].networkAcl', 'acl-a1 belongs to vpc-a1, not vpc-a2'],
      ['routeTables[rtb-a2].routes[1].target', 'igw-a1 belongs to vpc-a1, not vpc-a2'],
      ['routeTables[rtb-a2].routes[2].target', 'i-a1 is in vpc-a1, not vpc-a2'],
      ['routeTables[rtb-a9].routes[0].target', 'pcx-a1 joins vpc-a1 and vpc-a2, not vpc-a9'],
    ],
  },
  {
    name: 'duplicate route destinations and routes inside the local route',
    edit: (d) => {
      find(d.routeTables, 'rtb-a1').routes.push(
        { destination: '0.0.0.0/0', target: { kind: 'blackhole' } },
        { destination: '10.0.5.0/24', target: { kind: 'blackhole' } },
      );
    },
    want: [
      ['routeTables[rtb-a1].routes[2].destination', '0.0.0.0/0 is already routed by routes[0]'],
      [
        'routeTables[rtb-a1].routes[3].destination',
        "10.0.5.0/24 falls inside vpc-a1's 10.0.0.0/16, which the local route covers",
      ],
    ],
  },
  {
    name: 'instance addresses: outside, the five reserved ones, taken twice',
    edit: (d) => {
      inst(d, 'i-a2').ip = '10.0.9.5';
      const extra = (id: string, ip: string, n: number) =>
        d.instances.push({
          ...inst(d, 'i-a1'),
          id,
          name: id,
          ip,
          mac: `0a:00:00:00:01:${String(n).padStart(2, '0')}`,
        });
      extra('i-r0', '10.0.1.0', 10);
      extra('i-r1', '10.0.1.1', 11);
      extra('i-r2', '10.0.1.2', 12);
      extra('i-r3', '10.0.1.3', 13);
      extra('i-r4', '10.0.1.255', 14);
      extra('i-r5', '10.0.1.10', 15);
      extra('i-r6', '10.0.1.4', 16);
    },
    want: [
      ['instances[i-a2].ip', '10.0.9.5 is outside subnet-a1 (10.0.1.0/24)'],
      ['instances[i-r0].ip', '10.0.1.0 is reserved in 10.0.1.0/24: the network address'],
      ['instances[i-r1].ip', "10.0.1.1 is reserved in 10.0.1.0/24: the subnet's gateway"],
      ['instances[i-r2].ip', "10.0.1.2 is reserved in 10.0.1.0/24: the subnet's DNS resolver"],
      ['instances[i-r3].ip', '10.0.1.3 is reserved in 10.0.1.0/24: reserved for future use'],
      ['instances[i-r4].ip', '10.0.1.255 is reserved in 10.0.1.0/24: the broadcast address'],
      ['instances[i-r5].ip', "10.0.1.10 is already i-a1's in subnet-a1"],
    ],
  },
  {
    name: 'MACs: unique fabric-wide (across tenants), unicast, not the gateway’s',
    edit: (d) => {
      inst(d, 'i-b1').mac = '0a:00:00:00:00:01';
      inst(d, 'i-b2').mac = '0b:00:00:00:00:07';
      inst(d, 'i-a4').mac = '02:ac:00:00:00:01';
    },
    want: [
      ['instances[i-a4].mac', "02:ac:00:00:00:01 is the gateway's anycast MAC"],
      ['instances[i-b1].mac', "0a:00:00:00:00:01 is already i-a1's"],
      ['instances[i-b2].mac', '0b:00:00:00:00:07 is a group MAC; an instance needs a unicast one'],
    ],
  },
  {
    name: 'security groups of another VPC, on an instance and in a rule',
    edit: (d) => {
      inst(d, 'i-a4').securityGroups = ['sg-a3', 'sg-a1'];
      find(d.securityGroups, 'sg-a3').ingress[0] = { protocol: 'tcp', ports: [8080, 8080], group: 'sg-a1' };
      find(d.securityGroups, 'sg-a3').egress.push({ protocol: 'icmp', ports: [0, 0], cidr: '0.0.0.0/0' });
    },
    want: [
      ['securityGroups[sg-a3].ingress[0].group', 'sg-a1 belongs to vpc-a1, not vpc-a2'],
      ['securityGroups[sg-a3].egress[1].ports', 'ports apply to tcp and udp, not icmp'],
      ['instances[i-a4].securityGroups[1]', 'sg-a1 belongs to vpc-a1, not vpc-a2'],
    ],
  },
  {
    name: 'network ACL rule numbers taken twice',
    edit: (d) => {
      find(d.networkAcls, 'acl-a1').ingress.push({
        number: 110,
        action: 'deny',
        protocol: 'all',
        cidr: '0.0.0.0/0',
      });
    },
    want: [['networkAcls[acl-a1].ingress[4].number', 'rule 110 is already ingress[2]']],
  },
  {
    name: 'elastic IPs: two on one instance, one address twice, no internet gateway, outside the pool',
    edit: (d) => {
      d.elasticIps.push(
        { ...A, id: 'eip-a2', name: 'second', address: '203.0.113.11', instance: 'i-a1' },
        { ...A, id: 'eip-a3', name: 'copy', address: '203.0.113.10' },
        { ...A, id: 'eip-a4', name: 'svc', address: '203.0.113.12', instance: 'i-a4' },
        { ...A, id: 'eip-a5', name: 'far', address: '198.51.100.1' },
      );
    },
    want: [
      ['elasticIps[eip-a2].instance', 'i-a1 already has eip-a1'],
      ['elasticIps[eip-a3].address', "203.0.113.10 is already eip-a1's"],
      ['elasticIps[eip-a4].instance', 'vpc-a2 (of i-a4) has no internet gateway'],
      ['elasticIps[eip-a5].address', "198.51.100.1 is outside the border's public pool 203.0.113.0/24"],
    ],
  },
  {
    name: 'internet gateways: one per VPC, and a border to leave by',
    edit: (d) => {
      d.internetGateways.push({ ...A, id: 'igw-a2', vpc: 'vpc-a1', name: 'second' });
    },
    fabric: { hypervisors: goldenInventory().hypervisors, border: null },
    want: [
      ['internetGateways[igw-a1]', 'the fabric has no border to reach the internet through'],
      ['internetGateways[igw-a2].vpc', 'vpc-a1 already has igw-a1'],
      ['internetGateways[igw-a2]', 'the fabric has no border to reach the internet through'],
    ],
  },
  {
    name: 'peerings: with itself, overlapping, twice',
    edit: (d) => {
      d.vpcs.push({ ...A, id: 'vpc-a9', name: 'overlap', cidrs: ['10.0.128.0/17'] });
      d.peerings.push(
        { ...A, id: 'pcx-a2', name: 'self', vpc: 'vpc-a1', peerVpc: 'vpc-a1' },
        { ...A, id: 'pcx-a3', name: 'overlap', vpc: 'vpc-a1', peerVpc: 'vpc-a9' },
        { ...A, id: 'pcx-a4', name: 'again', vpc: 'vpc-a2', peerVpc: 'vpc-a1' },
      );
    },
    want: [
      ['peerings[pcx-a2].peerVpc', 'a VPC cannot peer with itself'],
      [
        'peerings[pcx-a3].peerVpc',
        "vpc-a9's 10.0.128.0/17 overlaps vpc-a1's 10.0.0.0/16: peered VPCs must not overlap",
      ],
      ['peerings[pcx-a4]', 'vpc-a1 and vpc-a2 are already peered by pcx-a1'],
    ],
  },
  {
    name: 'overlapping VPCs of one tenant are fine while they are not peered',
    edit: (d) => {
      d.vpcs.push({ ...A, id: 'vpc-a9', name: 'overlap', cidrs: ['10.0.0.0/16'] });
    },
    want: [],
  },
  {
    name: 'names taken twice within their scope, ids used twice',
    edit: (d) => {
      d.vpcs.push({ ...A, id: 'vpc-a9', name: 'prod', cidrs: ['10.3.0.0/16'] });
      d.vpcs.push({ ...A, id: 'vpc-a2', name: 'other', cidrs: ['10.4.0.0/16'] });
      d.subnets.push({ ...A, id: 'subnet-a9', vpc: 'vpc-a1', name: 'web', cidr: '10.0.9.0/24' });
      d.subnets.push({ ...A, id: 'subnet-a8', vpc: 'vpc-a2', name: 'web', cidr: '10.1.9.0/24' });
      d.tenants.push({ id: 'tenant-c', name: 'acme' });
    },
    want: [
      ['tenants[tenant-c].name', "name acme is already tenant-a's"],
      ['vpcs[vpc-a9].name', "name prod is already vpc-a1's"],
      ['vpcs[vpc-a2].id', 'id vpc-a2 is used twice'],
      ['subnets[subnet-a9].name', "name web is already subnet-a1's"],
    ],
  },
  {
    name: 'hosts outside the fabric inventory',
    edit: (d) => {
      inst(d, 'i-a1').host = 'leaf9-srv9';
    },
    want: [['instances[i-a1].host', 'unknown hypervisor leaf9-srv9']],
  },
  {
    name: "VPC blocks overlapping the fabric's own link blocks, or the border's public pool",
    edit: (d) => {
      d.vpcs.push({ ...A, id: 'vpc-a7', name: 'links', cidrs: ['198.19.0.0/16', '100.127.0.0/16'] });
      d.vpcs.push({ ...A, id: 'vpc-a8', name: 'transit', cidrs: ['169.254.0.0/16'] });
      d.vpcs.push({ ...A, id: 'vpc-a9', name: 'public', cidrs: ['203.0.113.0/26', '198.20.0.0/16'] });
    },
    want: [
      [
        'vpcs[vpc-a7].cidrs[0]',
        '198.19.0.0/16 overlaps 198.18.0.0/15, which the fabric reserves for the peering links',
      ],
      [
        'vpcs[vpc-a7].cidrs[1]',
        "100.127.0.0/16 overlaps 100.64.0.0/10, which the fabric reserves for the border's links to the internet",
      ],
      [
        'vpcs[vpc-a8].cidrs[0]',
        "169.254.0.0/16 overlaps 169.254.0.0/16, which the fabric reserves for the VRFs' transit addresses on their L3 VNI",
      ],
      ['vpcs[vpc-a9].cidrs[0]', "203.0.113.0/26 overlaps the border's public pool 203.0.113.0/24"],
    ],
  },
  {
    name: 'without the inventory, the public pool is not checked (the fabric blocks are)',
    edit: (d) => {
      d.vpcs.push({ ...A, id: 'vpc-a9', name: 'public', cidrs: ['203.0.113.0/26', '198.18.4.0/24'] });
    },
    fabric: 'none',
    want: [
      [
        'vpcs[vpc-a9].cidrs[1]',
        '198.18.4.0/24 overlaps 198.18.0.0/15, which the fabric reserves for the peering links',
      ],
    ],
  },
  {
    name: 'without the inventory, hosts and the border are not checked',
    edit: (d) => {
      inst(d, 'i-a1').host = 'leaf9-srv9';
      find(d.elasticIps, 'eip-a1').address = '198.51.100.1';
    },
    fabric: 'none',
    want: [],
  },
];

test('the golden intent is valid', () => {
  assert.deepEqual(validate(GOLDEN, FABRIC), []);
  assert.deepEqual(validate(GOLDEN), []);
});

for (const c of CASES) {
  test(`validate: ${c.name}`, () => {
    const intent: Intent = edited(GOLDEN, c.edit);
    const fabric = c.fabric === 'none' ? undefined : (c.fabric ?? FABRIC);
    const got = validate(intent, fabric).map((p) => [p.path, p.message]);
    assert.deepEqual(got, c.want);
  });
}
