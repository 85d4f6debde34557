/**
 * The real VTEP's configuration, checked without root: a good file becomes the exact spec, a bad
 * one gives every problem with its path, and `--tap` specs parse or say what is wrong.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStaticFlag, parseTapFlag } from '../../src/cli/vtep-command.js';
import { checkVtepConfig } from '../../src/linux/vtep-config.js';
import { cidr, ip, mac } from '../../src/wire/index.js';

test('a configuration becomes the exact spec the VTEP is built from', () => {
  const r = checkVtepConfig({
    local: '192.168.77.2',
    encapsulation: 'geneve',
    mtu: 1400,
    bridgeDomains: [
      {
        vni: 100,
        remotes: ['192.168.77.1', '192.168.77.3'],
        taps: [{ namespace: 'vm1', ifname: 'eth0', ip: '10.77.0.2/24', mac: '02:00:00:00:77:02' }],
        hosts: [{ ip: '10.77.0.5/24' }],
        static: [{ mac: '02:00:00:00:99:99', vtep: '192.168.77.3', ip: '10.77.0.9' }],
      },
    ],
  });
  assert.deepEqual(r, {
    ok: true,
    spec: {
      local: ip('192.168.77.2'),
      encapsulation: 'geneve',
      port: undefined,
      mtu: 1400,
      controlPlane: undefined,
      bridgeDomains: [
        {
          vni: 100,
          remotes: [ip('192.168.77.1'), ip('192.168.77.3')],
          taps: [
            {
              namespace: 'vm1',
              ifname: 'eth0',
              address: cidr('10.77.0.2/24'),
              mac: mac('02:00:00:00:77:02'),
            },
          ],
          hosts: [{ address: cidr('10.77.0.5/24'), mac: undefined }],
          staticMacs: [{ mac: mac('02:00:00:00:99:99'), vtep: ip('192.168.77.3'), ip: ip('10.77.0.9') }],
        },
      ],
    },
  });
});

test('every problem of a configuration, with its path', () => {
  assert.deepEqual(
    checkVtepConfig({
      local: 'here',
      encapsulation: 'nvgre',
      bridgeDomains: [
        { vni: 16_777_216, taps: [{ namespace: 'a name with spaces' }], hosts: [{ ip: '10.0.0.1' }] },
      ],
    }),
    {
      ok: false,
      problems: [
        'local: not an IPv4 address',
        'encapsulation: Invalid option: expected one of "vxlan"|"geneve"',
        'bridgeDomains.0.vni: a VNI is 1..16777215',
        'bridgeDomains.0.taps.0.namespace: 1 to 64 letters, digits, "_", "." or "-"',
        'bridgeDomains.0.hosts.0.ip: not an IPv4 address with a prefix length (10.0.0.2/24)',
      ],
    },
  );
  assert.deepEqual(
    checkVtepConfig({
      local: '10.0.0.1',
      bridgeDomains: [
        { vni: 5, taps: [{ namespace: 'vm' }] },
        { vni: 5, taps: [{ namespace: 'vm' }] },
        { vni: 6 },
      ],
    }),
    {
      ok: false,
      problems: [
        'bridgeDomains.1.vni: VNI 5 is given twice',
        'bridgeDomains.2: no station (give taps or hosts)',
        'bridgeDomains.1.taps.0: vm/vnet0 is already bridgeDomains.0.taps.0',
      ],
    },
  );
  assert.deepEqual(checkVtepConfig({ bridgeDomains: [] }), {
    ok: false,
    problems: [
      'local: Invalid input: expected string, received undefined',
      'bridgeDomains: at least one bridge domain',
    ],
  });
});

test('--static specs: a MAC with vtep= and ip=', () => {
  assert.deepEqual(parseStaticFlag('02:00:00:00:00:01,vtep=192.168.1.1,ip=10.0.0.1'), {
    mac: '02:00:00:00:00:01',
    vtep: '192.168.1.1',
    ip: '10.0.0.1',
  });
  assert.equal(
    parseStaticFlag('02:00:00:00:00:01,via=x'),
    '--static 02:00:00:00:00:01,via=x: unknown setting "via" (vtep=, ip=)',
  );
});

test('--tap specs: a namespace and optional name=, ip=, mac=', () => {
  assert.deepEqual(parseTapFlag('vm1'), { namespace: 'vm1' });
  assert.deepEqual(parseTapFlag('vm1,name=eth0,ip=10.0.0.2/24,mac=02:00:00:00:00:02'), {
    namespace: 'vm1',
    ifname: 'eth0',
    ip: '10.0.0.2/24',
    mac: '02:00:00:00:00:02',
  });
  assert.equal(parseTapFlag('vm1,mtu=9000'), '--tap vm1,mtu=9000: unknown setting "mtu" (name=, ip=, mac=)');
});
