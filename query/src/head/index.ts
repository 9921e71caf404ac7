/** The query tier's log-tail head. */

export { type BackfillCut, BackfillRanges } from './backfill-ranges.js';
export { HeadStore } from './head-store.js';
export {
  type BlockWatermarks,
  DEFAULT_HEAD_RULES,
  type HeadRecordDecoder,
  LogHead,
  type LogHeadOptions,
  READ_CONSISTENCY_HEADER,
  readConsistencyHook,
} from './log-head.js';
export { type BlockWatermark, PartitionTail, type TailRecord } from './partition-tail.js';
export { bucketWatermarks, headDecoder, type StartHeadOptions, startLogHead } from './start-head.js';
