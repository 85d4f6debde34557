/**
 * Human renderings of lab results: ping output in the shape of Linux ping's, tables as aligned
 * columns like the lecture's slides, and one heading per step with its virtual time.
 */
import type { PingResult } from '../../devices/ip/ping.js';
import type { TcpSessionStatus } from '../../devices/tcp/tcp-apps.js';
import { renderTable } from '../rows.js';
import { formatDuration } from '../units.js';
import type { MigrateStepResult } from './migrate.js';
import { migrateHeading, migrationComparison, renderMigrate } from './migration-report.js';
import type { LabRunResult, StepResult } from './run.js';

export { renderTable } from '../rows.js';

const ms = (ns: number) => (ns / 1e6).toFixed(3);

function pingLine(to: string, size: number, r: PingResult): string {
  switch (r.status) {
    case 'reply':
      return `${size + 8} bytes from ${r.from}: icmp_seq=${r.seq} ttl=${r.ttl} time=${ms(r.rtt ?? 0)} ms`;
    case 'error':
      return `From ${r.from} icmp_seq=${r.seq} ${r.message}`;
    case 'not-sent':
      return `icmp_seq=${r.seq}: ${r.message}`;
    default:
      return `no answer from ${to} for icmp_seq=${r.seq}`;
  }
}

function stepHeading(index: number, s: StepResult): string {
  const at = `t=${formatDuration(s.time)}`;
  switch (s.step) {
    case 'ping':
      return `[${index}] ping ${s.from} -> ${s.to} (${at})`;
    case 'udp':
      return `[${index}] udp ${s.from} -> ${s.to}:${s.port} (${at})`;
    case 'arp':
      return `[${index}] arp ${s.node} resolves ${s.ip} (${at})`;
    case 'path':
      return `[${index}] path ${s.from} -> ${s.to} (${at})`;
    case 'tcp-server':
      return `[${index}] tcp-server ${s.node} port ${s.port} (${at})`;
    case 'tcp-session':
      return `[${index}] tcp-session ${s.name}: ${s.from} -> ${s.to}:${s.port} (${at})`;
    case 'tcp-status':
      return `[${index}] tcp-status ${s.session} (${at})`;
    case 'tcp-bulk':
      return `[${index}] tcp-bulk ${s.from} -> ${s.to}:${s.port} (${at})`;
    case 'wait':
      return `[${index}] wait ${formatDuration(s.duration)} (${at})`;
    case 'link':
      return `[${index}] link ${s.link} ${s.state} (${at})`;
    case 'capture':
      return `[${index}] capture ${s.where} -> ${s.file} (${at})`;
    case 'show':
      return `[${index}] show ${s.node} ${s.table} (${at})`;
    case 'migrate':
      return `[${index}] ${migrateHeading(s)} (${at})`;
  }
}

