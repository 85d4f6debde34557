/**
 * Lab files that would run with silent 100 % loss are refused, each problem with its path (issue 17
 * part 4): address forms no interface can have, gateways that cannot be, group MACs, tenant subnets
 * the fabric cannot use, names that collide with Object.prototype, and YAML alias limits. A duplicate
 * address on one segment is a warning, not an error.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildLab } from '../../src/topo/lab/build.js';
import { formatIssue, parseLab, validateLab } from '../../src/topo/lab/check.js';
import { runLab } from '../../src/topo/lab/run.js';
import { stepOf } from '../helpers/labs.js';
import { repoPath } from '../helpers/repo.js';

function problems(lab: unknown): string[] {
  const r = validateLab(lab);
  return r.ok ? [] : r.issues.map(formatIssue);
}

function warnings(lab: unknown): string[] {
  return validateLab(lab).warnings.map(formatIssue);
}

/** One switch, with a host on each of ports 1..n (and `extra` nodes, linked by `links`). */
function segment(hosts: Record<string, unknown>, extra: Record<string, unknown> = {}, links: unknown[] = []) {
  return {
    nodes: { sw1: { kind: 'switch' }, ...hosts, ...extra },
    links: [...Object.keys(hosts).map((h, i) => ({ a: h, b: `sw1:${i + 1}` })), ...links],
  };
}

test('interface addresses: network, broadcast, multicast, loopback, unspecified, limited broadcast, class E (RFC 1122 3.2.1.3)', () => {
  const host = (ip: string) => ({ kind: 'host', ip });
  assert.deepEqual(
    problems(
      segment({
        a: host('10.0.0.0/24'),
        b: host('10.0.0.255/24'),
        c: host('224.0.0.5/24'),
        d: host('127.0.0.1/8'),
        e: host('0.0.0.0/24'),
        f: host('0.1.2.3/8'),
        g: host('255.255.255.255/24'),
        h: host('240.0.0.1/24'),
        i: { kind: 'host', ip: '10.0.0.9/24', nics: { eth1: { ip: '192.168.0.255/23' } } },
        r: {
          kind: 'router',
          interfaces: { eth0: { ip: ['10.0.0.254/24', '10.1.0.0/16'] }, lo: { ip: '127.0.0.2/32' } },
        },
        core: { kind: 'l3switch', vlanifs: { '10': { ip: '10.2.255.255/16' } } },
      }),
    ),
    [
      "nodes.a.ip: 10.0.0.0 is the network address of 10.0.0.0/24 (host part all zeros), not an interface's (RFC 1122 3.2.1.3)",
      "nodes.b.ip: 10.0.0.255 is the broadcast address of 10.0.0.0/24 (host part all ones), not an interface's (RFC 919, RFC 922)",
      "nodes.c.ip: 224.0.0.5 is a multicast address (224.0.0.0/4), not an interface's",
      'nodes.d.ip: 127.0.0.1 is a loopback address (127.0.0.0/8): it never leaves a host, so no interface has it (RFC 1122 3.2.1.3)',
      'nodes.e.ip: 0.0.0.0 is the unspecified address ("this host", a source only while a host learns its own), not an interface\'s (RFC 1122 3.2.1.3)',
      'nodes.f.ip: 0.1.2.3 is in 0.0.0.0/8 ("this network"), not an interface\'s (RFC 1122 3.2.1.3)',
      "nodes.g.ip: 255.255.255.255 is the limited broadcast address, not an interface's (RFC 919, RFC 1122 3.2.1.3)",
      "nodes.h.ip: 240.0.0.1 is a reserved class E address (240.0.0.0/4), not an interface's (RFC 1122 3.2.1.3)",
      "nodes.r.interfaces.eth0.ip[1]: 10.1.0.0 is the network address of 10.1.0.0/16 (host part all zeros), not an interface's (RFC 1122 3.2.1.3)",
      'nodes.r.interfaces.lo.ip: 127.0.0.2 is a loopback address (127.0.0.0/8): it never leaves a host, so no interface has it (RFC 1122 3.2.1.3)',
      'nodes.core.vlanifs["10"].ip: 10.2.255.255 is the broadcast address of 10.2.0.0/16 (host part all ones), not an interface\'s (RFC 919, RFC 922)',
    ],
  );
  // /31 point-to-point links (RFC 3021) and /32 loopbacks have no network or broadcast address.
  assert.deepEqual(
    problems({
      nodes: {
        r1: { kind: 'router', interfaces: { p2p: { ip: '172.16.0.0/31' }, lo: { ip: '10.255.0.1/32' } } },
        r2: { kind: 'router', interfaces: { p2p: { ip: '172.16.0.1/31' } } },
      },
      links: [{ a: 'r1:p2p', b: 'r2:p2p' }],
    }),
    [],
  );
});

