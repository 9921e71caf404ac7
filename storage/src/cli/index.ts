export * from './block-commands.js';
export * from './go-float.js';
export * from './progress.js';
