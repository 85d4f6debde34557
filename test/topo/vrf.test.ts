/** VRFs and VBDIFs through Network (overlay/vrf.ts): made, taken down, made again; and the gateway modes' layouts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayLayout, hasBorder } from '../../src/overlay/gateway.js';
import { INTERNAL_LINK } from '../../src/overlay/index.js';
import { Network } from '../../src/topo/network.js';
import { cidr, ip } from '../../src/wire/index.js';

const ANYCAST = 0x02_ac_00_00_00_01;

test('a VBDIF is made, taken down and made again on the same interface', () => {
  const net = new Network();
  const nve = net.addNve('n1', { vtep: '10.255.0.1', controlPlane: 'controller' });
  nve.addBridgeDomain(10, 10010, 'A');
  const vrf = net.addVrf(nve, 'A', { l3: { vni: 50000, transitIp: '169.254.0.1' } });
  assert.equal(vrf.name, 'n1/A');
  const iface = net.addVbdif(nve, 'A', 10, { address: '10.1.0.1/24', mac: ANYCAST, anycast: true });
  assert.equal(iface.name, 'vbdif10');
  assert.equal(vrf.iface('vbdif10'), iface);
  assert.equal(iface.mac, ANYCAST);
  const link = vrf.port('vbdif10')?.link;
  assert.ok(link && net.links.includes(link));
  assert.equal(link.delay, INTERNAL_LINK.delay);
  assert.ok(nve.bridgeDomain(10)?.anycastGateways.has(ip('10.1.0.1')));

  net.removeVbdif(nve, 'A', 10);
  assert.equal(vrf.port('vbdif10')?.link, null);
  assert.equal(iface.addresses.length, 0);
  assert.ok(!net.links.includes(link));
  assert.equal(vrf.routes.lookup(ip('10.1.0.5')), undefined);

  // The BD goes and comes back (as the VPC installer does): the VBDIF reuses its interface.
  for (const vap of nve.removeBridgeDomain(10)) if (vap.port.link) net.unplug(vap.port.link);
  const bd = nve.addBridgeDomain(10, 10010, 'A');
  const again = net.addVbdif(nve, 'A', bd, { address: cidr('10.1.0.1/24'), mac: ANYCAST, anycast: true });
  assert.equal(again, iface);
  assert.deepEqual(iface.addresses, [cidr('10.1.0.1/24')]);
  assert.ok(vrf.port('vbdif10')?.link);

  net.removeVrf(nve, 'A');
  assert.equal(nve.vrfs.has('A'), false);
  assert.equal(net.nodes.has('n1/A'), false);
  assert.equal(nve.bridgeDomainByVni(50000), undefined);
});

test('removeVbdif of a VRF or VBDIF that is not there does nothing', () => {
  const net = new Network();
  const nve = net.addNve('n1', { vtep: '10.255.0.1' });
  net.removeVbdif(nve, 'A', 10);
  net.addVrf(nve, 'A');
  net.removeVbdif(nve, 'A', 10);
  assert.equal(net.links.length, 0);
});

test('each gateway mode says where its gateways are', () => {
  assert.equal(gatewayLayout().mode, 'none');
  assert.equal(gatewayLayout('none').hostsHaveGateway, false);
  assert.equal(gatewayLayout('centralized').vbdifs, 'border');
  assert.equal(gatewayLayout('distributed').vbdifs, 'anycast-on-every-nve');
  assert.equal(gatewayLayout('distributed').needsController, true);
  assert.equal(hasBorder('centralized', false), true);
  assert.equal(hasBorder('distributed', false), false);
  assert.equal(hasBorder('distributed', true), true);
  assert.equal(hasBorder(undefined, undefined), false);
});
