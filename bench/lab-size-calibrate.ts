/**
 * Calibrates the lab size estimate (`src/topo/lab/size.ts`): builds labs of a few sizes and prints,
 * per size, the heap the built network holds (process.memoryUsage().heapUsed after a full GC, minus
 * the same before) and the build time. Run with the GC exposed:
 * `npx tsc -p tsconfig.json && node --expose-gc dist/bench/lab-size-calibrate.js [fabric|hosts] N...`.
 */
import { performance } from 'node:perf_hooks';
import { buildLab } from '../src/topo/lab/build.js';
import { validateLab } from '../src/topo/lab/check.js';
import type { LabFile } from '../src/topo/lab/schema.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

/** A fabric lab of about `vms` VMs: 4 spines, 16 leaves, 16 servers per leaf. */
function fabricLab(vms: number, variant: string): unknown {
  const vmsPerServer = Math.max(1, Math.round(vms / 256));
  const hypervisor = variant.includes('hypervisor');
  const controller = variant.includes('controller') || variant.includes('distributed');
  return {
    fabric: {
      spines: 4,
      leaves: 16,
      serversPerLeaf: 16,
      vmsPerServer,
      nve: hypervisor ? 'hypervisor' : 'leaf',
      controlPlane: controller ? 'controller' : 'flood-and-learn',
      gateway: variant.includes('distributed') ? 'distributed' : 'none',
      tenants: [
        { name: 'A', subnets: ['10.0.0.0/12'] },
        { name: 'B', subnets: ['10.0.0.0/12'] },
      ],
    },
    script: [],
  };
}

/** `hosts` hosts on one switch. */
function hostsLab(hosts: number): unknown {
  const nodes: Record<string, unknown> = { sw: { kind: 'switch' } };
  const links: unknown[] = [];
  for (let i = 0; i < hosts; i++) {
    const a = 0x0a00_0000 + i + 1;
    nodes[`h${i + 1}x`] = {
      kind: 'host',
      ip: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/8`,
    };
    links.push({ a: `h${i + 1}x`, b: 'sw' });
  }
  return { nodes, links, script: [] };
}

const [kind = 'fabric', ...sizes] = process.argv.slice(2);
for (const n of sizes.map(Number)) {
  const data = kind === 'hosts' ? hostsLab(n) : fabricLab(n, kind);
  const v0 = performance.now();
  const checked = validateLab(data);
  const checkMs = performance.now() - v0;
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues.slice(0, 3)));
  const lab: LabFile = checked.lab;
  gc();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const net = buildLab(lab);
  const buildMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage().heapUsed;
  // The start-up traffic (each VM's gratuitous ARP), within the CLI's default event budget.
  const r0 = performance.now();
  net.start();
  const ran = net.run({ budget: 5_000_000 });
  const runMs = performance.now() - r0;
  gc();
  const afterRun = process.memoryUsage().heapUsed;
  let ports = 0;
  for (const d of net.nodes.values()) ports += d.ports.length;
  console.log(
    JSON.stringify({
      kind,
      size: n,
      nodes: net.nodes.size,
      links: net.links.length,
      ports,
      heapMiB: Math.round((after - before) / 2 ** 20),
      bytesPerNode: Math.round((after - before) / net.nodes.size),
      checkMs: Math.round(checkMs),
      buildMs: Math.round(buildMs),
      usPerNode: Math.round((buildMs * 1000) / net.nodes.size),
      startEvents: ran.events,
      startStop: ran.reason,
      startMs: Math.round(runMs),
      startMiB: Math.round((afterRun - after) / 2 ** 20),
    }),
  );
}
