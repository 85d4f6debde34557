/** The subnet address rules (AWS's five reserved addresses) and the IP and MAC allocators. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allocatableAddresses,
  GATEWAY_MAC,
  instanceMac,
  naturalCompare,
  nextFreeAddress,
  nextFreeMac,
  reservedAddresses,
} from '../../src/vpc/index.js';

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

test('nextFreeAddress: the lowest allocatable address not in use; undefined when full', () => {
  assert.equal(nextFreeAddress('10.0.1.0/24', []), '10.0.1.4');
  assert.equal(nextFreeAddress('10.0.1.0/24', ['10.0.1.4', '10.0.1.5', '10.0.1.7']), '10.0.1.6');
  const all = Array.from({ length: 11 }, (_, i) => `10.0.1.${20 + i}`);
  assert.equal(nextFreeAddress('10.0.1.16/28', all), undefined);
  assert.equal(nextFreeAddress('10.0.1.16/28', all.slice(1)), '10.0.1.20');
});

test('MACs: locally administered unicast from a counter, never the gateway MAC', () => {
  assert.equal(instanceMac(1), '0a:00:00:00:00:01');
  assert.equal(instanceMac(0x1_0000_0000), '0a:01:00:00:00:00');
  assert.throws(() => instanceMac(0));
  assert.equal(nextFreeMac([]), '0a:00:00:00:00:01');
  assert.equal(nextFreeMac(['0a:00:00:00:00:01', '0a:00:00:00:00:03']), '0a:00:00:00:00:02');
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
