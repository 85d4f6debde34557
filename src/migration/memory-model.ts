/**
 * The memory-transfer model of live VM migration: how many pages cross the link, in which rounds,
 * how long each takes, and how long the VM is stopped. Pre-copy (Clark et al., NSDI 2005: iterative
 * rounds while the VM runs, then stop-and-copy of the remainder) and post-copy (Hines & Gopalan,
 * VEE 2009: switch at once, push pages in the background, pull the missing ones on fault).
 *
 * Guarantees: a pure function of its parameters (no clock, no RNG, no I/O, browser-safe); times are
 * integer nanoseconds (every transfer is rounded to the nearest ns once, and a plan's times are sums
 * of those); pages and bytes are integers; nonsense input throws a RangeError naming the parameter.
 * The link is modelled as a constant rate with no latency, loss or competing traffic: the network
 * side of a migration is not this module's job.
 */
type Nanos = number;

/** Defaults, with where they come from (see docs/migration.md). */
export const MEMORY_MODEL_DEFAULTS = {
  /** x86 base page. */
  pageSize: 4096,
  /** Bytes of header per page on the wire (QEMU sends an 8-byte page address; 0 = payload only). */
  pageOverhead: 0,
  /** QEMU's default downtime-limit, 300 ms (migration/options.c, DEFAULT_MIGRATE_SET_DOWNTIME). */
  maxDowntime: 300_000_000,
  /** Xen's limit: DEF_MAX_ITERS 29 "limit us to 30 times round loop" (tools/libxc/xc_domain_save.c). */
  maxRounds: 30,
  /** Device state transfer + resume on the destination: an assumed order of magnitude, 5 ms. */
  switchoverCost: 5_000_000,
  /** A post-copy fault's round trip (request to the source, handling): an assumed LAN value, 100 us. */
  faultRtt: 100_000,
} as const;

export interface MemoryModelParams {
  /** VM memory, bytes (> 0). A partial last page counts as a whole page. */
  readonly memoryBytes: number;
  /** Bytes per page (default 4096). */
  readonly pageSize?: number;
  /** Pages the VM dirties per second while it runs (>= 0). */
  readonly dirtyRate: number;
  /**
   * Writable working set, pages: the VM's writes are confined to it, so no round can find more than
   * this many pages dirty. Default: all of memory.
   */
  readonly workingSetPages?: number;
  /** Migration link bandwidth, bits per second (> 0). */
  readonly bandwidth: number;
  /** Extra bytes sent with every page (default 0). */
  readonly pageOverhead?: number;
  /** Stop, device state transfer and resume on the destination, ns (default 5 ms). */
  readonly switchoverCost?: Nanos;
}

export interface PreCopyParams extends MemoryModelParams {
  /**
   * Stop iterating once the remainder can be sent within this, ns (QEMU's rule; default 300 ms).
   * The switchover cost is not counted against it, as QEMU does not count device state.
   */
  readonly maxDowntime?: Nanos;
  /**
   * Stop iterating once at most this many pages remain dirty. Given alone it replaces the
   * downtime rule; given with `maxDowntime` the stricter of the two applies.
   */
  readonly thresholdPages?: number;
  /** Live rounds at most (default 30, Xen's). */
  readonly maxRounds?: number;
}

export interface PostCopyParams extends MemoryModelParams {
  /** Round trip of one network fault (request to the source and back), ns (default 100 us). */
  readonly faultRtt?: Nanos;
  /** Pages the VM touches (reads or writes) per second on the destination (default: the dirty rate). */
  readonly accessRate?: number;
}

export interface MigrationRound {
  /** 1-based. */
  readonly index: number;
  readonly pages: number;
  readonly bytes: number;
  readonly start: Nanos;
  readonly duration: Nanos;
  /** Pages the VM dirtied during this round (they are the next round's, or the remainder). */
  readonly dirtied: number;
}

export type PreCopyStopReason = 'threshold' | 'max-rounds' | 'not-converging';

