/**
 * A hybrid network: a real namespace (the kernel's own stack) plugged into a simulated network
 * that runs in wall-clock time. The namespace (10.88.1.9/24, gateway 10.88.1.1) is cabled to a
 * simulated router r1, which routes to a simulated switch and host h1 (10.88.0.1/24): the real
 * `ping` and a real UDP socket in the namespace reach h1 through simulated ARP, routing and
 * switching, and the simulated router's tables show the real station. Needs root.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { NamespacePort } from '../../src/linux/namespace-port.js';
import { RealTimeDriver } from '../../src/linux/real-time.js';
import { Network } from '../../src/topo/network.js';
import { cidr, formatMac, ip, mac } from '../../src/wire/index.js';
import { Namespaces, realDataPlaneUnavailable } from '../helpers/netns.js';

const skip = realDataPlaneUnavailable() ?? false;
const run = promisify(execFile);

test('a real namespace pings and talks UDP to a simulated host, through a simulated router and switch, in wall-clock time', {
  skip,
}, async () => {
  const n = new Namespaces('hy');
  const net = new Network();
  const driver = new RealTimeDriver(net.scheduler);
  let attached: NamespacePort | null = null;
  try {
    const real = n.add('real');
    const sw = net.addSwitch('sw1');
    const h1 = net.addHost('h1', {
      ip: '10.88.0.1/24',
      mac: mac('02:00:00:00:88:01'),
      gateway: ip('10.88.0.254'),
    });
    h1.bindUdp(7, (d) => h1.sendUdp(7, d.src, d.srcPort, d.payload));
    const r1 = net.addRouter('r1', [
      { name: 'eth0', addresses: ['10.88.0.254/24'] },
      { name: 'eth1', addresses: ['10.88.1.1/24'] },
    ]);
    net.addLink(h1, sw);
    net.addLink(r1, sw, { aPort: 'eth0' });
    net.start();
    net.run();
    attached = new NamespacePort(net, driver, {
      namespace: real,
      address: cidr('10.88.1.9/24'),
      gateway: ip('10.88.1.1'),
      mac: mac('02:00:00:00:88:09'),
      port: r1.port('eth1')!,
      tapName: `${n.prefix}t`,
    });
    driver.start();
    const ping = await run('ip', [
      'netns',
      'exec',
      real,
      'ping',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '2',
      '10.88.0.1',
    ]);
    assert.match(ping.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
    // TTL 63: one simulated router on the way (h1 answers with 64).
    assert.match(ping.stdout, /from 10\.88\.0\.1: icmp_seq=1 ttl=63/);
    const udp = await run('ip', [
      'netns',
      'exec',
      real,
      process.execPath,
      '--input-type=module',
      '-e',
      `import dgram from 'node:dgram';
       const s = dgram.createSocket('udp4');
       s.on('message', (m) => { console.log(m.toString()); s.close(); });
       s.send('hello, simulation', 7, '10.88.0.1');
       setTimeout(() => { console.log('timeout'); process.exit(1); }, 3000).unref();`,
    ]);
    assert.equal(udp.stdout.trim(), 'hello, simulation');
    // The simulated router learned the real station's MAC by ARP, as it would a simulated one.
    const entry = r1
      .iface('eth1')!
      .arp.table(net.scheduler.now())
      .find((e) => e.ip === '10.88.1.9');
    assert.equal(entry?.mac, formatMac(mac('02:00:00:00:88:09')));
    assert.ok(driver.events > 0);
  } finally {
    driver.stop();
    attached?.close();
    n.cleanup();
  }
});
