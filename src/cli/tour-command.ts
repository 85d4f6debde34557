/**
 * `vnet tour` (what `npm run tour` runs): the lecture's journey, one lab after another, in order:
 * a hub, a learning switch, chained switches, subnets and a router, ARP, department VLANs, then a
 * switching loop (cut off by its event budget) and the same loop healed by spanning tree. Each
 * lab is introduced by its description and printed as `vnet run` prints it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLab } from '../topo/lab/build.js';
import { formatIssue, parseLab } from '../topo/lab/check.js';
import { renderLabRun } from '../topo/lab/report.js';
import { runLab } from '../topo/lab/run.js';
import type { LineWriter } from './output.js';

function wrap(text: string, width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export function runTour(examplesDir: string, out: LineWriter, err: LineWriter): number {
  const files = readdirSync(examplesDir)
    .filter((f) => /^\d\d-.*\.yaml$/.test(f))
    .sort();
  let status = 0;
  for (const file of files) {
    const parsed = parseLab(readFileSync(join(examplesDir, file), 'utf8'));
    if (!parsed.ok) {
      err.line(`vnet tour: ${file}: ${parsed.issues.map(formatIssue).join('; ')}`);
      status = 1;
      continue;
    }
    const lab = parsed.lab;
    out.line('='.repeat(96));
    out.line(lab.name ?? file);
    for (const l of wrap(lab.description ?? '')) out.line(l);
    out.line(`(examples/${file}; run it alone with: ./bin/vnet run examples/${file})`);
    out.line('-'.repeat(96));
    const result = runLab(lab, buildLab(lab));
    for (const line of renderLabRun(result).slice(2)) out.line(line);
    out.line('');
  }
  out.line(
    `${files.length} labs. Next: ./bin/vnet trace examples/04-subnets-and-a-router.yaml --from A --to 192.168.1.1, or across a VXLAN fabric: ./bin/vnet trace examples/11-vxlan-fabric.yaml --from A-vm1 --to 10.1.0.12`,
  );
  return status;
}
