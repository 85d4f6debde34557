/**
 * `vnet run LAB.yaml [--json] [--pcap DIR] [--seed N] [--budget N] [--time-budget S] [--force]`:
 * validates a lab file, checks that it fits this machine, builds the network, runs its script and
 * prints each step's result.
 *
 * Exit status: 0 when the script ran to its end; 1 when the file cannot be read, is not a valid
 * lab (every problem is listed, with its path) or is too large for this machine's heap (with the
 * estimate and the largest size that fits; `--force` tries anyway); 3 when a budget (events, wall
 * time, memory) stopped the run.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { FabricProgress } from '../topo/fabric.js';
import { buildLab } from '../topo/lab/build.js';
import { formatIssue, type LabIssue, parseLab, validateLab } from '../topo/lab/check.js';
import { fabricNodeKinds } from '../topo/lab/fabric.js';
import { renderLabRun, renderStep } from '../topo/lab/report.js';
import { DEFAULT_EVENT_BUDGET, runLab } from '../topo/lab/run.js';
import { type LabFile, type LabStep, labSchema, SHOW_TABLES } from '../topo/lab/schema.js';
import { renderTrace, traceLab } from '../topo/lab/trace.js';
import { parseIpv4Address } from '../wire/index.js';
import { MemoryStop, runLimits, sizeCheck, watchedBuild } from './lab-limits.js';
import type { LineWriter } from './output.js';

export interface RunCommandOptions {
  readonly json?: boolean;
  readonly pcap?: string;
  readonly seed?: number;
  readonly budget?: number;
  /** Wall time budget, seconds. */
  readonly timeBudget?: number;
  /** Build a lab the size check refuses. */
  readonly force?: boolean;
}

/**
 * Reads and checks a lab file, printing every problem; undefined when it is not usable. `precheck`
 * sees the lab once its shapes are right, before the cross-checks (which list a fabric's every
 * node): false stops there (it printed why). Warnings (legal, probably not meant: a duplicate
 * address on one segment) are printed on `err` as `vnet CMD: FILE: warning: PATH: ...` and added
 * to `warnings`, whether the lab is usable or not.
 */
export function loadLab(
  command: string,
  file: string,
  err: LineWriter,
  precheck?: (lab: LabFile) => boolean,
  warnings: LabIssue[] = [],
): LabFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    err.line(
      `vnet ${command}: ${file}: cannot read (${code === 'ENOENT' ? 'no such file' : (code ?? String(error))})`,
    );
    return undefined;
  }
  const doc = parseDocument(text);
  // YAML errors are worded by parseLab; otherwise the document is read once, and checked.
  const data: unknown = doc.errors.length === 0 ? doc.toJS() : undefined;
  if (precheck !== undefined && data !== undefined) {
    const shapes = labSchema.safeParse(data);
    if (shapes.success && !precheck(shapes.data)) return undefined;
  }
  const parsed = doc.errors.length === 0 ? validateLab(data) : parseLab(text);
  for (const w of parsed.warnings) err.line(`vnet ${command}: ${file}: warning: ${formatIssue(w)}`);
  warnings.push(...parsed.warnings);
  if (!parsed.ok) {
    err.line(
      `vnet ${command}: ${file}: ${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}:`,
    );
    for (const issue of parsed.issues) err.line(`  ${formatIssue(issue)}`);
    return undefined;
  }
  return parsed.lab;
}

/**
 * A lab that passed validation can still describe something the builder refuses (an invariant the
 * checks do not cover yet): report it in one line, never with a stack trace.
 */
