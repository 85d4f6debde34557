/** The subnet address rules (AWS's five reserved addresses) and the IP and MAC allocators. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allocatableAddresses,
  firstFreeInstanceIp,
  GATEWAY_MAC,
  naturalCompare,
  reservedAddresses,
  serviceMac,
} from '../../src/vpc/index.js';
import { cidr, ip } from '../../src/wire/index.js';

test('five reserved addresses per subnet; the rest is allocatable', () => {
  assert.deepEqual(reservedAddresses('10.0.1.0/24'), [
    { ip: '10.0.1.0', role: 'network' },
    { ip: '10.0.1.1', role: 'gateway' },
    { ip: '10.0.1.2', role: 'dns' },
    { ip: '10.0.1.3', role: 'future' },
    { ip: '10.0.1.255', role: 'broadcast' },
  ]);
  assert.deepEqual(allocatableAddresses('10.0.1.0/24'), {
    first: '10.0.1.4',
    last: '10.0.1.254',
    count: 251,
  });
  assert.deepEqual(allocatableAddresses('10.0.1.16/28'), {
    first: '10.0.1.20',
    last: '10.0.1.30',
    count: 11,
  });
  assert.deepEqual(allocatableAddresses('10.0.0.0/16').count, 65531);
});

test('firstFreeInstanceIp: the lowest allocatable address not in use; undefined when full', () => {
  const c24 = cidr('10.0.1.0/24');
  assert.equal(firstFreeInstanceIp(c24, new Set()), ip('10.0.1.4'));
  assert.equal(firstFreeInstanceIp(c24, new Set([ip('10.0.1.4'), ip('10.0.1.5')])), ip('10.0.1.6'));
  assert.equal(
    firstFreeInstanceIp(c24, new Set([ip('10.0.1.4'), ip('10.0.1.5'), ip('10.0.1.7')])),
    ip('10.0.1.6'),
  );
  const all = Array.from({ length: 11 }, (_, i) => ip(`10.0.1.${20 + i}`));
  assert.equal(firstFreeInstanceIp(cidr('10.0.1.16/28'), new Set(all)), undefined);
  assert.equal(firstFreeInstanceIp(cidr('10.0.1.16/28'), new Set(all.slice(1))), ip('10.0.1.20'));
  const c29 = cidr('10.0.0.8/29');
  assert.equal(
    firstFreeInstanceIp(c29, new Set([ip('10.0.0.12'), ip('10.0.0.13'), ip('10.0.0.14')])),
    undefined,
  );
});

test('MACs: locally administered unicast from a counter, never the gateway MAC', () => {
  assert.equal(serviceMac(1), '02:76:6e:00:00:01');
  assert.equal(serviceMac(0xabcdef), '02:76:6e:ab:cd:ef');
  assert.throws(() => serviceMac(0));
  assert.throws(() => serviceMac(0x1000000));
  assert.equal(GATEWAY_MAC, '02:ac:00:00:00:01');
});

test('natural order: numbers inside keys compare as numbers', () => {
  const keys = [
    'subnet-a1/ingress/100',
    'subnet-a1/ingress/32767',
    'subnet-a1/ingress/90',
    'leaf10/x',
    'leaf2/x',
  ];
  assert.deepEqual([...keys].sort(naturalCompare), [
    'leaf2/x',
    'leaf10/x',
    'subnet-a1/ingress/90',
    'subnet-a1/ingress/100',
    'subnet-a1/ingress/32767',
  ]);
});
