/** `vnet run`, `vnet trace` and `vnet schema`, run as a user would. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeFrame, readCapture } from '../../src/wire/index.js';
import { repoPath } from '../helpers/repo.js';

function vnet(...args: string[]) {
  return vnetWith({}, ...args);
}

/** vnet with more environment (NODE_OPTIONS sets the heap limit the size check compares with). */
function vnetWith(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [repoPath('bin/vnet'), ...args], {
    encoding: 'utf8',
    cwd: repoPath(''),
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.trimEnd().split('\n') };
}
const tmp = mkdtempSync(join(tmpdir(), 'vnet-run-'));

test('vnet run prints each step: ping output and the lecture-style tables', () => {
  const r = vnet('run', 'examples/04-subnets-and-a-router.yaml');
  assert.equal(r.status, 0, r.stderr);
  const text = r.stdout;
  assert.match(text, /^\[1\] show R routes \(t=0 s\)$/m);
  assert.match(text, /^192\.168\.0\.254\/32 +direct +eth0 +local +0$/m);
  assert.match(text, /^64 bytes from 192\.168\.1\.1: icmp_seq=1 ttl=63 time=0\.031 ms$/m);
  assert.match(text, /^3 packets transmitted, 3 received, 0% packet loss$/m);
});

test('vnet run --json and --pcap: results as JSON, captures as pcap files Wireshark opens', () => {
  const dir = join(tmp, 'pcaps');
  const r = vnet('run', '--json', '--pcap', dir, 'examples/05-arp.yaml');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.stopped, null);
  assert.deepEqual(result.captures, [
    { file: 'arp.pcap', where: 'A:eth0--sw:1', frames: 2, path: join(dir, 'arp.pcap') },
  ]);
  assert.equal(result.steps[2].step, 'arp');
  assert.equal(result.steps[2].mac, '02:00:00:00:00:0b');
  const capture = readCapture(readFileSync(join(dir, 'arp.pcap')));
  assert.equal(capture.resolution, 'nano');
  assert.deepEqual(
    capture.packets.map((p) => decodeFrame(p.data).layers[1]!.kind),
    ['request', 'reply'],
  );
});

test('vnet run lists every problem of a bad lab file with its path, and exits 1', () => {
  const file = join(tmp, 'bad.yaml');
  writeFileSync(
    file,
    'nodes:\n  A: { kind: host, ip: 10.0.0.1/24 }\n  sw1: { kind: switch }\nlinks:\n  - { a: A, b: sw1 }\n  - { a: A, b: sw9 }\n  - { a: B, b: sw1, mtu: 20 }\n',
  );
  const r = vnet('run', file);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `vnet run: ${file}: 3 problems:\n  links[2].mtu: Too small: expected number to be >=68\n  links[1].b: unknown node "sw9"\n  links[2].a: unknown node "B"\n`,
  );
  writeFileSync(
    file,
    'nodes:\n  A: { kind: host, ip: 10.0.0.1/24 }\n  sw1: { kind: switch }\nlinks:\n  - { a: A, b: sw1 }\n  - { a: A, b: sw9 }\n  - { a: B, b: sw1 }\n',
  );
  const r2 = vnet('run', file);
  assert.equal(r2.status, 1);
  assert.equal(
    r2.stderr,
    `vnet run: ${file}: 3 problems:\n  links[1].a: every NIC of A is already linked (eth0 by links[0].a)\n  links[1].b: unknown node "sw9"\n  links[2].a: unknown node "B"\n`,
  );
  assert.equal(
    vnet('run', join(tmp, 'missing.yaml')).stderr,
    `vnet run: ${join(tmp, 'missing.yaml')}: cannot read (no such file)\n`,
  );
});

