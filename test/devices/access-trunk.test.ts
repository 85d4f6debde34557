/**
 * Access and trunk port modes (`access-trunk.ts`): which VLANs a mode carries and how (tagged,
 * untagged, not at all), the first unusable VLAN a mode names, and the flattened per-frame record.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  carriesVlan,
  DEFAULT_ACCESS,
  leavesUntagged,
  portVlan,
  unusableVlan,
  vlanTagging,
} from '../../src/devices/l2/access-trunk.js';

test('an access port carries its one VLAN untagged; a trunk its allowed VLANs tagged, its native one untagged', () => {
  const access = { mode: 'access', vlan: 10 } as const;
  const trunk = { mode: 'trunk', allowed: [20, 30], native: 40 } as const;
  const all = { mode: 'trunk', allowed: 'all', native: null } as const;
  assert.deepEqual(
    [10, 20, 40, 50].map((v) => vlanTagging(access, v)),
    [false, null, null, null],
  );
  assert.deepEqual(
    [10, 20, 30, 40].map((v) => vlanTagging(trunk, v)),
    [null, true, true, false],
  );
  assert.deepEqual(
    [1, 4094].map((v) => vlanTagging(all, v)),
    [true, true],
  );
  for (const mode of [access, trunk, all]) {
    const pv = portVlan(mode);
    for (const v of [1, 10, 20, 30, 40, 50, 4094]) {
      const t = vlanTagging(mode, v);
      assert.equal(carriesVlan(pv, v), t !== null, `${mode.mode} VLAN ${v}`);
      if (t !== null) assert.equal(leavesUntagged(pv, v), !t, `${mode.mode} VLAN ${v} tagging`);
    }
  }
  assert.deepEqual(DEFAULT_ACCESS, { mode: 'access', vlan: 1 });
});

test('usable VLANs are 1..4094: the first other one a mode names is reported', () => {
  assert.equal(unusableVlan({ mode: 'access', vlan: 1 }), undefined);
  assert.equal(unusableVlan({ mode: 'access', vlan: 0 }), 0);
  assert.equal(unusableVlan({ mode: 'trunk', allowed: [2, 4095, 5000], native: 0 }), 4095);
  assert.equal(unusableVlan({ mode: 'trunk', allowed: 'all', native: 4096 }), 4096);
  assert.equal(unusableVlan({ mode: 'trunk', allowed: [4094], native: null }), undefined);
});
