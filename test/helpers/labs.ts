/** Loads and runs the example labs for scenario tests. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TraceLog } from '../../src/devices/trace.js';
import { buildLab } from '../../src/topo/lab/build.js';
import { parseLab } from '../../src/topo/lab/check.js';
import { type LabRunResult, runLab, type StepResult } from '../../src/topo/lab/run.js';
import type { LabFile } from '../../src/topo/lab/schema.js';
import type { Network } from '../../src/topo/network.js';
import { repoPath } from './repo.js';

export function loadLab(file: string): LabFile {
  const parsed = parseLab(readFileSync(repoPath(file), 'utf8'));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return parsed.lab;
}

export function runExample(
  file: string,
  options: { trace?: boolean } = {},
): { result: LabRunResult; net: Network; trace: TraceLog | null } {
  const lab = loadLab(file);
  const net = buildLab(lab, options);
  const result = runLab(lab, net);
  return { result, net, trace: options.trace ? (net.tracer as TraceLog) : null };
}

/** The `n`th step result (1-based, as the report numbers them), of the expected kind. */
export function stepOf<K extends StepResult['step']>(
  result: LabRunResult,
  n: number,
  kind: K,
): Extract<StepResult, { step: K }> {
  const s = result.steps[n - 1];
  assert.ok(s, `step ${n} exists`);
  assert.equal(s.step, kind);
  return s as Extract<StepResult, { step: K }>;
}