test('vnet trace explains every decision and says how it ended', () => {
  const r = vnet('trace', 'examples/04-subnets-and-a-router.yaml', '--from', 'A', '--to', '192.168.1.1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.lines[0], 'trace icmp A -> 192.168.1.1');
  assert.ok(
    r.lines.some((l) =>
      / R {5}eth0 {2}192\.168\.1\.1 matches 192\.168\.1\.0\/24 \(longest of 1 candidate\) -> eth1, directly connected; TTL 64 -> 63$/.test(
        l,
      ),
    ),
    r.stdout,
  );
  assert.ok(
    r.lines.some((l) =>
      l.includes(
        'sw1   1     02:00:00:00:00:0a known on port 1; dst ff:ff:ff:ff:ff:ff broadcast -> flood ports 2,3',
      ),
    ),
    r.stdout,
  );
  assert.equal(r.lines.at(-1), 'result: echo reply from 192.168.1.1 after 29.184 us, ttl 63');
  const blocked = vnet(
    'trace',
    'examples/06-department-vlans.yaml',
    '--from',
    'sales1',
    '--to',
    '10.0.30.12',
    '--json',
  );
  assert.equal(blocked.status, 4);
  const t = JSON.parse(blocked.stdout);
  assert.equal(t.outcome, 'Packet filtered (from 10.0.10.1)');
  assert.ok(
    t.events.some(
      (e: { node: string; kind: string; message: string }) =>
        e.node === 'R' && e.kind === 'drop' && e.message.includes('ACL finance-only-from-hr rule 2'),
    ),
  );
  const bad = vnet('trace', 'examples/04-subnets-and-a-router.yaml', '--from', 'sw1', '--to', '1.2.3');
  assert.equal(bad.status, 1);
  assert.equal(
    bad.stderr,
    'vnet trace: --from: sw1 is a switch; trace sends from a host\nvnet trace: --to: "1.2.3" is not an IPv4 address\n',
  );
});

test('vnet schema prints the shipped JSON Schema', () => {
  const r = vnet('schema');
  assert.equal(r.status, 0);
  assert.deepEqual(
    JSON.parse(r.stdout),
    JSON.parse(readFileSync(repoPath('schemas/lab.schema.json'), 'utf8')),
  );
});

test('vnet show runs the script, then prints one table; bad node, table and file are one-line errors', () => {
  const r = vnet('show', 'examples/14-distributed-gateway.yaml', 'leaf2', 'gateway-arp');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.lines.map((l) => l.split(/ +/).slice(0, 3).join(' ')),
    ['TENANT INTERFACE IP', 'A l3vni 169.254.0.1', 'A vbdif10 10.1.0.12', 'A vbdif11 10.2.0.12'],
  );
  const json = vnet('show', '--json', 'examples/11-vxlan-fabric.yaml', 'leaf1', 'flood');
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).rows, [
    { vni: 10000, bd: 10, vteps: 1, floodList: '10.255.0.2', bumFrames: 5, replicated: 3 },
  ]);
  const node = vnet('show', 'examples/14-distributed-gateway.yaml', 'leaf9', 'bd');
  assert.deepEqual([node.status, node.stderr.trim()], [1, 'vnet show: node: unknown node "leaf9"']);
  const kind = vnet('show', 'examples/14-distributed-gateway.yaml', 'A-vm1', 'bd');
  assert.deepEqual(
    [kind.status, kind.stderr.trim()],
    [1, 'vnet show: node: A-vm1 is a host; this step needs a nve'],
  );
  const table = vnet('show', 'examples/14-distributed-gateway.yaml', 'leaf1', 'bogus');
  assert.equal(table.status, 2);
  assert.match(table.stderr, /^vnet show: "bogus" is not a table \(mac, arp, routes, /);
});

