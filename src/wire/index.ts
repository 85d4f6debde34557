/**
 * wire/: the only code that touches bytes. Addresses, checksums, one codec per protocol (a checked
 * view plus a plain Repr with parse/emit), pcap/pcapng, and the frame dissector. Imports nothing
 * from `node:`, so it runs in a browser too.
 */
export * from './arp.js';
export * from './bytes.js';
export * from './capture.js';
export * from './capture-stream.js';
export * from './checksum.js';
export * from './decode.js';
export * from './dhcp.js';
export * from './ether-type.js';
export * from './ethernet.js';
export * from './flow-hash.js';
export * from './forwarding-keys.js';
export * from './geneve.js';
export * from './gre.js';
export * from './icmpv4.js';
export * from './ipv4.js';
export * from './ipv4-address.js';
export * from './mac.js';
export * from './pcap.js';
export * from './pcapng.js';
export * from './result.js';
export * from './stp.js';
export * from './summary.js';
export * from './tcp.js';
export * from './udp.js';
export * from './vlan.js';
export * from './vxlan.js';
