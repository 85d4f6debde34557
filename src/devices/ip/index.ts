/** An IP node: its interfaces and ARP cache, IPv4 with reassembly, UDP sockets, ICMP errors, ping; the host. */
export * from './arp-cache.js';
export * from './host.js';
export * from './icmp-errors.js';
export * from './ip-interface.js';
export * from './ip-node.js';
export * from './ping.js';
export * from './reassembly.js';
export * from './udp-sockets.js';
