/** The router: its route table (longest prefix match, ECMP), ACLs, NAT (with ICMP's inner headers). */
export * from './acl.js';
export * from './nat.js';
export * from './nat-icmp.js';
export * from './route-table.js';
export * from './router.js';
