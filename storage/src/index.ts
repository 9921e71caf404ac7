/** The storage package: TSZ codec, blocks, object stores, and the shared data model. */
export * from './model.js';
