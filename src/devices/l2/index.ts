/** Layer 2: the hub, the learning switch and its MAC table, spanning tree (IEEE 802.1D/802.1w). */
export * from './hub.js';
export * from './mac-table.js';
export * from './stp.js';
export * from './switch.js';
