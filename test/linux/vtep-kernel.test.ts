/**
 * vnet's real VTEP against the Linux kernel's own VXLAN and GENEVE devices, on real namespaces:
 * the kernel's `vx0` (10.77.0.1) in namespace K, `vnet vtep` in namespace V with a TAP moved into
 * namespace VM (10.77.0.2) and a host of its own stack (10.77.0.5), the underlay a veth between K
 * (192.168.77.1) and V (192.168.77.2). ARP, ICMP, UDP and TCP cross both ways at the inner MTU, with
 * the kernel's UDP checksum off and on; each side learns the other's stations; random datagrams
 * to the tunnel port are each counted, never fatal. Needs root (skipped, saying so, otherwise).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kernelHasDevice, Namespaces, type RunningVtep, realDataPlaneUnavailable } from '../helpers/netns.js';

const skip = realDataPlaneUnavailable() ?? false;
const noGeneve =
  skip || kernelHasDevice('geneve') ? false : 'this kernel has no geneve device (CONFIG_GENEVE is not set)';

/** The MAC of the kernel's tunnel device. */
const KERNEL_MAC = '02:00:00:00:77:01';

interface Pair {
  readonly n: Namespaces;
  readonly k: string;
  readonly v: string;
  readonly vm: string;
  readonly vtep: RunningVtep;
}

/** The kernel's tunnel device `vx0` in namespace `k` (VNI 100, 10.77.0.1/24, KERNEL_MAC), over `dev`. */
function kernelTunnel(
  n: Namespaces,
  k: string,
  dev: string,
  kind: 'vxlan' | 'geneve',
  options: string[] = [],
): void {
  const how =
    kind === 'vxlan'
      ? ['local', '192.168.77.1', 'remote', '192.168.77.2', 'dstport', '4789', 'dev', dev]
      : ['remote', '192.168.77.2'];
  n.ip(k, 'link', 'add', 'vx0', 'type', kind, 'id', '100', ...how, ...options);
  // veth never completes a checksum left for the NIC: without this the kernel's inner UDP and TCP
  // checksums would reach vnet unfinished (a real NIC computes them). See docs/real.md.
  n.run(k, 'ethtool', '-K', 'vx0', 'tx', 'off');
  n.ip(k, 'link', 'set', 'vx0', 'address', KERNEL_MAC);
  n.ip(k, 'address', 'add', '10.77.0.1/24', 'dev', 'vx0');
  n.ip(k, 'link', 'set', 'vx0', 'up');
}

/** The kernel's tunnel device in K, vnet's VTEP in V, the TAP in VM. */
async function kernelAndVnet(
  n: Namespaces,
  kind: 'vxlan' | 'geneve',
  kernelOptions: string[] = [],
  vtepOptions: string[] = [],
): Promise<Pair> {
  const k = n.add('k');
  const v = n.add('v');
  const vm = n.add('vm');
  const link = n.veth(k, '192.168.77.1/24', v, '192.168.77.2/24');
  kernelTunnel(n, k, link.a, kind, kernelOptions);
  const vtep = await n.vtep(
    v,
    '--vni',
    '100',
    '--local',
    '192.168.77.2',
    '--remote',
    '192.168.77.1',
    '--encap',
    kind,
    '--tap',
    `${vm},name=eth0,ip=10.77.0.2/24,mac=02:00:00:00:77:02`,
    '--host',
    '10.77.0.5/24',
    '--mac',
    '02:00:00:00:77:05',
    '--json',
    ...vtepOptions,
  );
  return { n, k, v, vm, vtep };
}

