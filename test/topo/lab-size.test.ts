/**
 * The size estimate of a lab, before it is built: its counts match what the builder makes, its
 * start-up flood matches the events a run takes, and a lab too large for a heap is refused with
 * the estimate and the largest size that fits, without building anything.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLab } from '../../src/topo/lab/build.js';
import { validateLab } from '../../src/topo/lab/check.js';
import { type LabFile, labSchema } from '../../src/topo/lab/schema.js';
import { estimateLab, fitLab } from '../../src/topo/lab/size.js';

function checked(data: unknown): LabFile {
  const c = validateLab(data);
  assert.ok(c.ok, c.ok ? '' : JSON.stringify(c.issues));
  return c.lab;
}

const fabric = (
  extra: Record<string, unknown>,
  size = { spines: 2, leaves: 3, serversPerLeaf: 2, vmsPerServer: 4 },
) =>
  checked({
    fabric: {
      ...size,
      tenants: [
        { name: 'A', subnets: ['10.1.0.0/24', '10.2.0.0/24'] },
        { name: 'B', subnets: ['10.1.0.0/24'] },
      ],
      ...extra,
    },
    script: [],
  });

function hostsOnASwitch(n: number): LabFile {
  const nodes: Record<string, unknown> = { sw: { kind: 'switch' } };
  const links: unknown[] = [];
  for (let i = 1; i <= n; i++) {
    nodes[`h${i}`] = { kind: 'host', ip: `10.0.${i >> 8}.${i & 255}/16` };
    links.push({ a: `h${i}`, b: 'sw' });
  }
  return checked({ nodes, links, script: [] });
}

test('the estimate counts the nodes and links the builder makes, for every fabric placement and gateway', () => {
  for (const extra of [
    {},
    { nve: 'hypervisor' },
    { controlPlane: 'controller', gateway: 'distributed' },
    { gateway: 'centralized' },
    { controlPlane: 'controller', gateway: 'distributed', external: true },
    { nve: 'hypervisor', controlPlane: 'controller', gateway: 'distributed', external: true },
  ]) {
    const lab = fabric(extra);
    const net = buildLab(lab);
    const { size } = estimateLab(lab);
    assert.deepEqual([size.nodes, size.links], [net.nodes.size, net.links.length], JSON.stringify(extra));
  }
  const hosts = hostsOnASwitch(50);
  assert.deepEqual(estimateLab(hosts).size, { nodes: 51, hosts: 50, links: 50, vms: 0, tenants: 0 });
});

test("the start-up flood's estimate is the events the hosts' announcements take", () => {
  const lab = hostsOnASwitch(300);
  const net = buildLab(lab);
  net.start();
  assert.equal(net.run({}).events, 90_000);
  assert.equal(estimateLab(lab).startupEvents, 90_000);
});

test('a 1,048,576-VM fabric is refused for a 4 GiB heap with its estimate and the largest vmsPerServer that fits', () => {
  // Its shapes only, as the CLI checks it: the cross-checks would list every VM.
  const lab = labSchema.parse({
    fabric: {
      spines: 4,
      leaves: 64,
      serversPerLeaf: 64,
      vmsPerServer: 256,
      tenants: [{ name: 'A', subnets: ['10.0.0.0/8'] }],
    },
    script: [],
  });
  const fit = fitLab(lab, 4 * 2 ** 30);
  assert.equal(fit.fits, false);
  assert.equal(
    fit.fits ? '' : fit.message,
    "too large for this machine: 4 spines x 64 leaves x 64 servers x 256 VMs (1,052,740 nodes, 1,052,928 links, 1,048,576 VMs) would need about 5.7 GiB and 2 min to build; this machine's heap allows 4 GiB (a lab may take 60% of it, the rest is for its traffic): the largest that fits is vmsPerServer 106 (about 2.4 GiB)",
  );
  // The largest that fits does; one more VM per server does not.
  const at = (v: number) => fitLab({ ...lab, fabric: { ...lab.fabric!, vmsPerServer: v } }, 4 * 2 ** 30).fits;
  assert.deepEqual([at(106), at(107)], [true, false]);
  // A fabric too large even with one VM per server has fewer servers too.
  const wide = fitLab({ ...lab, fabric: { ...lab.fabric!, leaves: 1024, serversPerLeaf: 1024 } }, 2 ** 30);
  assert.equal(
    wide.fits ? '' : wide.message,
    "too large for this machine: 4 spines x 1024 leaves x 1024 servers x 256 VMs (269,485,060 nodes, 269,488,128 links, 268,435,456 VMs) would need about 1452.8 GiB and 9 h to build; this machine's heap allows 1 GiB (a lab may take 60% of it, the rest is for its traffic): the largest that fits is vmsPerServer 1, serversPerLeaf 66 (about 607 MiB)",
  );
});

test('hand-made labs too large are refused with the hosts that would fit', () => {
  const fit = fitLab(hostsOnASwitch(10_000), 100 * 2 ** 20);
  assert.equal(
    fit.fits ? '' : fit.message,
    "too large for this machine: 10,001 nodes, 10,000 links would need about 95 MiB and 4 s to build; this machine's heap allows 100 MiB (a lab may take 60% of it, the rest is for its traffic): about 3,615 hosts with their links fit",
  );
});
