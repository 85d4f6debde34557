/** sim/: virtual time, the event scheduler, and the seeded RNG. Browser-safe. */
export * from './rng.js';
export * from './scheduler.js';