function ping(n: Namespaces, ns: string, to: string, ...extra: string[]) {
  return n.run(ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', ...extra, to);
}

function assertPings(r: { status: number | null; stdout: string; stderr: string }, what: string): void {
  assert.equal(r.status, 0, `${what}: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /3 packets transmitted, 3 received, 0% packet loss/, what);
}

/** Runs a Node script inside a namespace, returning what it printed. */
function nodeIn(n: Namespaces, ns: string, script: string): string {
  const r = n.run(ns, process.execPath, '--input-type=module', '-e', script);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

interface Summary {
  encapsulated: number;
  arpSuppressed: number;
  decapsulated: number;
  underlayReceived: number;
  drops: Record<string, number>;
  macs: { vni: number; mac: string; where: string; type: string }[];
}

async function stopped(vtep: RunningVtep): Promise<Summary> {
  const r = await vtep.stop();
  assert.equal(r.code, 0, r.stderr);
  const last = r.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(last) as Summary;
}

test('VXLAN with the kernel: ARP, ping both ways, UDP and TCP echo, iperf3, the inner MTU exactly, learning on both sides', {
  skip,
}, async () => {
  const n = new Namespaces('vk');
  try {
    const { k, vm, vtep } = await kernelAndVnet(n, 'vxlan');
    assertPings(ping(n, vm, '10.77.0.1'), 'TAP namespace -> kernel vxlan');
    assertPings(ping(n, k, '10.77.0.5'), "kernel vxlan -> vnet's host");
    assertPings(ping(n, vm, '10.77.0.5'), "TAP namespace -> vnet's host (bridged, not tunnelled)");
    // The inner MTU: 1450 = 1500 - 50. 1422 bytes of ICMP data + 28 fit exactly; one more does not.
    assertPings(ping(n, vm, '10.77.0.1', '-M', 'do', '-s', '1422'), 'a 1450-byte packet');
    const tooBig = n.run(vm, 'ping', '-c', '1', '-W', '1', '-M', 'do', '-s', '1423', '10.77.0.1');
    assert.notEqual(tooBig.status, 0);
    assert.match(tooBig.stdout + tooBig.stderr, /mtu = 1450|message too long/i);
    // UDP and TCP echo (RFC 862) from the kernel's side to vnet's host.
    const udp = nodeIn(
      n,
      k,
      `
      import dgram from 'node:dgram';
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => { console.log(m.toString()); s.close(); });
      s.send('hello over vxlan', 7, '10.77.0.5');
      setTimeout(() => { console.log('timeout'); process.exit(1); }, 3000).unref();`,
    );
    assert.equal(udp, 'hello over vxlan');
    const tcp = nodeIn(
      n,
      k,
      `
      import net from 'node:net';
      const c = net.connect(7, '10.77.0.5', () => c.write('x'.repeat(5000)));
      let got = '';
      c.on('data', (d) => { got += d; if (got.length >= 5000) { console.log(got === 'x'.repeat(5000) ? 'echoed 5000' : 'wrong'); c.end(); } });
      setTimeout(() => { console.log('timeout ' + got.length); process.exit(1); }, 5000).unref();`,
    );
    assert.equal(tcp, 'echoed 5000');
    // iperf3 TCP from the TAP namespace to the kernel's side: real bytes, both stacks' TCP.
    const server = n.spawn(k, 'iperf3', '-s', '-1', '-B', '10.77.0.1');
    await new Promise((r) => setTimeout(r, 300));
    const iperf = n.run(vm, 'iperf3', '-c', '10.77.0.1', '-t', '1', '-J');
    assert.equal(iperf.status, 0, iperf.stdout + iperf.stderr);
    const result = JSON.parse(iperf.stdout);
    assert.ok(result.end.sum_received.bytes > 0, 'iperf3 moved bytes');
    server.kill();
    // The kernel learned vnet's stations behind 192.168.77.2 (its fdb), vnet learned the kernel's.
    const fdb = n.run(k, 'bridge', 'fdb', 'show', 'dev', 'vx0').stdout;
    assert.match(fdb, /02:00:00:00:77:02 dst 192\.168\.77\.2/);
    assert.match(fdb, /02:00:00:00:77:05 dst 192\.168\.77\.2/);
    const kernelMac = JSON.parse(n.ip(k, '-j', 'link', 'show', 'vx0'))[0].address as string;
    const summary = await stopped(vtep);
    assert.deepEqual(
      summary.macs.find((m) => m.mac === kernelMac),
      { vni: 100, mac: kernelMac, where: 'vtep 192.168.77.1', type: 'learned' },
    );
    assert.deepEqual(
      summary.macs.filter((m) => m.type === 'local').map((m) => m.mac),
      ['02:00:00:00:77:02', '02:00:00:00:77:05'],
    );
    assert.deepEqual(summary.drops, {});
    assert.equal(summary.decapsulated, summary.underlayReceived);
  } finally {
    n.cleanup();
  }
});

test('VXLAN with the kernel sending UDP checksums (udpcsum): both ways still', { skip }, async () => {
  const n = new Namespaces('vc');
  try {
    const { k, vm, vtep } = await kernelAndVnet(n, 'vxlan', ['udpcsum']);
    assertPings(ping(n, vm, '10.77.0.1'), 'TAP -> kernel');
    assertPings(ping(n, k, '10.77.0.5'), 'kernel -> host');
    const summary = await stopped(vtep);
    assert.deepEqual(summary.drops, {});
  } finally {
    n.cleanup();
  }
});

test('GENEVE with the kernel geneve device: ping both ways', { skip: skip || noGeneve }, async () => {
  const n = new Namespaces('vg');
  try {
    const { k, vm, vtep } = await kernelAndVnet(n, 'geneve');
    assertPings(ping(n, vm, '10.77.0.1'), 'TAP -> kernel geneve');
    assertPings(ping(n, k, '10.77.0.5'), 'kernel geneve -> host');
    const summary = await stopped(vtep);
    assert.deepEqual(summary.drops, {});
    assert.ok(summary.encapsulated > 0 && summary.decapsulated > 0);
  } finally {
    n.cleanup();
  }
});

test('random datagrams to the tunnel port: each is dropped by reason or decapsulated, and the VTEP goes on forwarding', {
  skip,
}, async () => {
  const n = new Namespaces('vf');
  try {
    const { k, vm, vtep } = await kernelAndVnet(n, 'vxlan');
    // 3,000 datagrams: random bytes, and VXLAN-looking ones (I flag) with random VNIs and inner bytes.
    nodeIn(
      n,
      k,
      `
      import dgram from 'node:dgram';
      import { randomBytes } from 'node:crypto';
      const s = dgram.createSocket('udp4');
      let sent = 0;
      const next = () => {
        if (sent === 3000) { s.close(); return; }
        const b = randomBytes(Math.floor(Math.random() * 120));
        if (sent % 2 === 0 && b.length >= 8) b[0] = 0x08;
        if (sent % 4 === 0 && b.length >= 8) { b[4] = 0; b[5] = 0; b[6] = 100; }
        sent++;
        s.send(b, 4789, '192.168.77.2', next);
      };
      next();`,
    );
    await new Promise((r) => setTimeout(r, 500));
    assertPings(ping(n, vm, '10.77.0.1'), 'after the fuzz');
    const summary = await stopped(vtep);
    const dropped = Object.entries(summary.drops)
      .filter(([reason]) => reason !== 'split-horizon')
      .reduce((sum, [, count]) => sum + count, 0);
    assert.ok(summary.underlayReceived >= 3000, `${summary.underlayReceived} received`);
    assert.equal(dropped + summary.decapsulated, summary.underlayReceived, JSON.stringify(summary.drops));
    assert.ok(summary.drops['unknown-vni']! > 0, JSON.stringify(summary.drops));
  } finally {
    n.cleanup();
  }
});

test('a configuration file: two bridge domains on one subnet stay apart (VNI 100 reaches the kernel, VNI 200 does not); a static remote entry', {
  skip,
}, async () => {
  const n = new Namespaces('vy');
  try {
    const k = n.add('k');
    const v = n.add('v');
    const vm1 = n.add('vm1');
    const vm2 = n.add('vm2');
    const link = n.veth(k, '192.168.77.1/24', v, '192.168.77.2/24');
    kernelTunnel(n, k, link.a, 'vxlan');
    const dir = mkdtempSync(join(tmpdir(), 'vnet-vtep-'));
    const file = join(dir, 'vtep.yaml');
    writeFileSync(
      file,
      [
        'local: 192.168.77.2',
        'bridgeDomains:',
        '  - vni: 100',
        '    remotes: [192.168.77.1]',
        `    taps: [{ namespace: ${vm1}, ifname: eth0, ip: 10.77.0.2/24 }]`,
        '  - vni: 200',
        '    remotes: [192.168.77.1]',
        `    taps: [{ namespace: ${vm2}, ifname: eth0, ip: 10.77.0.3/24 }]`,
        '    hosts: [{ ip: 10.77.0.7/24, mac: "02:00:00:00:77:07" }]',
        '    static: [{ mac: "02:00:00:00:99:99", vtep: 192.168.77.1 }]',
        '',
      ].join('\n'),
    );
    const vtep = await n.vtep(v, file, '--json');
    assertPings(ping(n, vm1, '10.77.0.1'), 'VNI 100 -> the kernel (VNI 100)');
    assertPings(ping(n, vm2, '10.77.0.7'), "VNI 200 -> vnet's host in VNI 200");
    const apart = n.run(vm2, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '10.77.0.1');
    assert.match(apart.stdout, /2 packets transmitted, 0 received/, 'VNI 200 does not reach VNI 100');
    const apart2 = n.run(k, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '10.77.0.7');
    assert.match(
      apart2.stdout,
      /2 packets transmitted, 0 received/,
      "the kernel's VNI 100 does not reach VNI 200",
    );
    const summary = await stopped(vtep);
    assert.deepEqual(
      summary.macs.filter((m) => m.vni === 200 && m.type !== 'local'),
      [{ vni: 200, mac: '02:00:00:00:99:99', where: 'vtep 192.168.77.1', type: 'controller' }],
    );
  } finally {
    n.cleanup();
  }
});

test('static control plane: the VTEP answers ARP for a static station itself (ARP suppression), learns nothing from the fabric', {
  skip,
}, async () => {
  const n = new Namespaces('va');
  try {
    const { k, vm, vtep } = await kernelAndVnet(
      n,
      'vxlan',
      [],
      ['--control-plane', 'static', '--static', `${KERNEL_MAC},vtep=192.168.77.1,ip=10.77.0.1`],
    );
    assertPings(ping(n, vm, '10.77.0.1'), 'TAP -> kernel, its MAC from the static entry');
    // The VM's ARP cache holds the kernel's MAC: the answer came from vnet's VTEP.
    assert.match(n.run(vm, 'ip', 'neigh', 'show', '10.77.0.1').stdout, new RegExp(`lladdr ${KERNEL_MAC}`));
    assertPings(ping(n, k, '10.77.0.5'), "kernel -> vnet's host (the kernel still floods its own ARP)");
    const summary = await stopped(vtep);
    assert.equal(summary.arpSuppressed, 1);
    assert.deepEqual(
      summary.macs.filter((m) => m.type !== 'local'),
      [{ vni: 100, mac: KERNEL_MAC, where: 'vtep 192.168.77.1', type: 'controller' }],
    );
  } finally {
    n.cleanup();
  }
});
