/**
 * Human renderings of `migrate` steps: the memory transfer rounds, the downtime and convergence,
 * the address fit check and each TCP session's fate; and, for a lab that migrates several times,
 * the moves side by side (the lecture's L2 vs L3 vs VXLAN argument in one table).
 */
import type { Row } from '../rows.js';
import { formatDuration, formatRate, formatSize } from '../units.js';
import type { MigrateStepResult } from './migrate.js';

export function migrateHeading(s: MigrateStepResult): string {
  return `migrate ${s.vm} ${s.network.from} -> ${s.network.to} (${s.mode}, ${formatSize(s.memory)}, ${formatRate(s.bandwidth)}, ${s.dirtyRate.toLocaleString('en-US')} dirty pages/s)`;
}

function sessionLine(x: MigrateStepResult['sessions'][number]): string {
  const head = `session ${x.name} (${x.from} -> ${x.to}):`;
  if (x.survived)
    return `${head} survived; longest gap ${formatDuration(x.longestGap)}, ${x.retransmissions} retransmission${x.retransmissions === 1 ? '' : 's'}`;
  return `${head} BROKEN: ${x.failure ?? 'no echo since the move'}`;
}

export function renderMigrate(s: MigrateStepResult): { table: Row[]; lines: string[] } {
  const n = s.network;
  const table: Row[] = s.rounds.map((r) => ({
    round: r.round,
    pages: r.pages,
    bytes: formatSize(r.bytes),
    time: r.time,
  }));
  const lines: string[] = [];
  const why =
    s.stopReason === null
      ? `${s.faults?.toLocaleString('en-US')} page faults served over the network`
      : s.stopReason === 'threshold'
        ? 'the remainder fit the downtime limit'
        : s.stopReason === 'max-rounds'
          ? 'round limit reached'
          : 'not converging: dirtying as fast as the link sends';
  lines.push(
    `memory: ${s.pagesSent.toLocaleString('en-US')} pages (${formatSize(s.bytesSent)}) in ${formatDuration(s.totalTime)}; downtime ${formatDuration(s.downtime)} (${why})`,
  );
  lines.push(
    `network: stopped at t=${formatDuration(n.stoppedAt)}, resumed at t=${formatDuration(n.resumedAt)} on ${n.to}; announced by ${n.announce === 'none' ? 'nothing' : `${n.announce.toUpperCase()} x${n.announcements}`}`,
  );
  lines.push(
    n.convergedAfter === null
      ? `converged: NO, ${n.staleEntries.length} table entr${n.staleEntries.length === 1 ? 'y still leads' : 'ies still lead'} elsewhere: ${n.staleEntries
          .slice(0, 3)
          .map((e) => `${e.entry} (${e.why})`)
          .join('; ')}`
      : `converged: ${formatDuration(n.convergedAfter)} after the resume (${n.entriesChecked} table entr${n.entriesChecked === 1 ? 'y' : 'ies'} for ${n.mac} lead to its new port)`,
  );
  lines.push(
    `frames lost: ${n.framesLostToVm} to the VM, ${n.framesLostFromVm} from it; after convergence ${n.toOldPlaceAfterConvergence} reached the old place`,
  );
  lines.push(`address: ${n.address.why}`);
  for (const x of s.sessions) lines.push(sessionLine(x));
  return { table, lines };
}

/** One row per migration: the comparison a lab with several moves ends with. */
export function migrationComparison(steps: readonly MigrateStepResult[]): Row[] {
  return steps.map((s) => ({
    vm: s.vm,
    from: s.network.from,
    to: s.network.to,
    downtime: formatDuration(s.downtime),
    'frames lost': s.network.framesLostToVm + s.network.framesLostFromVm,
    converged: s.network.convergedAfter === null ? 'no' : formatDuration(s.network.convergedAfter),
    'address fits': s.network.address.fits === null ? '?' : s.network.address.fits ? 'yes' : 'no',
    sessions:
      s.sessions.length === 0
        ? '-'
        : s.sessions.every((x) => x.survived)
          ? `${s.sessions.length} survived`
          : `${s.sessions.filter((x) => !x.survived).length} broken`,
  }));
}

export { type RoundRow, roundTable } from './migration-rounds.js';
