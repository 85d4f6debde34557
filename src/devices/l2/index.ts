/** Layer 2: the hub, the learning switch with its access and trunk ports and its MAC table, spanning tree (IEEE 802.1D/802.1w). */
export * from './access-trunk.js';
export * from './hub.js';
export * from './mac-table.js';
export * from './stp.js';
export * from './switch.js';
