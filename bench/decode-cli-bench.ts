/**
 * `vnet decode` end to end against tshark, side by side on the same capture: N VXLAN-encapsulated
 * ICMP echoes (the frame of wire-bench) written to a temporary pcap, then
 *  - `vnet decode --json` and `vnet decode` (text) to /dev/null,
 *  - `tshark -r FILE -T json` and `tshark -r FILE` (summary lines), when tshark is installed.
 * Wall time per run, frames per second. Both tools read the file, decode every layer and print.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '../src/wire/index.js';
import { vxlanIcmpFrame } from './wire-bench.js';

const VNET = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../bin/vnet' : '../bin/vnet', import.meta.url),
);

interface ToolRun {
  readonly tool: string;
  readonly command: string;
  readonly seconds: number | null;
  readonly framesPerSecond: number | null;
  readonly note?: string;
}

function timeCommand(tool: string, argv: string[], frames: number): ToolRun {
  const command = argv.join(' ');
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error || r.status !== 0)
    return { tool, command, seconds: null, framesPerSecond: null, note: String(r.error ?? r.stderr) };
  return {
    tool,
    command,
    seconds: Number(seconds.toFixed(3)),
    framesPerSecond: Math.round(frames / seconds),
  };
}

export function runDecodeCliBench(frames = 200_000): { frames: number; fileBytes: number; runs: ToolRun[] } {
  const dir = mkdtempSync(join(tmpdir(), 'vnet-bench-'));
  const file = join(dir, 'vxlan.pcap');
  const writer = new PcapWriter();
  const frame = vxlanIcmpFrame();
  const chunks = [writer.header()];
  for (let i = 0; i < frames; i++)
    chunks.push(
      writer.record(frame, { seconds: 1_764_576_000 + Math.floor(i / 1000), nanos: (i % 1000) * 1_000_000 }),
    );
  const bytes = Buffer.concat(chunks);
  writeFileSync(file, bytes);
  const tshark = spawnSync('tshark', ['--version']).status === 0;
  const runs: ToolRun[] = [
    timeCommand('vnet', [process.execPath, VNET, 'decode', '--json', file], frames),
    timeCommand('vnet', [process.execPath, VNET, 'decode', file], frames),
  ];
  if (tshark) {
    runs.push(timeCommand('tshark', ['tshark', '-n', '-r', file, '-T', 'json'], frames));
    runs.push(timeCommand('tshark', ['tshark', '-n', '-r', file], frames));
  } else {
    runs.push({
      tool: 'tshark',
      command: 'tshark -r FILE',
      seconds: null,
      framesPerSecond: null,
      note: 'tshark not installed (apt-get install tshark)',
    });
  }
  rmSync(dir, { recursive: true, force: true });
  return { frames, fileBytes: bytes.length, runs };
}
