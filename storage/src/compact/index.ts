export * from './block-series.js';
export * from './compact.js';
export * from './merge.js';
export * from './stream-writer.js';
