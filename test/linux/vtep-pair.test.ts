/**
 * Two of vnet's real VTEPs talking to each other over a veth underlay, in VXLAN and in GENEVE
 * (this machine's kernel may have no geneve device to talk to; vnet's own GENEVE peer is always
 * here). A capture of the underlay (tshark's dumpcap, as a user would take it) shows that every
 * tunnel datagram carries the UDP source port the inner flow's hash gives (RFC 7348 5), so
 * sixteen UDP flows leave by sixteen source ports; tshark reads every frame without a warning, and
 * `vnet decode` reads the same file. Needs root and tshark (skipped, saying so, otherwise).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EtherType, flowSourcePort, innerFlowHash, readPcap, readU16 } from '../../src/wire/index.js';
import { Namespaces, realDataPlaneUnavailable } from '../helpers/netns.js';
import { repoPath } from '../helpers/repo.js';
import { tsharkAvailable } from '../helpers/tshark.js';

const skip =
  realDataPlaneUnavailable() ??
  (tsharkAvailable() ? false : 'tshark is not installed (apt-get install tshark)');

for (const encap of ['vxlan', 'geneve'] as const) {
  test(`${encap}: two vnet VTEPs; ping a VM and a host; 16 UDP flows leave by 16 flow-hashed source ports; tshark and vnet decode read the capture`, {
    skip,
  }, async () => {
    const n = new Namespaces(encap === 'vxlan' ? 'px' : 'pg');
    try {
      const a = n.add('a');
      const b = n.add('b');
      const vma = n.add('vma');
      const vmb = n.add('vmb');
      const link = n.veth(a, '192.168.80.1/24', b, '192.168.80.2/24');
      const common = ['--vni', '300', '--encap', encap, '--json'];
      const left = await n.vtep(
        a,
        ...common,
        '--local',
        '192.168.80.1',
        '--remote',
        '192.168.80.2',
        '--tap',
        `${vma},name=eth0,ip=10.80.0.1/24`,
      );
      const right = await n.vtep(
        b,
        ...common,
        '--local',
        '192.168.80.2',
        '--remote',
        '192.168.80.1',
        '--tap',
        `${vmb},name=eth0,ip=10.80.0.2/24`,
        '--host',
        '10.80.0.5/24',
      );
      const dir = mkdtempSync(join(tmpdir(), 'vnet-pair-'));
      const file = join(dir, 'underlay.pcap');
      const capture = n.spawn(a, 'dumpcap', '-q', '-P', '-i', link.a, '-w', file, '-f', 'udp');
      const captured = new Promise((r) => capture.on('exit', r));
      await new Promise((r) => setTimeout(r, 800));
      const ping = n.run(vma, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.80.0.2');
      assert.match(ping.stdout, /3 packets transmitted, 3 received/, ping.stdout + ping.stderr);
      const host = n.run(vma, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '10.80.0.5');
      assert.match(host.stdout, /2 packets transmitted, 2 received/, host.stdout + host.stderr);
      const flows = n.run(
        vma,
        process.execPath,
        '--input-type=module',
        '-e',
        `
        import dgram from 'node:dgram';
        for (let i = 0; i < 16; i++) {
          const s = dgram.createSocket('udp4');
          s.bind(41000 + i, '10.80.0.1', () => s.send('flow ' + i, 9, '10.80.0.2', () => s.close()));
        }`,
      );
      assert.equal(flows.status, 0, flows.stderr);
      await new Promise((r) => setTimeout(r, 500));
      capture.kill('SIGINT');
      await captured;
      await left.stop();
      await right.stop();
      const packets = readPcap(readFileSync(file)).packets;
      const port = encap === 'vxlan' ? 4789 : 6081;
      const header = 8; // VXLAN's header, and GENEVE's without options
      const sent = packets.filter(
        (p) =>
          readU16(p.data, 12) === EtherType.ipv4 &&
          p.data[26] === 192 &&
          p.data[29] === 1 &&
          readU16(p.data, 36) === port,
      );
      assert.ok(sent.length >= 6, `${sent.length} tunnel datagrams from 192.168.80.1`);
      for (const p of sent) {
        const inner = p.data.subarray(42 + header);
        assert.equal(
          readU16(p.data, 34),
          flowSourcePort(innerFlowHash(inner)),
          'outer source port = hash of the inner flow',
        );
        assert.equal(p.data[20]! & 0x40, 0x40, 'DF');
      }
      // The sixteen UDP flows: inner destination port 9.
      const udpFlows = sent.filter((p) => {
        const inner = p.data.subarray(42 + header);
        return readU16(inner, 12) === EtherType.ipv4 && inner[23] === 17 && readU16(inner, 36) === 9;
      });
      assert.equal(udpFlows.length, 16);
      const expected = new Set(
        udpFlows.map((p) => flowSourcePort(innerFlowHash(p.data.subarray(42 + header)))),
      );
      assert.equal(new Set(udpFlows.map((p) => readU16(p.data, 34))).size, expected.size);
      assert.ok(expected.size >= 15, `${expected.size} distinct source ports for 16 flows`);
      // tshark: every frame dissected as the tunnel, no expert warning or error.
      const t = spawnSync(
        'tshark',
        ['-r', file, '-d', `udp.port==${port},${encap}`, '-q', '-z', 'expert,warn'],
        { encoding: 'utf8' },
      );
      assert.equal(t.status, 0, t.stderr);
      assert.doesNotMatch(t.stdout, /Warns|Errors|Malformed/, t.stdout);
      const protocols = spawnSync(
        'tshark',
        ['-r', file, '-d', `udp.port==${port},${encap}`, '-T', 'fields', '-e', 'frame.protocols'],
        { encoding: 'utf8' },
      );
      for (const line of protocols.stdout.trim().split('\n'))
        assert.match(line, new RegExp(`:${encap}:eth:`), line);
      const decoded = spawnSync(process.execPath, [repoPath('bin/vnet'), 'decode', file], {
        encoding: 'utf8',
      });
      assert.equal(decoded.status, 0, decoded.stderr);
      assert.equal(
        decoded.stdout.match(new RegExp(encap === 'vxlan' ? 'VXLAN' : 'GENEVE', 'g'))?.length ?? 0,
        packets.length,
        decoded.stdout,
      );
    } finally {
      n.cleanup();
    }
  });
}
