/** `npm run bench`: runs every benchmark and prints one JSON document. `BENCH_SECONDS` sets the time per case (default 2). */
import { cpus } from 'node:os';
import { runWireBench } from './wire-bench.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const report = {
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
  secondsPerCase: seconds,
  wire: runWireBench(seconds),
};
console.log(JSON.stringify(report, null, 2));