test("a host's gateway: not its own address, on its subnet, and not the subnet's network or broadcast address", () => {
  assert.deepEqual(
    problems(
      segment({
        a: { kind: 'host', ip: '10.0.0.1/24', gateway: '10.0.0.1' },
        b: { kind: 'host', ip: '10.0.0.2/24', gateway: '10.0.1.1' },
        c: { kind: 'host', ip: '10.0.0.3/24', gateway: '10.0.0.255' },
        d: { kind: 'host', ip: '10.0.0.4/24', gateway: '10.0.0.0' },
      }),
    ),
    [
      "nodes.a.gateway: gateway 10.0.0.1 is the host's own address (a gateway is another node on its subnet)",
      "nodes.b.gateway: gateway 10.0.1.1 is not on the host's subnet 10.0.0.0/24",
      "nodes.c.gateway: gateway 10.0.0.255 is the broadcast address of 10.0.0.0/24 (host part all ones), not an interface's (RFC 919, RFC 922)",
      "nodes.d.gateway: gateway 10.0.0.0 is the network address of 10.0.0.0/24 (host part all zeros), not an interface's (RFC 1122 3.2.1.3)",
    ],
  );
});

test("an interface's MAC is unicast: not broadcast, not a group address (I/G bit, IEEE 802), not all zeros", () => {
  assert.deepEqual(
    problems(
      segment(
        {
          a: { kind: 'host', ip: '10.0.0.1/24', mac: 'ff:ff:ff:ff:ff:ff' },
          b: { kind: 'host', ip: '10.0.0.2/24', mac: '01:00:5e:00:00:01' },
          c: { kind: 'host', ip: '10.0.0.3/24', mac: '00:00:00:00:00:00' },
          d: {
            kind: 'host',
            ip: '10.0.0.4/24',
            mac: '03:00:00:00:00:01',
            nics: { eth1: { mac: '33:33:00:00:00:01' } },
          },
        },
        {
          sw2: { kind: 'switch', mac: '01:80:c2:00:00:00' },
          r: { kind: 'router', interfaces: { eth0: { ip: '10.0.0.254/24', mac: 'FF:FF:FF:FF:FF:FF' } } },
        },
      ),
    ),
    [
      "nodes.a.mac: ff:ff:ff:ff:ff:ff is the broadcast address, not an interface's (IEEE 802)",
      "nodes.b.mac: 01:00:5e:00:00:01 is a group address (I/G bit set, IEEE 802), not an interface's",
      "nodes.c.mac: 00:00:00:00:00:00 is all zeros, not an interface's (IEEE 802)",
      "nodes.d.mac: 03:00:00:00:00:01 is a group address (I/G bit set, IEEE 802), not an interface's",
      "nodes.d.nics.eth1.mac: 33:33:00:00:00:01 is a group address (I/G bit set, IEEE 802), not an interface's",
      "nodes.sw2.mac: 01:80:c2:00:00:00 is a group address (I/G bit set, IEEE 802), not an interface's",
      "nodes.r.interfaces.eth0.mac: ff:ff:ff:ff:ff:ff is the broadcast address, not an interface's (IEEE 802)",
    ],
  );
  // Locally administered unicast (U/L bit set, I/G clear) is fine.
  assert.deepEqual(
    problems(segment({ a: { kind: 'host', ip: '10.0.0.1/24', mac: '02:00:00:00:00:01' } })),
    [],
  );
});

