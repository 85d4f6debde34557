/** Bad lab files: each broken input with the exact problems a user sees, all at once, with paths. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatIssue, parseLab, validateLab } from '../../src/topo/lab/check.js';
import { labJsonSchema } from '../../src/topo/lab/schema.js';
import { parseDuration, parseRate } from '../../src/topo/units.js';
import { repoPath } from '../helpers/repo.js';

const base = {
  nodes: {
    A: { kind: 'host', ip: '10.0.0.1/24', gateway: '10.0.0.254' },
    B: { kind: 'host', ip: '10.0.0.2/24' },
    sw1: { kind: 'switch' },
    r1: { kind: 'router', interfaces: { eth0: { ip: '10.0.0.254/24' } } },
  },
  links: [
    { a: 'A', b: 'sw1:1' },
    { a: 'B', b: 'sw1:2' },
    { a: 'r1:eth0', b: 'sw1:3' },
  ],
};

function problems(lab: unknown): string[] {
  const r = validateLab(lab);
  return r.ok ? [] : r.issues.map(formatIssue);
}

const cases: { name: string; lab: unknown; want: string[] }[] = [
  {
    name: 'migrate: a VM that is not a host, a destination that cannot host VMs, bad quantities',
    lab: {
      ...base,
      script: [
        { migrate: { vm: 'sw1', to: 'r1' } },
        { migrate: { vm: 'A', to: 'sw9', memory: '1 gigabyte', bandwidth: 'fast', mode: 'live' } },
        { migrate: { vm: 'A', to: 'A' } },
      ],
    },
    want: [
      'script[1].migrate.mode: Invalid option: expected one of "pre-copy"|"post-copy"',
      'script[1].migrate.memory: not a size (e.g. 4KiB, 1GiB, 2GB)',
      'script[1].migrate.bandwidth: not a bit rate (e.g. 100Mbps, 1Gbps)',
      'script[1].migrate.to: unknown node "sw9"',
    ],
  },
  {
    name: 'migrate: shapes right, references wrong',
    lab: {
      ...base,
      script: [{ migrate: { vm: 'sw1', to: 'r1' } }, { migrate: { vm: 'A', to: 'A' } }],
    },
    want: [
      'script[0].migrate.vm: sw1 is a switch; this step needs a host',
      'script[0].migrate.to: r1 is a router; this step needs a switch or hub or nve',
      'script[1].migrate.to: A is a host; this step needs a switch or hub or nve',
      'script[1].migrate.to: a VM cannot move into itself',
    ],
  },
  {
    name: 'migrate: where the VM is, what it can move to, a destination port already cabled',
    lab: {
      ...base,
      nodes: {
        ...base.nodes,
        C: { kind: 'host', ip: '10.0.0.3/24' },
        D: { kind: 'host', ip: '10.0.0.4/24' },
        sw2: { kind: 'switch' },
        hub1: { kind: 'hub' },
        nve1: {
          kind: 'nve',
          vtep: '192.0.2.1',
          interfaces: { uplink: { ip: '192.0.2.1/24' } },
          bridgeDomains: { 10: { vni: 5010 } },
        },
      },
      links: [...base.links, { a: 'D', b: 'hub1' }, { a: 'sw2:1', b: 'hub1' }],
      script: [
        { migrate: { vm: 'A', to: 'sw1' } },
        { migrate: { vm: 'C', to: 'sw2' } },
        { migrate: { vm: 'A', to: 'sw2', port: '1' } },
        { migrate: { vm: 'D', to: 'sw2' } },
        { migrate: { vm: 'A', to: 'nve1' } },
        // A moves to sw2 and then back into its old port sw1:1 (free once it left).
        { migrate: { vm: 'A', to: 'sw2', port: '5' } },
        { migrate: { vm: 'B', to: 'sw2', port: '5' } },
        { migrate: { vm: 'A', to: 'sw2' } },
        { migrate: { vm: 'A', to: 'sw1', port: '1' } },
      ],
    },
    want: [
      'script[0].migrate.to: A is already on sw1',
      'script[1].migrate.vm: C is not linked to anything: there is no place to move it from',
      'script[2].migrate.port: port sw2:1 is already linked by links[4].a',
      'script[3].migrate.to: D is attached to hub1, not a switch: it cannot move to switch sw2',
      'script[4].migrate.to: A is attached to sw1, not an NVE: it cannot move to NVE nve1',
      'script[6].migrate.port: port sw2:5 is already taken by script[5].migrate',
      'script[7].migrate.to: A is already on sw2',
    ],
  },
  {
    name: 'unknown node in a link, with the lecture-style path',
    lab: { ...base, links: [...base.links, { a: 'sw1', b: 'sw9' }] },
    want: ['links[3].b: unknown node "sw9"'],
  },
  {
    name: 'a port linked twice, and a host port that does not exist',
    lab: { ...base, links: [...base.links, { a: 'B', b: 'sw1:1' }, { a: 'A:eth1', b: 'sw1:7' }] },
    want: [
      'links[3].a: every NIC of B is already linked (eth0 by links[1].a)',
      'links[3].b: port sw1:1 is already linked by links[0].b',
      'links[4].a: A has no port "eth1" (it has eth0)',
    ],
  },
  {
    name: 'every schema problem at once',
    lab: {
      nodes: {
        A: { kind: 'host', ip: '10.0.0.300/24', mac: 'zz:00:00:00:00:01' },
        sw1: { kind: 'switch', ports: { '1': { vlan: 4095 } } },
        x: { kind: 'bridge' },
      },
      links: [{ a: 'A', b: 'sw1', delay: 'soon', bandwidth: '1 Gbit' }],
    },
    want: [
      'nodes.A.ip: not an IPv4 prefix (a.b.c.d/len)',
      'nodes.A.mac: not a MAC address (aa:bb:cc:dd:ee:ff)',
      'nodes.sw1.ports["1"].vlan: VLAN IDs are 1..4094 (0 and 4095 are reserved)',
      'nodes.x.kind: kind must be host, switch, hub, router, l3switch or nve',
      'links[0].delay: not a duration (e.g. 1us, 10ms, 2s)',
      'links[0].bandwidth: not a bit rate (e.g. 100Mbps, 1Gbps)',
    ],
  },
  {
    name: 'unknown keys are refused',
    lab: { ...base, nodes: { ...base.nodes, B: { kind: 'host', ip: '10.0.0.2/24', gatway: '10.0.0.254' } } },
    want: ['nodes.B: Unrecognized key: "gatway"'],
  },
  {
    name: 'gateway off the host subnet; router route via an unconnected next hop; unknown ACL and interface',
    lab: {
      ...base,
      nodes: {
        ...base.nodes,
        A: { kind: 'host', ip: '10.0.0.1/24', gateway: '10.0.1.254' },
        r1: {
          kind: 'router',
          interfaces: { eth0: { ip: '10.0.0.254/24' } },
          routes: [{ to: '0.0.0.0/0', via: '192.168.9.1' }, { to: '10.9.0.0/16' }],
          applyAcls: [{ interface: 'eth7', acl: 'nope', direction: 'in' }],
        },
      },
    },
    want: [
      "nodes.A.gateway: gateway 10.0.1.254 is not on the host's subnet 10.0.0.0/24",
      'nodes.r1.routes[0].via: next hop 192.168.9.1 is not on any connected subnet of r1',
      'nodes.r1.routes[1]: a route needs via (next hop) or dev (interface)',
      'nodes.r1.applyAcls[0].interface: unknown interface "eth7"',
      'nodes.r1.applyAcls[0].acl: unknown ACL "nope"',
    ],
  },
  {
    name: 'script steps that name the wrong nodes and links',
    lab: {
      ...base,
      script: [
        { ping: { from: 'sw1', to: '10.0.0.2' } },
        { ping: { from: 'Z', to: '10.0.0.2' } },
        { show: { node: 'A', table: 'mac' } },
        { link: { link: ['A', 'B'], state: 'down' } },
        { link: { link: 9, state: 'up' } },
        { capture: { file: 'x.pcap' } },
        { wait: 'a while' },
      ],
    },
    // With a shape problem, the node names are still checked; the other cross-references wait for the shapes.
    want: ['script[6].wait: not a duration (e.g. 1us, 10ms, 2s)', 'script[1].ping.from: unknown node "Z"'],
  },
];

for (const c of cases) {
  test(`bad lab: ${c.name}`, () => {
    assert.deepEqual(problems(c.lab), c.want);
  });
}

test("an L3 switch's VLANIFs need valid VLAN IDs, and its ACLs name vlanif<VID> interfaces", () => {
  const lab = {
    nodes: {
      core: {
        kind: 'l3switch',
        vlanifs: { '4095': { ip: '10.0.1.1/24' }, '10': { ip: '10.0.10.1/24' } },
        acls: { a: [{ action: 'permit' }] },
        applyAcls: [{ interface: 'vlanif20', acl: 'a', direction: 'in' }],
      },
    },
  };
  assert.deepEqual(problems(lab), [
    'nodes.core.vlanifs["4095"]: VLAN IDs are 1..4094 (0 and 4095 are reserved)',
    'nodes.core.applyAcls[0].interface: unknown interface "vlanif20"',
  ]);
});

test('script cross-checks report every step at once', () => {
  const lab = {
    ...base,
    script: [
      { ping: { from: 'sw1', to: '10.0.0.2' } },
      { ping: { from: 'Z', to: '10.0.0.2' } },
      { show: { node: 'A', table: 'mac' } },
      { link: { link: ['A', 'B'], state: 'down' } },
      { link: { link: 9, state: 'up' } },
      { capture: { file: 'x.pcap' } },
    ],
  };
  assert.deepEqual(problems(lab), [
    'script[0].ping.from: sw1 is a switch; this step needs a host',
    'script[1].ping.from: unknown node "Z"',
    'script[2].show.node: A is a host; this step needs a switch or l3switch',
    'script[3].link.link: no link joins A and B',
    'script[4].link.link: there is no link 9 (the lab has 3)',
    'script[5].capture: give exactly one of link or port',
  ]);
});

test('YAML syntax errors name the line', () => {
  const r = parseLab('nodes:\n  A: { kind: host\n');
  assert.ok(!r.ok);
  assert.deepEqual(r.issues, [
    {
      path: '',
      message:
        'YAML line 3 column 1: Flow map in block collection must be sufficiently indented and end with a }',
    },
  ]);
});

test('every example lab is valid', () => {
  const labs = readdirSync(repoPath('examples')).filter((n) => n.endsWith('.yaml'));
  assert.equal(labs.length, 18);
  for (const f of labs.map((n) => n.slice(0, -5))) {
    const r = parseLab(readFileSync(repoPath(`examples/${f}.yaml`), 'utf8'));
    assert.ok(r.ok, `${f}: ${r.ok ? '' : r.issues.map(formatIssue).join('; ')}`);
  }
});

test('the shipped JSON Schema is the one generated from the lab schema', () => {
  const shipped = JSON.parse(readFileSync(repoPath('schemas/lab.schema.json'), 'utf8'));
  assert.deepEqual(shipped, JSON.parse(JSON.stringify(labJsonSchema())));
});

test('units: durations and rates', () => {
  assert.equal(parseDuration('1us'), 1000);
  assert.equal(parseDuration('2.5ms'), 2_500_000);
  assert.equal(parseDuration('3s'), 3e9);
  assert.equal(parseDuration(42), 42);
  assert.equal(parseDuration('soon'), undefined);
  assert.equal(parseDuration(-1), undefined);
  assert.equal(parseRate('1Gbps'), 1e9);
  assert.equal(parseRate('100 Mbps'), 1e8);
  assert.equal(parseRate('0Mbps'), undefined);
});

test('ACL port rules need tcp or udp and a real range; a capture file is written by one step only', () => {
  const lab = {
    ...base,
    nodes: {
      ...base.nodes,
      r1: {
        kind: 'router',
        interfaces: { eth0: { ip: '10.0.0.254/24' } },
        acls: {
          web: [
            { action: 'permit', protocol: 'tcp', dstPort: '443-80' },
            { action: 'deny', protocol: 'icmp', srcPort: 7 },
          ],
        },
      },
    },
    script: [{ capture: { link: 0, file: 'x.pcap' } }, { capture: { link: 1, file: 'x.pcap' } }],
  };
  assert.deepEqual(problems(lab), [
    'nodes.r1.acls.web[0].dstPort: "443-80" is not a port range (low-high within 0..65535)',
    'nodes.r1.acls.web[1].srcPort: ports apply to protocol tcp or udp only',
    'script[1].capture.file: x.pcap is already written by script[0].capture',
  ]);
});

test('DHCP leases last from a minute to 2^32-1 seconds (RFC 2132 option 51)', () => {
  const lab = {
    nodes: {
      R: {
        kind: 'router',
        interfaces: { lan: { ip: '10.0.0.1/24', dhcp: { pool: '10.0.0.100-10.0.0.110', leaseTime: '0s' } } },
      },
    },
  };
  assert.deepEqual(problems(lab), [
    'nodes.R.interfaces.lan.dhcp.leaseTime: a lease lasts from 1 minute to 2^32-1 seconds (RFC 2132 option 51)',
  ]);
});

/** Two leaves, one server each, two VMs per server, one tenant. */
const SMALL_FABRIC = {
  spines: 2,
  leaves: 2,
  serversPerLeaf: 1,
  vmsPerServer: 2,
  tenants: [{ name: 'A', subnets: ['10.1.0.0/24'] }],
};

