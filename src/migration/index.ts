/** migration/: models of live VM migration (the memory transfer, pre-copy and post-copy). Browser-safe. */
export * from './memory-model.js';