test('vnet trace from a VM of a fabric crosses overlay and underlay in one answer', () => {
  const r = vnet('trace', 'examples/11-vxlan-fabric.yaml', '--from', 'A-vm1', '--to', '10.1.0.12');
  assert.equal(r.status, 0, r.stderr);
  const text = r.stdout;
  assert.match(text, /leaf1 +srv1 +VAP srv1:vlan10 -> BD 10 \(VNI 10000\)/);
  assert.match(
    text,
    /leaf1 +VXLAN VNI 10000: outer 10\.255\.0\.1 -> 10\.255\.0\.2, UDP \d+ -> 4789 \(source port from flow hash 0x[0-9a-f]{8}\), TTL 64, DF/,
  );
  assert.match(
    text,
    /ECMP: 2 equal-cost next hops, flow hash 0x[0-9a-f]{8} picks 172\.16\.0\.(1|9) on to-spine(1|2) \([12] of 2\)/,
  );
  assert.match(text, /spine\d +to-leaf1 +10\.255\.0\.2 matches 10\.255\.0\.2\/32/);
  assert.match(text, /leaf2 +to-spine\d +decapsulate VXLAN VNI 10000 from VTEP 10\.255\.0\.1 -> BD 10/);
  assert.match(text, /^result: echo reply from 10\.1\.0\.12 after [\d.]+ us, ttl 64$/m);
  const unknown = vnet('trace', 'examples/11-vxlan-fabric.yaml', '--from', 'A-vm9', '--to', '10.1.0.12');
  assert.equal(unknown.status, 1);
  assert.equal(
    unknown.stderr.trim(),
    'vnet trace: --from: unknown node "A-vm9" (hosts: A-vm1, A-vm2, A-vm3, A-vm4)',
  );
});

test('vnet run refuses a lab too large for the heap before building it: the estimate, the largest that fits, exit 1', () => {
  const file = join(tmp, 'million.yaml');
  writeFileSync(
    file,
    'fabric: { spines: 4, leaves: 64, serversPerLeaf: 64, vmsPerServer: 256, tenants: [{ name: A, subnets: [10.0.0.0/8] }] }\nscript: []\n',
  );
  const r = vnetWith({ NODE_OPTIONS: '--max-old-space-size=2048' }, 'run', file);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `vnet run: ${file}: too large for this machine: 4 spines x 64 leaves x 64 servers x 256 VMs (1,052,740 nodes, 1,052,928 links, 1,048,576 VMs) would need about 5.7 GiB and 2 min to build; this machine's heap allows 2 GiB (a lab may take 60% of it, the rest is for its traffic): the largest that fits is vmsPerServer 53 (about 1.2 GiB). --force tries anyway; NODE_OPTIONS=--max-old-space-size=MIB sets the heap's limit\n`,
  );
  // --force and --time-budget are options of run (and show); a budget must be a number > 0.
  const missing = join(tmp, 'missing.yaml');
  const forced = vnet('run', '--force', '--time-budget', '2.5', missing);
  assert.deepEqual([forced.status, forced.stderr], [1, `vnet run: ${missing}: cannot read (no such file)\n`]);
  assert.equal(vnet('show', '--force', '--time-budget', '10', missing, 'sw', 'mac').status, 1);
  const zero = vnet('run', '--time-budget', '0', missing);
  assert.deepEqual(
    [zero.status, zero.stderr],
    [2, "error: option '--time-budget <seconds>' argument '0' is invalid. not a number > 0\n"],
  );
});

