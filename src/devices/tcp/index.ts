/** TCP (RFC 9293): connections, sequence arithmetic, retransmission timing, buffers, the stack a node hosts, applications. */
export * from './tcp-apps.js';
export * from './tcp-buffers.js';
export * from './tcp-connection.js';
export * from './tcp-rto.js';
export * from './tcp-seq.js';
export * from './tcp-stack.js';
export * from './tcp-timer.js';
