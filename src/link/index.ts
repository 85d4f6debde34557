/** link/: ports, point-to-point links with delay/bandwidth/queue/MTU/loss, and captures. Browser-safe. */
export * from './capture.js';
export * from './clock.js';
export * from './link.js';
export * from './port.js';
