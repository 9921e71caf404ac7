/** The storage package: TSZ codec, blocks, object stores, and the shared data model. */

export * from './block/index.js';
export * from './checksum/crc32c.js';
export * from './cli/index.js';
export * from './compact/index.js';
export * from './downsample/downsample.js';
export * from './duration.js';
export * from './errors.js';
export * from './events/index.js';
export * from './model.js';
export * from './objstore/index.js';
export * from './regex/index.js';
export * from './tenant.js';
export * from './tsz/aggr.js';
export * from './tsz/xor.js';
