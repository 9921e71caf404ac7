export type { LogAdmin, TopicSpec, Watermarks } from './admin.js';
export { createLogClient, type LogClient, type LogClientOptions, type LogSasl } from './client.js';
/**
 * For test code and reference clients that use kafkajs directly (to check
 * the log from outside the seam); a log client registers it by itself.
 */
export { registerZstdCodec } from './codecs.js';
export type {
  BatchHandler,
  ConsumedRecord,
  LogBatch,
  LogConsumer,
  LogConsumerOptions,
  ReadHeaderValue,
} from './consumer.js';
export { LogError, LogErrorCode } from './errors.js';
export { pinoLevel } from './logging.js';
export type { LogHeaderValue, LogProducer, LogProducerOptions, LogRecord } from './producer.js';
export type { OffsetRange, ReadRangesOptions } from './read-ranges.js';
