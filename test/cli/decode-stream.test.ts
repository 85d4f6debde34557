/**
 * `vnet decode` streams (the real bin/vnet in a child process): frames come out while the capture
 * is still being written, a large capture decodes whole with the right count and damage offsets,
 * and a timestamp fraction over one second is a warning on its frame, not the end of the file.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { concatBytes, PcapWriter, readPcap, writeU32 } from '../../src/wire/index.js';
import { readFixture, repoPath } from '../helpers/repo.js';

const GOLDEN = 'test/fixtures/golden.pcap';
const tmp = mkdtempSync(join(tmpdir(), 'vnet-decode-stream-'));

function vnet(...args: string[]) {
  const r = spawnSync(process.execPath, [repoPath('bin/vnet'), ...args], {
    encoding: 'utf8',
    cwd: repoPath(''),
    maxBuffer: 1 << 26,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.trimEnd().split('\n') };
}

/** The golden capture's text output, as every other test checks it line by line. */
const golden = vnet('decode', GOLDEN);
/** Frame k's summary (from 0): its line without the frame number and time. */
const goldenSummary = (k: number) => golden.lines[k]!.split(' ').slice(2).join(' ');

const LINE_1 = '1 0.000000 00:0a:95:b1:2c:eb -> ff:ff:ff:ff:ff:ff ARP Who has 192.168.0.2? Tell 192.168.0.1';

