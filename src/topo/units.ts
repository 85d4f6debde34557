/**
 * Quantities in lab files: durations (`1us`, `2.5ms`, `3s`, a bare number is nanoseconds),
 * bit rates (`1Gbps`, `100Mbps`, `10kbps`, a bare number is bits per second), sizes (`4KiB`,
 * `1GiB`, `1GB`, a bare number is bytes). Parsers return
 * undefined on malformed text so the schema can report it with its path. And the same quantities
 * formatted for reports (durations, rates, sizes, heap sizes).
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

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Sizes in bytes: `4KiB`, `512MiB`, `2GiB`, `1GB` (powers of 1000 and of 1024 as their symbols say); a bare number is bytes. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)\s*$/i.exec(value);
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
  return bytes > 0 ? bytes : undefined;
}

/** `1 GiB`, `512 MiB`, `4 KiB`, `100 B`: binary units, the largest that keeps the number readable. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const)
    if (bytes >= size) return `${trim(bytes / size)} ${unit}`;
  return `${bytes} B`;
}

/** "3.6 GiB", "310 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${Number((bytes / 2 ** 30).toFixed(1))} GiB`;
  return `${Math.max(1, Math.round(bytes / 2 ** 20))} MiB`;
}

/** `10 Gbit/s`, `100 Mbit/s`. */
export function formatRate(bitsPerSecond: number): string {
  for (const [unit, size] of [
    ['Tbit/s', 1e12],
    ['Gbit/s', 1e9],
    ['Mbit/s', 1e6],
    ['kbit/s', 1e3],
  ] as const)
    if (bitsPerSecond >= size) return `${trim(bitsPerSecond / size)} ${unit}`;
  return `${trim(bitsPerSecond)} bit/s`;
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
