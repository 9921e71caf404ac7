export * from './backfill.js';
export * from './bucket-catalog.js';
export * from './catalog.js';
export * from './chunker.js';
export * from './chunks.js';

export * from './index-format.js';
export * from './index-reader.js';
export * from './index-writer.js';
export * from './labels.js';
export * from './marks.js';
export * from './meta.js';
export * from './openmetrics.js';
export {
  type BackfillCut as PartitionBackfillCut,
  decodePartitionState,
  encodePartitionState,
  type PartitionState,
  partitionStateKey,
  readPartitionState,
} from './partition-state.js';
export * from './placement.js';
export * from './postings.js';
export * from './reader.js';
export * from './resolution.js';
export * from './text-parser.js';
export * from './ulid.js';
export * from './writer.js';
