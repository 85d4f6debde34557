/** VNI ranges (`vni.ts`): a bridge domain's segment is 1..16,777,215; the wire carries any 24-bit value. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkWireVni, isVni } from '../../src/overlay/index.js';

test('a BD takes VNIs 1..16777215; an encapsulation header 0..16777215', () => {
  assert.deepEqual([0, 1, 5000, 0xff_ffff, 0x100_0000, 1.5, -1, Number.NaN].map(isVni), [
    false,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
  ]);
  for (const v of [0, 1, 0xff_ffff]) assert.doesNotThrow(() => checkWireVni(v));
  for (const v of [-1, 0x100_0000, 2.5])
    assert.throws(() => checkWireVni(v), { message: `VNI ${v} is not 0..16777215` });
});