test('fabric labs: the generated nodes can be used by steps; sizes and options that cannot work are reported', () => {
  const fabric = SMALL_FABRIC;
  assert.deepEqual(
    problems({
      fabric,
      script: [
        { ping: { from: 'A-vm1', to: '10.1.0.11' } },
        { show: { node: 'leaf1', table: 'bd-mac' } },
        { capture: { port: 'leaf1:to-spine1', file: 'x.pcap' } },
        { path: { from: 'A-vm2', to: '10.1.0.10' } },
      ],
    }),
    [],
  );
  assert.deepEqual(
    problems({
      fabric: {
        ...fabric,
        gateway: 'distributed',
        external: true,
        tenants: [
          { name: 'A', subnets: ['10.1.0.0/29'] },
          { name: 'A', subnets: ['10.2.0.0/24'] },
        ],
        vmsPerServer: 16,
      },
      nodes: { spine1: { kind: 'hub' } },
      script: [
        { show: { node: 'spine1', table: 'bd' } },
        { ping: { from: 'leaf1', to: '10.1.0.1' } },
        { show: { node: 'A-vm1', table: 'vaps' } },
      ],
    }),
    [
      'fabric.gateway: a distributed gateway needs controlPlane: controller (symmetric IRB routes come from the control plane)',
      'fabric.tenants[0].subnets[0]: 10.1.0.0/29 cannot hold 16 VMs after its first 10 addresses',
      'fabric.tenants[1].name: tenant A is named twice',
      'nodes.spine1: the fabric already creates a node named spine1',
      'script[0].show.node: spine1 is a hub; this step needs a nve',
      'script[1].ping.from: leaf1 is a nve; this step needs a host',
      'script[2].show.node: A-vm1 is a host; this step needs a nve',
    ],
  );
  assert.deepEqual(problems({ fabric: { ...fabric, external: true } }), [
    'fabric.external: the outside is reached through a gateway: set gateway',
  ]);
  assert.deepEqual(problems({ fabric: { ...fabric, announce: false } }), []);
  assert.equal(problems({ fabric: { ...fabric, announce: 'no' } }).length, 1);
  assert.match(problems({ fabric: { ...fabric, announce: 'no' } })[0]!, /^fabric\.announce: /);
});