test('vnet run: a storm still running when the script ends is reported, called a loop, and exits 3', () => {
  const file = join(tmp, 'triangle.yaml');
  writeFileSync(
    file,
    [
      'nodes:',
      '  A: { kind: host, ip: 10.0.0.1/24, announce: false }',
      '  B: { kind: host, ip: 10.0.0.2/24, announce: false }',
      '  s1: { kind: switch }',
      '  s2: { kind: switch }',
      '  s3: { kind: switch }',
      'links:',
      '  - { a: "s1:1", b: "s2:1" }',
      '  - { a: "s2:2", b: "s3:1" }',
      '  - { a: "s3:2", b: "s1:2" }',
      '  - { a: A, b: "s1:3" }',
      '  - { a: B, b: "s2:3" }',
      'script:',
      '  - ping: { from: A, to: 10.0.0.2, count: 1, timeout: 10ms }',
      '',
    ].join('\n'),
  );
  const r = vnet('run', '--budget', '200000', file);
  assert.equal(r.status, 3, r.stderr);
  assert.ok(
    r.lines.includes(
      'WARNING: the script ended with traffic still flowing: the event budget was spent after its last step',
    ),
    r.stdout,
  );
  const stopped = r.lines.find((l) => l.startsWith('STOPPED: '));
  assert.match(
    stopped ?? '',
    /^STOPPED: event budget of 200,000 events spent at t=71\.66 ms with 6 events still pending, after the script had ended: /,
  );
  assert.match(
    stopped ?? '',
    /; a switching loop: the same ARP frame from 02:56:4e:00:00:01 to ff:ff:ff:ff:ff:ff arrived at B:eth0 1,429 times: frames go round without end \(turn spanning tree on, stp: true, or take a link out of the loop\)$/,
  );
  const json = JSON.parse(vnet('run', '--json', '--budget', '200000', file).stdout);
  assert.deepEqual(
    [json.stopReason, json.warning, json.traffic.loop, json.traffic.sample.protocols],
    [
      'events',
      'the script ended with traffic still flowing: the event budget was spent after its last step',
      { port: 'B:eth0', repeats: 1429, frame: 'ARP frame from 02:56:4e:00:00:01 to ff:ff:ff:ff:ff:ff' },
      { ARP: 10_000 },
    ],
  );
});

test("vnet run prints a lab's warnings on stderr and runs it; --json carries them", () => {
  const file = join(tmp, 'duplicate.yaml');
  writeFileSync(
    file,
    [
      'nodes:',
      '  A: { kind: host, ip: 10.0.0.1/24 }',
      '  B: { kind: host, ip: 10.0.0.1/24 }',
      '  C: { kind: host, ip: 10.0.0.3/24 }',
      '  sw: { kind: switch }',
      'links:',
      '  - { a: A, b: sw }',
      '  - { a: B, b: sw }',
      '  - { a: C, b: sw }',
      'script:',
      '  - ping: { from: C, to: 10.0.0.1, count: 1 }',
    ].join('\n'),
  );
  const warning =
    'nodes.B.ip: 10.0.0.1 is also the address of nodes.A.ip on the same segment: a duplicate address (both answer ARP for it)';
  const text = vnet('run', file);
  assert.equal(text.status, 0, text.stderr);
  assert.equal(text.stderr, `vnet run: ${file}: warning: ${warning}\n`);
  assert.match(text.stdout, /^1 packets transmitted, 1 received, 0% packet loss$/m);
  const json = vnet('run', '--json', file);
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).warnings, [
    {
      path: 'nodes.B.ip',
      message:
        '10.0.0.1 is also the address of nodes.A.ip on the same segment: a duplicate address (both answer ARP for it)',
    },
  ]);
});

test('a link to an L3 switch that names no port gets a port of its own, never the internal cpu port', () => {
  const file = join(tmp, 'l3-unnamed.yaml');
  writeFileSync(
    file,
    [
      'nodes:',
      '  a: { kind: host, ip: 10.0.1.11/24, gateway: 10.0.1.1 }',
      '  b: { kind: host, ip: 10.0.1.12/24, gateway: 10.0.1.1 }',
      '  core:',
      '    kind: l3switch',
      '    vlanifs:',
      '      "1": { ip: 10.0.1.1/24 }',
      'links:',
      '  - { a: a, b: core }',
      '  - { a: b, b: core }',
      'script:',
      '  - ping: { from: a, to: 10.0.1.12, count: 1 }',
      '  - ping: { from: b, to: 10.0.1.1, count: 1 }',
    ].join('\n'),
  );
  const r = vnet('run', file);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  // Both hosts reach each other on the switch, and the VLANIF through the switch's cpu port.
  assert.equal(r.stdout.match(/^1 packets transmitted, 1 received, 0% packet loss$/gm)?.length, 2, r.stdout);
});
