/**
 * The machine's side of a lab's budgets: V8's heap limit and use, the wall clock, the size check
 * before a lab is built (`fitLab` with this heap's limit), and a watch on the heap while a fabric
 * is built. The core takes all of these as parameters; only this module reads the process.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { FabricProgress } from '../topo/fabric.js';
import type { LabFile } from '../topo/lab/schema.js';
import { fitLab, formatBytes, formatWallTime } from '../topo/lab/size.js';
import { DEFAULT_TIME_BUDGET, type HeapReading, MEMORY_SHARE, type RunLimits } from '../topo/run-guard.js';
import type { LineWriter } from './output.js';

/** The heap in use and the most V8 lets it grow to (`--max-old-space-size` sets that). */
export function heapReading(): HeapReading {
  const h = getHeapStatistics();
  return { used: h.used_heap_size, limit: h.heap_size_limit };
}

/** A build or run that grew past MEMORY_SHARE of the heap: the command stops with status 3. */
export class MemoryStop extends Error {}

/** Above these, a lab that fits is still announced on stderr with its estimate. */
const NOTE_BUILD_SECONDS = 10;

/**
 * The check `loadLab` runs once the file's shapes are right and before the cross-checks (which
 * list a fabric's nodes): false, with the estimate and the largest size that fits, for a lab too
 * large for this heap. `force` builds it anyway, saying so.
 */
export function sizeCheck(
  command: string,
  file: string,
  err: LineWriter,
  options: { readonly force?: boolean; readonly budget: number; readonly heapLimit?: number },
): (lab: LabFile) => boolean {
  return (lab) => {
    const fit = fitLab(lab, options.heapLimit ?? heapReading().limit);
    const e = fit.estimate;
    if (!fit.fits) {
      if (!options.force) {
        err.line(
          `vnet ${command}: ${file}: ${fit.message}. --force tries anyway; NODE_OPTIONS=--max-old-space-size=MIB sets the heap's limit`,
        );
        return false;
      }
      err.line(`vnet ${command}: ${file}: --force: building it anyway, though it is ${fit.message}`);
      return true;
    }
    if (e.buildSeconds >= NOTE_BUILD_SECONDS || e.startupEvents > options.budget)
      err.line(
        `vnet ${command}: ${file}: a large lab: about ${formatBytes(e.bytes)} and ${formatWallTime(e.buildSeconds)} to build; its start-up announcements make about ${e.startupEvents.toLocaleString('en-US')} events (${formatWallTime(e.startupSeconds)}; the event budget is ${options.budget.toLocaleString('en-US')})`,
      );
    return true;
  };
}

/** The wall time and memory budgets of a run, with this process's clock and heap. */
export function runLimits(timeBudget: number | undefined): Omit<RunLimits, 'events'> {
  return { seconds: timeBudget ?? DEFAULT_TIME_BUDGET, clock: () => performance.now(), heap: heapReading };
}

/** A fabric build's progress callback that also watches the heap, throwing `MemoryStop` past MEMORY_SHARE of it. */
export function watchedBuild(progress: FabricProgress | undefined, heap = heapReading): FabricProgress {
  return (phase, done, total) => {
    const h = heap();
    if (h.used >= h.limit * MEMORY_SHARE)
      throw new MemoryStop(
        `memory budget spent while building the fabric (${phase} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}): the heap holds ${formatBytes(h.used)} of the ${formatBytes(h.limit)} this machine allows`,
      );
    progress?.(phase, done, total);
  };
}