test('NVE nodes: bridge domains, bindings, sub-interfaces, VRFs and VBDIFs are cross-checked', () => {
  const nve = (extra: Record<string, unknown>) => ({
    kind: 'nve',
    vtep: '10.255.0.1',
    bridgeDomains: { '10': { vni: 5010, tenant: 'A' }, '20': { vni: 5010 } },
    ...extra,
  });
  assert.deepEqual(
    problems({
      nodes: {
        n1: nve({
          vlanBindings: { '10': 10, '30': 30 },
          subinterfaces: [
            { port: 'p1', bd: 10 },
            { port: 'p1', bd: 20 },
            { port: 'p2', bd: 10, vlan: 5, qinq: [100, 5] },
          ],
          vrfs: { A: { l3vni: 5010 }, B: {} },
          vbdifs: {
            '10': { tenant: 'B', ip: '10.1.0.1/24', anycast: true },
            '99': { tenant: 'C', ip: '10.9.0.1/24' },
          },
        }),
        n2: { kind: 'nve', vtep: '10.255.0.2', encapsulation: 'geneve', bridgeDomains: {} },
        h: { kind: 'host', ip: '10.1.0.5/24' },
      },
      links: [{ a: 'h', b: 'n1' }],
    }),
    [
      'nodes.n1.bridgeDomains["20"].vni: VNI 5010 is already bridge domain 10\'s (a VNI maps to one BD)',
      'nodes.n1.vlanBindings["30"]: unknown bridge domain 30',
      'nodes.n1.subinterfaces[1]: the same port and encapsulation as subinterfaces[0]',
      'nodes.n1.subinterfaces[2]: a sub-interface is dot1q (vlan) or QinQ (qinq), not both',
      'nodes.n1.vrfs.A: an L3 VNI needs a transitIp (the VRF address other NVEs route through), and a transitIp an l3vni',
      "nodes.n1.vrfs.A.l3vni: VNI 5010 is bridge domain 20's",
      'nodes.n1.vbdifs["10"].tenant: bridge domain 10 belongs to tenant A, not B',
      'nodes.n1.vbdifs["10"].anycast: an anycast gateway needs controlPlane: controller (each NVE must not learn the others\' gateway MAC)',
      'nodes.n1.vbdifs["99"]: unknown bridge domain 99',
      'nodes.n1.vbdifs["99"].tenant: n1 has no VRF for tenant C (declare it in vrfs)',
      'nodes: every NVE of a fabric uses one encapsulation (found vxlan, geneve)',
      "links[0].b: name the port of n1: an NVE's ports are its interfaces, VLAN-mode ports and sub-interface ports",
    ],
  );
});