export function guarded(command: string, file: string, err: LineWriter, body: () => number): number {
  try {
    return body();
  } catch (error) {
    err.line(`vnet ${command}: ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof MemoryStop ? 3 : 1;
  }
}

export function runRun(file: string, options: RunCommandOptions, out: LineWriter, err: LineWriter): number {
  return guarded('run', file, err, () => runLabFile(file, options, out, err));
}

/**
 * Progress for a terminal (stderr, rewritten in place): building a fabric, then each script step.
 * Nothing when stderr is not a terminal or the output is JSON.
 */
export function terminalProgress(enabled: boolean): {
  build?: FabricProgress;
  step?: (index: number, total: number, step: LabStep) => void;
  done: () => void;
} {
  if (!enabled) return { done: () => {} };
  let shown = false;
  const show = (text: string) => {
    process.stderr.write(`\r\x1b[2K${text}`);
    shown = true;
  };
  return {
    build: (phase, done, total) =>
      show(`building the fabric: ${phase} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`),
    step: (index, total, step) => show(`step ${index}/${total}: ${Object.keys(step)[0]}`),
    done: () => {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}

function runLabFile(file: string, options: RunCommandOptions, out: LineWriter, err: LineWriter): number {
  const budget = options.budget ?? DEFAULT_EVENT_BUDGET;
  const warnings: LabIssue[] = [];
  const lab = loadLab(
    'run',
    file,
    err,
    sizeCheck('run', file, err, { force: options.force, budget }),
    warnings,
  );
  if (!lab) return 1;
  const progress = terminalProgress(!options.json && process.stderr.isTTY === true);
  const net = buildLab(lab, { seed: options.seed, progress: watchedBuild(progress.build) });
  const result = runLab(lab, net, budget, progress.step, runLimits(options.timeBudget));
  progress.done();
  if (options.pcap) {
    mkdirSync(options.pcap, { recursive: true });
    for (const c of result.captures) writeFileSync(join(options.pcap, c.file), c.pcap);
  }
  if (options.json) {
    out.line(
      JSON.stringify({
        warnings,
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

export interface ShowCommandOptions {
  readonly json?: boolean;
  readonly seed?: number;
  readonly budget?: number;
  readonly timeBudget?: number;
  readonly force?: boolean;
}

/**
 * `vnet show LAB NODE TABLE`: builds the lab, runs its script (quietly), and prints one node's table
 * as it stands at the end. Status 0; 1 for a bad lab or node, or one too large for this machine;
 * 2 for an unknown table; 3 when a budget stopped the run.
 */
export function runShow(
  file: string,
  node: string,
  table: string,
  options: ShowCommandOptions,
  out: LineWriter,
  err: LineWriter,
): number {
  return guarded('show', file, err, () => {
    const budget = options.budget ?? DEFAULT_EVENT_BUDGET;
    const lab = loadLab('show', file, err, sizeCheck('show', file, err, { force: options.force, budget }));
    if (!lab) return 1;
    if (!(SHOW_TABLES as readonly string[]).includes(table)) {
      err.line(`vnet show: "${table}" is not a table (${SHOW_TABLES.join(', ')})`);
      return 2;
    }
    // The same checks as a show step at the end of the script.
    const withShow = validateLab({ ...lab, script: [...lab.script, { show: { node, table } }] });
    if (!withShow.ok) {
      const at = `script[${lab.script.length}].show.`;
      for (const issue of withShow.issues)
        err.line(
          `vnet show: ${issue.path.startsWith(at) ? `${issue.path.slice(at.length)}: ${issue.message}` : formatIssue(issue)}`,
        );
      return 1;
    }
    const progress = terminalProgress(!options.json && process.stderr.isTTY === true);
    const net = buildLab(withShow.lab, { seed: options.seed, progress: watchedBuild(progress.build) });
    const result = runLab(withShow.lab, net, budget, progress.step, runLimits(options.timeBudget));
    progress.done();
    const last = result.steps.at(-1);
    if (result.stopped || last?.step !== 'show') {
      err.line(`vnet show: ${file}: ${result.stopped ?? 'the script did not finish'}`);
      return 3;
    }
    if (options.json) out.line(JSON.stringify(last));
    else for (const line of renderStep(result.steps.length, last).slice(1)) out.line(line);
    return 0;
  });
}

export interface TraceCommandOptions {
  readonly from: string;
  readonly to: string;
  readonly proto: string;
  readonly port?: number;
  readonly json?: boolean;
  readonly seed?: number;
}

/** `vnet trace LAB --from NODE --to IP [--proto icmp|udp]`: status 0 when the packet got its answer, 1 on a bad lab or request, 4 when it did not. */
export function runTrace(
  file: string,
  options: TraceCommandOptions,
  out: LineWriter,
  err: LineWriter,
): number {
  const lab = loadLab('trace', file, err);
  if (!lab) return 1;
  const problems: string[] = [];
  // The lab's own nodes and those its fabric generates.
  const kinds = new Map<string, string>(lab.fabric ? fabricNodeKinds(lab.fabric) : []);
  for (const [name, n] of Object.entries(lab.nodes)) kinds.set(name, n.kind);
  const kind = kinds.get(options.from);
  if (kind === undefined) {
    const hosts = [...kinds].filter(([, k]) => k === 'host').map(([n]) => n);
    problems.push(
      `--from: unknown node "${options.from}" (hosts: ${hosts.slice(0, 20).join(', ')}${hosts.length > 20 ? `, ... ${hosts.length - 20} more` : ''})`,
    );
  } else if (kind !== 'host') problems.push(`--from: ${options.from} is a ${kind}; trace sends from a host`);
  if (parseIpv4Address(options.to) === undefined)
    problems.push(`--to: "${options.to}" is not an IPv4 address`);
  if (options.proto !== 'icmp' && options.proto !== 'udp')
    problems.push(`--proto: "${options.proto}" is not icmp or udp`);
  if (problems.length > 0) {
    for (const p of problems) err.line(`vnet trace: ${p}`);
    return 1;
  }
  const result = traceLab(
    lab,
    { from: options.from, to: options.to, proto: options.proto as 'icmp' | 'udp', port: options.port },
    options.seed,
  );
  if (options.json) out.line(JSON.stringify(result));
  else for (const line of renderTrace(result)) out.line(line);
  return result.delivered ? 0 : 4;
}