test('the same address on two interfaces of one segment is a warning, not an error', () => {
  const dup = segment(
    {
      a: { kind: 'host', ip: '10.0.0.1/24' },
      b: { kind: 'host', ip: '10.0.0.1/24' },
      c: { kind: 'host', ip: '10.0.0.3/24' },
    },
    {
      r: { kind: 'router', interfaces: { eth0: { ip: ['10.0.0.254/24', '10.0.0.3/24'] } } },
    },
    [{ a: 'r:eth0', b: 'sw1:9' }],
  );
  const r = validateLab(dup);
  assert.ok(r.ok);
  assert.deepEqual(r.warnings.map(formatIssue), [
    'nodes.b.ip: 10.0.0.1 is also the address of nodes.a.ip on the same segment: a duplicate address (both answer ARP for it)',
    'nodes.r.interfaces.eth0.ip[1]: 10.0.0.3 is also the address of nodes.c.ip on the same segment: a duplicate address (both answer ARP for it)',
  ]);
  // Errors and warnings together: the lab is refused for its errors and the warnings still come.
  const bad = validateLab({ ...dup, links: [...dup.links, { a: 'sw1', b: 'sw9' }] });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.issues.map(formatIssue), ['links[4].b: unknown node "sw9"']);
  assert.equal(bad.warnings.length, 2);
  // Other segments, other VLANs, and unlinked hosts may reuse an address.
  assert.deepEqual(
    warnings({
      nodes: {
        sw1: { kind: 'switch', ports: { '1': { vlan: 10 }, '2': { vlan: 20 } } },
        sw2: { kind: 'switch' },
        a: { kind: 'host', ip: '10.0.0.1/24' },
        b: { kind: 'host', ip: '10.0.0.1/24' },
        c: { kind: 'host', ip: '10.0.0.1/24' },
        d: { kind: 'host', ip: '10.0.0.1/24' },
        r: { kind: 'router', interfaces: { x: { ip: '10.0.0.1/24' } } },
      },
      links: [
        { a: 'a', b: 'sw1:1' },
        { a: 'b', b: 'sw1:2' },
        { a: 'c', b: 'sw2:1' },
      ],
    }),
    [],
  );
  // A hub and a switch behind it are one segment; a direct cable is one too.
  assert.deepEqual(
    warnings({
      nodes: {
        hub: { kind: 'hub' },
        sw1: { kind: 'switch' },
        a: { kind: 'host', ip: '10.0.0.1/24' },
        b: { kind: 'host', ip: '10.0.0.1/24' },
        c: { kind: 'host', ip: '10.0.9.1/24' },
        d: { kind: 'host', ip: '10.0.9.1/24' },
      },
      links: [
        { a: 'a', b: 'hub' },
        { a: 'hub', b: 'sw1:1' },
        { a: 'b', b: 'sw1:2' },
        { a: 'c', b: 'd' },
      ],
    }),
    [
      'nodes.b.ip: 10.0.0.1 is also the address of nodes.a.ip on the same segment: a duplicate address (both answer ARP for it)',
      'nodes.d.ip: 10.0.9.1 is also the address of nodes.c.ip on the same segment: a duplicate address (both answer ARP for it)',
    ],
  );
});

