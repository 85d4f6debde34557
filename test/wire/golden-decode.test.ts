/**
 * vnet's decoder must agree with Wireshark: every field tshark 4.0 reports for the golden capture
 * (test/fixtures/golden.tshark.tsv, made by make-golden.py) equals what vnet decodes. When tshark
 * is installed (CI installs it), the comparison also runs against a fresh tshark run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeFrame, readCapture } from '../../src/wire/index.js';
import { readFixture, repoPath } from '../helpers/repo.js';
import { parseTsv, runTshark, tsharkAvailable, vnetFields } from '../helpers/tshark.js';

/**
 * Where tshark and vnet differ by design: tshark reassembles IP fragments and decodes UDP in the
 * last fragment; vnet decodes each frame alone (the UDP header it shows is in the first fragment).
 */
const BY_DESIGN: Record<number, string[]> = {
  19: ['udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum'],
  20: ['udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum'],
};

function compare(tsv: string): void {
  const capture = readCapture(readFixture('golden.pcap'));
  assert.equal(capture.error, null);
  const rows = parseTsv(tsv);
  assert.equal(rows.length, capture.packets.length);
  for (const p of capture.packets) {
    const ours = vnetFields(p.index, decodeFrame(p.data));
    const theirs = rows[p.index - 1]!;
    for (const [field, value] of Object.entries(theirs)) {
      if (BY_DESIGN[p.index]?.includes(field)) continue;
      assert.equal(
        ours[field],
        value,
        `frame ${p.index} field ${field}: vnet ${JSON.stringify(ours[field])}, tshark ${JSON.stringify(value)}`,
      );
    }
  }
}

test('decode agrees with the stored tshark decode of every golden frame', () => {
  compare(readFileSync(repoPath('test/fixtures/golden.tshark.tsv'), 'utf8'));
});

test('decode agrees with a live tshark run', {
  skip: tsharkAvailable() ? false : 'tshark is not installed (apt-get install tshark)',
}, () => {
  compare(runTshark(repoPath('test/fixtures/golden.pcap')));
});