/** A running `vnet` whose output is watched as it comes; killed if the test is cut short (`signal`). */
function start(args: string[], stdin: 'pipe' | 'ignore', signal: AbortSignal) {
  const child = spawn(process.execPath, [repoPath('bin/vnet'), ...args], {
    cwd: repoPath(''),
    stdio: [stdin, 'pipe', 'pipe'],
    signal,
  });
  child.on('error', () => {}); // the kill on abort; the test has failed already
  const stdout = child.stdout!;
  const run = { child, stdout: '', stderr: '' };
  stdout.setEncoding('utf8').on('data', (d: string) => {
    run.stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    run.stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  /** The output when it first holds a whole line (or when the program ended without one). */
  const firstLine = new Promise<string>((resolve) => {
    const check = () => {
      if (run.stdout.includes('\n')) resolve(run.stdout);
      else stdout.once('data', check);
    };
    stdout.once('data', check);
    void exited.then(() => resolve(run.stdout));
  });
  return { run, exited, firstLine };
}

test('golden reference output', () => {
  assert.equal(golden.status, 0);
  assert.equal(golden.lines.length, 26);
  assert.equal(golden.lines[0], LINE_1);
});

// A program that read the whole file before printing would never print the first line here: the
// rest is written only after it appears (the test's timeout turns that into a failure, not a hang).
test('a capture written into a FIFO: the first frame is printed before the rest is written', {
  timeout: 30_000,
}, async (t) => {
  const fifo = join(tmp, 'live.pcap');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
  const bytes = readFixture('golden.pcap');
  const { run, exited, firstLine } = start(['decode', fifo], 'ignore', t.signal);
  const writer = createWriteStream(fifo);
  t.signal.addEventListener('abort', () => writer.destroy());
  writer.write(bytes.subarray(0, 110)); // global header, record 1 (bytes 24..99), 10 bytes of record 2
  assert.equal(await firstLine, `${LINE_1}\n`);
  writer.end(bytes.subarray(110));
  assert.equal(await exited, 0);
  assert.equal(run.stdout, golden.stdout);
  assert.equal(run.stderr, '');
});

test('standard input (-) is streamed too, and damage after the first frames is reported after them', {
  timeout: 30_000,
}, async (t) => {
  const bytes = readFixture('golden.pcap');
  const { run, exited, firstLine } = start(['decode', '-'], 'pipe', t.signal);
  run.child.stdin!.write(bytes.subarray(0, 110));
  assert.equal(await firstLine, `${LINE_1}\n`);
  run.child.stdin!.end(bytes.subarray(110, 300)); // ends inside record 4 (bytes 252..327)
  assert.equal(await exited, 1);
  assert.equal(run.stdout, `${golden.lines.slice(0, 3).join('\n')}\n`);
  assert.equal(
    run.stderr,
    'vnet decode: -: record 4 at byte 252 cut short: 60 bytes announced, 32 present (pcap truncated at byte 300); 3 frame(s) before it were decoded\n',
  );
});

test('a large capture (about 16 MB, many chunks) decodes every frame; damage at its end names the exact offset', () => {
  const source = readPcap(readFixture('golden.pcap')).packets;
  const writer = new PcapWriter();
  const frames = 110_000;
  const at = (i: number) => ({ seconds: 1_764_576_000 + Math.floor(i / 1000), nanos: (i % 1000) * 1e6 }); // 1 ms apart
  const parts = [writer.header()];
  for (let i = 0; i < frames; i++) {
    parts.push(writer.record(source[i % source.length]!.data, at(i)));
  }
  const next = writer.record(source[frames % source.length]!.data, at(frames));
  parts.push(next.subarray(0, 16 + 10)); // the last record is cut 10 bytes into its frame
  const bytes = concatBytes(parts);
  assert.ok(bytes.length > 15_000_000);
  const file = join(tmp, 'large.pcap');
  writeFileSync(file, bytes);

  const r = vnet('decode', file);
  assert.equal(r.status, 1);
  assert.equal(r.lines.length, frames);
  assert.equal(r.lines[0], LINE_1);
  for (const k of [1, 25, 26, 27, 54_321, frames - 1]) {
    assert.equal(r.lines[k], `${k + 1} ${((k * 1e6) / 1e9).toFixed(6)} ${goldenSummary(k % 26)}`);
  }
  const cutAt = bytes.length - 26;
  assert.equal(
    r.stderr,
    `vnet decode: ${file}: record ${frames + 1} at byte ${cutAt} cut short: ${next.length - 16} bytes announced, 10 present (pcap truncated at byte ${bytes.length}); ${frames} frame(s) before it were decoded\n`,
  );
});

test('a timestamp fraction over one second is a warning on its frame, and every frame after it is decoded', () => {
  const bytes = Uint8Array.from(readFixture('golden.pcap'));
  writeU32(bytes, 104, 0x60e31600); // record 2 (at byte 100): fraction 1,500,000 microseconds (0x0016e360, little-endian)
  const file = join(tmp, 'fraction.pcap');
  writeFileSync(file, bytes);
  const warning =
    'timestamp fraction 1500000 microseconds is not below one second (carried into the seconds)';

  const text = vnet('decode', file);
  assert.equal(text.status, 0);
  assert.equal(text.stderr, '');
  assert.equal(
    text.lines[1],
    `2 1.500000 02:00:00:00:00:0b -> 00:0a:95:b1:2c:eb ARP 192.168.0.2 is at 02:00:00:00:00:0b [${warning}]`,
  );
  assert.deepEqual([text.lines[0], ...text.lines.slice(2)], [golden.lines[0], ...golden.lines.slice(2)]);

  const json = vnet('decode', '--json', file);
  assert.equal(json.status, 0);
  assert.equal(json.lines.length, 26);
  const frame2 = JSON.parse(json.lines[1]!);
  assert.deepEqual(
    [frame2.index, frame2.time, frame2.timestamp, frame2.warnings],
    [2, 1.5, '2025-12-01T08:00:01.500000000Z', [{ layer: 'pcap', code: 'bad-timestamp', message: warning }]],
  );
  assert.deepEqual(JSON.parse(json.lines[2]!).warnings, []);
  assert.equal(JSON.parse(json.lines[25]!).time, 0.025);

  const verbose = vnet('decode', '--verbose', file);
  const at = verbose.lines.indexOf(text.lines[1]!);
  assert.ok(at > 0);
  assert.match(verbose.lines[at + 2]!, /^ {4}arp {6}op=2 /); // the layer tree (ethernet, arp), then the warning
  assert.equal(verbose.lines[at + 3], `    warning  pcap bad-timestamp: ${warning}`);
  assert.equal(verbose.lines[at + 4], golden.lines[2]);
});

test('in a nanosecond pcap, a fraction of 1e9 nanoseconds or more is the same warning', () => {
  const bytes = Uint8Array.from(readFixture('golden-nsec.pcap'));
  writeU32(bytes, 28, 0x01ca9a3b); // record 1: fraction 1,000,000,001 nanoseconds (0x3b9aca01, little-endian)
  const file = join(tmp, 'fraction-nsec.pcap');
  writeFileSync(file, bytes);
  const r = vnet('decode', file);
  assert.equal(r.status, 0);
  assert.equal(r.lines.length, 26);
  assert.equal(
    r.lines[0],
    `${LINE_1.replace('0.000000', '0.000000000')} [timestamp fraction 1000000001 nanoseconds is not below one second (carried into the seconds)]`,
  );
  // Times count from frame 1, now at 1.000000001 s past its second: frame 2 is 0.001 s past it, 0.999 s before.
  assert.equal(r.lines[1]!.split(' ')[1], '-0.999000001');
});