interface PlanBase {
  /** Pages of memory. */
  readonly totalPages: number;
  /** Bytes one page takes on the wire (page size + overhead). */
  readonly pageBytes: number;
  /** Time to send one page, ns (not rounded). */
  readonly pageTime: number;
  /** The live transfer: pre-copy's rounds, or post-copy's background push (one round). */
  readonly rounds: readonly MigrationRound[];
  /** From the start of the migration until every page is at the destination and the VM runs there. */
  readonly totalTime: Nanos;
  /** The VM runs nowhere. */
  readonly downtime: Nanos;
  readonly pagesSent: number;
  readonly bytesSent: number;
  readonly switchoverCost: Nanos;
}

export interface PreCopyPlan extends PlanBase {
  readonly kind: 'pre-copy';
  /** Remainder below which it stops (pages). */
  readonly thresholdPages: number;
  /** The remainder, sent with the VM stopped (index = live rounds + 1). */
  readonly stopAndCopy: MigrationRound;
  /** True when it stopped because the remainder fit the threshold. */
  readonly converged: boolean;
  readonly stopReason: PreCopyStopReason;
}

export interface PostCopyPlan extends PlanBase {
  readonly kind: 'post-copy';
  /** Expected network faults (pages the VM touched before the push brought them), rounded. */
  readonly faults: number;
  /** Time the VM spends blocked in faults, ns: faults × (faultRtt + one page transfer). */
  readonly faultTime: Nanos;
  readonly faultRtt: Nanos;
  readonly accessRate: number;
}

export type MigrationPlan = PreCopyPlan | PostCopyPlan;

/** What the geometric model of Liu et al. (HPDC 2011) predicts, for comparison with `preCopy`. */
export interface PreCopyClosedForm {
  /** λ = D / R (dirty rate over link rate, both in pages/s). */
  readonly lambda: number;
  /** n = ceil(log_λ(V_th / V_mem)): live rounds; round n's volume V_n is the stop-and-copy. */
  readonly rounds: number;
  /** V_n = V_mem·λ^n, pages (not rounded). */
  readonly remainderPages: number;
  /** V_mig = V_mem·(1 − λ^(n+1)) / (1 − λ), pages (not rounded). */
  readonly pagesSent: number;
  /** T_mig = (V_mem / R)·(1 − λ^(n+1)) / (1 − λ) + switchover, ns (not rounded). */
  readonly totalTime: number;
  /** T_down = V_n / R + switchover, ns (not rounded). */
  readonly downtime: number;
}

interface Link {
  readonly totalPages: number;
  readonly pageBytes: number;
  readonly pageTime: number;
  readonly bandwidth: number;
  readonly dirtyRate: number;
  readonly workingSet: number;
  readonly switchoverCost: Nanos;
}

/** Pre-copy: iterate while the VM runs, then stop and copy the remainder. */
export function preCopy(params: PreCopyParams): PreCopyPlan {
  const link = common(params);
  const maxRounds = optionalInteger(params.maxRounds, 'maxRounds', MEMORY_MODEL_DEFAULTS.maxRounds, 1);
  const thresholdPages = stopThreshold(params);

  const rounds: MigrationRound[] = [];
  let toSend = link.totalPages;
  let now = 0;
  let stopReason: PreCopyStopReason = 'threshold';
  // Checked before every round, the first included: a memory that already fits is just copied
  // (QEMU checks the pending size before each iteration; Liu et al.'s n = 0).
  while (toSend > thresholdPages) {
    const last = rounds[rounds.length - 1];
    // The dirty set stopped shrinking: D >= R, or the working set is hotter than the threshold.
    if (last && toSend >= last.pages) {
      stopReason = 'not-converging';
      break;
    }
    if (rounds.length === maxRounds) {
      stopReason = 'max-rounds';
      break;
    }
    const duration = transferTime(toSend, link);
    const dirtied = dirtiedDuring(duration, link);
    rounds.push({
      index: rounds.length + 1,
      pages: toSend,
      bytes: toSend * link.pageBytes,
      start: now,
      duration,
      dirtied,
    });
    now += duration;
    toSend = dirtied;
  }

  const stopDuration = transferTime(toSend, link);
  const stopAndCopy: MigrationRound = {
    index: rounds.length + 1,
    pages: toSend,
    bytes: toSend * link.pageBytes,
    start: now,
    duration: stopDuration,
    dirtied: 0,
  };
  const pagesSent = rounds.reduce((n, r) => n + r.pages, 0) + toSend;
  return {
    kind: 'pre-copy',
    totalPages: link.totalPages,
    pageBytes: link.pageBytes,
    pageTime: link.pageTime,
    rounds,
    stopAndCopy,
    thresholdPages,
    totalTime: now + stopDuration + link.switchoverCost,
    downtime: stopDuration + link.switchoverCost,
    pagesSent,
    bytesSent: pagesSent * link.pageBytes,
    switchoverCost: link.switchoverCost,
    converged: stopReason === 'threshold',
    stopReason,
  };
}

