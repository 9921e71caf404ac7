export * from './caching.js';
export * from './from-url.js';
export * from './fs.js';
export * from './instrumented.js';
export * from './memory.js';
export * from './object-store.js';
export * from './prefixed.js';
export * from './s3.js';
