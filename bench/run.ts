/**
 * `npm run bench`: runs every benchmark and prints one JSON document. `BENCH_SECONDS` sets the time
 * per wire case (default 2), `BENCH_FRAMES` the capture size for the CLI comparison (default 200,000),
 * `BENCH_QUICK=1` runs only the 64-host all-pairs scenarios (the 256-host ns-3 bridge run takes minutes)
 * and the overlay and migration scenarios on a 256-VM fabric instead of the 16,384-VM one.
 */
import { cpus } from 'node:os';
import { runAllPairsBench } from './allpairs-bench.js';
import { runDecodeCliBench } from './decode-cli-bench.js';
import { runMigrationBench } from './migration-bench.js';
import { runOverlayBench } from './overlay-bench.js';
import { runRealVtepBench } from './real-vtep-bench.js';
import { runWireBench } from './wire-bench.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const report = {
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
  secondsPerCase: seconds,
  wire: runWireBench(seconds),
  decodeCli: runDecodeCliBench(Number(process.env.BENCH_FRAMES ?? 200_000)),
  // The ns-3 anchor scenarios, side by side with the ns-3 programs when built (see allpairs-bench.ts).
  allPairs: runAllPairsBench(
    process.env.BENCH_QUICK
      ? { bridgeHosts: [64], leafSpine: [[4, 8, 8]] }
      : {
          bridgeHosts: [64, 256],
          leafSpine: [
            [4, 8, 8],
            [4, 8, 32],
          ],
        },
  ),
  // The overlay at scale: every VM pings a VM of its tenant on another leaf, under both control planes.
  overlay: runOverlayBench(Boolean(process.env.BENCH_QUICK)),
  // Live migration at scale: 1,000 VMs one by one and 1,000 fifty at a time, every VM with a TCP session.
  migration: runMigrationBench(Boolean(process.env.BENCH_QUICK)),
  // The real data plane (root): kernel VXLAN, kernel bridge + VXLAN and vnet's VTEP, iperf3 between two VMs.
  realVtep: await runRealVtepBench(),
};
console.log(JSON.stringify(report, null, 2));