export function renderStep(index: number, s: StepResult): string[] {
  const lines = [stepHeading(index, s)];
  switch (s.step) {
    case 'ping': {
      const st = s.statistics;
      lines.push(...s.replies.map((r) => pingLine(s.to, s.size, r)));
      lines.push(`--- ${s.to} ping statistics ---`);
      lines.push(
        `${st.transmitted} packets transmitted, ${st.received} received${st.errors ? `, +${st.errors} errors` : ''}, ${st.lossPercent}% packet loss`,
      );
      if (st.rttMin !== null)
        lines.push(
          `rtt min/avg/max/mdev = ${ms(st.rttMin)}/${ms(st.rttAvg!)}/${ms(st.rttMax!)}/${ms(st.rttMdev!)} ms`,
        );
      break;
    }
    case 'udp':
      lines.push(`${s.sent} datagram(s) sent, ${s.echoed} echoed back`);
      break;
    case 'arp':
      lines.push(
        s.mac
          ? `${s.ip} is at ${s.mac}${s.requests ? ` (${s.requests} request${s.requests > 1 ? 's' : ''} broadcast)` : ' (already cached)'}`
          : `${s.ip}: no answer after ${s.requests} requests`,
      );
      break;
    case 'path': {
      const links = (l: string[]) => `${l.length - 1} link${l.length === 2 ? '' : 's'}`;
      lines.push(
        s.request.length > 1
          ? `request: ${s.request.join(' > ')} (${links(s.request)})`
          : 'request: not delivered',
        s.reply.length > 1 ? `reply:   ${s.reply.join(' > ')} (${links(s.reply)})` : 'reply:   none',
      );
      break;
    }
    case 'tcp-server':
      lines.push(`${s.app} server listening on TCP port ${s.port}`);
      break;
    case 'tcp-session':
      lines.push(
        s.established
          ? `established ${s.local} -> ${s.to}:${s.port} in ${formatDuration(s.connectTime ?? 0)}; a ${s.size}-byte message every ${formatDuration(s.every)} from now on`
          : `failed: ${s.reason}`,
      );
      break;
    case 'tcp-status':
      lines.push(...sessionLines(s.status));
      break;
    case 'tcp-bulk':
      lines.push(
        s.done
          ? `${s.bytes} bytes in ${formatDuration(s.duration ?? 0)}: ${formatRate(s.throughput ?? 0)} (${s.retransmissions} retransmissions, ${s.fastRetransmits} fast, ${s.rtoExpiries} RTO expiries)`
          : `failed: ${s.failure}`,
      );
      break;
    case 'show':
      lines.push(...renderTable(s.rows));
      if (s.counters)
        lines.push(
          Object.entries(s.counters)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ') || '(no counters)',
        );
      break;
    case 'migrate': {
      const m = renderMigrate(s);
      lines.push(...renderTable(m.table), ...m.lines);
      break;
    }
    default:
      break;
  }
  return lines;
}

const at = (t: number | null) => (t === null ? 'never' : `t=${formatDuration(t)}`);

function sessionLines(st: TcpSessionStatus): string[] {
  const lines = [
    `state ${st.state}${st.alive ? ' (alive)' : ''}`,
    `messages: ${st.sent} sent, ${st.echoed} echoed${st.corrupt ? `, ${st.corrupt} CORRUPT bytes` : ''}; last echo ${at(st.lastEcho)}`,
    `largest gap between echoes: ${formatDuration(st.largestGap)}${st.largestGapEnd === null ? '' : ` (ended ${at(st.largestGapEnd)})`}`,
    `retransmissions: ${st.retransmissions} (${st.rtoExpiries} RTO expiries, ${st.fastRetransmits} fast); srtt ${st.srtt === null ? '-' : formatDuration(Math.round(st.srtt / 1000) * 1000)}, rto ${formatDuration(st.rto)}`,
  ];
  if (st.softError) lines.push(`last ICMP error: ${st.softError}`);
  if (st.failures.length === 0) lines.push('failures: none');
  for (const f of st.failures) lines.push(`failed ${at(f.time)}: ${f.reason}`);
  return lines;
}

/** `9.412 Mbit/s`, `512 kbit/s`. */
export function formatRate(bps: number): string {
  if (bps >= 1e9) return `${Number((bps / 1e9).toFixed(3))} Gbit/s`;
  if (bps >= 1e6) return `${Number((bps / 1e6).toFixed(3))} Mbit/s`;
  if (bps >= 1e3) return `${Number((bps / 1e3).toFixed(3))} kbit/s`;
  return `${bps} bit/s`;
}

export function renderLabRun(result: LabRunResult): string[] {
  const lines = [`lab: ${result.name}`];
  result.steps.forEach((s, i) => {
    lines.push('', ...renderStep(i + 1, s));
  });
  const migrations = result.steps.filter((s): s is MigrateStepResult => s.step === 'migrate');
  if (migrations.length > 1)
    lines.push('', 'migrations side by side', ...renderTable(migrationComparison(migrations)));
  if (result.warning) lines.push('', `WARNING: ${result.warning}`);
  if (result.stopped) lines.push('', `STOPPED: ${result.stopped}`);
  lines.push(
    '',
    `${result.events.toLocaleString('en-US')} events, virtual time ${formatDuration(result.virtualTime)}`,
  );
  return lines;
}
