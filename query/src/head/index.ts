/** The query tier's log-tail head. */
export { ArrayIterator, HeadStore } from './head-store.js';
export {
  type BlockWatermarks,
  type HeadRecordDecoder,
  LogHead,
  type LogHeadOptions,
  READ_CONSISTENCY_HEADER,
  readConsistencyHook,
} from './log-head.js';
export { bucketWatermarks, headDecoder, type StartHeadOptions, startLogHead } from './start-head.js';
