/**
 * `vnet vtep` when things are wrong: an address that is not the host's, a namespace that does not
 * exist, a port already taken, bad flags and a bad configuration file each give a clear message
 * and a non-zero exit, and leave no TAP device behind; a VTEP killed with SIGKILL leaves nothing
 * either (its TAPs vanish with their descriptors). Needs root (skipped, saying so, otherwise).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Namespaces, realDataPlaneUnavailable } from '../helpers/netns.js';
import { repoPath } from '../helpers/repo.js';

const skip = realDataPlaneUnavailable() ?? false;

/** `vnet vtep ARGS` in namespace `ns`, to its end. */
function vtepIn(ns: string, ...args: string[]) {
  return spawnSync('ip', ['netns', 'exec', ns, process.execPath, repoPath('bin/vnet'), 'vtep', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

/** The names of the interfaces in `ns`. */
function links(n: Namespaces, ns: string): string[] {
  return (JSON.parse(n.ip(ns, '-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname).sort();
}

test('bad flags and a bad file: exit 2, every problem with its path', { skip }, () => {
  const n = new Namespaces('vb');
  try {
    const v = n.add('v');
    const noVni = vtepIn(v, '--local', '10.0.0.1', '--host', '10.1.0.5/24');
    assert.equal(noVni.status, 2);
    assert.equal(noVni.stderr, 'vnet vtep: --vni required (or a configuration file)\n');
    const bad = vtepIn(
      v,
      '--vni',
      '100',
      '--local',
      '10.0.0.300',
      '--host',
      '10.1.0.5',
      '--tap',
      'vm,ip=nope',
    );
    assert.equal(bad.status, 2);
    assert.equal(
      bad.stderr,
      [
        'vnet vtep: local: not an IPv4 address',
        'vnet vtep: bridgeDomains.0.taps.0.ip: not an IPv4 address with a prefix length (10.0.0.2/24)',
        'vnet vtep: bridgeDomains.0.hosts.0.ip: not an IPv4 address with a prefix length (10.0.0.2/24)',
        '',
      ].join('\n'),
    );
    const unknown = vtepIn(v, '--vni', '100', '--local', '10.0.0.1', '--tap', 'vm,colour=red');
    assert.equal(unknown.status, 2);
    assert.equal(
      unknown.stderr,
      'vnet vtep: --tap vm,colour=red: unknown setting "colour" (name=, ip=, mac=)\n',
    );
    const dir = mkdtempSync(join(tmpdir(), 'vnet-vtep-'));
    const file = join(dir, 'vtep.yaml');
    writeFileSync(
      file,
      'local: 192.168.1.1\nbridgeDomains:\n  - vni: 0\n    hosts: [{ ip: 10.0.0.1/24 }]\n  - vni: 7\n    colour: red\n',
    );
    const both = vtepIn(v, file, '--remote', '192.168.1.2', '--encap', 'geneve');
    assert.equal(both.status, 2);
    assert.equal(
      both.stderr,
      'vnet vtep: give a configuration file or the flags (--encap, --remote), not both\n',
    );
    const r = vtepIn(v, file);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      [
        `vnet vtep: ${file}: bridgeDomains.0.vni: a VNI is 1..16777215`,
        `vnet vtep: ${file}: bridgeDomains.1: Unrecognized key: "colour"`,
        '',
      ].join('\n'),
    );
  } finally {
    n.cleanup();
  }
});

test('cannot start: not our address, a namespace missing, the port taken: exit 1, the reason, no TAP left', {
  skip,
}, async () => {
  const n = new Namespaces('vs');
  try {
    const v = n.add('v');
    const other = n.add('o');
    n.veth(v, '192.168.78.2/24', other, '192.168.78.1/24');
    const before = links(n, v);
    const notOurs = vtepIn(v, '--vni', '100', '--local', '192.168.78.9', '--host', '10.1.0.5/24');
    assert.equal(notOurs.status, 1);
    assert.equal(
      notOurs.stderr,
      'vnet vtep: 192.168.78.9 is not an address of this host (or of this network namespace)\n',
    );
    const missing = vtepIn(v, '--vni', '100', '--local', '192.168.78.2', '--tap', `${n.prefix}-nowhere`);
    assert.equal(missing.status, 1);
    assert.equal(
      missing.stderr,
      `vnet vtep: network namespace "${n.prefix}-nowhere" does not exist (ip netns add ${n.prefix}-nowhere)\n`,
    );
    assert.deepEqual(links(n, v), before, 'the TAP made before the failure is gone');
    const first = await n.vtep(v, '--vni', '100', '--local', '192.168.78.2', '--host', '10.1.0.5/24');
    const second = vtepIn(v, '--vni', '100', '--local', '192.168.78.2', '--host', '10.1.0.6/24');
    assert.equal(second.status, 1);
    assert.equal(
      second.stderr,
      "vnet vtep: UDP 192.168.78.2:4789 is in use (another VTEP, or the kernel's vxlan device, listens there)\n",
    );
    assert.equal((await first.stop()).code, 0);
  } finally {
    n.cleanup();
  }
});

test('a VTEP killed with SIGKILL leaves no interface behind: its TAP leaves the VM namespace with it', {
  skip,
}, async () => {
  const n = new Namespaces('vx');
  try {
    const v = n.add('v');
    const vm = n.add('vm');
    const other = n.add('o');
    n.veth(v, '192.168.79.2/24', other, '192.168.79.1/24');
    const vtep = await n.vtep(
      v,
      '--vni',
      '100',
      '--local',
      '192.168.79.2',
      '--tap',
      `${vm},name=eth0,ip=10.79.0.2/24`,
    );
    assert.deepEqual(links(n, vm), ['eth0', 'lo']);
    vtep.child.kill('SIGKILL');
    await vtep.exited;
    // The kernel tears the TAP down when its last descriptor closes; give it a moment.
    for (let i = 0; i < 50 && links(n, vm).length > 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(links(n, vm), ['lo']);
  } finally {
    n.cleanup();
  }
});