/**
 * Post-copy: stop, send device state, run on the destination at once; every page is pushed once in
 * the background, and pages the VM touches before the push reaches them are pulled on demand.
 *
 * Faults, in expectation (Hines & Gopalan describe the mechanism; the closed form is ours): the VM
 * touches its working set of W pages uniformly, each page by a Poisson process of rate a = A/W
 * (A = `accessRate`). The push visits pages in an order unrelated to the accesses (no pre-paging),
 * so page p arrives at a time s_p spread uniformly over the push duration P. It faults if touched
 * before s_p, with probability 1 − e^(−a·s_p). Summing over the working set:
 *   faults = W·(1 − (1 − e^(−x)) / x),  x = A·P / W
 * which is ≈ A·P/2 while few pages fault (x small) and tends to W (every page faults) as x grows.
 * A pulled page is sent instead of pushed, so pages sent stay all pages exactly once, and the total
 * time is the downtime plus the push: faults cost the VM time (blocked vCPU), not link time.
 */
export function postCopy(params: PostCopyParams): PostCopyPlan {
  const link = common(params);
  const faultRtt = optionalInteger(params.faultRtt, 'faultRtt', MEMORY_MODEL_DEFAULTS.faultRtt, 0);
  const accessRate = params.accessRate ?? link.dirtyRate;
  if (!Number.isFinite(accessRate) || accessRate < 0) {
    throw new RangeError(`accessRate must be a finite number of pages per second >= 0, got ${accessRate}`);
  }

  const downtime = link.switchoverCost;
  const push = transferTime(link.totalPages, link);
  const w = link.workingSet;
  const x = w > 0 ? (accessRate * (push / 1e9)) / w : 0;
  const faults = Math.min(w, Math.round(w * faultFraction(x)));
  const faultTime = faults * Math.round(faultRtt + link.pageTime);
  const bytes = link.totalPages * link.pageBytes;
  return {
    kind: 'post-copy',
    totalPages: link.totalPages,
    pageBytes: link.pageBytes,
    pageTime: link.pageTime,
    rounds: [{ index: 1, pages: link.totalPages, bytes, start: downtime, duration: push, dirtied: 0 }],
    totalTime: downtime + push,
    downtime,
    pagesSent: link.totalPages,
    bytesSent: bytes,
    switchoverCost: link.switchoverCost,
    faults,
    faultTime,
    faultRtt,
    accessRate,
  };
}

/**
 * The geometric pre-copy model (Liu, Xu, Jin, Chen, "Performance and energy modeling for live
 * migration of virtual machines", HPDC 2011; Cluster Computing 16(2), 2013), in pages and ns:
 * V_i = V_mem·λ^i, T_i = V_i / R, n = ceil(log_λ(V_th / V_mem)), V_mig = Σ_{i=0..n} V_i,
 * T_mig = V_mig / R (+ switchover), T_down = V_n / R (+ switchover). No working set, no round limit.
 * Needs λ < 1 and a threshold > 0.
 */
export function preCopyClosedForm(params: PreCopyParams): PreCopyClosedForm {
  const link = common(params);
  const vth = stopThreshold(params);
  const vmem = link.totalPages;
  const lambda = link.dirtyRate * (link.pageTime / 1e9);
  if (lambda >= 1) {
    throw new RangeError(`the geometric model needs dirty rate < link rate (λ = ${lambda} >= 1)`);
  }
  if (vth <= 0) throw new RangeError('the geometric model needs a stop threshold of at least one page');
  const rounds = vmem <= vth ? 0 : lambda === 0 ? 1 : Math.ceil(Math.log(vth / vmem) / Math.log(lambda));
  const pagesSent = (vmem * (1 - lambda ** (rounds + 1))) / (1 - lambda);
  const remainderPages = vmem * lambda ** rounds;
  return {
    lambda,
    rounds,
    remainderPages,
    pagesSent,
    totalTime: pagesSent * link.pageTime + link.switchoverCost,
    downtime: remainderPages * link.pageTime + link.switchoverCost,
  };
}

