/**
 * `vnet migrate LAB VM DESTINATION [options]`: runs the lab's script quietly, then live-migrates
 * the VM to the destination hypervisor with the given memory model parameters, and prints the
 * round table, the downtime, the frames lost, the convergence and each TCP session's fate.
 *
 * The options are the `migrate` step's keys (docs/labs.md); they are checked as that step is, so
 * a bad value is reported with its name. Status 0 when the migration ran; 1 for a bad lab or
 * option, or a lab too large for this machine; 3 when a budget (events, wall time, memory) stopped
 * the run.
 */
import { buildLab } from '../topo/lab/build.js';
import { validateLab } from '../topo/lab/check.js';
import type { MigrateStep } from '../topo/lab/migrate.js';
import { renderStep } from '../topo/lab/report.js';
import { DEFAULT_EVENT_BUDGET, runLab } from '../topo/lab/run.js';
import { runLimits, sizeCheck, watchedBuild } from './lab-limits.js';
import type { LineWriter } from './output.js';
import { guarded, loadLab, terminalProgress } from './run-command.js';

export interface MigrateCommandOptions {
  readonly mode?: string;
  readonly memory?: string;
  readonly pageSize?: string;
  readonly dirtyRate?: number;
  readonly workingSet?: number;
  readonly bandwidth?: string;
  readonly maxDowntime?: string;
  readonly maxRounds?: number;
  readonly switchover?: string;
  readonly faultRtt?: string;
  readonly announce?: string;
  readonly observe?: string;
  readonly port?: string;
  readonly json?: boolean;
  readonly seed?: number;
  readonly budget?: number;
  readonly timeBudget?: number;
  readonly force?: boolean;
}

export function runMigrate(
  file: string,
  vm: string,
  destination: string,
  options: MigrateCommandOptions,
  out: LineWriter,
  err: LineWriter,
): number {
  return guarded('migrate', file, err, () => {
    const budget = options.budget ?? DEFAULT_EVENT_BUDGET;
    const lab = loadLab(
      'migrate',
      file,
      err,
      sizeCheck('migrate', file, err, { force: options.force, budget }),
    );
    if (!lab) return 1;
    const {
      json: _json,
      seed: _seed,
      budget: _budget,
      timeBudget: _timeBudget,
      force: _force,
      ...parameters
    } = options;
    const step = { migrate: { vm, to: destination, ...parameters } as MigrateStep };
    const checked = validateLab({ ...lab, script: [...lab.script, step] });
    if (!checked.ok) {
      const at = `script[${lab.script.length}].migrate`;
      for (const issue of checked.issues) {
        const path = issue.path.startsWith(`${at}.`)
          ? `--${issue.path.slice(at.length + 1).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
          : issue.path === at
            ? ''
            : issue.path;
        err.line(`vnet migrate: ${path ? `${path}: ` : ''}${issue.message}`);
      }
      return 1;
    }
    const progress = terminalProgress(!options.json && process.stderr.isTTY === true);
    const net = buildLab(checked.lab, { seed: options.seed, progress: watchedBuild(progress.build) });
    const result = runLab(checked.lab, net, budget, progress.step, runLimits(options.timeBudget));
    progress.done();
    const last = result.steps.at(-1);
    if (result.stopped || last?.step !== 'migrate') {
      err.line(`vnet migrate: ${file}: ${result.stopped ?? 'the script did not finish'}`);
      return 3;
    }
    if (options.json) out.line(JSON.stringify(last));
    else for (const line of renderStep(result.steps.length, last)) out.line(line);
    return 0;
  });
}