test('fabric tenant subnets: not every address, no special-purpose block, room for the gateway and the VMs', () => {
  const fabric = (subnets: string[], extra: Record<string, unknown> = {}) => ({
    fabric: {
      spines: 1,
      leaves: 1,
      serversPerLeaf: 1,
      vmsPerServer: 2,
      ...extra,
      tenants: [{ name: 'A', subnets }],
    },
  });
  assert.deepEqual(problems(fabric(['0.0.0.0/0'])), [
    "fabric.tenants[0].subnets[0]: 0.0.0.0/0 is every address, not one segment's subnet (e.g. 10.1.0.0/24)",
  ]);
  assert.deepEqual(problems(fabric(['64.0.0.0/2', '224.1.0.0/16', '250.0.0.0/24'])), [
    'fabric.tenants[0].subnets[0]: 64.0.0.0/2 overlaps 127.0.0.0/8 (loopback): its VMs would get addresses no interface can have (RFC 1122 3.2.1.3)',
    'fabric.tenants[0].subnets[1]: 224.1.0.0/16 overlaps 224.0.0.0/4 (multicast): its VMs would get addresses no interface can have (RFC 1122 3.2.1.3)',
    'fabric.tenants[0].subnets[2]: 250.0.0.0/24 overlaps 240.0.0.0/4 (class E): its VMs would get addresses no interface can have (RFC 1122 3.2.1.3)',
  ]);
  assert.deepEqual(problems(fabric(['127.1.0.0/24', '0.0.1.0/24'])), [
    'fabric.tenants[0].subnets[0]: 127.1.0.0/24 overlaps 127.0.0.0/8 (loopback): its VMs would get addresses no interface can have (RFC 1122 3.2.1.3)',
    'fabric.tenants[0].subnets[1]: 0.0.1.0/24 overlaps 0.0.0.0/8 ("this network"): its VMs would get addresses no interface can have (RFC 1122 3.2.1.3)',
  ]);
  // Too small: the gateway takes the first address, the VMs start at the eleventh.
  assert.deepEqual(problems(fabric(['10.1.0.0/32', '10.2.0.0/28'])), [
    'fabric.tenants[0].subnets[0]: 10.1.0.0/32 cannot hold 1 VMs after its first 10 addresses',
  ]);
  // With an outside network, a subnet holding the outside host or the NAT links cannot reach them.
  const outside = { gateway: 'centralized', external: true };
  assert.deepEqual(problems(fabric(['198.51.0.0/16', '100.64.0.0/24'], outside)), [
    'fabric.tenants[0].subnets[0]: 198.51.0.0/16 holds the outside host web 198.51.100.10: its VMs would look for it on their own segment',
    'fabric.tenants[0].subnets[1]: 100.64.0.0/24 overlaps 100.64.0.0/10, the links between the border and the outside',
  ]);
  assert.deepEqual(problems(fabric(['198.51.0.0/16', '100.64.0.0/24'])), []);
});

test('node and map names that are Object.prototype keys work, and __proto__ is refused with a clear error', () => {
  const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf'];
  const lab = {
    nodes: {
      constructor: { kind: 'host', ip: '10.0.0.1/24' },
      toString: { kind: 'host', ip: '10.0.0.2/24' },
      hasOwnProperty: { kind: 'switch' },
      valueOf: {
        kind: 'router',
        interfaces: { constructor: { ip: '10.0.0.254/24' } },
        acls: { toString: [{ action: 'deny' }] },
        applyAcls: [{ interface: 'constructor', acl: 'toString', direction: 'in' }],
      },
    },
    links: [
      { a: 'constructor', b: 'hasOwnProperty:1' },
      { a: 'toString', b: 'hasOwnProperty:2' },
      { a: 'valueOf:constructor', b: 'hasOwnProperty:3' },
    ],
    script: [
      { ping: { from: 'constructor', to: '10.0.0.2', count: 1 } },
      { ping: { from: 'toString', to: '10.0.0.254', count: 1 } },
    ],
  };
  const r = validateLab(lab);
  assert.ok(r.ok, r.ok ? '' : r.issues.map(formatIssue).join('; '));
  assert.deepEqual(Object.keys(r.lab.nodes), names);
  // ...and the network they describe works: through the switch hasOwnProperty, constructor pings
  // toString; toString's ping to the router valueOf is filtered by its ACL toString on interface constructor.
  const result = runLab(r.lab, buildLab(r.lab));
  assert.equal(stepOf(result, 1, 'ping').statistics.received, 1);
  const filtered = stepOf(result, 2, 'ping').statistics;
  assert.deepEqual([filtered.received, filtered.errors], [0, 1]);
  // Names that are only Object.prototype's are unknown, not found.
  assert.deepEqual(
    problems({
      nodes: {
        h: { kind: 'host', ip: '10.0.0.1/24' },
        sw: { kind: 'switch' },
        r: {
          kind: 'router',
          interfaces: { eth0: { ip: '10.0.0.254/24' } },
          routes: [{ to: '10.9.0.0/16', dev: 'toString' }],
          applyAcls: [{ interface: 'hasOwnProperty', acl: 'valueOf', direction: 'in' }],
        },
      },
      links: [
        { a: 'h', b: 'r:eth0' },
        { a: 'r', b: 'constructor' },
      ],
      script: [
        { ping: { from: 'toString', to: '10.0.0.1' } },
        { capture: { port: 'sw:toString', file: 'x.pcap' } },
      ],
    }),
    [
      'nodes.r.routes[0].dev: unknown interface "toString"',
      'nodes.r.applyAcls[0].interface: unknown interface "hasOwnProperty"',
      'nodes.r.applyAcls[0].acl: unknown ACL "valueOf"',
      'links[1].b: unknown node "constructor"',
      'script[0].ping.from: unknown node "toString"',
      'script[1].capture.port: sw has no port "toString" in this lab (name it in a link first)',
    ],
  );
  // __proto__ cannot be a key of a JavaScript object (assigning it sets the prototype): refused, from YAML or JSON.
  const proto =
    '"__proto__" cannot be a name: it is the prototype key of JavaScript objects (a node, port or interface would vanish)';
  const yaml = parseLab(
    'nodes:\n  __proto__: { kind: host, ip: 10.0.0.1/24 }\n  r:\n    kind: router\n    interfaces: { __proto__: { ip: 10.0.0.254/24 } }\n',
  );
  assert.ok(!yaml.ok);
  assert.deepEqual(yaml.issues.map(formatIssue), [
    `nodes.__proto__: ${proto}`,
    `nodes.r.interfaces.__proto__: ${proto}`,
  ]);
  assert.deepEqual(
    problems(JSON.parse('{"nodes":{"__proto__":{"kind":"hub"}},"links":[{"a":"__proto__","b":"x"}]}')),
    [`nodes.__proto__: ${proto}`, 'links[0].a: a node name, or node:port', 'links[0].b: unknown node "x"'],
  );
});