/** The remainder (pages) at or below which pre-copy stops iterating. */
export function stopThreshold(params: PreCopyParams): number {
  const link = common(params);
  const byPages =
    params.thresholdPages === undefined
      ? Number.POSITIVE_INFINITY
      : optionalInteger(params.thresholdPages, 'thresholdPages', 0, 0);
  if (params.maxDowntime === undefined && params.thresholdPages !== undefined) return byPages;
  const maxDowntime = optionalInteger(
    params.maxDowntime,
    'maxDowntime',
    MEMORY_MODEL_DEFAULTS.maxDowntime,
    0,
  );
  // QEMU: stop when remaining bytes <= bandwidth × downtime-limit, i.e. the pages that fit in it.
  const byDowntime = Math.floor(maxDowntime / link.pageTime);
  return Math.min(byPages, byDowntime);
}

/** Time to send `pages` over the link, ns, rounded to the nearest ns. */
function transferTime(pages: number, link: Link): Nanos {
  return Math.round((pages * link.pageBytes * 8 * 1e9) / link.bandwidth);
}

/**
 * Pages dirtied while the VM runs for `duration`: min(rate·t, working set), rounded to the nearest
 * page. The writes are assumed spread over distinct pages until the working set is exhausted (the
 * linear-then-saturating model; Clark et al.'s writable working set bounds what a round can find).
 */
function dirtiedDuring(duration: Nanos, link: Link): number {
  return Math.min(Math.round((link.dirtyRate * duration) / 1e9), link.workingSet);
}

/** 1 − (1 − e^(−x)) / x, accurate for small x. */
function faultFraction(x: number): number {
  if (x <= 0) return 0;
  if (x < 1e-6) return x / 2 - (x * x) / 6;
  return 1 + Math.expm1(-x) / x;
}

function common(params: MemoryModelParams): Link {
  const pageSize = optionalInteger(params.pageSize, 'pageSize', MEMORY_MODEL_DEFAULTS.pageSize, 1);
  const { memoryBytes, dirtyRate, bandwidth } = params;
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes <= 0) {
    throw new RangeError(`memoryBytes must be a whole number of bytes > 0, got ${memoryBytes}`);
  }
  if (!Number.isFinite(dirtyRate) || dirtyRate < 0) {
    throw new RangeError(`dirtyRate must be a finite number of pages per second >= 0, got ${dirtyRate}`);
  }
  if (!Number.isFinite(bandwidth) || bandwidth <= 0) {
    throw new RangeError(`bandwidth must be a finite number of bits per second > 0, got ${bandwidth}`);
  }
  const pageOverhead = optionalInteger(
    params.pageOverhead,
    'pageOverhead',
    MEMORY_MODEL_DEFAULTS.pageOverhead,
    0,
  );
  const switchoverCost = optionalInteger(
    params.switchoverCost,
    'switchoverCost',
    MEMORY_MODEL_DEFAULTS.switchoverCost,
    0,
  );
  const totalPages = Math.ceil(memoryBytes / pageSize);
  const workingSet = optionalInteger(params.workingSetPages, 'workingSetPages', totalPages, 0);
  if (workingSet > totalPages) {
    throw new RangeError(`workingSetPages (${workingSet}) exceeds the VM's ${totalPages} pages`);
  }
  const pageBytes = pageSize + pageOverhead;
  return {
    totalPages,
    pageBytes,
    pageTime: (pageBytes * 8 * 1e9) / bandwidth,
    bandwidth,
    dirtyRate,
    workingSet,
    switchoverCost,
  };
}

function optionalInteger(value: number | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number >= ${min}, got ${value}`);
  }
  return value;
}
