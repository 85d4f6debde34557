/**
 * `vnet run LAB.yaml [--json] [--pcap DIR] [--seed N] [--budget N]`: validates a lab file, builds
 * the network, runs its script and prints each step's result.
 *
 * Exit status: 0 when the script ran to its end; 1 when the file cannot be read or is not a valid
 * lab (every problem is listed, with its path); 3 when the event budget stopped the run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLab } from '../topo/lab-build.js';
import { formatIssue, parseLab } from '../topo/lab-check.js';
import { DEFAULT_EVENT_BUDGET, runLab } from '../topo/lab-run.js';
import { renderLabRun } from '../topo/report.js';
import type { LineWriter } from './output.js';

export interface RunCommandOptions {
  readonly json?: boolean;
  readonly pcap?: string;
  readonly seed?: number;
  readonly budget?: number;
}

export function runRun(file: string, options: RunCommandOptions, out: LineWriter, err: LineWriter): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    err.line(
      `vnet run: ${file}: cannot read (${code === 'ENOENT' ? 'no such file' : (code ?? String(error))})`,
    );
    return 1;
  }
  const parsed = parseLab(text);
  if (!parsed.ok) {
    err.line(`vnet run: ${file}: ${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}:`);
    for (const issue of parsed.issues) err.line(`  ${formatIssue(issue)}`);
    return 1;
  }
  const net = buildLab(parsed.lab, { seed: options.seed });
  const result = runLab(parsed.lab, net, options.budget ?? DEFAULT_EVENT_BUDGET);
  if (options.pcap) {
    mkdirSync(options.pcap, { recursive: true });
    for (const c of result.captures) writeFileSync(join(options.pcap, c.file), c.pcap);
  }
  if (options.json) {
    out.line(
      JSON.stringify({
        ...result,
        captures: result.captures.map(({ pcap: _pcap, ...c }) => ({
          ...c,
          path: options.pcap ? join(options.pcap, c.file) : null,
        })),
      }),
    );
  } else {
    for (const line of renderLabRun(result)) out.line(line);
    for (const c of result.captures)
      out.line(
        options.pcap
          ? `capture ${c.where}: ${c.frames} frames -> ${join(options.pcap, c.file)}`
          : `capture ${c.where}: ${c.frames} frames (use --pcap DIR to write ${c.file})`,
      );
  }
  return result.stopped ? 3 : 0;
}
