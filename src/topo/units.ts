/**
 * Quantities in lab files: durations (`1us`, `2.5ms`, `3s`, a bare number is nanoseconds),
 * bit rates (`1Gbps`, `100Mbps`, `10kbps`, a bare number is bits per second). Parsers return
 * undefined on malformed text so the schema can report it with its path.
 */
import type { LinkProperties } from '../link/index.js';

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  min: 60e9,
  h: 3600e9,
};
const RATE_UNITS: Record<string, number> = { bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9, tbps: 1e12 };

export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|min|h)\s*$/.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
}

export function parseRate(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?bps)\s*$/i.exec(value);
  if (!m) return undefined;
  const rate = Number(m[1]) * RATE_UNITS[m[2]!.toLowerCase()]!;
  return rate > 0 ? rate : undefined;
}

/** `1.5 ms`, `300 s`, `12 us`: the largest unit that keeps the number readable. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0 s';
  if (ns >= 1e9) return `${trim(ns / 1e9)} s`;
  if (ns >= 1e6) return `${trim(ns / 1e6)} ms`;
  if (ns >= 1e3) return `${trim(ns / 1e3)} us`;
  return `${ns} ns`;
}

function trim(v: number): string {
  return String(Number(v.toFixed(3)));
}

/** A lab's link properties (delay, bandwidth, mtu, queue, loss) as the link takes them. */
export function linkProperties(p: {
  delay?: string | number;
  bandwidth?: string | number;
  mtu?: number;
  queue?: number;
  loss?: number;
}): LinkProperties {
  return {
    ...(p.delay !== undefined ? { delay: parseDuration(p.delay) } : {}),
    ...(p.bandwidth !== undefined ? { bandwidth: parseRate(p.bandwidth) } : {}),
    ...(p.mtu !== undefined ? { mtu: p.mtu } : {}),
    ...(p.queue !== undefined ? { queueFrames: p.queue } : {}),
    ...(p.loss !== undefined ? { loss: p.loss } : {}),
  };
}
