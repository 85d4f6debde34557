/**
 * Mininet's classic topologies (mininet/topo.py, topolib.py), with its names: switches s1, s2, ...,
 * hosts h1, h2, ... with Mininet's default addresses (10.0.0.N/8) and MACs (00:00:00:00:00:NN).
 */
import type { Host } from '../devices/ip/host.js';
import type { Switch } from '../devices/l2/switch.js';
import type { LinkProperties } from '../link/index.js';
import type { Network } from './network.js';

export interface Built {
  readonly switches: Switch[];
  readonly hosts: Host[];
}

/** One switch with `k` hosts (Mininet's SingleSwitchTopo). */
export function singleSwitch(net: Network, k: number, link: LinkProperties = {}): Built {
  const s = net.addSwitch('s1');
  const hosts: Host[] = [];
  for (let i = 1; i <= k; i++) {
    const h = net.addHost(`h${i}`);
    net.addLink(h, s, link);
    hosts.push(h);
  }
  return { switches: [s], hosts };
}

/** `k` switches in a line, `n` hosts on each (Mininet's LinearTopo; hosts numbered across switches). */
export function linear(net: Network, k: number, n = 1, link: LinkProperties = {}): Built {
  const switches: Switch[] = [];
  const hosts: Host[] = [];
  for (let i = 1; i <= k; i++) {
    const s = net.addSwitch(`s${i}`);
    for (let j = 1; j <= n; j++) {
      const h = net.addHost(`h${hosts.length + 1}`);
      net.addLink(h, s, link);
      hosts.push(h);
    }
    if (switches.length > 0) net.addLink(switches[switches.length - 1]!, s, link);
    switches.push(s);
  }
  return { switches, hosts };
}

/** A tree of switches `depth` levels deep, each with `fanout` children; hosts at the leaves (Mininet's TreeTopo). */
export function tree(net: Network, depth: number, fanout = 2, link: LinkProperties = {}): Built {
  const switches: Switch[] = [];
  const hosts: Host[] = [];
  const grow = (level: number): Switch | Host => {
    if (level === 0) {
      const h = net.addHost(`h${hosts.length + 1}`);
      hosts.push(h);
      return h;
    }
    const s = net.addSwitch(`s${switches.length + 1}`);
    switches.push(s);
    for (let i = 0; i < fanout; i++) net.addLink(s, grow(level - 1), link);
    return s;
  };
  grow(depth);
  return { switches, hosts };
}
