/**
 * The `migrate` script step: live-migrates a VM to another hypervisor, with the memory transfer
 * model's timing (pre-copy or post-copy), and reports the rounds, the downtime, the frames lost,
 * the network's convergence, whether the VM's address fits where it landed, and whether each TCP
 * session of the VM survived.
 *
 * The step runs until the VM resumed at the destination plus `observe` (default 5 s): long enough
 * for a session to retransmit across the downtime, or to give up (its user timeout) when the move
 * broke it.
 */
import type { Host } from '../../devices/ip/host.js';
import {
  type LiveMigration,
  type MigrationNetworkReport,
  type MigrationPlan,
  planTiming,
  postCopy,
  preCopy,
} from '../../migration/index.js';
import type { Nanos } from '../../sim/index.js';
import type { Network } from '../network.js';
import { parseDuration, parseRate, parseSize } from '../units.js';
import { type RoundRow, roundTable } from './migration-rounds.js';
import type { MigrateStep } from './schema.js';

export type { MigrateStep } from './schema.js';

/** A TCP session of the migrated VM, as the step reports it. */
export interface SessionOutcome {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly survived: boolean;
  /** Longest time without an echo, ns. */
  readonly longestGap: Nanos;
  readonly retransmissions: number;
  /** Why it broke, or null. */
  readonly failure: string | null;
}

/** What the runner knows of the lab's TCP sessions. */
export interface SessionSource {
  /** Sessions that have `host` at either end, as seen now; survived means echoes came back after `since`. */
  sessionsOf(host: string, since: Nanos): SessionOutcome[];
}

export interface MigrateStepResult {
  readonly step: 'migrate';
  readonly time: Nanos;
  readonly vm: string;
  readonly mode: 'pre-copy' | 'post-copy';
  readonly memory: number;
  readonly pageSize: number;
  readonly dirtyRate: number;
  readonly bandwidth: number;
  readonly rounds: RoundRow[];
  readonly totalTime: Nanos;
  readonly downtime: Nanos;
  readonly pagesSent: number;
  readonly bytesSent: number;
  /** Pre-copy: why it stopped iterating; post-copy: null. */
  readonly stopReason: string | null;
  /** Post-copy: page faults served over the network. */
  readonly faults: number | null;
  readonly network: MigrationNetworkReport;
  readonly sessions: SessionOutcome[];
}

/** The memory model's plan for the step's parameters. */
export function migrationPlan(m: MigrateStep): MigrationPlan {
  const common = {
    memoryBytes: parseSize(m.memory ?? '1GiB')!,
    pageSize: m.pageSize === undefined ? undefined : parseSize(m.pageSize),
    dirtyRate: m.dirtyRate ?? 0,
    workingSetPages: m.workingSet,
    bandwidth: parseRate(m.bandwidth ?? '10Gbps')!,
    switchoverCost: m.switchover === undefined ? undefined : parseDuration(m.switchover),
  };
  if ((m.mode ?? 'pre-copy') === 'post-copy')
    return postCopy({
      ...common,
      faultRtt: m.faultRtt === undefined ? undefined : parseDuration(m.faultRtt),
    });
  return preCopy({
    ...common,
    maxDowntime: m.maxDowntime === undefined ? undefined : parseDuration(m.maxDowntime),
    maxRounds: m.maxRounds,
  });
}

/**
 * Runs a `migrate` step: plans the transfer, starts the migration, lets the network run until
 * `observe` after the resume (through `runUntil`, which keeps the event budget), then reports.
 */
export function runMigrateStep(
  m: MigrateStep,
  net: Network,
  runUntil: (time: Nanos) => void,
  sessions: SessionSource,
): MigrateStepResult {
  const now = net.scheduler.now();
  const plan = migrationPlan(m);
  const timing = planTiming(plan);
  const observe = m.observe === undefined ? 5e9 : parseDuration(m.observe)!;
  let migration: LiveMigration | null = null;
  try {
    migration = net.migrate(m.vm, m.to, {
      timing,
      port: m.port,
      announce: m.announce,
      convergenceTimeout: observe,
    });
    runUntil(now + timing.stopAfter + timing.downtime + observe);
  } finally {
    migration?.finish();
  }
  const vm = net.node(m.vm) as Host;
  const network = migration.report();
  return {
    step: 'migrate',
    time: now,
    vm: vm.name,
    mode: plan.kind,
    memory: parseSize(m.memory ?? '1GiB')!,
    pageSize: parseSize(m.pageSize ?? 4096)!,
    dirtyRate: m.dirtyRate ?? 0,
    bandwidth: parseRate(m.bandwidth ?? '10Gbps')!,
    rounds: roundTable(plan),
    totalTime: plan.totalTime,
    downtime: plan.downtime,
    pagesSent: plan.pagesSent,
    bytesSent: plan.bytesSent,
    stopReason: plan.kind === 'pre-copy' ? plan.stopReason : null,
    faults: plan.kind === 'post-copy' ? plan.faults : null,
    network,
    sessions: sessions.sessionsOf(vm.name, network.resumedAt),
  };
}
