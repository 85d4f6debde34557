/**
 * Wireshark agrees with the overlay's captures: a ping across a fabric of each encapsulation
 * (VXLAN, GENEVE, NVGRE), captured on the ingress leaf's uplinks, decodes in vnet field for field
 * as tshark 4.0 decodes it: outer and inner Ethernet, IPv4 (checksums verified), UDP, the VNI or
 * GRE key, ICMP. The tshark decodes are stored (test/fixtures/overlay-*.tshark.tsv, made by
 * `tshark` from these very captures); when tshark is installed (CI installs it) a live run is
 * compared too. The captures are deterministic, so the stored decodes stay valid.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EncapsulationKind } from '../../src/overlay/index.js';
import { buildFabric } from '../../src/topo/fabric.js';
import { Network } from '../../src/topo/network.js';
import { cidr, decodeFrame, readCapture } from '../../src/wire/index.js';
import { repoPath } from '../helpers/repo.js';
import { parseTsv, runTshark, tsharkAvailable, vnetFields } from '../helpers/tshark.js';

/** A two-leaf fabric of `kind`, one ping from leaf1's VM to leaf2's, captured on both of leaf1's uplinks. */
export function overlayCapture(kind: EncapsulationKind): Uint8Array {
  const net = new Network({ seed: 7 });
  const fabric = buildFabric(net, {
    spines: 2,
    leaves: 2,
    serversPerLeaf: 1,
    vmsPerServer: 2,
    encapsulation: kind,
    tenants: [{ name: 'A', subnets: [cidr('10.1.0.0/24')] }],
  });
  const capture = net.capture();
  const leaf1 = fabric.leaves[0]!;
  for (const p of ['to-spine1', 'to-spine2']) capture.attachPort(leaf1.port(p)!);
  net.start();
  const [a, , b] = fabric.vms.map((v) => v.host);
  a!.ping(b!.interfaces[0]!.primary!.address, { count: 2 });
  net.run({ until: 3e9 });
  return capture.toPcap();
}

function compare(kind: EncapsulationKind, tsv: string, pcap: Uint8Array): void {
  const file = readCapture(pcap);
  assert.equal(file.error, null);
  const rows = parseTsv(tsv);
  assert.equal(rows.length, file.packets.length);
  let tunnelled = 0;
  for (const p of file.packets) {
    const decoded = decodeFrame(p.data);
    if (decoded.layers.some((l) => l.layer === 'vxlan' || l.layer === 'geneve' || l.layer === 'nvgre'))
      tunnelled++;
    const ours = vnetFields(p.index, decoded);
    for (const [field, value] of Object.entries(rows[p.index - 1]!)) {
      assert.equal(
        ours[field],
        value,
        `${kind} frame ${p.index} field ${field}: vnet ${JSON.stringify(ours[field])}, tshark ${JSON.stringify(value)}`,
      );
    }
  }
  assert.ok(tunnelled >= 4, `${kind}: ${tunnelled} encapsulated frames`);
}

const KINDS: EncapsulationKind[] = ['vxlan', 'geneve', 'nvgre'];

for (const kind of KINDS) {
  test(`${kind}: vnet decodes the fabric's capture as the stored tshark decode does`, () => {
    compare(
      kind,
      readFileSync(repoPath(`test/fixtures/overlay-${kind}.tshark.tsv`), 'utf8'),
      overlayCapture(kind),
    );
  });
}

test('the fabric captures decode the same in a live tshark run', {
  skip: tsharkAvailable() ? false : 'tshark is not installed (apt-get install tshark)',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnet-overlay-'));
  for (const kind of KINDS) {
    const pcap = overlayCapture(kind);
    const path = join(dir, `${kind}.pcap`);
    writeFileSync(path, pcap);
    compare(kind, runTshark(path), pcap);
  }
});
