/** migration/: live VM migration: the memory transfer model (pre-copy, post-copy) and the network side (detach, attach, announce, converge). Browser-safe. */
export * from './attachment.js';
export * from './l2-segment.js';
export * from './live-migration.js';
export * from './memory-model.js';
