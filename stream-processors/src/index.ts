/** The stream processors: block builder, compactor, rollups, replay and the dead-letter tool. */
export { type BlockOrigin, blockUlid } from './block-builder/block-id.js';
export {
  BLOCK_BUILDER,
  type BlockBuilder,
  type BlockBuilderOptions,
  DEFAULT_BLOCK_DURATION,
  DEFAULT_OUT_OF_ORDER_WINDOW,
  placementRules,
  startBlockBuilder,
} from './block-builder/builder.js';
export {
  type AppendResult,
  type BackfillCut,
  type BlockSeries,
  type CutBlock,
  type DropReason,
  PartitionHead,
  type PartitionHeadOptions,
  type RestoredHead,
} from './block-builder/partition-head.js';
export { rangeStart } from './block-builder/ranges.js';
export {
  type BlockProvenance,
  type BlockSink,
  type DecodedBatch,
  type DecodedSeries,
  FAULT_POINTS,
  type FaultPoint,
  type FaultPoints,
  type PartitionState,
  type PartitionStateStore,
  type RecordDecoder,
} from './block-builder/seams.js';
export { Compactor, type CompactorOptions, type PassReport } from './compactor/compactor.js';
export { CompactorLease, LEASE_PREFIX, type LeaseEntry, type LeaseOptions } from './compactor/lease.js';
export { type CompactorMetrics, compactorMetrics } from './compactor/metrics.js';
export {
  compactionGroups,
  DEFAULT_DOWNSAMPLE_RANGES,
  DEFAULT_LEVELS,
  type DownsamplePlan,
  groupKey,
  planCompaction,
  planDownsampling,
  planRetention,
  type Retention,
} from './compactor/planner.js';
export { type RunCompactorOptions, type RunningCompactor, startCompactor } from './compactor/run.js';
export { supersededBlocks } from './compactor/superseded.js';
export {
  type DeadLetterEvents,
  deadLetterEvent,
  KafkaDeadLetterSink,
  type KafkaDeadLetterSinkOptions,
} from './deadletter/kafka-sink.js';
export { type DeadLetterMetrics, deadLetterMetrics } from './deadletter/metrics.js';
export type { DeadLetter, DeadLetterSink } from './deadletter/seams.js';
export {
  type DeadLetterFilter,
  type DeadLetterReplayResult,
  type DeadLetterToolOptions,
  listDeadLetters,
  replayDeadLetters,
  type StoredDeadLetter,
} from './deadletter/tool.js';
export { STREAM_ERROR_CODES, StreamError, type StreamErrorCode } from './errors.js';
export * from './events/index.js';
export {
  type ReplayOptions,
  type ReplayPoint,
  type ReplayProgress,
  type ReplayResult,
  replay,
} from './replay/replay.js';
export { type Attempt, type RetryContext, type RetryPolicy, tryRecord } from './retry.js';
export { type AggregatorOptions, PartitionAggregator } from './rollup/aggregator.js';
export { Combiner, type OutputBatch } from './rollup/combiner.js';
export {
  dropsInput,
  OUTPUT_KINDS,
  type OutputKind,
  outputName,
  parseRollupConfig,
  type RollupOutput,
  type RollupRule,
  ruleMatches,
} from './rollup/config.js';
export { sampleBatchEncoder } from './rollup/derived-encoder.js';
export { dropInputDecoder } from './rollup/drop-input.js';
export { type RollupMetrics, rollupMetrics } from './rollup/metrics.js';
export { type RollupOptions, type RollupProcessor, rulesHash, startRollups } from './rollup/processor.js';
export {
  type DerivedEncoder,
  type DerivedSample,
  ROLLUP_FAULT_POINTS,
  type RollupFaultPoint,
  type RollupFaults,
  type RollupStage,
  type RollupStateStore,
  type StageSnapshot,
} from './rollup/seams.js';
export { ObjectRollupStateStore, rollupStateKey } from './rollup/state-store.js';
export { ObjectStoreBlockSink, SAMPLES_PER_CHUNK } from './wiring/block-sink.js';
export {
  type DataPathOptions,
  dataPath,
  deadLetterEvents,
  runBlockBuilder,
  runReplay,
  samplesDecoder,
} from './wiring/compose.js';
export {
  ObjectPartitionStateStore,
  partitionStateKey,
  type StateObjects,
} from './wiring/partition-state-store.js';
export { type SampleBatchLike, sampleBatchDecoder } from './wiring/sample-batch-decoder.js';
