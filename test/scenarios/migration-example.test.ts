/**
 * The lecture's worked example 9 (CONCEPTS.md section 4), run from examples/18: the same move of a
 * VM carrying a live TCP session, inside one VLAN (survives), across a routed boundary without an
 * overlay (breaks: its address no longer fits, and the reason is shown), and across racks of a
 * VXLAN fabric (survives: the VM stays in its bridge domain).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderLabRun } from '../../src/topo/lab/report.js';
import { runExample, stepOf } from '../helpers/labs.js';

test('example 18: a live TCP session survives a move inside a VLAN and across VXLAN, and breaks across a routed boundary', () => {
  const { result, net } = runExample('examples/18-live-migration.yaml');
  assert.equal(result.stopped, null);
  for (const n of [4, 5, 6]) assert.equal(stepOf(result, n, 'tcp-session').established, true);

  const vlan = stepOf(result, 7, 'migrate');
  const routed = stepOf(result, 8, 'migrate');
  const vxlan = stepOf(result, 9, 'migrate');
  // The memory model: 1 GiB over 10 Gbit/s with 20,000 dirty pages/s, the same for all three.
  for (const m of [vlan, routed, vxlan]) {
    assert.deepEqual(
      m.rounds.map((r) => [r.round, r.pages]),
      [
        ['1', 262_144],
        ['stop-and-copy', 17_180],
        ['switchover', 0],
      ],
    );
    assert.equal(m.downtime, 61_295_424);
    assert.equal(m.network.resumedAt - m.network.stoppedAt, 61_295_424);
    assert.equal(m.network.announcements, 5);
  }

  // (1) Inside one VLAN: the ToR and the new vSwitch learn the VM's new port from its RARP.
  assert.equal(vlan.network.from, 'srv1:1');
  assert.equal(vlan.network.to, 'srv2:1');
  assert.equal(vlan.network.address.fits, true);
  assert.ok(vlan.network.convergedAfter !== null);
  assert.deepEqual(vlan.network.staleEntries, []);
  assert.equal(vlan.network.toOldPlaceAfterConvergence, 0);
  assert.deepEqual(
    vlan.sessions.map((s) => [s.name, s.survived, s.failure]),
    [['s-vlan', true, null]],
  );

  // (2) Across a routed boundary: the address does not fit rack B; R keeps sending to rack A.
  assert.equal(routed.network.address.fits, false);
  assert.equal(
    routed.network.address.why,
    "192.168.20.10/24 does not fit the destination segment: R eth1 is 192.168.30.254/24; the VM's gateway 192.168.20.254 is not there",
  );
  assert.equal(routed.network.convergedAfter, null);
  assert.deepEqual(routed.network.staleEntries, [
    {
      entry: 'R eth0 ARP 192.168.20.10 -> 02:00:00:00:20:10',
      why: 'srv-a VLAN 1 has no entry and its flood does not reach the VM',
    },
  ]);
  assert.ok(routed.network.framesLostToVm > 0);
  assert.deepEqual(
    routed.sessions.map((s) => [s.name, s.survived, s.failure]),
    [['s-routed', false, 'timed out: no acknowledgement for 5 s (4 retransmissions)']],
  );

  // (3) Across racks of the VXLAN fabric: the controller moves the MAC route (MAC mobility seq 1).
  assert.equal(vxlan.network.from, 'leaf1-srv1:vm1');
  assert.equal(vxlan.network.to, 'leaf2-srv1:vm3');
  assert.equal(vxlan.network.address.fits, true);
  assert.ok(vxlan.network.convergedAfter !== null);
  assert.equal(vxlan.network.toOldPlaceAfterConvergence, 0);
  assert.deepEqual(
    vxlan.sessions.map((s) => [s.name, s.survived, s.failure]),
    [['s-vxlan', true, null]],
  );
  const moved = stepOf(result, 10, 'show').rows.find((r) => r.mac === '02:01:00:00:00:01');
  assert.deepEqual([moved?.where, moved?.type, moved?.seq], ['vtep 172.17.0.10', 'controller', 1]);
  assert.equal(net.overlay.table().find((r) => r.mac === '02:01:00:00:00:01')?.nve, 'leaf2-srv1');

  // The report ends with the three moves side by side.
  const text = renderLabRun(result);
  const at = text.indexOf('migrations side by side');
  assert.ok(at > 0);
  assert.match(text[at + 2]!, /^vlan-vm\s+srv1:1\s+srv2:1\s+61\.295 ms\s+\d+\s+\S+ us\s+yes\s+1 survived$/);
  assert.match(text[at + 3]!, /^routed-vm\s+srv-a:1\s+srv-b:2\s+61\.295 ms\s+\d+\s+no\s+no\s+1 broken$/);
  assert.match(
    text[at + 4]!,
    /^A-vm1\s+leaf1-srv1:vm1\s+leaf2-srv1:vm3\s+61\.295 ms\s+\d+\s+\S+ us\s+yes\s+1 survived$/,
  );
});