test('YAML aliases: many references to one anchor are fine; an alias bomb or a cycle is refused with its line', () => {
  const hubs = Array.from({ length: 150 }, (_, i) => `  h${i}: *h`);
  const many = parseLab(`nodes:\n  hub: &h { kind: hub }\n${hubs.join('\n')}\n`);
  assert.ok(many.ok, many.ok ? '' : many.issues.map(formatIssue).join('; '));
  assert.equal(Object.keys(many.lab.nodes).length, 151);
  const refs = Array.from({ length: 150 }, () => '  - { ping: *p }');
  const script = parseLab(
    `nodes:\n  a: { kind: host, ip: 10.0.0.1/24 }\n  b: { kind: host, ip: 10.0.0.2/24 }\nlinks: [{ a: a, b: b }]\nscript:\n  - ping: &p { from: a, to: 10.0.0.2 }\n${refs.join('\n')}\n`,
  );
  assert.ok(script.ok, script.ok ? '' : script.issues.map(formatIssue).join('; '));
  assert.equal(script.lab.script.length, 151);
  // Nine levels of ten: a billion strings from a few lines.
  const levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 9; i++) {
    const p = String.fromCharCode(96 + i);
    const n = String.fromCharCode(97 + i);
    levels.push(`${n}: &${n} [${Array(10).fill(`*${p}`).join(', ')}]`);
  }
  const bomb = parseLab(`${levels.join('\n')}\n`);
  assert.ok(!bomb.ok);
  assert.deepEqual(bomb.issues.map(formatIssue), [
    'YAML line 6 column 36: alias *e expands the file past 1,000,000 values (an alias bomb?); a lab file is refused past that',
  ]);
  const over = parseLab(`x: &a 1\ny: [${Array(10_001).fill('*a').join(', ')}]\n`);
  assert.deepEqual(over.ok ? [] : over.issues.map(formatIssue), [
    'YAML line 2 column 40005: more than 10,000 aliases; a lab file is refused past that',
  ]);
  const cycle = parseLab('nodes:\n  a: &a\n    kind: host\n    self: *a\n');
  assert.ok(!cycle.ok);
  assert.deepEqual(cycle.issues.map(formatIssue), [
    'YAML line 4 column 11: alias *a is inside the map it names (a cycle)',
  ]);
});

test('every example lab still validates, with no error and no warning', () => {
  const labs = readdirSync(repoPath('examples')).filter((n) => n.endsWith('.yaml'));
  assert.equal(labs.length, 18);
  for (const f of labs) {
    const r = parseLab(readFileSync(repoPath(`examples/${f}`), 'utf8'));
    assert.deepEqual(r.ok ? [] : r.issues.map(formatIssue), [], f);
    assert.deepEqual(r.warnings.map(formatIssue), [], f);
  }
});
