/**
 * `npm run bench`: runs every benchmark and prints one JSON document. `BENCH_SECONDS` sets the time
 * per wire case (default 2), `BENCH_FRAMES` the capture size for the CLI comparison (default 200,000).
 */
import { cpus } from 'node:os';
import { runDecodeCliBench } from './decode-cli-bench.js';
import { runWireBench } from './wire-bench.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const report = {
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
  secondsPerCase: seconds,
  wire: runWireBench(seconds),
  decodeCli: runDecodeCliBench(Number(process.env.BENCH_FRAMES ?? 200_000)),
};
console.log(JSON.stringify(report, null, 2));
