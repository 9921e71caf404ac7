export { avroType, type RecordKind, schemaJson, schemaText } from './avro-schemas.js';
export {
  BACKFILL_HEADER,
  backfillSource,
  DEAD_LETTER_HEADER_PREFIX,
  DEAD_LETTER_HEADERS,
  DEAD_LETTER_MESSAGE_BYTES,
  type DeadLetterInfo,
  deadLetterHeaders,
  type HeaderValue,
  originalHeaders,
  readDeadLetterHeaders,
} from './deadletter.js';
export { SchemaError, SchemaErrorCode } from './errors.js';
export { type ReadFailure, readFailure } from './read-failure.js';
export {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  RegistryError,
  RegistryErrorCode,
  type RegistryOptions,
  type RunningRegistry,
  startRegistry,
} from './registry/index.js';
export {
  type DecodedSampleBatch,
  type SampleBatchLike,
  type SampleBatchReader,
  sampleBatchReader,
} from './sample-batch-reader.js';
export { decimalScale, expandColumns, SampleBatchBuilder } from './sample-columns.js';
export { createSerdes, RecordSerde, type Serdes, type SerdesOptions, type TopicValues } from './serde.js';
export {
  FNV1A64_BASIS_LOW,
  fnv1a64LabelLowBits,
  partitionFor,
  partitionForKey,
  seriesHash,
  seriesKey,
} from './series-key.js';
export { TOPICS, type TopicName, valueSubject } from './topics.js';
export type {
  Anomaly,
  ChunkEncoding,
  Event,
  EventSource,
  HistogramSample,
  SampleBatch,
  SampleColumns,
  SeriesChunk,
  Severity,
} from './types.js';
