/** `vnet decode` run as a user runs it: the real bin/vnet in a child process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFixture, repoPath } from '../helpers/repo.js';

function vnet(...args: string[]) {
  const r = spawnSync(process.execPath, [repoPath('bin/vnet'), ...args], {
    encoding: 'utf8',
    cwd: repoPath(''),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.trimEnd().split('\n') };
}
const GOLDEN = 'test/fixtures/golden.pcap';
const tmp = mkdtempSync(join(tmpdir(), 'vnet-cli-'));

test('prints one summary line per frame, tshark style', () => {
  const r = vnet('decode', GOLDEN);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  assert.equal(r.lines.length, 26);
  assert.equal(
    r.lines[0],
    '1 0.000000 00:0a:95:b1:2c:eb -> ff:ff:ff:ff:ff:ff ARP Who has 192.168.0.2? Tell 192.168.0.1',
  );
  assert.equal(
    r.lines[5],
    '6 0.005000 192.168.0.1 -> 192.168.1.2 ICMP Echo (ping) request id=0x1234, seq=1, ttl=64',
  );
  assert.equal(
    r.lines[7],
    '8 0.007000 192.168.1.254 -> 192.168.1.2 ICMP Destination unreachable (Fragmentation needed, MTU 1450)',
  );
  assert.equal(
    r.lines[12],
    '13 0.012000 192.168.0.1 -> 192.168.1.2 TCP 43210 -> 80 [SYN] Seq=1000 Win=64240 Len=0',
  );
  assert.equal(
    r.lines[20],
    '21 0.020000 172.16.0.1 -> 172.16.0.2 ICMP Echo (ping) request id=0x0042, seq=3, ttl=64 [VXLAN VNI 5000 10.0.0.1 -> 10.0.0.2]',
  );
  assert.equal(
    r.lines[16],
    '17 0.016000 10.0.0.1 -> 10.0.0.2 UDP 5000 -> 5001 Len=4 [VLAN 0] [VID 0 is reserved: a priority tag carrying no VLAN]',
  );
});

test('--json prints one object per frame with the documented keys', () => {
  const r = vnet('decode', '--json', GOLDEN);
  assert.equal(r.status, 0);
  const frames = r.lines.map((l) => JSON.parse(l));
  assert.equal(frames.length, 26);
  assert.deepEqual(Object.keys(frames[0]), [
    'file',
    'index',
    'time',
    'timestamp',
    'length',
    'capturedLength',
    'layers',
    'warnings',
    'error',
  ]);
  assert.deepEqual(
    frames[20].layers.map((l: { layer: string }) => l.layer),
    ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp'],
  );
  assert.equal(frames[20].file, GOLDEN);
  assert.equal(frames[20].index, 21);
  assert.equal(frames[20].time, 0.02);
  assert.equal(frames[20].timestamp, '2025-12-01T08:00:00.020000000Z');
  assert.equal(frames[20].length, 104);
  assert.equal(frames[20].error, null);
  assert.deepEqual(frames[12].layers[2].flags, ['SYN']);
});

test('--verbose adds the layer tree', () => {
  const r = vnet('decode', '--verbose', GOLDEN);
  assert.equal(r.status, 0);
  const at = r.lines.indexOf(
    '21 0.020000 172.16.0.1 -> 172.16.0.2 ICMP Echo (ping) request id=0x0042, seq=3, ttl=64 [VXLAN VNI 5000 10.0.0.1 -> 10.0.0.2]',
  );
  assert.ok(at > 0);
  assert.equal(
    r.lines[at + 1],
    '    ethernet dst=02:00:00:00:02:01 src=02:00:00:00:01:01 etherType=0x0800 (IPv4)',
  );
  assert.equal(r.lines[at + 4], '    vxlan    flags=0x08 vni=5000');
});

test('several files, pcapng and nanosecond pcap included', () => {
  const r = vnet('decode', '--json', GOLDEN, 'test/fixtures/golden.pcapng', 'test/fixtures/golden-nsec.pcap');
  assert.equal(r.status, 0);
  assert.equal(r.lines.length, 78);
  assert.equal(JSON.parse(r.lines[26]!).file, 'test/fixtures/golden.pcapng');
  assert.deepEqual(JSON.parse(r.lines[26 + 20]!).layers, JSON.parse(r.lines[20]!).layers);
});

test('a truncated file prints the frames before the damage, names file and byte offset, exits 1', () => {
  const cut = join(tmp, 'cut.pcap');
  writeFileSync(cut, readFixture('golden.pcap').subarray(0, 120));
  const r = vnet('decode', cut);
  assert.equal(r.status, 1);
  assert.equal(r.lines.length, 1);
  assert.match(r.lines[0]!, /^1 0\.000000 .* ARP Who has 192\.168\.0\.2\?/);
  assert.equal(
    r.stderr,
    `vnet decode: ${cut}: record 2 at byte 100 cut short: 60 bytes announced, 4 present (pcap truncated at byte 120); 1 frame(s) before it were decoded\n`,
  );
});

test('a file that is not a capture, and a missing file, are clear errors with status 1', () => {
  const text = join(tmp, 'notes.txt');
  writeFileSync(text, 'these are my notes\n');
  const r = vnet('decode', text, join(tmp, 'missing.pcap'));
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `vnet decode: ${text}: not a capture file (neither a pcap nor a pcapng magic number in the first 4 bytes) (pcap bad-magic at byte 0); 0 frame(s) before it were decoded\n` +
      `vnet decode: ${join(tmp, 'missing.pcap')}: cannot read (no such file)\n`,
  );
});

test('malformed frames are printed with their error and do not fail the run', () => {
  const bad = Uint8Array.from(readFixture('golden.pcap').subarray(0, 100));
  bad[24 + 16 + 12] = 0x08; // frame 1: EtherType ARP -> IPv4, so its ARP body is read as an IPv4 header
  bad[24 + 16 + 13] = 0x00;
  const file = join(tmp, 'bad.pcap');
  writeFileSync(file, bad);
  const r = vnet('decode', '--json', file);
  assert.equal(r.status, 0);
  const f = JSON.parse(r.lines[0]!);
  assert.deepEqual(f.error, {
    layer: 'ipv4',
    code: 'bad-version',
    offset: 14,
    message: 'IP version 0 in an IPv4 packet',
  });
  assert.deepEqual(
    f.layers.map((l: { layer: string }) => l.layer),
    ['ethernet'],
  );
  assert.match(
    vnet('decode', file).lines[0]!,
    /\[malformed ipv4: IP version 0 in an IPv4 packet \(code bad-version, frame offset 14\)\]$/,
  );
});

test('--vxlan-port chooses the VXLAN port; a bad port is a usage error', () => {
  const r = vnet('decode', '--json', '--vxlan-port', '9999', GOLDEN);
  assert.deepEqual(
    JSON.parse(r.lines[20]!).layers.map((l: { layer: string }) => l.layer),
    ['ethernet', 'ipv4', 'udp', 'payload'],
  );
  const bad = vnet('decode', '--vxlan-port', '70000', GOLDEN);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /"70000" is not a UDP port/);
  assert.equal(vnet('decode').status, 2);
});

test('- reads the capture from standard input', () => {
  const r = spawnSync(process.execPath, [repoPath('bin/vnet'), 'decode', '-'], {
    input: readFixture('golden.pcap'),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trimEnd().split('\n').length, 26);
  assert.match(
    r.stdout,
    /^1 0\.000000 00:0a:95:b1:2c:eb -> ff:ff:ff:ff:ff:ff ARP Who has 192\.168\.0\.2\? Tell 192\.168\.0\.1$/m,
  );
});