test("NVEs across a lab: a VNI is one tenant's segment, a VTEP one NVE's, reserved and underlay ports stay apart", () => {
  const nve = (vtep: string, extra: Record<string, unknown>) => ({ kind: 'nve', vtep, ...extra });
  assert.deepEqual(
    problems({
      nodes: {
        n1: nve('10.255.0.1', {
          interfaces: { up: { ip: '172.16.0.2/30' }, lo: { ip: '10.9.9.9/32' } },
          bridgeDomains: { '10': { vni: 100, tenant: 'red' } },
          ports: { up: { vlan: 10 } },
          subinterfaces: [{ port: 'vbdif10', bd: 10 }],
        }),
        n2: nve('10.255.0.1', {
          bridgeDomains: { '10': { vni: 100, tenant: 'blue' } },
          vrfs: { red: { l3vni: 100, transitIp: '169.254.0.2' } },
        }),
      },
    }),
    [
      "nodes.n2.vrfs.red.l3vni: VNI 100 is bridge domain 10's",
      'nodes.n1.ports["up"]: port up is an underlay interface of n1; an access port cannot be one too',
      "nodes.n1.subinterfaces[0].port: port name vbdif10 is reserved for the NVE's internal links to its VRFs",
      "nodes.n1.interfaces.lo: interface lo is the VTEP's loopback (10.255.0.1 is on no interface)",
      "nodes.n2.vtep: VTEP 10.255.0.1 is already n1's",
      'nodes.n2.bridgeDomains["10"].vni: VNI 100 is a BD of tenant blue here but a BD of tenant red at nodes.n1.bridgeDomains["10"].vni',
      'nodes.n2.vrfs.red.l3vni: VNI 100 is the L3 VNI of tenant red here but a BD of tenant red at nodes.n1.bridgeDomains["10"].vni',
    ],
  );
  const tenant = { name: 'A', subnets: ['10.1.0.0/16', '10.1.2.0/24'] };
  assert.deepEqual(
    problems({ fabric: { spines: 1, leaves: 1, serversPerLeaf: 1, vmsPerServer: 1, tenants: [tenant] } }),
    [
      'fabric.tenants[0].subnets[1]: overlaps subnets[0] of the same tenant (tenants may overlap each other, not themselves)',
    ],
  );
});

test("links and captures on a fabric's ports: taken and missing ports are reported; a switch may grow one", () => {
  const fabric = { ...SMALL_FABRIC, spines: 1 };
  assert.deepEqual(
    problems({
      fabric,
      nodes: { x: { kind: 'host', ip: '10.1.0.50/24' }, y: { kind: 'host', ip: '10.1.0.51/24' } },
      links: [
        { a: 'x', b: 'leaf1:to-spine1' },
        { a: 'y', b: 'leaf1-srv1:9' },
      ],
      script: [
        { capture: { port: 'leaf1:nonexistent', file: 'a.pcap' } },
        { capture: { port: 'leaf1-srv1:9', file: 'b.pcap' } },
      ],
    }),
    [
      'links[0].b: port leaf1:to-spine1 is already linked inside the fabric',
      'script[0].capture.port: leaf1 has no port "nonexistent" (the fabric gives it lo, to-spine1, srv1)',
    ],
  );
});
